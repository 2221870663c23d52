// The Evidence rule on its own: a fake EvidenceVerifier stands in for the
// consensus encoding (node/net/evidence_test.cc checks the real one).
#include <memory>

#include "consensus.pb.h"
#include "gtest/gtest.h"
#include "node/ledger/ledger.h"
#include "node/ledger/test_util.h"

namespace cdl::ledger {
namespace {

namespace cv1 = cdl::consensus::v1;
using testing::TestChain;

// Opens EvidenceMessages whose signature starts with "ok:<signer>" (anything
// else does not verify; the rest varies like a randomized signature); the
// signed content is the block id.
class FakeVerifier : public EvidenceVerifier {
 public:
  absl::StatusOr<ConsensusStatement> Open(std::string_view message) const override {
    cv1::EvidenceMessage m;
    if (!m.ParseFromArray(message.data(), static_cast<int>(message.size())) ||
        m.kind_case() == cv1::EvidenceMessage::KIND_NOT_SET) {
      return absl::InvalidArgumentError("not an EvidenceMessage");
    }
    ConsensusStatement out;
    std::string signature;
    if (m.has_proposal()) {
      out = {ConsensusStatement::Kind::kProposal, m.proposal().author(), m.proposal().round(), m.proposal().block_id()};
      signature = m.proposal().signature();
    } else {
      out = {ConsensusStatement::Kind::kVote, m.vote().voter(), m.vote().round(), m.vote().block_id()};
      signature = m.vote().signature();
    }
    if (signature.rfind("ok:" + std::to_string(out.signer), 0) != 0) {
      return absl::UnauthenticatedError("bad signature");
    }
    return out;
  }
};

std::string Vote(uint32_t voter, uint64_t round, const std::string& block, const std::string& signature = "") {
  cv1::EvidenceMessage m;
  m.mutable_vote()->set_voter(voter);
  m.mutable_vote()->set_round(round);
  m.mutable_vote()->set_block_id(block);
  m.mutable_vote()->set_signature(signature.empty() ? "ok:" + std::to_string(voter) : signature);
  return m.SerializeAsString();
}

std::string Proposal(uint32_t author, uint64_t round, const std::string& block, const std::string& salt = "") {
  cv1::EvidenceMessage m;
  m.mutable_proposal()->set_author(author);
  m.mutable_proposal()->set_round(round);
  m.mutable_proposal()->set_block_id(block);
  // A salt re-signs the same content (as randomized ECDSA does on a retransmit).
  m.mutable_proposal()->set_signature("ok:" + std::to_string(author) + salt);
  return m.SerializeAsString();
}

class EvidenceRulesTest : public ::testing::Test {
 protected:
  EvidenceRulesTest() { ledger_.ledger().SetEvidenceVerifier(std::make_shared<FakeVerifier>()); }

  // An Evidence record by validator v<index+1> (its genesis key, next sequence).
  std::string Evidence(size_t author, const std::string& accused, const std::string& a, const std::string& b,
                       uint64_t sequence = 0) {
    std::string id = "v" + std::to_string(author + 1);
    cdl::v1::RecordBody body;
    body.set_chain_id("test-chain");
    body.set_author(id);
    body.set_key_id(chain_.validator_key(author).public_key().KeyId());
    body.set_sequence(sequence != 0 ? sequence : ++sequences_[id]);
    body.set_created_ms(1'700'000'000'000);
    body.mutable_evidence()->set_validator(accused);
    body.mutable_evidence()->set_message_a(a);
    body.mutable_evidence()->set_message_b(b);
    auto signed_record = cdl::verify::SignBody(body, chain_.validator_key(author));
    EXPECT_TRUE(signed_record.ok());
    return signed_record->SerializeAsString();
  }

