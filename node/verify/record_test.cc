#include "node/verify/record.h"

#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace cdl::verify {
namespace {

cdl::v1::RecordBody DisclosureBody(const cdl::crypto::PrivateKey& key) {
  cdl::v1::RecordBody body;
  body.set_chain_id("c");
  body.set_author("ent-1");
  body.set_key_id(key.public_key().KeyId());
  body.set_sequence(1);
  auto* d = body.mutable_disclosure();
  d->set_organisation("ent-1");
  d->set_period("2026-Q2");
  d->set_scope1_tco2e("10.25");
  d->set_scope2_market_tco2e("3");
  d->set_methodology("ISO 14064-1:2018");
  return body;
}

class RecordTest : public ::testing::Test {
 protected:
  cdl::crypto::PrivateKey key_ = *cdl::crypto::PrivateKey::Generate(cdl::crypto::Algorithm::kEd25519);
};

TEST_F(RecordTest, SignParseAndVerify) {
  auto signed_record = SignBody(DisclosureBody(key_), key_);
  ASSERT_TRUE(signed_record.ok());
  auto parsed = ParseSignedRecord(signed_record->SerializeAsString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->type, "disclosure");
  EXPECT_EQ(parsed->id, RecordId(signed_record->body()));
  EXPECT_TRUE(CheckStateless(*parsed, "c").ok());
  EXPECT_TRUE(VerifyRecordSignature(key_.public_key(), parsed->id, signed_record->signatures(0).signature()).ok());
  // A signature is bound to the record id: another record's id fails.
  EXPECT_FALSE(VerifyRecordSignature(key_.public_key(), RecordId("other"), signed_record->signatures(0).signature()).ok());
}

TEST_F(RecordTest, RecordIdIsDomainSeparated) {
  EXPECT_NE(RecordId("abc"), cdl::crypto::Sha256("abc"));
  EXPECT_EQ(RecordId("abc").size(), 32u);
}

TEST_F(RecordTest, UnknownFieldsAreRefused) {
  auto signed_record = SignBody(DisclosureBody(key_), key_);
  std::string bytes = signed_record->SerializeAsString();
  bytes += std::string("\xf8\x07\x01", 3);  // field 127, varint 1
  auto parsed = ParseSignedRecord(bytes);
  EXPECT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("unknown field"), std::string::npos) << parsed.status();
}

TEST_F(RecordTest, StatelessChecksNameTheField) {
  struct Case {
    std::function<void(cdl::v1::RecordBody&)> mutate;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](auto& b) { b.set_chain_id("x"); }, "body.chain_id"},
      {[](auto& b) { b.set_sequence(0); }, "body.sequence"},
      {[](auto& b) { b.mutable_disclosure()->set_scope1_tco2e("1e3"); }, "disclosure.scope1_tco2e"},
      {[](auto& b) { b.mutable_disclosure()->set_scope1_tco2e("-1"); }, "disclosure.scope1_tco2e"},
      {[](auto& b) { b.mutable_disclosure()->set_period("2026-13"); }, "disclosure.period"},
      {[](auto& b) { b.mutable_disclosure()->set_renewable_share_pct("100.5"); }, "disclosure.renewable_share_pct"},
      {[](auto& b) { b.mutable_disclosure()->set_organisation("Bad Id"); }, "disclosure.organisation"},
      {[](auto& b) { b.mutable_disclosure()->clear_methodology(); }, "disclosure.methodology"},
      {[](auto& b) { b.mutable_disclosure()->set_supersedes("short"); }, "disclosure.supersedes"},
  };
  for (const auto& c : cases) {
    cdl::v1::RecordBody body = DisclosureBody(key_);
    c.mutate(body);
    auto signed_record = SignBody(body, key_);
    auto parsed = ParseSignedRecord(signed_record->SerializeAsString());
    ASSERT_TRUE(parsed.ok());
    auto s = CheckStateless(*parsed, "c");
    EXPECT_FALSE(s.ok()) << c.field;
    EXPECT_EQ(s.message().substr(0, c.field.size()), c.field) << s;
  }
}

TEST_F(RecordTest, MalformedAndOversizedInputs) {
  EXPECT_FALSE(ParseSignedRecord("").ok());
  EXPECT_FALSE(ParseSignedRecord("\x0a\xff\xff\xff\xff\x0f").ok());
  EXPECT_FALSE(ParseSignedRecord(std::string(kMaxRecordBytes + 1, '\0')).ok());
  cdl::v1::SignedRecord unsigned_record;
  unsigned_record.set_body(DisclosureBody(key_).SerializeAsString());
  EXPECT_FALSE(ParseSignedRecord(unsigned_record.SerializeAsString()).ok());
}

TEST_F(RecordTest, CoSignAddsSecondSignatureOnce) {
  auto other = *cdl::crypto::PrivateKey::Generate(cdl::crypto::Algorithm::kSm2Sm3);
  auto signed_record = SignBody(DisclosureBody(key_), key_);
  ASSERT_TRUE(CoSign(*signed_record, "acc-eu", other).ok());
  EXPECT_EQ(signed_record->signatures_size(), 2);
  EXPECT_TRUE(VerifyRecordSignature(other.public_key(), RecordId(signed_record->body()),
                                    signed_record->signatures(1).signature()).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(CoSign(*signed_record, "acc-eu", other)));
}

TEST(ValidatePeriodTest, AcceptsYearsQuartersMonths) {
  for (const char* ok : {"2026", "2026-Q1", "2026-Q4", "2026-01", "2026-12"}) EXPECT_TRUE(ValidatePeriod("p", ok).ok()) << ok;
  for (const char* bad : {"", "26", "2026-Q5", "2026-00", "2026-1", "abcd", "2026-03-01"})
    EXPECT_FALSE(ValidatePeriod("p", bad).ok()) << bad;
}

}  // namespace
}  // namespace cdl::verify
