// Validation of PACT v2 ProductFootprint JSON ("Technical Specifications for
// PCF Data Exchange", WBCSD, versions 2.0.0, 2.1.0, 2.2.0 and 2.3.0) and
// extraction of the fields the ledger indexes. Pure library code: no I/O, no
// network; nothing named in a document (extension dataSchema URLs, ...) is
// ever fetched. All functions are thread-safe and never throw.
//
// Which rules apply is decided by each footprint's own `specVersion`
// ("major.minor.patch" with an optional "-YYYYMMDD" draft suffix):
//
//   2.0.x  rules of 2.0.0. The 2.0.1-* strings are working drafts of what was
//          released as 2.1.0 (the specification's own 2.2.0 examples still
//          carry "2.0.1-20230314" with 2.0.0 content), so they are checked
//          like 2.0.0.
//   2.1.x  + pcf.boundaryProcessesDescription and pcf.assurance.assurance are
//          mandatory (both came with the 2.0.1 drafts, released in 2.1.0).
//   2.2.x  + pcf.ipccCharacterizationFactorsSources is mandatory
//          (non-empty set of "AR<integer>").
//   2.3.x  + pcf.crossSectoralStandards is mandatory (non-empty set of
//          strings); optional productClassifications (URNs) and
//          pcf.productMassPerDeclaredUnit (Decimal) are checked when present.
//
// A property made mandatory in a later version is never required of an
// earlier one; in an earlier version it is an unknown extra property. Any
// other specVersion (1.x, 3.x, malformed) is reported at "$.specVersion" and
// no other rule is applied, because the rules for it are unknown.
//
// Rules common to all four versions, from the data model tables:
//   - mandatory: id (UUID v4), specVersion, version (integer 0..2^31-1),
//     created (DateTime), status (Active|Deprecated), companyName (non-empty),
//     companyIds (non-empty set of URNs), productDescription, productIds
//     (non-empty set of URNs), productCategoryCpc (non-empty), productNameCompany
//     (non-empty), comment, pcf;
//   - pcf mandatory: declaredUnit (liter, kilogram, cubic meter, kilowatt hour,
//     megajoule, ton kilometer, square meter), unitaryProductAmount (Decimal
//     > 0), pCfExcludingBiogenic, fossilGhgEmissions, fossilCarbonContent,
//     biogenicCarbonContent (Decimals >= 0), characterizationFactors (AR5|AR6),
//     crossSectoralStandardsUsed (set of "GHG Protocol Product standard",
//     "ISO Standard 14067", "ISO Standard 14044"), referencePeriodStart and
//     referencePeriodEnd (DateTime, end after start), exemptedEmissionsPercent
//     (JSON number 0..5), exemptedEmissionsDescription, packagingEmissionsIncluded
//     (boolean);
//   - optional, checked when present: precedingPfIds (non-empty set of UUIDs),
//     updated (DateTime after created), statusComment, validityPeriodStart/End
//     (both or neither; start >= referencePeriodEnd; start < end <=
//     referencePeriodEnd + 3 years), extensions (non-empty array of objects),
//     iLucGhgEmissions and aircraftGhgEmissions (Decimals >= 0),
//     productOrSectorSpecificRules (operator PEF|EPD International|Other,
//     non-empty ruleNames, otherOperatorName exactly when operator is Other),
//     at most one of geographyRegionOrSubregion (UN M49 region names),
//     geographyCountry (ISO 3166-1 alpha-2 syntax), geographyCountrySubdivision
//     (ISO 3166-2 syntax), secondaryEmissionFactorSources (non-empty name and
//     version), packagingGhgEmissions (Decimal >= 0, only when packaging is
//     included), allocationRulesDescription, uncertaintyAssessmentDescription,
//     assurance (coverage, level, boundary enums; completedAt DateTime);
//   - "O*" properties (pCfIncludingBiogenic, dLucGhgEmissions >= 0,
//     landManagementGhgEmissions, otherBiogenicGhgEmissions >= 0,
//     biogenicCarbonWithdrawal <= 0, biogenicAccountingMethodology,
//     primaryDataShare (Percent), dqi with all six indicators) become
//     mandatory when the reference period includes 1 January 2025 or later
//     (referencePeriodEnd after 2025-01-01T00:00:00Z); before that at least
//     one of primaryDataShare and dqi is required. DQRs are JSON numbers 1..3,
//     coveragePercent a Percent (JSON number 0..100).
//
// Deliberate leniencies, each needed to accept the specification's own
// published examples unchanged or stated by the specification itself:
//   - precedingPfIds need RFC 4122 syntax, not version 4 (the published
//     examples use "d6985fe5-e569-5695-d47d-526dad7525d5"); `id` must be v4.
//   - biogenicAccountingMethodology accepts any non-empty string: the spec
//     says its enumeration "will be evolved", and its example uses "GHPG".
//   - assurance.providerName must be a string but may be empty (2.3.0's
//     example has ""; the spec announces it becomes optional in v3).
//   - assurance.coverage is not required in 2.0.0 (the 2.0.1 changelog calls
//     its "M" a documentation error) and primaryDataShare and dqi may both be
//     present (2.0.1 fixed 2.0.0's "exactly one" wording as a discrepancy).
//   - crossSectoralStandards (2.3) accepts values beyond the listed ones: the
//     spec says host systems MUST accept values from later revisions.
//   - an empty productOrSectorSpecificRules array is accepted (the property
//     table requires it to be empty when no rules were followed).
// Unknown properties are allowed everywhere (PACT objects carry extensions).
//
// JSON paths in issues use "$" for the document root, ".name" for object
// members and "[i]" for array elements: "$.pcf.declaredUnit",
// "$[1].productIds[0]", "$.data[0].pcf.dqi.temporalDQR".

