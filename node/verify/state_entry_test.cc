#include "node/verify/state_entry.h"

#include <map>

#include "crypto/hash.h"
#include "crypto/sparse_merkle.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"

namespace cdl::verify {
namespace {

using cdl::crypto::DomainHash;
using cdl::crypto::HexEncode;

void AddUnknownField(google::protobuf::Message& msg) {
  msg.GetReflection()->MutableUnknownFields(&msg)->AddVarint(99, 1);
}

cdl::v1::StateEntry Entry(cdl::v1::EntryStatus status) {
  cdl::v1::StateEntry e;
  e.set_status(status);
  e.set_valid_until_ms(1'800'000'000'000);
  e.set_changed_ms(1'700'000'000'000);
  e.set_changed_by(std::string(32, '\xaa'));
  return e;
}

TEST(StateKeyTest, KeysAreDerivedFromWhatTheyDescribe) {
  std::string id(32, '\x07');
  std::string key_id(32, '\x09');
  EXPECT_EQ(RecordStateKey(id), DomainHash("cdl/state-key/v1", std::string("record\0", 7) + id));
  EXPECT_EQ(MemberStateKey("cert-cn"), DomainHash("cdl/state-key/v1", std::string("member\0cert-cn", 14)));
  EXPECT_EQ(KeyStateKey("cert-cn", key_id),
            DomainHash("cdl/state-key/v1", std::string("key\0cert-cn\0", 12) + key_id));
  // Kinds never collide, even for the same id bytes.
  EXPECT_NE(RecordStateKey("cert-cn"), MemberStateKey("cert-cn"));

  cdl::v1::Target t;
  t.set_record_id(id);
  EXPECT_EQ(*TargetStateKey(t), RecordStateKey(id));
  t.Clear();
  t.set_member("cert-cn");
  EXPECT_EQ(*TargetStateKey(t), MemberStateKey("cert-cn"));
  t.set_key_id(key_id);
  EXPECT_EQ(*TargetStateKey(t), KeyStateKey("cert-cn", key_id));
  t.set_record_id(id);
  EXPECT_FALSE(TargetStateKey(t).ok());
  EXPECT_FALSE(TargetStateKey(cdl::v1::Target()).ok());
  t.Clear();
  t.set_record_id("short");
  EXPECT_FALSE(TargetStateKey(t).ok());
  t.Clear();
  t.set_member("cert-cn");
  t.set_key_id("short");
  EXPECT_FALSE(TargetStateKey(t).ok());
}

TEST(StateEntryTest, EncodingIsPinned) {
  cdl::v1::StateEntry e;
  e.set_status(cdl::v1::ENTRY_REVOKED);
  e.set_valid_until_ms(0x0102030405060708);
  e.set_changed_ms(-1);
  e.set_changed_by(std::string(32, '\xaa'));
  std::string expected_hex = "01" "00000003" "0102030405060708" "ffffffffffffffff" "00000020" +
                             std::string(64, 'a') + "00000000" "00000000";
  EXPECT_EQ(HexEncode(EncodeStateEntry(e)), expected_hex);
  EXPECT_EQ(StateEntryHash(e), DomainHash("cdl/state-entry/v1", EncodeStateEntry(e)));
}

TEST(StateEntryTest, EveryFieldChangesTheHash) {
  const cdl::v1::StateEntry base = Entry(cdl::v1::ENTRY_ACTIVE);
  std::vector<cdl::v1::StateEntry> variants(6, base);
  variants[0].set_status(cdl::v1::ENTRY_SUSPENDED);
  variants[1].set_valid_until_ms(base.valid_until_ms() + 1);
  variants[2].set_changed_ms(base.changed_ms() + 1);
  variants[3].set_changed_by(std::string(32, '\xab'));
  variants[4].set_reason_hash(ReasonHash("fraud"));
  variants[5].set_subject_superseded_by(std::string(32, '\x01'));
  for (const auto& v : variants) EXPECT_NE(StateEntryHash(v), StateEntryHash(base)) << v.DebugString();
  // Moving bytes between length-prefixed fields changes the encoding too.
  cdl::v1::StateEntry a = base, b = base;
  a.set_changed_by("");
  a.set_reason_hash(std::string(32, '\xaa'));
  EXPECT_NE(EncodeStateEntry(a), EncodeStateEntry(base));
  EXPECT_NE(StateEntryHash(a), StateEntryHash(b));
  EXPECT_EQ(ReasonHash(""), "");
  EXPECT_EQ(ReasonHash("fraud"), cdl::crypto::Sha256("fraud"));
}

TEST(StateEntryTest, ValidationRefusesMalformedEntries) {
  EXPECT_TRUE(ValidateStateEntry(Entry(cdl::v1::ENTRY_ACTIVE)).ok());
  EXPECT_FALSE(ValidateStateEntry(Entry(cdl::v1::ENTRY_STATUS_UNSPECIFIED)).ok());
  auto bad_status = Entry(cdl::v1::ENTRY_ACTIVE);
  bad_status.set_status(static_cast<cdl::v1::EntryStatus>(42));
  EXPECT_FALSE(ValidateStateEntry(bad_status).ok());
  auto short_hash = Entry(cdl::v1::ENTRY_ACTIVE);
  short_hash.set_reason_hash("short");
  EXPECT_FALSE(ValidateStateEntry(short_hash).ok());
  auto unknown = Entry(cdl::v1::ENTRY_ACTIVE);
  AddUnknownField(unknown);
  EXPECT_FALSE(ValidateStateEntry(unknown).ok());
}

class StateProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 50; ++i) {
      std::string member = "member-" + std::to_string(i);
      auto e = Entry(i % 3 == 0 ? cdl::v1::ENTRY_REVOKED : cdl::v1::ENTRY_ACTIVE);
      ASSERT_TRUE(tree_.Set(MemberStateKey(member), StateEntryHash(e)).ok());
      entries_[member] = e;
    }
  }

  cdl::v1::StateProof Prove(const std::string& key) {
    auto lookup = tree_.Prove(key);
    EXPECT_TRUE(lookup.ok());
    cdl::v1::StateProof proof;
    proof.set_key(key);
    proof.mutable_proof()->set_bitmap(lookup->proof.bitmap);
    for (const auto& s : lookup->proof.siblings) proof.mutable_proof()->add_siblings(s);
    return proof;
  }

  cdl::crypto::MemorySparseMerkleTree tree_;
  std::map<std::string, cdl::v1::StateEntry> entries_;
};

