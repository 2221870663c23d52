#include "node/consensus/safety_rules.h"

#include "gtest/gtest.h"

namespace cdl::consensus {
namespace {

TEST(SafeToVote, VotesForTheNextRoundAfterItsQc) {
  EXPECT_TRUE(SafeToVote(/*round=*/5, /*qc_round=*/4, std::nullopt,
                         /*highest_voted_round=*/4));
  EXPECT_TRUE(SafeToVote(1, 0, std::nullopt, 0));
}

TEST(SafeToVote, NeverVotesTwiceInARound) {
  EXPECT_FALSE(SafeToVote(5, 4, std::nullopt, /*highest_voted_round=*/5));
  EXPECT_FALSE(SafeToVote(5, 4, std::nullopt, /*highest_voted_round=*/6));
  EXPECT_FALSE(VotingRuleWeakened());
}

TEST(SafeToVote, RoundMustExceedQcRound) {
  EXPECT_FALSE(SafeToVote(4, 4, std::nullopt, 0));
  EXPECT_FALSE(SafeToVote(3, 4, std::nullopt, 0));
}

TEST(SafeToVote, SkippedRoundNeedsATimeoutCertificate) {
  EXPECT_FALSE(SafeToVote(6, 4, std::nullopt, 4));
  // TC for round 5 whose signers' highest QC is at most 4: the QC is recent
  // enough, so extending it cannot skip a possibly committed block.
  EXPECT_TRUE(SafeToVote(6, 4, TcSummary{5, 4}, 5));
  EXPECT_TRUE(SafeToVote(6, 4, TcSummary{5, 3}, 5));
}

TEST(SafeToVote, RefusesAQcOlderThanTheTimeoutCertificateKnows) {
  // Some timeout signer had a QC of round 4: a block extending round 3 could
  // fork away from a committed block.
  EXPECT_FALSE(SafeToVote(6, 3, TcSummary{5, 4}, 5));
}

TEST(SafeToVote, TimeoutCertificateMustBeForThePreviousRound) {
  EXPECT_FALSE(SafeToVote(7, 4, TcSummary{5, 4}, 5));
  EXPECT_FALSE(SafeToVote(6, 4, TcSummary{6, 4}, 5));
}

TEST(SafeToTimeout, TimesOutTheRoundAfterItsQc) {
  EXPECT_TRUE(SafeToTimeout(/*round=*/5, /*high_qc_round=*/4, std::nullopt,
                            /*highest_voted_round=*/4,
                            /*highest_qc_round=*/4));
}

TEST(SafeToTimeout, MayTimeOutTheRoundItVotedIn) {
  EXPECT_TRUE(SafeToTimeout(5, 4, std::nullopt, 5, 4));
  // And repeat it (retransmission).
  EXPECT_TRUE(SafeToTimeout(5, 4, std::nullopt, 5, 4));
}

TEST(SafeToTimeout, NeverTimesOutBelowItsVotes) {
  EXPECT_FALSE(SafeToTimeout(5, 4, TcSummary{4, 3}, 6, 4));
}

TEST(SafeToTimeout, MustCarryItsHighestQc) {
  EXPECT_FALSE(SafeToTimeout(5, 3, TcSummary{4, 3}, 4, /*highest_qc=*/4));
}

TEST(SafeToTimeout, RoundMustFollowItsQcOrTc) {
  EXPECT_FALSE(SafeToTimeout(7, 4, std::nullopt, 4, 4));
  EXPECT_TRUE(SafeToTimeout(7, 4, TcSummary{6, 4}, 6, 4));
  EXPECT_FALSE(SafeToTimeout(4, 4, std::nullopt, 0, 4));
}

}  // namespace
}  // namespace cdl::consensus
