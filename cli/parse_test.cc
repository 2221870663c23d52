#include "cli/parse.h"

#include <string>

#include "cli/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdl::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseRoleTest, AcceptsShortAndProtoNamesInAnyCase) {
  EXPECT_EQ(*ParseRole("regulator"), cdl::v1::ROLE_REGULATOR);
  EXPECT_EQ(*ParseRole("Accreditor"), cdl::v1::ROLE_ACCREDITOR);
  EXPECT_EQ(*ParseRole("certifier"), cdl::v1::ROLE_CERTIFIER);
  EXPECT_EQ(*ParseRole("PARK"), cdl::v1::ROLE_PARK);
  EXPECT_EQ(*ParseRole("ROLE_ENTERPRISE"), cdl::v1::ROLE_ENTERPRISE);
}

TEST(ParseRoleTest, RejectsUnknownRolesListingTheValidOnes) {
  for (const char* bad : {"", "admin", "role_", "unspecified", "parks"}) {
    absl::StatusOr<cdl::v1::Role> role = ParseRole(bad);
    ASSERT_FALSE(role.ok()) << bad;
    EXPECT_THAT(
        role.status().message(),
        HasSubstr("regulator, accreditor, certifier, park, enterprise"));
    EXPECT_EQ(ExitCodeOf(role.status()), kExitInvalid);
  }
}

TEST(ParseRoleTest, RoleNameRoundTrips) {
  for (cdl::v1::Role role : {cdl::v1::ROLE_REGULATOR, cdl::v1::ROLE_ACCREDITOR,
                             cdl::v1::ROLE_CERTIFIER, cdl::v1::ROLE_PARK,
                             cdl::v1::ROLE_ENTERPRISE}) {
    EXPECT_EQ(*ParseRole(RoleName(role)), role);
  }
  EXPECT_EQ(RoleName(cdl::v1::ROLE_UNSPECIFIED), "unspecified");
}

TEST(ParseKeyAlgorithmTest, ShortAndFullNames) {
  using cdl::crypto::Algorithm;
  EXPECT_EQ(*ParseKeyAlgorithm("ecdsa-p256"), Algorithm::kEcdsaP256Sha256);
  EXPECT_EQ(*ParseKeyAlgorithm("ecdsa-p256-sha256"),
            Algorithm::kEcdsaP256Sha256);
  EXPECT_EQ(*ParseKeyAlgorithm("ed25519"), Algorithm::kEd25519);
  EXPECT_EQ(*ParseKeyAlgorithm("SM2"), Algorithm::kSm2Sm3);
  EXPECT_EQ(*ParseKeyAlgorithm("sm2-sm3"), Algorithm::kSm2Sm3);
  EXPECT_FALSE(ParseKeyAlgorithm("rsa").ok());
}

TEST(ParseFounderSpecTest, SplitsIdRoleJurisdictionAndName) {
  absl::StatusOr<FounderSpec> spec =
      ParseFounderSpec("cn-mee:regulator:CN:Ministry: of Ecology");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->id, "cn-mee");
  EXPECT_EQ(spec->role, cdl::v1::ROLE_REGULATOR);
  EXPECT_EQ(spec->jurisdiction, "CN");
  EXPECT_EQ(spec->name, "Ministry: of Ecology");

  spec = ParseFounderSpec("eu-ab:accreditor:EU");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "");
}

TEST(ParseFounderSpecTest, RejectsIncompleteSpecsAndBadRoles) {
  EXPECT_FALSE(ParseFounderSpec("cn-mee").ok());
  EXPECT_FALSE(ParseFounderSpec("cn-mee:regulator").ok());
  EXPECT_FALSE(ParseFounderSpec("cn-mee::CN").ok());
  absl::StatusOr<FounderSpec> bad = ParseFounderSpec("cn-mee:boss:CN");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("founder cn-mee"));
  EXPECT_THAT(bad.status().message(), HasSubstr("\"boss\""));
}

TEST(ParseRecordIdTest, NeedsExactly32HexBytes) {
  const std::string hex(64, 'a');
  absl::StatusOr<std::string> id = ParseRecordId(hex);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->size(), 32u);
  EXPECT_TRUE(ParseRecordId(std::string(64, 'A')).ok());
  EXPECT_FALSE(ParseRecordId(std::string(62, 'a')).ok());
  EXPECT_FALSE(ParseRecordId(std::string(64, 'g')).ok());
  EXPECT_FALSE(ParseRecordId("").ok());
}