TEST_F(StateProofTest, InclusionAndAbsenceVerify) {
  std::string key = MemberStateKey("member-3");
  auto proof = Prove(key);
  *proof.mutable_entry() = entries_["member-3"];
  EXPECT_TRUE(VerifyStateProof(tree_.Root(), key, proof).ok());

  std::string absent = MemberStateKey("nobody");
  auto absence = Prove(absent);
  EXPECT_TRUE(VerifyStateProof(tree_.Root(), absent, absence).ok());
  // Claiming an entry with an absence proof fails.
  *absence.mutable_entry() = entries_["member-3"];
  EXPECT_FALSE(VerifyStateProof(tree_.Root(), absent, absence).ok());
}

TEST_F(StateProofTest, WrongKeyEntryRootOrExtraFieldsFail) {
  std::string key = MemberStateKey("member-3");
  auto proof = Prove(key);
  *proof.mutable_entry() = entries_["member-3"];
  ASSERT_TRUE(VerifyStateProof(tree_.Root(), key, proof).ok());
  // The verifier derives the key itself: a proof for another key is refused.
  EXPECT_FALSE(VerifyStateProof(tree_.Root(), MemberStateKey("member-4"), proof).ok());
  auto other = proof;
  other.mutable_entry()->set_status(cdl::v1::ENTRY_ACTIVE);  // member-3 is revoked
  EXPECT_FALSE(VerifyStateProof(tree_.Root(), key, other).ok());
  auto no_entry = proof;
  no_entry.clear_entry();
  EXPECT_FALSE(VerifyStateProof(tree_.Root(), key, no_entry).ok());
  EXPECT_FALSE(VerifyStateProof(cdl::crypto::Sha256("other root"), key, proof).ok());
  EXPECT_FALSE(VerifyStateProof("", key, proof).ok());
  auto unknown = proof;
  AddUnknownField(unknown);
  EXPECT_FALSE(VerifyStateProof(tree_.Root(), key, unknown).ok());
  auto unknown_in_proof = proof;
  AddUnknownField(*unknown_in_proof.mutable_proof());
  EXPECT_FALSE(VerifyStateProof(tree_.Root(), key, unknown_in_proof).ok());
  // Every flipped byte of the serialized proof that still parses is refused.
  std::string bytes = proof.SerializeAsString();
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string tampered = bytes;
    tampered[i] ^= 0x01;
    cdl::v1::StateProof p;
    if (!p.ParseFromString(tampered)) continue;
    EXPECT_FALSE(VerifyStateProof(tree_.Root(), key, p).ok()) << "byte " << i;
  }
}

}  // namespace
}  // namespace cdl::verify
