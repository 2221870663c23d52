#include "node/verify/pact.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cdl::verify {

// Readable failures: gtest finds this by argument-dependent lookup.
void PrintTo(const PactIssue& issue, std::ostream* os) { *os << FormatPactIssue(issue); }

namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;
using Json = nlohmann::ordered_json;

// tests/testdata/pact, found from this file's location unless the build says
// otherwise.
std::filesystem::path TestDataDir() {
#ifdef CDL_PACT_TESTDATA_DIR
  return CDL_PACT_TESTDATA_DIR;
#else
  return std::filesystem::path(__FILE__).parent_path() / "../../tests/testdata/pact";
#endif
}

std::string ReadTestData(const std::string& name) {
  std::ifstream in(TestDataDir() / name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << (TestDataDir() / name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The first footprint of a published example (list or get response, or a PF
// Response Event).
Json ExampleFootprint(const std::string& name) {
  Json doc = Json::parse(ReadTestData(name));
  const Json& data = doc.at("data");
  if (data.is_array()) return data.at(0);
  if (data.contains("pfs")) return data.at("pfs").at(0);
  return data;
}

// Spec example 2.0.0 (specVersion "2.0.0", no ipccCharacterizationFactorsSources,
// no assurance.assurance).
Json V20() { return ExampleFootprint("spec-2.0.0-list-footprints-response.json"); }
// Spec 2.2.0's example (specVersion "2.1.0").
Json V21() { return ExampleFootprint("spec-2.2.0-list-footprints-response.json"); }

std::vector<std::string> Paths(const std::vector<PactIssue>& issues) {
  std::vector<std::string> paths;
  for (const PactIssue& i : issues) paths.push_back(i.path);
  return paths;
}

std::string Dump(const std::vector<PactIssue>& issues) {
  std::string out;
  for (const PactIssue& i : issues) out += FormatPactIssue(i) + "\n";
  return out;
}

auto IssueAt(const std::string& path, const std::string& text) {
  return AllOf(Field(&PactIssue::path, path), Field(&PactIssue::message, HasSubstr(text)));
}

// --- The specification's own examples --------------------------------------

const char* const kSpecDocuments[] = {
    "spec-2.0.0-list-footprints-response.json", "spec-2.2.0-list-footprints-response.json",
    "spec-2.2.0-get-footprint-response.json",   "spec-2.3.0-list-footprints-response.json",
    "spec-2.3.0-get-footprint-response.json",
};

TEST(PactSpecExamplesTest, ApiResponsesValidateUnchanged) {
  for (const char* name : kSpecDocuments) {
    PactParseResult r = ParsePactDocument(ReadTestData(name));
    EXPECT_TRUE(r.ok()) << name << ":\n" << Dump(r.issues);
    EXPECT_THAT(r.footprints, SizeIs(1)) << name;
  }
}

TEST(PactSpecExamplesTest, EventFootprintsValidateUnchanged) {
  for (const char* name :
       {"spec-2.2.0-pf-response-event.json", "spec-2.3.0-pf-response-event.json"}) {
    Json event = Json::parse(ReadTestData(name));
    const Json& pfs = event.at("data").at("pfs");
    ASSERT_THAT(pfs, SizeIs(1));
    EXPECT_THAT(ValidateFootprint(pfs[0], "$.data.pfs[0]"), IsEmpty()) << name;
    PactParseResult r = ParsePactDocument(ReadTestData(name));
    EXPECT_TRUE(r.ok()) << name << ":\n" << Dump(r.issues);
    EXPECT_THAT(r.footprints, SizeIs(1)) << name;
  }
}

TEST(PactSpecExamplesTest, ExtractsIndexedFields) {
  PactParseResult r = ParsePactDocument(ReadTestData("spec-2.3.0-list-footprints-response.json"));
  ASSERT_TRUE(r.ok()) << Dump(r.issues);
  const PactFootprint& fp = r.footprints.at(0);
  EXPECT_EQ(fp.id, "91715e5e-fd0b-4d1c-8fab-76290c46e6ed");
  EXPECT_EQ(fp.spec_version, "2.0.0");
  EXPECT_EQ(fp.version, 1);
  EXPECT_EQ(fp.status, "Active");
  EXPECT_EQ(fp.company_name, "My Corp");
  EXPECT_EQ(fp.product_name_company, "Green Ethanol");
  EXPECT_EQ(fp.product_category_cpc, "6398");
  EXPECT_EQ(fp.declared_unit, "liter");
  EXPECT_EQ(fp.unitary_product_amount, "1");
  EXPECT_EQ(fp.pcf_excluding_biogenic, "1.63");
  EXPECT_EQ(fp.pcf_including_biogenic, "1.85");
  EXPECT_EQ(fp.created, "2022-03-01T09:32:20Z");
  EXPECT_EQ(fp.updated, "");
  EXPECT_EQ(fp.reference_period_start, "2021-01-01T00:00:00Z");
  EXPECT_EQ(fp.reference_period_end, "2022-01-01T00:00:00Z");
  EXPECT_EQ(fp.geography_country, "");
  EXPECT_EQ(fp.geography_region_or_subregion, "Western Europe");
  EXPECT_THAT(fp.company_ids, ElementsAre("urn:uuid:69585GB6-56T9-6958-E526-6FDGZJHU1326",
                                          "urn:epc:id:sgln:562958.00000.4"));
  EXPECT_THAT(fp.product_ids, ElementsAre("urn:gtin:5695872369587"));
  EXPECT_THAT(fp.preceding_pf_ids, IsEmpty());

  PactParseResult r2 = ParsePactDocument(ReadTestData("spec-2.2.0-get-footprint-response.json"));
  ASSERT_TRUE(r2.ok()) << Dump(r2.issues);
  EXPECT_EQ(r2.footprints[0].geography_country, "FR");
  EXPECT_EQ(r2.footprints[0].pcf_including_biogenic, "");
  EXPECT_EQ(r2.footprints[0].spec_version, "2.1.0");
}

TEST(PactSpecExamplesTest, CanonicalJsonKeepsDecimalsAndKeyOrder) {
  std::string text = ReadTestData("spec-2.0.0-list-footprints-response.json");
  PactParseResult r = ParsePactDocument(text);
  ASSERT_TRUE(r.ok()) << Dump(r.issues);
  const std::string& canonical = r.footprints[0].canonical_json;
  // Exactly the input object, compact.
  EXPECT_EQ(canonical, Json::parse(text)["data"][0].dump());
  EXPECT_EQ(canonical.find('\n'), std::string::npos);
  // Decimal strings byte for byte, trailing zeros included.
  EXPECT_THAT(canonical, HasSubstr("\"unitaryProductAmount\":\"12.0\""));
  EXPECT_THAT(canonical, HasSubstr("\"pCfExcludingBiogenic\":\"0.0\""));
  EXPECT_THAT(canonical, HasSubstr("\"landManagementGhgEmissions\":\"0.01\""));
  // Key order as written, unknown properties (extensions) kept.
  EXPECT_LT(canonical.find("\"id\""), canonical.find("\"specVersion\""));
  EXPECT_LT(canonical.find("\"specVersion\""), canonical.find("\"version\""));
  EXPECT_LT(canonical.find("\"comment\""), canonical.find("\"pcf\""));
  EXPECT_THAT(canonical, HasSubstr("\"transportChainElementId\":\"ABCDEFGHI\""));
  // Stable: parsing the stored form gives the same stored form.
  absl::StatusOr<PactFootprint> again = ParsePactFootprint(canonical);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->canonical_json, canonical);
}

TEST(PactSpecExamplesTest, CanonicalJsonKeepsUnusualDecimalsExactly) {
  Json fp = V21();
  fp["pcf"]["pCfExcludingBiogenic"] = "0001234567890123456789.000000000000000000000100";
  fp["pcf"]["fossilGhgEmissions"] = "-0";
  fp["pcf"]["unitaryProductAmount"] = "12.50000";
  absl::StatusOr<PactFootprint> r = ParsePactFootprint(fp.dump(4));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(
      r->canonical_json,
      HasSubstr("\"pCfExcludingBiogenic\":\"0001234567890123456789.000000000000000000000100\""));
  EXPECT_THAT(r->canonical_json, HasSubstr("\"fossilGhgEmissions\":\"-0\""));
  EXPECT_THAT(r->canonical_json, HasSubstr("\"unitaryProductAmount\":\"12.50000\""));
  EXPECT_EQ(r->pcf_excluding_biogenic, "0001234567890123456789.000000000000000000000100");
}

TEST(PactSpecExamplesTest, SpecRepositoryInvalidExampleIsRejected) {
  // spec/v2/examples/invalid-response-all-properties.json of the spec's own
  // repository: a deliberately invalid response.
  PactParseResult r =
      ParsePactDocument(ReadTestData("spec-repo-invalid-response-all-properties.json"));
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.footprints, IsEmpty());
  EXPECT_THAT(r.issues, Contains(IssueAt("$.data[0].updated", "not an ISO 8601 date-time")));
  EXPECT_THAT(r.issues, Contains(IssueAt("$.data[0].pcf.geographyRegionOrSubregion",
                                         "\"North America\" is not a UN M49 region")));
  EXPECT_THAT(r.issues,
              Contains(IssueAt("$.data[0].pcf", "defines 2 of geographyRegionOrSubregion")));
}

// --- Version rules ----------------------------------------------------------

TEST(PactVersionTest, RulesForSpecVersion) {
  EXPECT_EQ(*PactRulesForSpecVersion("2.0.0"), PactRules::k2_0);
  EXPECT_EQ(*PactRulesForSpecVersion("2.0.1-20230314"), PactRules::k2_0);
  EXPECT_EQ(*PactRulesForSpecVersion("2.1.0"), PactRules::k2_1);
  EXPECT_EQ(*PactRulesForSpecVersion("2.2.0"), PactRules::k2_2);
  EXPECT_EQ(*PactRulesForSpecVersion("2.2.1-20240513"), PactRules::k2_2);
  EXPECT_EQ(*PactRulesForSpecVersion("2.3.0"), PactRules::k2_3);
  EXPECT_EQ(*PactRulesForSpecVersion("2.3.2"), PactRules::k2_3);
  for (const char* bad :
       {"", "2", "2.3", "2.3.0.1", "v2.3.0", "2.3.0-2024", "2.3.0-beta", " 2.3.0", "2.3.x"}) {
    EXPECT_THAT(std::string(PactRulesForSpecVersion(bad).status().message()),
                HasSubstr("is not a version string like \"2.3.0\""))
        << bad;
  }
  for (const char* unknown : {"1.0.0", "3.0.0", "2.4.0", "0.2.0"}) {
    EXPECT_THAT(std::string(PactRulesForSpecVersion(unknown).status().message()),
                HasSubstr("is not a PACT version this validator knows"))
        << unknown;
  }
}

TEST(PactVersionTest, UnknownSpecVersionIsTheOnlyIssue) {
  Json fp = V21();
  fp["specVersion"] = "3.0.0";
  fp.erase("pcf");  // would be a problem under any 2.x rules
  std::vector<PactIssue> issues = ValidateFootprint(fp, "$");
  ASSERT_THAT(issues, SizeIs(1)) << Dump(issues);
  EXPECT_EQ(issues[0].path, "$.specVersion");
  EXPECT_THAT(issues[0].message, HasSubstr("\"3.0.0\" is not a PACT version"));
}

TEST(PactVersionTest, MissingSpecVersionStillChecksTheRest) {
  Json fp = V20();
  fp.erase("specVersion");
  fp["pcf"]["declaredUnit"] = "litre";
  std::vector<PactIssue> issues = ValidateFootprint(fp, "$");
  EXPECT_THAT(issues, Contains(IssueAt("$.specVersion", "is missing")));
  EXPECT_THAT(issues, Contains(IssueAt("$.pcf.declaredUnit", "\"litre\"")));
}

TEST(PactVersionTest, BoundaryProcessesDescriptionRequiredFrom21) {
  Json fp = V20();
  fp["pcf"].erase("boundaryProcessesDescription");
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());  // optional in 2.0.0
  fp["specVersion"] = "2.0.1-20230314";                // drafts of 2.1.0: 2.0 rules
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());

  Json v21 = V21();
  v21["pcf"].erase("boundaryProcessesDescription");
  EXPECT_THAT(ValidateFootprint(v21, "$"),
              ElementsAre(IssueAt("$.pcf.boundaryProcessesDescription",
                                  "is missing (required by PACT 2.1.0 and later; specVersion is "
                                  "\"2.1.0\")")));
}