TEST(ParseTimeMsTest, Rfc3339AndDates) {
  EXPECT_EQ(*ParseTimeMs("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*ParseTimeMs("1970-01-01T08:00:01+08:00"), 1000);
  EXPECT_EQ(*ParseTimeMs("1970-01-01T00:00:00.250Z"), 250);
  EXPECT_EQ(*ParseTimeMs("1970-01-02"), 86400000);
  EXPECT_FALSE(ParseTimeMs("tomorrow").ok());
  EXPECT_FALSE(ParseTimeMs("2026-13-01").ok());
  EXPECT_EQ(FormatTimeMs(1250), "1970-01-01T00:00:01.250Z");
}

TEST(ParseDisclosureJsonTest, ReadsEveryField) {
  const std::string hash(64, 'b');
  const std::string json = R"({
    "organisation": "acme-steel",
    "period": "2025-Q4",
    "scope1_tco2e": "1234.5678",
    "scope2_location_tco2e": "10",
    "scope2_market_tco2e": 7,
    "scope3_tco2e": "0.000001",
    "energy_mwh": "42000",
    "renewable_share_pct": "37.5",
    "methodology": "ISO 14064-1:2018",
    "evidence_hashes": [")" +
                           hash + R"("],
    "supersedes": ")" + hash +
                           R"("
  })";
  absl::StatusOr<cdl::v1::Disclosure> d = ParseDisclosureJson(json, "other");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->organisation(), "acme-steel");
  EXPECT_EQ(d->period(), "2025-Q4");
  EXPECT_EQ(d->scope1_tco2e(), "1234.5678");  // exact, never through a double
  EXPECT_EQ(d->scope2_location_tco2e(), "10");
  EXPECT_EQ(d->scope2_market_tco2e(), "7");
  EXPECT_EQ(d->scope3_tco2e(), "0.000001");
  EXPECT_EQ(d->energy_mwh(), "42000");
  EXPECT_EQ(d->renewable_share_pct(), "37.5");
  EXPECT_EQ(d->methodology(), "ISO 14064-1:2018");
  ASSERT_EQ(d->evidence_hashes_size(), 1);
  EXPECT_EQ(d->evidence_hashes(0), std::string(32, '\xbb'));
  EXPECT_EQ(d->supersedes(), std::string(32, '\xbb'));
}

TEST(ParseDisclosureJsonTest, OrganisationDefaultsToTheAuthor) {
  absl::StatusOr<cdl::v1::Disclosure> d =
      ParseDisclosureJson(R"({"period": "2025", "scope1_tco2e": "1"})", "acme");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->organisation(), "acme");
  EXPECT_EQ(d->supersedes(), "");
}

TEST(ParseDisclosureJsonTest, NamesEveryUnknownKey) {
  absl::StatusOr<cdl::v1::Disclosure> d = ParseDisclosureJson(
      R"({"period": "2025", "scope_1": "1", "co2": "2"})", "acme");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(ExitCodeOf(d.status()), kExitInvalid);
  EXPECT_THAT(d.status().message(), HasSubstr("unknown fields"));
  EXPECT_THAT(d.status().message(), HasSubstr("\"scope_1\""));
  EXPECT_THAT(d.status().message(), HasSubstr("\"co2\""));
  EXPECT_THAT(d.status().message(), HasSubstr("scope1_tco2e"));  // the hint
}

TEST(ParseDisclosureJsonTest, RefusesFractionalJsonNumbers) {
  absl::StatusOr<cdl::v1::Disclosure> d =
      ParseDisclosureJson(R"({"scope1_tco2e": 0.1})", "acme");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("scope1_tco2e"));
  EXPECT_THAT(d.status().message(), HasSubstr("as strings"));
}

TEST(ParseDisclosureJsonTest, WrongTypesAndHexAreNamed) {
  absl::StatusOr<cdl::v1::Disclosure> d = ParseDisclosureJson(
      R"({"period": 2025, "evidence_hashes": ["zz"], "supersedes": 5,
          "energy_mwh": true})",
      "acme");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("period: expected a string"));
  EXPECT_THAT(d.status().message(), HasSubstr("evidence_hashes[0]"));
  EXPECT_THAT(d.status().message(), HasSubstr("supersedes"));
  EXPECT_THAT(d.status().message(), HasSubstr("energy_mwh"));
}

TEST(ParseDisclosureJsonTest, RejectsNonObjectsAndBadSyntax) {
  EXPECT_FALSE(ParseDisclosureJson("[]", "acme").ok());
  EXPECT_FALSE(ParseDisclosureJson("\"x\"", "acme").ok());
  absl::StatusOr<cdl::v1::Disclosure> d =
      ParseDisclosureJson(R"({"period": "2025",})", "acme");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("not valid JSON"));
  EXPECT_FALSE(ParseDisclosureJson("", "acme").ok());
}

// Found by tests/fuzz/fuzz_cli_json: nlohmann::json throws out_of_range (not
// parse_error) for numbers beyond the double range, which used to escape.
TEST(ParseDisclosureJsonTest, NumbersBeyondTheDoubleRangeAreBadJsonNotACrash) {
  absl::StatusOr<cdl::v1::Disclosure> d =
      ParseDisclosureJson(R"({"scope1_tco2e": 1e999})", "acme");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("not valid JSON"));
  EXPECT_FALSE(ParseDisclosureJson("52e512e5d", "acme").ok());
}

TEST(RecordTypeTest, KnowsThePayloadNames) {
  EXPECT_TRUE(IsRecordType("disclosure"));
  EXPECT_TRUE(IsRecordType("product_footprint"));
  EXPECT_TRUE(IsRecordType("member_registration"));
  EXPECT_FALSE(IsRecordType("footprint"));
  EXPECT_THAT(RecordTypeList(), HasSubstr("audit_finding"));
}

}  // namespace
}  // namespace cdl::cli
