// The consensus-encoding EvidenceVerifier and the evidence record payload.
#include "node/net/evidence.h"

#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "node/consensus/encoding.h"
#include "node/ledger/test_util.h"

namespace cdl::net {
namespace {

namespace cv1 = cdl::consensus::v1;
using cdl::ledger::ConsensusStatement;
using cdl::ledger::testing::TestChain;

class EvidenceTest : public ::testing::Test {
 protected:
  cv1::Vote SignedVote(size_t voter, uint64_t round, char block) {
    cv1::Vote v;
    v.set_block_id(std::string(32, block));
    v.set_round(round);
    v.set_height(5);
    v.set_parent_id(std::string(32, 'p'));
    v.set_parent_round(round - 2);
    v.set_voter(static_cast<uint32_t>(voter));
    auto sig = cdl::crypto::SignDomain(chain_.validator_key(voter), cdl::consensus::kVoteDomain,
                                       cdl::consensus::VoteMessage("test-chain", v));
    EXPECT_TRUE(sig.ok());
    v.set_signature(*sig);
    return v;
  }
  cv1::SignedProposalHeader SignedProposal(size_t author, uint64_t round, char block) {
    cv1::SignedProposalHeader p;
    p.set_round(round);
    p.set_block_id(std::string(32, block));
    p.set_author(static_cast<uint32_t>(author));
    auto sig = cdl::crypto::SignDomain(chain_.validator_key(author), cdl::consensus::kProposalDomain,
                                       cdl::consensus::ProposalMessage("test-chain", round, p.block_id()));
    EXPECT_TRUE(sig.ok());
    p.set_signature(*sig);
    return p;
  }

  TestChain chain_{4};
  cdl::verify::TrustedGenesis genesis_ = chain_.genesis();
  ConsensusEvidenceVerifier verifier_{genesis_};
};

TEST_F(EvidenceTest, BuildsAndOpensVoteEquivocation) {
  cv1::EquivocationEvidence ev;
  ev.set_validator(2);
  ev.set_round(9);
  *ev.mutable_vote_a() = SignedVote(2, 9, 'a');
  *ev.mutable_vote_b() = SignedVote(2, 9, 'b');
  auto body = EvidenceFromConsensus(ev, genesis_);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->validator(), "v3");
  auto a = verifier_.Open(body->message_a());
  auto b = verifier_.Open(body->message_b());
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->kind, ConsensusStatement::Kind::kVote);
  EXPECT_EQ(a->signer, 2u);
  EXPECT_EQ(a->round, 9u);
  EXPECT_NE(a->signed_content, b->signed_content);
  // A re-signed retransmit has the same content (ECDSA signatures differ).
  cv1::EvidenceMessage again;
  *again.mutable_vote() = SignedVote(2, 9, 'a');
  auto c = verifier_.Open(again.SerializeAsString());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->signed_content, a->signed_content);
}

TEST_F(EvidenceTest, OpensProposalsAndRefusesForgeries) {
  cv1::EvidenceMessage m;
  *m.mutable_proposal() = SignedProposal(1, 4, 'x');
  auto ok = verifier_.Open(m.SerializeAsString());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->kind, ConsensusStatement::Kind::kProposal);
  EXPECT_EQ(ok->signer, 1u);

  // Claims validator 2 but signed by validator 1.
  m.mutable_proposal()->set_author(2);
  EXPECT_TRUE(absl::IsUnauthenticated(verifier_.Open(m.SerializeAsString()).status()));
  // Another round than the one signed.
  m.mutable_proposal()->set_author(1);
  m.mutable_proposal()->set_round(5);
  EXPECT_TRUE(absl::IsUnauthenticated(verifier_.Open(m.SerializeAsString()).status()));
  // Not a validator, not a message.
  m.mutable_proposal()->set_author(9);
  EXPECT_TRUE(absl::IsInvalidArgument(verifier_.Open(m.SerializeAsString()).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(verifier_.Open("junk").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(verifier_.Open("").status()));

  // Signed for another chain.
  cv1::EvidenceMessage vote;
  cv1::Vote v = SignedVote(0, 3, 'a');
  auto other_chain = cdl::crypto::SignDomain(chain_.validator_key(0), cdl::consensus::kVoteDomain,
                                             cdl::consensus::VoteMessage("other-chain", v));
  v.set_signature(*other_chain);
  *vote.mutable_vote() = v;
  EXPECT_TRUE(absl::IsUnauthenticated(verifier_.Open(vote.SerializeAsString()).status()));
}

TEST_F(EvidenceTest, RefusesIncompleteEvidence) {
  cv1::EquivocationEvidence ev;
  ev.set_validator(2);
  *ev.mutable_vote_a() = SignedVote(2, 9, 'a');
  EXPECT_FALSE(EvidenceFromConsensus(ev, genesis_).ok());
  ev.set_validator(7);
  *ev.mutable_vote_b() = SignedVote(2, 9, 'b');
  EXPECT_FALSE(EvidenceFromConsensus(ev, genesis_).ok());
}

}  // namespace
}  // namespace cdl::net