TEST(PactVersionTest, AssuranceFlagRequiredFrom21) {
  Json fp = V20();  // its assurance has no "assurance" boolean
  ASSERT_FALSE(fp["pcf"]["assurance"].contains("assurance"));
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  fp["specVersion"] = "2.1.0";
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.pcf.assurance.assurance", "required by PACT 2.1.0")));
}

TEST(PactVersionTest, IpccSourcesRequiredFrom22) {
  Json fp = V21();
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  fp["specVersion"] = "2.2.0";
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.pcf.ipccCharacterizationFactorsSources",
                                  "is missing (required by PACT 2.2.0 and later")));
  fp["pcf"]["ipccCharacterizationFactorsSources"] = Json::array({"AR5", "AR6"});
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  fp["pcf"]["ipccCharacterizationFactorsSources"] = Json::array({"AR6", "IPCC6", "AR6"});
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.pcf.ipccCharacterizationFactorsSources[1]",
                                  "\"IPCC6\" is not an IPCC assessment report"),
                          IssueAt("$.pcf.ipccCharacterizationFactorsSources[2]",
                                  "repeats $.pcf.ipccCharacterizationFactorsSources[0]")));
  fp["pcf"]["ipccCharacterizationFactorsSources"] = Json::array();
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.pcf.ipccCharacterizationFactorsSources", "empty array")));
}

