#include "node/consensus/certificates.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/consensus/encoding.h"
#include "node/consensus/testing/fake_crypto.h"

namespace cdl::consensus {
namespace {

using testing::FakeSigner;
using testing::FakeVerifier;

constexpr char kChain[] = "test-chain";
constexpr uint64_t kSeed = 42;

v1::Vote SignedVote(ValidatorIndex voter, const std::string& block_id,
                    uint64_t round, uint64_t height,
                    const std::string& parent_id, uint64_t parent_round) {
  FakeSigner signer(kSeed, voter);
  v1::Vote v;
  v.set_block_id(block_id);
  v.set_round(round);
  v.set_height(height);
  v.set_parent_id(parent_id);
  v.set_parent_round(parent_round);
  v.set_voter(voter);
  v.set_signature(*signer.Sign(kVoteDomain, VoteMessage(kChain, v)));
  if (height > 1 && parent_round + 1 == round) {
    v.set_commit_signature(*signer.Sign(
        kCommitDomain, CommitMessage(kChain, height - 1, parent_id)));
  }
  return v;
}

// A QC on block "B" (round 5, height 3) whose parent "P" has round 4.
v1::QuorumCert QcFrom(const std::vector<ValidatorIndex>& voters,
                      uint64_t parent_round = 4) {
  const std::string b(32, 'B'), p(32, 'P');
  v1::QuorumCert qc;
  qc.set_block_id(b);
  qc.set_round(5);
  qc.set_height(3);
  qc.set_parent_id(p);
  qc.set_parent_round(parent_round);
  for (ValidatorIndex v : voters) {
    v1::Vote vote = SignedVote(v, b, 5, 3, p, parent_round);
    v1::VoteSignature* s = qc.add_votes();
    s->set_voter(v);
    s->set_signature(vote.signature());
    s->set_commit_signature(vote.commit_signature());
  }
  return qc;
}

TEST(Quorum, IsTwoThirdsPlusOne) {
  EXPECT_EQ(QuorumSize(1), 1u);
  EXPECT_EQ(QuorumSize(2), 2u);
  EXPECT_EQ(QuorumSize(3), 3u);
  EXPECT_EQ(QuorumSize(4), 3u);
  EXPECT_EQ(QuorumSize(5), 4u);
  EXPECT_EQ(QuorumSize(7), 5u);
  EXPECT_EQ(QuorumSize(10), 7u);
  EXPECT_EQ(MaxFaulty(4), 1u);
  EXPECT_EQ(MaxFaulty(7), 2u);
  EXPECT_EQ(MaxFaulty(1), 0u);
}

TEST(VerifyQuorumCert, AcceptsAQuorumOfDistinctValidVotes) {
  FakeVerifier verifier(kSeed, 4);
  EXPECT_TRUE(VerifyQuorumCert(kChain, 4, verifier, QcFrom({0, 1, 2})).ok());
  EXPECT_TRUE(VerifyQuorumCert(kChain, 4, verifier, QcFrom({3, 1, 0, 2})).ok());
  EXPECT_TRUE(VerifyQuorumCert(kChain, 4, verifier, GenesisQc(kChain)).ok());
}

TEST(VerifyQuorumCert, DuplicateSignerNeverCountsTwice) {
  FakeVerifier verifier(kSeed, 4);
  absl::Status s = VerifyQuorumCert(kChain, 4, verifier, QcFrom({0, 1, 1}));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("twice"), std::string::npos) << s;
  EXPECT_FALSE(
      VerifyQuorumCert(kChain, 4, verifier, QcFrom({2, 2, 2, 2})).ok());
}

TEST(VerifyQuorumCert, RejectsTooFewUnknownOrBadSigners) {
  FakeVerifier verifier(kSeed, 4);
  EXPECT_FALSE(VerifyQuorumCert(kChain, 4, verifier, QcFrom({0, 1})).ok());
  v1::QuorumCert qc = QcFrom({0, 1, 2});
  qc.mutable_votes(2)->set_voter(7);
  EXPECT_FALSE(VerifyQuorumCert(kChain, 4, verifier, qc).ok());
  qc = QcFrom({0, 1, 2});
  (*qc.mutable_votes(1)->mutable_signature())[0] ^= 1;
  EXPECT_FALSE(VerifyQuorumCert(kChain, 4, verifier, qc).ok());
  qc = QcFrom({0, 1, 2});
  qc.set_round(6);  // signatures were over round 5
  EXPECT_FALSE(VerifyQuorumCert(kChain, 4, verifier, qc).ok());
  EXPECT_FALSE(
      VerifyQuorumCert("other-chain", 4, verifier, QcFrom({0, 1, 2})).ok());
}

TEST(VerifyQuorumCert, CommitSignaturesExactlyWhenParentIsOneRoundOlder) {
  FakeVerifier verifier(kSeed, 4);
  v1::QuorumCert qc = QcFrom({0, 1, 2});
  ASSERT_TRUE(QcCommitsParent(qc));
  qc.mutable_votes(0)->clear_commit_signature();
  EXPECT_FALSE(VerifyQuorumCert(kChain, 4, verifier, qc).ok());

  v1::QuorumCert skip = QcFrom({0, 1, 2}, /*parent_round=*/3);
  EXPECT_FALSE(QcCommitsParent(skip));
  EXPECT_TRUE(VerifyQuorumCert(kChain, 4, verifier, skip).ok());
  skip.mutable_votes(0)->set_commit_signature("x");
  EXPECT_FALSE(VerifyQuorumCert(kChain, 4, verifier, skip).ok());
}

TEST(VerifyQuorumCert, RejectsAFakeGenesis) {
  FakeVerifier verifier(kSeed, 4);
  v1::QuorumCert qc = GenesisQc(kChain);
  qc.set_block_id(std::string(32, 'x'));
  EXPECT_FALSE(VerifyQuorumCert(kChain, 4, verifier, qc).ok());
}

TEST(VoteAggregator, FormsAQcOnceFromDistinctVoters) {
  VoteAggregator agg(4);
  const std::string b(32, 'B'), p(32, 'P');
  EXPECT_FALSE(agg.Add(kChain, SignedVote(0, b, 5, 3, p, 4)).has_value());
  EXPECT_FALSE(agg.Add(kChain, SignedVote(0, b, 5, 3, p, 4)).has_value());
  EXPECT_FALSE(agg.Add(kChain, SignedVote(0, b, 5, 3, p, 4)).has_value());
  EXPECT_FALSE(agg.Add(kChain, SignedVote(1, b, 5, 3, p, 4)).has_value());
  // A vote on other content does not join the group.
  EXPECT_FALSE(agg.Add(kChain, SignedVote(2, std::string(32, 'C'), 5, 3, p, 4))
                   .has_value());
  std::optional<v1::QuorumCert> qc =
      agg.Add(kChain, SignedVote(3, b, 5, 3, p, 4));
  ASSERT_TRUE(qc.has_value());
  EXPECT_EQ(qc->votes_size(), 3);
  FakeVerifier verifier(kSeed, 4);
  EXPECT_TRUE(VerifyQuorumCert(kChain, 4, verifier, *qc).ok());
  EXPECT_FALSE(agg.Add(kChain, SignedVote(2, b, 5, 3, p, 4)).has_value());
}

v1::TimeoutMsg SignedTimeout(ValidatorIndex sender, uint64_t round,
                             uint64_t hqc_round) {
  v1::TimeoutMsg t;
  t.set_round(round);
  t.mutable_high_qc()->set_round(hqc_round);
  t.set_sender(sender);
  t.set_signature(
      *FakeSigner(kSeed, sender)
           .Sign(kTimeoutDomain, TimeoutMessage(kChain, round, hqc_round)));
  return t;
}

TEST(TimeoutCert, AggregatesAndVerifies) {
  TimeoutAggregator agg(4, 9);
  EXPECT_FALSE(agg.Add(SignedTimeout(0, 9, 7)).has_value());
  EXPECT_FALSE(agg.Add(SignedTimeout(0, 9, 7)).has_value());
  EXPECT_FALSE(agg.Add(SignedTimeout(1, 8, 7)).has_value());  // other round
  EXPECT_FALSE(agg.Add(SignedTimeout(1, 9, 8)).has_value());
  EXPECT_EQ(agg.count(), 2u);
  std::optional<v1::TimeoutCert> tc = agg.Add(SignedTimeout(3, 9, 5));
  ASSERT_TRUE(tc.has_value());
  FakeVerifier verifier(kSeed, 4);
  EXPECT_TRUE(VerifyTimeoutCert(kChain, 4, verifier, *tc).ok());
  EXPECT_EQ(SummarizeTc(*tc).max_high_qc_round, 8u);
  EXPECT_EQ(SummarizeTc(*tc).round, 9u);

  v1::TimeoutCert dup = *tc;
  dup.mutable_timeouts(2)->set_sender(0);
  EXPECT_FALSE(VerifyTimeoutCert(kChain, 4, verifier, dup).ok());
  v1::TimeoutCert lied = *tc;
  lied.mutable_timeouts(0)->set_high_qc_round(8);  // not what was signed
  EXPECT_FALSE(VerifyTimeoutCert(kChain, 4, verifier, lied).ok());
}

TEST(CommitCertificate, ComesFromTheQcAndVerifiesAlone) {
  FakeVerifier verifier(kSeed, 4);
  v1::CommitCertificate cert = CommitCertificateFromQc(QcFrom({0, 2, 3}));
  EXPECT_EQ(cert.height(), 2u);
  EXPECT_EQ(cert.block_id(), std::string(32, 'P'));
  EXPECT_TRUE(VerifyCommitCertificate(kChain, 4, verifier, cert).ok());
  v1::CommitCertificate other_height = cert;
  other_height.set_height(3);
  EXPECT_FALSE(VerifyCommitCertificate(kChain, 4, verifier, other_height).ok());
  v1::CommitCertificate dup = cert;
  dup.mutable_signatures(1)->set_validator(0);
  EXPECT_FALSE(VerifyCommitCertificate(kChain, 4, verifier, dup).ok());
  v1::CommitCertificate small = cert;
  small.mutable_signatures()->RemoveLast();
  EXPECT_FALSE(VerifyCommitCertificate(kChain, 4, verifier, small).ok());
}

TEST(Evidence, TwoVotesForDifferentBlocksProveEquivocation) {
  FakeVerifier verifier(kSeed, 4);
  const std::string p(32, 'P');
  v1::EquivocationEvidence ev;
  ev.set_validator(2);
  ev.set_round(5);
  *ev.mutable_vote_a() = SignedVote(2, std::string(32, 'A'), 5, 3, p, 4);
  *ev.mutable_vote_b() = SignedVote(2, std::string(32, 'B'), 5, 3, p, 4);
  EXPECT_TRUE(VerifyEvidence(kChain, 4, verifier, ev).ok());

  v1::EquivocationEvidence same = ev;
  *same.mutable_vote_b() = SignedVote(2, std::string(32, 'A'), 5, 3, p, 4);
  EXPECT_FALSE(VerifyEvidence(kChain, 4, verifier, same).ok());

  v1::EquivocationEvidence forged = ev;
  forged.mutable_vote_b()->set_signature("forged");
  EXPECT_FALSE(VerifyEvidence(kChain, 4, verifier, forged).ok());

  v1::EquivocationEvidence other_voter = ev;
  *other_voter.mutable_vote_b() =
      SignedVote(1, std::string(32, 'B'), 5, 3, p, 4);
  EXPECT_FALSE(VerifyEvidence(kChain, 4, verifier, other_voter).ok());
}

}  // namespace
}  // namespace cdl::consensus
