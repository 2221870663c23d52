#include "node/verify/authority.h"

#include <vector>

#include "gtest/gtest.h"

namespace cdl::verify {
namespace {

using cdl::v1::StateEntry;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kJan2026 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kJan2027 = kJan2026 + 365 * kDay;

StateEntry Status(cdl::v1::EntryStatus status, int64_t changed_ms = kJan2026 + 10 * kDay) {
  StateEntry e;
  e.set_status(status);
  e.set_changed_ms(changed_ms);
  return e;
}

cdl::v1::Accreditation Accreditation() {
  cdl::v1::Accreditation a;
  a.set_certifier("cert-cn");
  a.add_standards("ISO 14067");
  a.add_standards("ISO 14064-3");
  a.add_jurisdictions("CN");
  a.set_valid_from_ms(kJan2026);
  a.set_valid_until_ms(kJan2027);
  return a;
}

cdl::v1::RecognitionAgreement Agreement(cdl::v1::Direction direction) {
  cdl::v1::RecognitionAgreement a;
  a.set_party_a("acc-cn");
  a.set_jurisdiction_a("CN");
  a.set_party_b("acc-eu");
  a.set_jurisdiction_b("EU");
  a.add_standards("ISO 14067");
  a.set_direction(direction);
  a.set_valid_from_ms(kJan2026);
  a.set_valid_until_ms(kJan2027);
  return a;
}

cdl::v1::Certificate Certificate() {
  cdl::v1::Certificate c;
  c.set_subject(std::string(32, 's'));
  c.set_standard("ISO 14067");
  c.set_jurisdiction("CN");
  c.set_valid_from_ms(kJan2026);
  c.set_valid_until_ms(kJan2027);
  return c;
}

// The message of a failed status, checking it is FailedPrecondition.
std::string Why(const absl::Status& s) {
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  return std::string(s.message());
}

TEST(FormatUtcTest, FormatsUtcWithOptionalMillis) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(1'700'000'000'000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatUtc(1'700'000'000'250), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(FormatUtc(1'709'164'800'000), "2024-02-29T00:00:00Z");
  EXPECT_EQ(FormatUtc(kJan2026), "2026-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(-1), "1969-12-31T23:59:59.999Z");
}

TEST(AccreditationTest, AccreditedInsideScopeAndWindow) {
  auto a = Accreditation();
  auto active = Status(cdl::v1::ENTRY_ACTIVE);
  EXPECT_TRUE(CheckAccreditation(a, active, "cert-cn", "ISO 14067", "CN", kJan2026).ok());
  EXPECT_TRUE(CheckAccreditation(a, active, "cert-cn", "ISO 14064-3", "CN", kJan2027 - 1).ok());
}

TEST(AccreditationTest, EachReasonIsNamed) {
  auto a = Accreditation();
  auto active = Status(cdl::v1::ENTRY_ACTIVE);
  EXPECT_EQ(Why(CheckAccreditation(a, active, "cert-eu", "ISO 14067", "CN", kJan2026)),
            "accreditation is of \"cert-cn\", not of \"cert-eu\"");
  EXPECT_EQ(Why(CheckAccreditation(a, active, "cert-cn", "PAS 2050", "CN", kJan2026)),
            "accreditation of cert-cn does not cover standard \"PAS 2050\" (it covers ISO 14067, ISO 14064-3)");
  EXPECT_EQ(Why(CheckAccreditation(a, active, "cert-cn", "ISO 14067", "EU", kJan2026)),
            "accreditation of cert-cn for ISO 14067 does not cover jurisdiction EU (it covers CN)");
  EXPECT_EQ(Why(CheckAccreditation(a, active, "cert-cn", "ISO 14067", "CN", kJan2027)),
            "accreditation of cert-cn for ISO 14067 in CN expired at 2027-01-01T00:00:00Z (checked at "
            "2027-01-01T00:00:00Z)");
  EXPECT_EQ(Why(CheckAccreditation(a, active, "cert-cn", "ISO 14067", "CN", kJan2026 - 1)),
            "accreditation of cert-cn for ISO 14067 in CN not valid before 2026-01-01T00:00:00Z (checked at "
            "2025-12-31T23:59:59.999Z)");
  EXPECT_EQ(Why(CheckAccreditation(a, Status(cdl::v1::ENTRY_SUSPENDED), "cert-cn", "ISO 14067", "CN", kJan2026)),
            "accreditation of cert-cn for ISO 14067 suspended since 2026-01-11T00:00:00Z");
  EXPECT_EQ(Why(CheckAccreditation(a, Status(cdl::v1::ENTRY_REVOKED), "cert-cn", "ISO 14067", "CN", kJan2026)),
            "accreditation of cert-cn for ISO 14067 revoked at 2026-01-11T00:00:00Z");
  // A revocation counts whenever it happened: the status is as of the checkpoint.
  EXPECT_FALSE(CheckAccreditation(a, Status(cdl::v1::ENTRY_REVOKED, kJan2027), "cert-cn", "ISO 14067", "CN",
                                  kJan2026)
                   .ok());
}

TEST(AccreditationTest, RenewalInTheStatusExtendsTheWindow) {
  auto a = Accreditation();
  auto renewed = Status(cdl::v1::ENTRY_ACTIVE);
  renewed.set_valid_until_ms(kJan2027 + 100 * kDay);
  EXPECT_TRUE(CheckAccreditation(a, renewed, "cert-cn", "ISO 14067", "CN", kJan2027 + kDay).ok());
  EXPECT_EQ(EffectiveValidUntil(kJan2027, renewed), kJan2027 + 100 * kDay);
  EXPECT_EQ(EffectiveValidUntil(kJan2027, Status(cdl::v1::ENTRY_ACTIVE)), kJan2027);
}

TEST(AccreditationTest, AnyOfSeveralAndOnlyRelevantReasons) {
  auto expired = Accreditation();
  expired.set_valid_until_ms(kJan2026 + kDay);
  auto other_standard = Accreditation();
  other_standard.clear_standards();
  other_standard.add_standards("PAS 2050");
  auto current = Accreditation();
  auto active = Status(cdl::v1::ENTRY_ACTIVE);
  auto revoked = Status(cdl::v1::ENTRY_REVOKED);
  int64_t t = kJan2026 + 30 * kDay;

  EXPECT_EQ(Why(CheckAccredited({}, "cert-cn", "ISO 14067", "CN", t)),
            "cert-cn holds no accreditation for ISO 14067 in CN");
  std::vector<AccreditationRef> refs = {{&other_standard, &active}};
  EXPECT_EQ(Why(CheckAccredited(refs, "cert-cn", "ISO 14067", "CN", t)),
            "cert-cn holds no accreditation for ISO 14067 in CN");
  refs.push_back({&expired, &active});
  refs.push_back({&current, &revoked});
  EXPECT_EQ(Why(CheckAccredited(refs, "cert-cn", "ISO 14067", "CN", t)),
            "accreditation of cert-cn for ISO 14067 in CN expired at 2026-01-02T00:00:00Z (checked at "
            "2026-01-31T00:00:00Z); accreditation of cert-cn for ISO 14067 revoked at 2026-01-11T00:00:00Z");
  refs.push_back({&current, &active});
  EXPECT_TRUE(CheckAccredited(refs, "cert-cn", "ISO 14067", "CN", t).ok());
  refs.push_back({&current, nullptr});
  EXPECT_TRUE(absl::IsInvalidArgument(CheckAccredited(refs, "cert-cn", "ISO 14067", "CN", t)));
}

TEST(RecognitionTest, DirectionDecidesWhoAcceptsWhom) {
  auto active = Status(cdl::v1::ENTRY_ACTIVE);
  int64_t t = kJan2026 + kDay;
  auto mutual = Agreement(cdl::v1::DIRECTION_MUTUAL);
  EXPECT_TRUE(CheckRecognition(mutual, active, "CN", "EU", "ISO 14067", t).ok());
  EXPECT_TRUE(CheckRecognition(mutual, active, "EU", "CN", "ISO 14067", t).ok());
  // A recognises B: A (CN) accepts certificates issued under B (EU).
  auto a_recognises_b = Agreement(cdl::v1::DIRECTION_A_RECOGNISES_B);
  EXPECT_TRUE(CheckRecognition(a_recognises_b, active, "EU", "CN", "ISO 14067", t).ok());
  EXPECT_EQ(Why(CheckRecognition(a_recognises_b, active, "CN", "EU", "ISO 14067", t)),
            "recognition agreement CN-EU is one-way: EU does not recognise certificates issued under CN");
  auto b_recognises_a = Agreement(cdl::v1::DIRECTION_B_RECOGNISES_A);
  EXPECT_TRUE(CheckRecognition(b_recognises_a, active, "CN", "EU", "ISO 14067", t).ok());
  EXPECT_FALSE(CheckRecognition(b_recognises_a, active, "EU", "CN", "ISO 14067", t).ok());
}

TEST(RecognitionTest, EachReasonIsNamed) {
  auto a = Agreement(cdl::v1::DIRECTION_MUTUAL);
  auto active = Status(cdl::v1::ENTRY_ACTIVE);
  int64_t t = kJan2026 + kDay;
  EXPECT_EQ(Why(CheckRecognition(a, active, "CN", "US", "ISO 14067", t)),
            "recognition agreement CN-EU does not link CN to US");
  EXPECT_EQ(Why(CheckRecognition(a, active, "CN", "EU", "PAS 2050", t)),
            "recognition agreement CN-EU does not cover standard \"PAS 2050\" (it covers ISO 14067)");
  EXPECT_EQ(Why(CheckRecognition(a, Status(cdl::v1::ENTRY_TERMINATED), "CN", "EU", "ISO 14067", t)),
            "recognition agreement CN-EU terminated at 2026-01-11T00:00:00Z");
  EXPECT_EQ(Why(CheckRecognition(a, Status(cdl::v1::ENTRY_SUSPENDED), "CN", "EU", "ISO 14067", t)),
            "recognition agreement CN-EU suspended since 2026-01-11T00:00:00Z");
  EXPECT_EQ(Why(CheckRecognition(a, active, "CN", "EU", "ISO 14067", kJan2027)),
            "recognition agreement CN-EU expired at 2027-01-01T00:00:00Z (checked at 2027-01-01T00:00:00Z)");
}

TEST(RecognitionTest, SameJurisdictionNeedsNoAgreement) {
  auto active = Status(cdl::v1::ENTRY_ACTIVE);
  auto terminated = Status(cdl::v1::ENTRY_TERMINATED);
  auto a = Agreement(cdl::v1::DIRECTION_MUTUAL);
  int64_t t = kJan2026 + kDay;
  EXPECT_TRUE(CheckRecognised({}, "CN", "CN", "ISO 14067", t).ok());
  EXPECT_EQ(Why(CheckRecognised({}, "CN", "EU", "ISO 14067", t)),
            "no recognition agreement makes certificates issued under CN for ISO 14067 count in EU");
  std::vector<AgreementRef> refs = {{&a, &terminated}};
  EXPECT_EQ(Why(CheckRecognised(refs, "CN", "EU", "ISO 14067", t)),
            "recognition agreement CN-EU terminated at 2026-01-11T00:00:00Z");
  refs.push_back({&a, &active});
  EXPECT_TRUE(CheckRecognised(refs, "CN", "EU", "ISO 14067", t).ok());
}

TEST(CertificateTest, ValidityStatusAndSupersededSubject) {
  auto c = Certificate();
  auto active = Status(cdl::v1::ENTRY_ACTIVE);
  EXPECT_TRUE(CheckCertificate(c, active, kJan2026 + kDay).ok());
  EXPECT_EQ(Why(CheckCertificate(c, Status(cdl::v1::ENTRY_REVOKED), kJan2026 + kDay)),
            "certificate revoked at 2026-01-11T00:00:00Z");
  EXPECT_EQ(Why(CheckCertificate(c, Status(cdl::v1::ENTRY_SUSPENDED), kJan2026 + kDay)),
            "certificate suspended since 2026-01-11T00:00:00Z");
  EXPECT_EQ(Why(CheckCertificate(c, active, kJan2027)),
            "certificate (ISO 14067) expired at 2027-01-01T00:00:00Z (checked at 2027-01-01T00:00:00Z)");
  auto renewed = active;
  renewed.set_valid_until_ms(kJan2027 + kDay);
  EXPECT_TRUE(CheckCertificate(c, renewed, kJan2027).ok());
  auto superseded = active;
  superseded.set_subject_superseded_by(std::string(32, '\x01'));
  EXPECT_NE(Why(CheckCertificate(c, superseded, kJan2026 + kDay)).find("was superseded by 0101"), std::string::npos);
}

}  // namespace
}  // namespace cdl::verify