TEST(PactVersionTest, CrossSectoralStandardsRequiredIn23) {
  Json fp = V21();
  fp["pcf"]["ipccCharacterizationFactorsSources"] = Json::array({"AR5"});
  fp["specVersion"] = "2.2.0";
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  fp["specVersion"] = "2.3.0";
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.pcf.crossSectoralStandards", "required by PACT 2.3.0")));
  fp["pcf"]["crossSectoralStandards"] = Json::array({"GHGP Product", "ISO14067"});
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  // 2.3's optional additions are checked when present.
  fp["productClassifications"] =
      Json::array({"urn:pact:catalog.company.com:category-id:550010", "cpc:0151"});
  fp["pcf"]["productMassPerDeclaredUnit"] = "0,79";
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.productClassifications[1]", "is not a URN"),
                          IssueAt("$.pcf.productMassPerDeclaredUnit", "use a dot")));
  // ...and are unknown extras, not checked, under earlier versions.
  fp["specVersion"] = "2.2.0";
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
}

TEST(PactVersionTest, MissingRequiredFieldPerVersion) {
  struct Case {
    const char* spec_version;
    const char* field;
  };
  for (const Case& c :
       {Case{"2.0.0", "declaredUnit"}, Case{"2.1.0", "pCfExcludingBiogenic"},
        Case{"2.2.0", "referencePeriodEnd"}, Case{"2.3.0", "characterizationFactors"}}) {
    Json fp = V21();
    fp["specVersion"] = c.spec_version;
    fp["pcf"]["ipccCharacterizationFactorsSources"] = Json::array({"AR5"});
    fp["pcf"]["crossSectoralStandards"] = Json::array({"GHGP Product"});
    ASSERT_THAT(ValidateFootprint(fp, "$"), IsEmpty()) << c.spec_version;
    fp["pcf"].erase(c.field);
    EXPECT_THAT(ValidateFootprint(fp, "$"),
                ElementsAre(IssueAt(std::string("$.pcf.") + c.field, "is missing (required)")))
        << c.spec_version;
  }
  Json fp = V20();
  fp.erase("companyName");
  fp.erase("productIds");
  EXPECT_THAT(Paths(ValidateFootprint(fp, "$")), ElementsAre("$.companyName", "$.productIds"));
}

