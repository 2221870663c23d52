#include "node/verify/json_view.h"

#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace cdl::verify {
namespace {

TEST(JsonViewTest, BytesFieldsAreHexAtEveryDepth) {
  cdl::v1::Checkpoint checkpoint;
  checkpoint.set_header(std::string("\x01\xab", 2));
  checkpoint.mutable_commit()->set_height(7);
  checkpoint.mutable_commit()->set_block_hash(std::string(2, '\xff'));
  checkpoint.mutable_commit()->add_signatures()->set_signature(std::string("\x00\x10", 2));
  nlohmann::json j = ProtoToHexJson(checkpoint);
  EXPECT_EQ(j["header"], "01ab");
  EXPECT_EQ(j["commit"]["block_hash"], "ffff");
  EXPECT_EQ(j["commit"]["signatures"][0]["signature"], "0010");
  EXPECT_EQ(j["commit"]["height"], "7");  // the protobuf JSON mapping writes 64-bit integers as strings

  // The file form keeps base64, as `cdl proof` / `cdl checkpoint` write it.
  EXPECT_EQ(ProtoToJson(checkpoint)["header"], cdl::crypto::Base64Encode(std::string("\x01\xab", 2)));
}

TEST(JsonViewTest, ReceiptNamesStatusAndCodeWithoutPrefixes) {
  cdl::v1::Receipt r;
  r.set_record_id(std::string(32, '\x11'));
  r.set_status(cdl::v1::RECORD_REJECTED);
  r.set_code(cdl::v1::REJECT_INVALID_FIELD);
  r.set_message("body.disclosure.period: bad");
  r.set_height(3);
  r.set_author("ent-1");
  r.set_sequence(2);
  nlohmann::json j = ReceiptJson(r);
  EXPECT_EQ(j["record_id"], std::string(64, '1'));
  EXPECT_EQ(j["status"], "REJECTED");
  EXPECT_EQ(j["code"], "INVALID_FIELD");
  EXPECT_EQ(j["message"], "body.disclosure.period: bad");
  EXPECT_EQ(j["height"], 3);
  EXPECT_EQ(j["author"], "ent-1");
  EXPECT_EQ(j["sequence"], 2);
  EXPECT_EQ(StatusName(cdl::v1::RECORD_ACCEPTED), "ACCEPTED");
  EXPECT_EQ(RejectCodeName(cdl::v1::REJECT_NONE), "NONE");
}

TEST(JsonViewTest, RecordCarriesTypeBodySignaturesReceiptAndBytes) {
  ParsedRecord record;
  record.id = std::string(32, '\x22');
  record.type = "disclosure";
  record.body.set_author("ent-1");
  record.body.set_key_id(std::string(2, '\x0a'));
  record.body.mutable_disclosure()->set_period("2026");
  auto* sig = record.signed_record.add_signatures();
  sig->set_member("ent-1");
  sig->set_key_id(std::string(1, '\x0b'));
  sig->set_signature(std::string(1, '\x0c'));
  cdl::v1::Receipt receipt;
  receipt.set_status(cdl::v1::RECORD_ACCEPTED);
  nlohmann::json j = RecordJson(record, receipt, "raw");
  EXPECT_EQ(j["record_id"], std::string(64, '2'));
  EXPECT_EQ(j["type"], "disclosure");
  EXPECT_EQ(j["body"]["author"], "ent-1");
  EXPECT_EQ(j["body"]["key_id"], "0a0a");
  EXPECT_EQ(j["body"]["disclosure"]["period"], "2026");
  EXPECT_EQ(j["signatures"][0], (nlohmann::json{{"member", "ent-1"}, {"key_id", "0b"}, {"signature", "0c"}}));
  EXPECT_EQ(j["receipt"]["status"], "ACCEPTED");
  EXPECT_EQ(j["signed_record"], cdl::crypto::Base64Encode("raw"));
}

TEST(JsonViewTest, PassportVerdictShape) {
  PassportVerdict v;
  v.valid = false;
  v.reasons = {"checkpoint: 1 signature(s), quorum is 3", "record 2: not on the ledger at the checkpoint"};
  v.jurisdiction = "EU";
  v.at_ms = 1'767'225'600'000;  // 2026-01-01
  v.subject.type = "product_footprint";
  v.subject.product = "Steel bar 10mm";
  v.subject.pcf_value = "1.234";
  PassportCertificate c;
  c.standard = "ISO 14067";
  c.valid_from_ms = 1'767'225'600'000;
  c.problems = {"revoked"};
  v.certificates.push_back(c);
  nlohmann::json j = PassportVerdictJson(v);
  EXPECT_EQ(j["verdict"], "INVALID");
  EXPECT_EQ(j["reasons"].size(), 2u);
  EXPECT_EQ(j["jurisdiction"], "EU");
  EXPECT_EQ(j["checked_at"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(j["checkpoint"]["height"], 0);
  EXPECT_EQ(j["checkpoint"]["time"], "");
  EXPECT_EQ(j["subject"]["product"], "Steel bar 10mm");
  EXPECT_EQ(j["subject"]["pcf"], "1.234");
  EXPECT_FALSE(j["subject"].contains("period"));
  EXPECT_EQ(j["certificates"][0]["standard"], "ISO 14067");
  EXPECT_EQ(j["certificates"][0]["valid_until"], "");
  EXPECT_EQ(j["certificates"][0]["problems"][0], "revoked");
}

}  // namespace
}  // namespace cdl::verify