#ifndef CDL_NODE_VERIFY_PACT_H_
#define CDL_NODE_VERIFY_PACT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cdl::verify {

// Input limits of ParsePactDocument and ParsePactFootprint: larger or deeper
// input is rejected before (size) or while (depth) it is parsed. Depth counts
// nested arrays and objects; a flat object has depth 1.
inline constexpr size_t kMaxPactDocumentBytes = 1024 * 1024;
inline constexpr int kMaxPactJsonDepth = 64;
// At most this many issues are reported per document; a final issue at "$"
// says how many more were found.
inline constexpr size_t kMaxPactIssues = 1000;

// One problem in a document: where (a JSON path, see above) and what is wrong,
// on one line a person can act on.
struct PactIssue {
  std::string path;
  std::string message;
};

// "path: message", e.g.
// `$.pcf.pCfExcludingBiogenic: "12,5" is not a decimal (use a dot, e.g. "12.5")`.
std::string FormatPactIssue(const PactIssue& issue);

// The rule set a specVersion selects (see the top of this file).
enum class PactRules { k2_0, k2_1, k2_2, k2_3 };

// The rule set for a specVersion string; InvalidArgument naming the accepted
// versions otherwise.
absl::StatusOr<PactRules> PactRulesForSpecVersion(std::string_view spec_version);

// The fields the ledger indexes, copied from a valid ProductFootprint. Strings
// hold the JSON values unchanged (decimals exactly as written); optional
// properties that are absent are empty.
struct PactFootprint {
  std::string id;            // UUID v4, as written
  std::string spec_version;  // e.g. "2.3.0"
  int64_t version = 0;       // the footprint's own version number
  std::string created;       // DateTime strings as written
  std::string updated;       // may be empty
  std::string status;        // "Active" or "Deprecated"
  std::string company_name;
  std::string product_description;
  std::string product_name_company;
  std::string product_category_cpc;
  std::string declared_unit;
  std::string unitary_product_amount;  // Decimal
  std::string pcf_excluding_biogenic;  // Decimal
  std::string pcf_including_biogenic;  // Decimal, may be empty
  std::string reference_period_start;
  std::string reference_period_end;
  std::string geography_country;              // may be empty
  std::string geography_region_or_subregion;  // may be empty
  std::string geography_country_subdivision;  // may be empty
  std::vector<std::string> company_ids;
  std::vector<std::string> product_ids;
  std::vector<std::string> preceding_pf_ids;  // may be empty
  // The object exactly as it is stored: compact nlohmann::ordered_json dump
  // of the input object. Key order, all strings (decimals included) and
  // unknown properties are kept; only insignificant whitespace goes, and JSON
  // numbers are re-printed in nlohmann's shortest round-trip form.
  std::string canonical_json;
};

// Validates one ProductFootprint under the rules of its own specVersion and
// returns every problem found (empty when valid). `path_prefix` is the path
// of `obj` in its document ("$" for a lone object, "$[1]" or "$.data[1]" for
// an array element) and starts every issue path.
std::vector<PactIssue> ValidateFootprint(const nlohmann::ordered_json& obj,
                                         std::string_view path_prefix);

// Validates `obj` and extracts its indexed fields. InvalidArgument listing the
// first issues (paths relative to "$") when it is not a valid footprint.
absl::StatusOr<PactFootprint> ExtractFootprint(const nlohmann::ordered_json& obj);

// Result of parsing a file. `footprints` holds every footprint that validated,
// in document order; `issues` every problem, in document order. A caller that
// wants all-or-nothing (e.g. `cdl footprint import`) checks ok().
struct PactParseResult {
  std::vector<PactFootprint> footprints;
  std::vector<PactIssue> issues;
  bool ok() const { return issues.empty(); }
};

// Parses a file's text: one ProductFootprint object, a non-empty array of
// them, or a PACT API response {"data": object-or-array} (an object with a
// "data" property and no "specVersion"; the ListFootprints and GetFootprint
// response bodies), or a PF Response Event {"data": {"pfs": [...]}} (the
// CloudEvent of the asynchronous API). Reports, instead of throwing: input over
// kMaxPactDocumentBytes, nesting deeper than kMaxPactJsonDepth, invalid JSON
// (including invalid UTF-8) with its position, duplicate object keys (which
// different JSON parsers resolve differently), a wrong top-level shape, and
// everything ValidateFootprint finds.
PactParseResult ParsePactDocument(std::string_view text);

// Parses exactly one ProductFootprint object (not an array or response
// envelope), e.g. a stored record's payload, with the same limits and checks
// as ParsePactDocument. InvalidArgument listing the first issues otherwise.
absl::StatusOr<PactFootprint> ParsePactFootprint(std::string_view text);

}  // namespace cdl::verify

#endif  // CDL_NODE_VERIFY_PACT_H_