TEST(PactVersionTest, FieldsRequiredFrom2025) {
  // The 2.0.0 example has only primaryDataShare and few biogenic fields; that
  // is fine for a 2021 reference period.
  Json fp = V20();
  fp["pcf"]["referencePeriodStart"] = "2024-07-01T00:00:00Z";
  fp["pcf"]["referencePeriodEnd"] = "2025-07-01T00:00:00Z";
  fp.erase("validityPeriodStart");
  std::vector<PactIssue> issues = ValidateFootprint(fp, "$");
  EXPECT_THAT(Paths(issues),
              ElementsAre("$.pcf.pCfIncludingBiogenic", "$.pcf.dLucGhgEmissions",
                          "$.pcf.otherBiogenicGhgEmissions", "$.pcf.biogenicCarbonWithdrawal",
                          "$.pcf.biogenicAccountingMethodology", "$.pcf.dqi"))
      << Dump(issues);
  EXPECT_THAT(issues, Each(Field(&PactIssue::message, HasSubstr("includes 2025 or later"))));

  // Ending exactly at the start of 2025 does not include 2025.
  fp["pcf"]["referencePeriodEnd"] = "2025-01-01T00:00:00Z";
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());

  // With everything present, each DQI indicator is required too.
  fp["pcf"]["referencePeriodEnd"] = "2025-07-01T00:00:00Z";
  fp["pcf"]["pCfIncludingBiogenic"] = "-0.5";
  fp["pcf"]["dLucGhgEmissions"] = "0";
  fp["pcf"]["otherBiogenicGhgEmissions"] = "0";
  fp["pcf"]["biogenicCarbonWithdrawal"] = "-1.5";
  fp["pcf"]["biogenicAccountingMethodology"] = "ISO";
  fp["pcf"]["dqi"] = Json{{"coveragePercent", 80}, {"technologicalDQR", 2.0}};
  EXPECT_THAT(Paths(ValidateFootprint(fp, "$")),
              ElementsAre("$.pcf.dqi.temporalDQR", "$.pcf.dqi.geographicalDQR",
                          "$.pcf.dqi.completenessDQR", "$.pcf.dqi.reliabilityDQR"));
}

TEST(PactVersionTest, PrimaryDataShareOrDqiBefore2025) {
  Json fp = V20();
  fp["pcf"].erase("primaryDataShare");
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.pcf", "defines neither primaryDataShare nor dqi")));
  fp["pcf"]["dqi"] = Json{{"coveragePercent", 42.0}};
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
}

// --- Field rules --------------------------------------------------------------

TEST(PactFieldTest, InvalidDecimalNamesPathAndFix) {
  Json fp = V21();
  fp["pcf"]["pCfExcludingBiogenic"] = "12,5";
  std::vector<PactIssue> issues = ValidateFootprint(fp, "$");
  ASSERT_THAT(issues, SizeIs(1));
  EXPECT_EQ(FormatPactIssue(issues[0]),
            "$.pcf.pCfExcludingBiogenic: \"12,5\" is not a decimal (use a dot, e.g. \"12.5\")");
}

TEST(PactFieldTest, DecimalRules) {
  Json fp = V21();
  fp["pcf"]["unitaryProductAmount"] = "0";
  fp["pcf"]["pCfExcludingBiogenic"] = 1.63;
  fp["pcf"]["fossilGhgEmissions"] = "-0.1";
  fp["pcf"]["fossilCarbonContent"] = "1e-3";
  fp["pcf"]["biogenicCarbonWithdrawal"] = "1.5";
  fp["pcf"]["landManagementGhgEmissions"] = "-2.5";  // may be negative
  fp["pcf"]["iLucGhgEmissions"] = nullptr;
  EXPECT_THAT(
      ValidateFootprint(fp, "$"),
      ElementsAre(IssueAt("$.pcf.unitaryProductAmount", "\"0\" must be greater than 0"),
                  IssueAt("$.pcf.pCfExcludingBiogenic",
                          "must be a decimal string such as \"1.63\", not the JSON number"),
                  IssueAt("$.pcf.fossilGhgEmissions", "\"-0.1\" must not be negative"),
                  IssueAt("$.pcf.fossilCarbonContent", "without an exponent, e.g. \"0.001\""),
                  IssueAt("$.pcf.iLucGhgEmissions", "not null"),
                  IssueAt("$.pcf.biogenicCarbonWithdrawal", "must be 0 or negative")));
}

