// PACT v2 JSON import (node/verify/pact.h). Input: the text of a PACT file
// (one footprint, an array, or an API response / event envelope). Seeds: the
// specification's examples in tests/testdata/pact and the footprint the
// fixtures use.
//
// Properties:
//   - ParsePactDocument reports instead of throwing; at most kMaxPactIssues
//     issues plus one summary, every path rooted at "$";
//   - every footprint it accepts is accepted on its own from its stored form
//     (canonical_json), which is a fixed point: parsing it again extracts the
//     same fields and the same canonical_json.
#include <cstddef>
#include <cstdint>
#include <string>

#include "node/verify/pact.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

bool SameFields(const cdl::verify::PactFootprint& a, const cdl::verify::PactFootprint& b) {
  return a.id == b.id && a.spec_version == b.spec_version && a.version == b.version && a.created == b.created &&
         a.updated == b.updated && a.status == b.status && a.company_name == b.company_name &&
         a.product_description == b.product_description && a.product_name_company == b.product_name_company &&
         a.product_category_cpc == b.product_category_cpc && a.declared_unit == b.declared_unit &&
         a.unitary_product_amount == b.unitary_product_amount && a.pcf_excluding_biogenic == b.pcf_excluding_biogenic &&
         a.pcf_including_biogenic == b.pcf_including_biogenic && a.reference_period_start == b.reference_period_start &&
         a.reference_period_end == b.reference_period_end && a.geography_country == b.geography_country &&
         a.geography_region_or_subregion == b.geography_region_or_subregion &&
         a.geography_country_subdivision == b.geography_country_subdivision && a.company_ids == b.company_ids &&
         a.product_ids == b.product_ids && a.preceding_pf_ids == b.preceding_pf_ids &&
         a.canonical_json == b.canonical_json;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const cdl::verify::PactParseResult result = cdl::verify::ParsePactDocument(text);
  FUZZ_CHECK(result.issues.size() <= cdl::verify::kMaxPactIssues + 1, "issue limit");
  for (const auto& issue : result.issues) {
    FUZZ_CHECK(!issue.path.empty() && issue.path[0] == '$', issue.path);
    FUZZ_CHECK(!issue.message.empty(), issue.path);
  }
  for (const auto& fp : result.footprints) {
    auto alone = cdl::verify::ParsePactFootprint(fp.canonical_json);
    FUZZ_CHECK(alone.ok(), alone.status().ToString());
    FUZZ_CHECK(SameFields(*alone, fp), "stored form extracts the same fields");
    auto again = cdl::verify::ParsePactFootprint(alone->canonical_json);
    FUZZ_CHECK(again.ok() && again->canonical_json == alone->canonical_json, "canonical_json is a fixed point");
  }
  // The single-object entry point must agree with the document one on
  // documents that are one object.
  auto single = cdl::verify::ParsePactFootprint(text);
  if (single.ok()) {
    FUZZ_CHECK(result.ok() && result.footprints.size() == 1, "one valid object is a valid document");
    FUZZ_CHECK(SameFields(*single, result.footprints[0]), "same fields as the document parse");
  }
  return 0;
}