  TestChain chain_{4};
  testing::TestLedger ledger_{chain_};
  std::map<std::string, uint64_t> sequences_;
};

TEST_F(EvidenceRulesTest, AcceptsVoteEquivocationOnceAndIndexesIt) {
  auto r = ledger_.CommitOne(Evidence(0, "v4", Vote(3, 7, "block-a"), Vote(3, 7, "block-b")));
  ASSERT_EQ(r.status(), cdl::v1::RECORD_ACCEPTED) << r.message();
  EXPECT_EQ(ledger_.ledger().LastSequence("v1"), 1u);
  EXPECT_FALSE(ledger_.ledger().GetMember("v1").ok());  // validators stay non-members

  // Two other validators report the same equivocation (messages in the other order).
  auto dup = ledger_.Commit({Evidence(1, "v4", Vote(3, 7, "block-b"), Vote(3, 7, "block-a")),
                             Evidence(2, "v4", Vote(3, 7, "block-a"), Vote(3, 7, "block-c"))});
  ASSERT_EQ(dup.size(), 2u);
  for (const auto& d : dup) {
    EXPECT_EQ(d.status(), cdl::v1::RECORD_REJECTED);
    EXPECT_EQ(d.code(), cdl::v1::REJECT_DUPLICATE);
    EXPECT_NE(d.message().find("already on the ledger"), std::string::npos) << d.message();
  }
  // The duplicates still consumed their authors' sequences.
  EXPECT_EQ(ledger_.ledger().LastSequence("v2"), 1u);

  // A proposal equivocation of the same validator and round is another fact.
  auto p = ledger_.CommitOne(Evidence(0, "v4", Proposal(3, 7, "block-a"), Proposal(3, 7, "block-b")));
  EXPECT_EQ(p.status(), cdl::v1::RECORD_ACCEPTED) << p.message();

  auto by_type = ledger_.ledger().Query({.record_type = "evidence"});
  ASSERT_TRUE(by_type.ok());
  ASSERT_EQ(by_type->entries.size(), 2u);
  EXPECT_EQ(by_type->entries[0].record_id, r.record_id());
  auto against = ledger_.ledger().Query({.member = "v4", .record_type = "evidence"});
  ASSERT_TRUE(against.ok());
  EXPECT_EQ(against->entries.size(), 2u);
  EXPECT_EQ(against->entries[0].state.subject_member(), "v4");

  // A replay of the accepted record is skipped, its receipt unchanged.
  auto again = ledger_.Commit({Evidence(0, "v4", Vote(3, 7, "block-a"), Vote(3, 7, "block-b"), 1)});
  EXPECT_TRUE(again.empty());
}

TEST_F(EvidenceRulesTest, RejectsEachBadField) {
  struct Case {
    std::string record;
    cdl::v1::RejectCode code;
    std::string field;
  };
  std::vector<Case> cases = {
      {Evidence(0, "reg-cn", Vote(3, 7, "a"), Vote(3, 7, "b")), cdl::v1::REJECT_UNKNOWN_REFERENCE,
       "evidence.validator"},
      {Evidence(0, "v4", Proposal(3, 7, "a"), Proposal(3, 7, "a", "#2")), cdl::v1::REJECT_INVALID_FIELD,
       "evidence.message_b: signs the same content"},
      {Evidence(0, "v4", Vote(3, 7, "a"), Vote(3, 8, "b")), cdl::v1::REJECT_INVALID_FIELD,
       "evidence.message_b: round 8"},
      {Evidence(0, "v4", Vote(3, 7, "a"), Vote(2, 7, "b")), cdl::v1::REJECT_INVALID_FIELD,
       "evidence.message_b: signed by validator \"v3\""},
      {Evidence(0, "v4", Vote(2, 7, "a"), Vote(2, 7, "b")), cdl::v1::REJECT_INVALID_FIELD,
       "evidence.message_a: signed by validator \"v3\""},
      {Evidence(0, "v4", Vote(3, 7, "a"), Proposal(3, 7, "b")), cdl::v1::REJECT_INVALID_FIELD,
       "evidence.message_b: a proposal"},
      {Evidence(0, "v4", Vote(3, 7, "a", "forged"), Vote(3, 7, "b")), cdl::v1::REJECT_BAD_SIGNATURE,
       "evidence.message_a"},
      {Evidence(0, "v4", Vote(3, 7, "a"), "junk"), cdl::v1::REJECT_INVALID_FIELD, "evidence.message_b"},
      // Byte-identical messages fail the stateless checks: no sequence consumed.
      {Evidence(0, "v4", Vote(3, 7, "a"), Vote(3, 7, "a")), cdl::v1::REJECT_INVALID_FIELD, "evidence.message_b"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto r = ledger_.CommitOne(cases[i].record);
    EXPECT_EQ(r.status(), cdl::v1::RECORD_REJECTED) << i;
    EXPECT_EQ(r.code(), cases[i].code) << i << ": " << r.message();
    EXPECT_EQ(r.message().rfind(cases[i].field, 0), 0u) << i << ": " << r.message();
  }
  // Every rejection but the stateless one consumed v1's sequence; nothing else was stored.
  EXPECT_EQ(ledger_.ledger().LastSequence("v1"), cases.size() - 1);
  auto page = ledger_.ledger().Query({.record_type = "evidence"});
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->entries.empty());
}

TEST_F(EvidenceRulesTest, AuthorMustBeAValidatorSigningWithItsGenesisKey) {
  // A member is not a validator.
  cdl::v1::RecordBody body = chain_.Body("reg-cn");
  body.mutable_evidence()->set_validator("v4");
  body.mutable_evidence()->set_message_a(Vote(3, 7, "a"));
  body.mutable_evidence()->set_message_b(Vote(3, 7, "b"));
  auto r = ledger_.CommitOne(chain_.Sign(body));
  EXPECT_EQ(r.code(), cdl::v1::REJECT_ROLE_NOT_ALLOWED) << r.message();
  EXPECT_EQ(r.message().rfind("body.author", 0), 0u) << r.message();

  // v1 signing with v2's key: not v1's genesis key.
  body.set_author("v1");
  body.set_key_id(chain_.validator_key(1).public_key().KeyId());
  body.set_sequence(1);
  auto wrong_key = cdl::verify::SignBody(body, chain_.validator_key(1));
  ASSERT_TRUE(wrong_key.ok());
  r = ledger_.CommitOne(wrong_key->SerializeAsString());
  EXPECT_EQ(r.code(), cdl::v1::REJECT_UNKNOWN_KEY) << r.message();

  // Names v1's key but the signature is another key's.
  body.set_key_id(chain_.validator_key(0).public_key().KeyId());
  auto forged = cdl::verify::SignBody(body, chain_.validator_key(0));
  ASSERT_TRUE(forged.ok());
  cdl::v1::RecordBody other_body = body;
  other_body.set_key_id(chain_.validator_key(1).public_key().KeyId());
  auto other = cdl::verify::SignBody(other_body, chain_.validator_key(1));
  ASSERT_TRUE(other.ok());
  forged->mutable_signatures(0)->set_signature(other->signatures(0).signature());
  r = ledger_.CommitOne(forged->SerializeAsString());
  EXPECT_EQ(r.code(), cdl::v1::REJECT_BAD_SIGNATURE) << r.message();
  // Neither consumed v1's sequence.
  EXPECT_EQ(ledger_.ledger().LastSequence("v1"), 0u);

  // Wrong sequence.
  r = ledger_.CommitOne(Evidence(0, "v4", Vote(3, 7, "a"), Vote(3, 7, "b"), 5));
  EXPECT_EQ(r.code(), cdl::v1::REJECT_BAD_SEQUENCE) << r.message();
}

TEST(EvidenceRulesNoVerifier, RejectedWithoutAVerifier) {
  TestChain chain(4);
  testing::TestLedger ledger(chain);
  cdl::v1::RecordBody body;
  body.set_chain_id("test-chain");
  body.set_author("v1");
  body.set_key_id(chain.validator_key(0).public_key().KeyId());
  body.set_sequence(1);
  body.mutable_evidence()->set_validator("v4");
  body.mutable_evidence()->set_message_a(Vote(3, 7, "a"));
  body.mutable_evidence()->set_message_b(Vote(3, 7, "b"));
  auto signed_record = cdl::verify::SignBody(body, chain.validator_key(0));
  ASSERT_TRUE(signed_record.ok());
  auto r = ledger.CommitOne(signed_record->SerializeAsString());
  EXPECT_EQ(r.code(), cdl::v1::REJECT_INVALID_FIELD) << r.message();
}

}  // namespace
}  // namespace cdl::ledger