TEST(PactFieldTest, BadDeclaredUnit) {
  Json fp = V21();
  fp["pcf"]["declaredUnit"] = "litre";
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.pcf.declaredUnit",
                                  "\"litre\" is not a PACT declared unit (use one of: liter, "
                                  "kilogram, cubic meter, kilowatt hour, megajoule, ton "
                                  "kilometer, square meter)")));
  fp["pcf"]["declaredUnit"] = "piece";  // announced for v3, not in 2.x
  EXPECT_THAT(Paths(ValidateFootprint(fp, "$")), ElementsAre("$.pcf.declaredUnit"));
  fp["pcf"]["declaredUnit"] = 1;
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.pcf.declaredUnit", "must be a string, not a number")));
}

TEST(PactFieldTest, BadUuid) {
  Json fp = V21();
  fp["id"] = "not-a-uuid";
  EXPECT_THAT(ValidateFootprint(fp, "$"), ElementsAre(IssueAt("$.id", "is not a UUID")));
  fp["id"] = "d9be4477-e351-15b3-acd9-e1da05e6f633";  // version 1
  EXPECT_THAT(ValidateFootprint(fp, "$"), ElementsAre(IssueAt("$.id", "is not a version 4 UUID")));
  fp["id"] = "D9BE4477-E351-45B3-ACD9-E1DA05E6F633";  // case-insensitive, RFC 4122
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  fp["precedingPfIds"] = Json::array(
      {"d6985fe5-e569-5695-d47d-526dad7525d5", "x", "d6985fe5-e569-5695-d47d-526dad7525d5"});
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.precedingPfIds[1]", "\"x\" is not a UUID"),
                          IssueAt("$.precedingPfIds[2]", "repeats $.precedingPfIds[0]")));
}

TEST(PactFieldTest, IdentifierSets) {
  Json fp = V21();
  fp["productIds"] = Json::array({"gtin:4712345060507", "urn:gtin:1", "urn:gtin:1", 7});
  fp["companyIds"] = Json::array();
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.companyIds", "must not be an empty array"),
                          IssueAt("$.productIds[0]", "is not a URN"),
                          IssueAt("$.productIds[2]", "repeats $.productIds[1]"),
                          IssueAt("$.productIds[3]", "must be a string, not a number")));
  fp = V21();
  fp["productIds"] =
      Json::array({"urn:pathfinder:product:id:iupac-inchi:1S%2FC9H8O4%2Fc1-6%2810%2913-8-5-3-2-4-7%"
                   "288%299%2811%2912%2Fh2-5H%2C1H3%2C%28H%2C11%2C12%29",
                   "urn:pathfinder:product:id:cas:64-17-5", "URN:ISBN:0-395-36341-1"});
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  for (const char* bad : {"urn:", "urn:x:1", "urn:gtin:", "urn:gt in:1", "urn:gtin:a b",
                          "urn:gtin:%zz", "urn:-bad:1"}) {
    fp["productIds"] = Json::array({bad});
    EXPECT_THAT(Paths(ValidateFootprint(fp, "$")), ElementsAre("$.productIds[0]")) << bad;
  }
}

TEST(PactFieldTest, ScalarsAndEnums) {
  Json fp = V21();
  fp["version"] = -1;
  fp["status"] = "active";
  fp["companyName"] = "";
  fp["comment"] = nullptr;
  fp["pcf"]["exemptedEmissionsPercent"] = 5.5;
  fp["pcf"]["primaryDataShare"] = "56.12";
  fp["pcf"]["packagingEmissionsIncluded"] = "false";
  fp["pcf"]["characterizationFactors"] = "AR4";
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.version", "must be an integer from 0 to 2147483647, not -1"),
                          IssueAt("$.status", "\"active\" is not a footprint status"),
                          IssueAt("$.companyName", "must not be empty"),
                          IssueAt("$.comment", "must be a string, not null"),
                          IssueAt("$.pcf.characterizationFactors", "\"AR4\""),
                          IssueAt("$.pcf.exemptedEmissionsPercent", "5.5 is out of range"),
                          IssueAt("$.pcf.packagingEmissionsIncluded", "must be true or false"),
                          IssueAt("$.pcf.primaryDataShare", "not the string \"56.12\"")));
  fp = V21();
  fp["version"] = 1.0;
  EXPECT_THAT(ValidateFootprint(fp, "$"), ElementsAre(IssueAt("$.version", "not 1.0")));
  fp["version"] = 2147483648u;
  EXPECT_THAT(Paths(ValidateFootprint(fp, "$")), ElementsAre("$.version"));
  fp["version"] = 2147483647u;
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
}

TEST(PactFieldTest, DateTimes) {
  Json fp = V21();
  fp["created"] = "2022-05-22T21:47:32+02:00";
  fp["updated"] = "2022-05-22";
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.created", "is not in UTC"),
                          IssueAt("$.updated", "not an ISO 8601 date-time")));
  fp = V21();
  fp["updated"] = "2022-05-22T21:47:32Z";  // equal to created
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.updated", "must be after created")));
  fp["updated"] = "2022-05-22T21:47:32.001Z";
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  fp["updated"] = "2023-02-29T00:00:00Z";
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.updated", "not a valid calendar date")));
  fp["updated"] = "2024-02-29T23:59:59+00:00";
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  fp["updated"] = "2024-02-29T23:59:59";
  EXPECT_THAT(ValidateFootprint(fp, "$"), ElementsAre(IssueAt("$.updated", "has no time zone")));
  fp = V21();
  fp["pcf"]["referencePeriodEnd"] = "2020-01-01T00:00:00Z";
  EXPECT_THAT(
      ValidateFootprint(fp, "$"),
      ElementsAre(IssueAt("$.pcf.referencePeriodEnd", "must be after referencePeriodStart")));
}

TEST(PactFieldTest, ValidityPeriod) {
  Json fp = V21();  // reference period ends 2022-01-01
  fp["validityPeriodStart"] = "2022-01-01T00:00:00Z";
  fp["validityPeriodEnd"] = "2025-01-01T00:00:00Z";  // exactly + 3 years
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  fp["validityPeriodEnd"] = "2025-01-01T00:00:01Z";
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.validityPeriodEnd", "more than 3 years after")));
  fp["validityPeriodStart"] = "2021-12-31T00:00:00Z";
  fp["validityPeriodEnd"] = "2021-12-30T00:00:00Z";
  EXPECT_THAT(
      ValidateFootprint(fp, "$"),
      ElementsAre(IssueAt("$.validityPeriodEnd", "must be after validityPeriodStart"),
                  IssueAt("$.validityPeriodStart", "must not be before pcf.referencePeriodEnd")));
  fp.erase("validityPeriodEnd");
  EXPECT_THAT(ValidateFootprint(fp, "$"),
              ElementsAre(IssueAt("$.validityPeriodEnd", "defined together")));
}

TEST(PactFieldTest, StructuredProperties) {
  Json fp = V21();
  fp["pcf"]["productOrSectorSpecificRules"] = Json::array(
      {Json{{"operator", "Other"}, {"ruleNames", Json::array({"x"})}},
       Json{{"operator", "PEF"}, {"ruleNames", Json::array()}, {"otherOperatorName", "y"}}, "z"});
  fp["pcf"]["geographyRegionOrSubregion"] = "Western Europe";
  fp["pcf"]["secondaryEmissionFactorSources"] = Json::array({Json{{"name", "ecoinvent"}}});
  fp["pcf"]["packagingGhgEmissions"] = "0.5";
  fp["pcf"]["assurance"]["level"] = "high";
  fp["extensions"] = Json::array({1});
  EXPECT_THAT(
      ValidateFootprint(fp, "$"),
      ElementsAre(
          IssueAt("$.pcf.productOrSectorSpecificRules[0].otherOperatorName",
                  "required when operator is \"Other\""),
          IssueAt("$.pcf.productOrSectorSpecificRules[1].ruleNames", "empty array"),
          IssueAt("$.pcf.productOrSectorSpecificRules[1].otherOperatorName", "must not be defined"),
          IssueAt("$.pcf.productOrSectorSpecificRules[2]", "must be an object"),
          IssueAt("$.pcf", "defines 2 of geographyRegionOrSubregion"),
          IssueAt("$.pcf.secondaryEmissionFactorSources[0].version", "is missing"),
          IssueAt("$.pcf.packagingGhgEmissions", "packagingEmissionsIncluded is false"),
          IssueAt("$.pcf.assurance.level", "\"high\""),
          IssueAt("$.extensions[0]", "must be a DataModelExtension object")));
}

TEST(PactFieldTest, UnknownPropertiesAreAllowed) {
  Json fp = V21();
  fp["myCompanyExtension"] = Json{{"anything", Json::array({1, "two", nullptr})}};
  fp["pcf"]["vendorScore"] = "not checked";
  fp["pcf"]["assurance"]["auditorLicense"] = 42;
  EXPECT_THAT(ValidateFootprint(fp, "$"), IsEmpty());
  absl::StatusOr<PactFootprint> r = ExtractFootprint(fp);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->canonical_json, HasSubstr("\"myCompanyExtension\""));
}

TEST(PactFieldTest, ReportsEveryProblemNotJustTheFirst) {
  Json fp = V21();
  fp["id"] = "1";
  fp["pcf"]["declaredUnit"] = "kg";
  fp["pcf"]["fossilGhgEmissions"] = "1.2.3";
  fp["pcf"].erase("exemptedEmissionsPercent");
  EXPECT_THAT(Paths(ValidateFootprint(fp, "$[3]")),
              ElementsAre("$[3].id", "$[3].pcf.declaredUnit", "$[3].pcf.fossilGhgEmissions",
                          "$[3].pcf.exemptedEmissionsPercent"));
}

TEST(PactFieldTest, ExtractFootprintRequiresValidity) {
  Json fp = V21();
  fp["pcf"]["declaredUnit"] = "kg";
  absl::StatusOr<PactFootprint> r = ExtractFootprint(fp);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("$.pcf.declaredUnit: \"kg\""));
  EXPECT_TRUE(ExtractFootprint(V21()).ok());
  EXPECT_FALSE(ExtractFootprint(Json::array()).ok());
}

// --- Documents ------------------------------------------------------------------

TEST(PactDocumentTest, SingleObjectArrayAndDataEnvelope) {
  std::string one = V21().dump();
  std::string two = Json::array({V21(), V20()}).dump();
  EXPECT_THAT(ParsePactDocument(one).footprints, SizeIs(1));
  EXPECT_THAT(ParsePactDocument(two).footprints, SizeIs(2));
  EXPECT_THAT(ParsePactDocument(Json{{"data", V21()}}.dump()).footprints, SizeIs(1));
  PactParseResult r = ParsePactDocument(Json{{"data", Json::array({V21(), V20()})}}.dump());
  EXPECT_TRUE(r.ok()) << Dump(r.issues);
  EXPECT_THAT(r.footprints, SizeIs(2));
  EXPECT_EQ(r.footprints[1].spec_version, "2.0.0");
}

TEST(PactDocumentTest, ArrayWithOneBadElement) {
  Json bad = V21();
  bad["pcf"]["declaredUnit"] = "litre";
  bad["productIds"][0] = "4712345060507";
  PactParseResult r = ParsePactDocument(Json::array({V21(), bad, V20()}).dump());
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(Paths(r.issues), ElementsAre("$[1].productIds[0]", "$[1].pcf.declaredUnit"));
  EXPECT_THAT(r.footprints, SizeIs(2));  // the valid ones, for callers that want them

  PactParseResult enveloped = ParsePactDocument(Json{{"data", Json::array({V21(), bad})}}.dump());
  EXPECT_THAT(Paths(enveloped.issues),
              ElementsAre("$.data[1].productIds[0]", "$.data[1].pcf.declaredUnit"));
}

TEST(PactDocumentTest, NegativeFileReportsEveryIssueOfTheBadElement) {
  PactParseResult r = ParsePactDocument(ReadTestData("invalid-array-second-element.json"));
  EXPECT_THAT(r.issues,
              ElementsAre(IssueAt("$[1].pcf.declaredUnit", "\"litre\" is not a PACT declared unit"),
                          IssueAt("$[1].pcf.pCfExcludingBiogenic",
                                  "\"12,5\" is not a decimal (use a dot, e.g. \"12.5\")"),
                          IssueAt("$[1].pcf.ipccCharacterizationFactorsSources",
                                  "required by PACT 2.2.0 and later")))
      << Dump(r.issues);
}

TEST(PactDocumentTest, WrongShapes) {
  EXPECT_THAT(ParsePactDocument("\"hello\"").issues,
              ElementsAre(IssueAt("$",
                                  "must be a ProductFootprint object, an array of them or a "
                                  "PACT API response {\"data\": ...}, not a string")));
  EXPECT_THAT(ParsePactDocument("42").issues, ElementsAre(IssueAt("$", "not a number")));
  EXPECT_THAT(ParsePactDocument("null").issues, ElementsAre(IssueAt("$", "not null")));
  EXPECT_THAT(ParsePactDocument("[]").issues, ElementsAre(IssueAt("$", "empty array")));
  EXPECT_THAT(ParsePactDocument("[1, \"x\"]").issues,
              ElementsAre(IssueAt("$[0]", "must be a ProductFootprint object, not a number"),
                          IssueAt("$[1]", "not a string")));
  EXPECT_THAT(ParsePactDocument("{\"data\": []}").issues,
              ElementsAre(IssueAt("$.data", "empty array")));
  EXPECT_THAT(ParsePactDocument("{\"data\": {\"pfs\": []}}").issues,
              ElementsAre(IssueAt("$.data.pfs", "empty array")));
  EXPECT_THAT(ParsePactDocument("{\"data\": {\"pfs\": {}}}").issues,
              ElementsAre(IssueAt("$.data.pfs", "must be an array")));
  EXPECT_THAT(ParsePactDocument("{\"data\": 5}").issues,
              ElementsAre(IssueAt("$.data", "must be a ProductFootprint object or an array")));
  EXPECT_THAT(ParsePactDocument("{}").issues, Contains(IssueAt("$.specVersion", "is missing")));
  // One object only, for stored payloads.
  EXPECT_FALSE(ParsePactFootprint(Json::array({V21()}).dump()).ok());
  EXPECT_FALSE(ParsePactFootprint(Json{{"data", V21()}}.dump()).ok());
  EXPECT_TRUE(ParsePactFootprint(V21().dump()).ok());
}

TEST(PactDocumentTest, OversizedInputIsRefusedBeforeParsing) {
  std::string text = V21().dump();
  text.resize(kMaxPactDocumentBytes, ' ');  // valid JSON, exactly at the limit
  EXPECT_TRUE(ParsePactDocument(text).ok());
  text.push_back(' ');
  PactParseResult r = ParsePactDocument(text);
  EXPECT_THAT(r.issues,
              ElementsAre(IssueAt("$", "the input is 1048577 bytes; the limit is 1048576")));
  EXPECT_THAT(r.footprints, IsEmpty());
  EXPECT_FALSE(ParsePactFootprint(std::string(2 * kMaxPactDocumentBytes, '[')).ok());
}

TEST(PactDocumentTest, DeepNestingIsRefused) {
  std::string ok_depth = std::string(64, '[') + std::string(64, ']');
  EXPECT_THAT(ParsePactDocument(ok_depth).issues,
              ElementsAre(IssueAt("$[0]", "must be a ProductFootprint object")));
  std::string too_deep = std::string(65, '[') + std::string(65, ']');
  std::string path = "$";
  for (int i = 0; i < 64; ++i) path += "[0]";  // the 65th array
  EXPECT_THAT(ParsePactDocument(too_deep).issues,
              ElementsAre(IssueAt(path, "deeper than 64 levels")));
  // Deep inside a footprint (an extension), and far deeper than the stack.
  Json fp = V21();
  std::string text = fp.dump();
  text.insert(text.size() - 1, ",\"ext\":" + std::string(200000, '[') + std::string(200000, ']'));
  PactParseResult r = ParsePactDocument(text);
  ASSERT_THAT(r.issues, SizeIs(1));
  EXPECT_THAT(r.issues[0].path, StartsWith("$.ext[0][0]"));
}

TEST(PactDocumentTest, DuplicateKeysAreReported) {
  std::string text = V21().dump();
  text.insert(1, "\"comment\":\"first\",");
  PactParseResult r = ParsePactDocument(text);
  EXPECT_THAT(r.issues, ElementsAre(IssueAt("$.comment", "duplicate key \"comment\"")));
  EXPECT_THAT(ParsePactDocument("[{\"a\":1},{\"pcf\":{\"x\":1,\"x\":2}}]").issues,
              ElementsAre(IssueAt("$[1].pcf.x", "duplicate key")));
  EXPECT_THAT(ParsePactDocument("{\"a b\":1,\"a b\":2}").issues,
              ElementsAre(IssueAt("$[\"a b\"]", "duplicate key")));
}

TEST(PactDocumentTest, InvalidJsonAndUtf8) {
  EXPECT_THAT(ParsePactDocument("").issues, ElementsAre(IssueAt("$", "is not valid JSON")));
  EXPECT_THAT(ParsePactDocument("{\"id\": }").issues,
              ElementsAre(IssueAt("$", "is not valid JSON: parse error at line 1, column 8")));
  EXPECT_THAT(ParsePactDocument("{\"id\": \"\xff\xfe\"}").issues,
              ElementsAre(IssueAt("$", "is not valid JSON")));
  EXPECT_THAT(ParsePactDocument("{\"id\": \"\xed\xa0\x80\"}").issues,  // UTF-16 surrogate
              ElementsAre(IssueAt("$", "is not valid JSON")));
  EXPECT_THAT(ParsePactDocument(std::string("{\"a\":1}\0garbage", 15)).issues,
              ElementsAre(IssueAt("$", "is not valid JSON")));
  EXPECT_THAT(ParsePactDocument("[1e999999]").issues,
              ElementsAre(IssueAt("$", "is not valid JSON")));
  // Messages stay printable whatever the input holds.
  for (const PactIssue& i : ParsePactDocument("\x01\x02\xff\x80").issues) {
    for (char c : i.message) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << i.message;
    }
  }
}

TEST(PactDocumentTest, GarbageNeverCrashes) {
  std::mt19937 rng(20240410);
  std::string example = ReadTestData("spec-2.3.0-list-footprints-response.json");
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    if (round % 2 == 0) {
      text.resize(rng() % 300);
      for (char& c : text) c = static_cast<char>(rng() & 0xff);
    } else {
      text = example;
      for (int flips = 1 + rng() % 8; flips > 0; --flips) {
        text[rng() % text.size()] = static_cast<char>(rng() & 0xff);
      }
    }
    PactParseResult r = ParsePactDocument(text);
    EXPECT_TRUE(r.ok() || !r.issues.empty());
  }
  // Every truncation of a valid document is reported, not crashed on.
  for (size_t n = 0; n < example.size(); n += 37) {
    EXPECT_FALSE(ParsePactDocument(example.substr(0, n)).ok()) << n;
  }
}

TEST(PactDocumentTest, LargeInputsStayFast) {
  // Worst cases within the size limit: one footprint with ~70k identifiers,
  // and as many footprints as fit. Quadratic work would take minutes here.
  Json fp = V21();
  fp["productIds"] = Json::array();
  for (int i = 0; fp["productIds"].size() < 70000; ++i) {
    fp["productIds"].push_back("urn:ab:" + std::to_string(i));
  }
  fp["productIds"].push_back("urn:ab:7");
  std::string text = fp.dump();
  ASSERT_LE(text.size(), kMaxPactDocumentBytes);
  auto start = std::chrono::steady_clock::now();
  PactParseResult r = ParsePactDocument(text);
  EXPECT_THAT(r.issues, ElementsAre(IssueAt("$.productIds[70000]", "repeats $.productIds[7]")));

  Json many = Json::array();
  std::string one = V21().dump();
  for (size_t size = 2; size + one.size() + 1 < kMaxPactDocumentBytes; size += one.size() + 1) {
    many.push_back(V21());
  }
  r = ParsePactDocument(many.dump());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.footprints.size(), many.size());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(PactDocumentTest, IssueCountIsBounded) {
  Json many = Json::array();
  for (int i = 0; i < 200; ++i) many.push_back(Json::object());
  PactParseResult r = ParsePactDocument(many.dump());
  ASSERT_THAT(r.issues, SizeIs(kMaxPactIssues + 1));
  EXPECT_THAT(r.issues.back(), IssueAt("$", "more problems not shown"));
}

}  // namespace
}  // namespace cdl::verify
