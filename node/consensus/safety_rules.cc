#include "node/consensus/safety_rules.h"

#include <algorithm>

namespace cdl::consensus {

bool SafeToVote(uint64_t round, uint64_t qc_round,
                const std::optional<TcSummary>& tc,
                uint64_t highest_voted_round) {
#ifdef CDL_CONSENSUS_WEAKEN_VOTING_RULE
  // Test-only: forget what was voted for, so a validator votes twice per round.
  highest_voted_round = 0;
#endif
  if (round <= std::max(highest_voted_round, qc_round)) return false;
  if (round == qc_round + 1) return true;
  return tc.has_value() && round == tc->round + 1 &&
         qc_round >= tc->max_high_qc_round;
}

bool SafeToTimeout(uint64_t round, uint64_t high_qc_round,
                   const std::optional<TcSummary>& last_tc,
                   uint64_t highest_voted_round, uint64_t highest_qc_round) {
  if (high_qc_round < highest_qc_round) return false;
  // highest_voted_round - 1 without wrapping below zero.
  uint64_t voted_floor = highest_voted_round == 0 ? 0 : highest_voted_round - 1;
  if (round <= std::max(voted_floor, high_qc_round)) return false;
  if (round == high_qc_round + 1) return true;
  return last_tc.has_value() && round == last_tc->round + 1;
}

bool VotingRuleWeakened() {
#ifdef CDL_CONSENSUS_WEAKEN_VOTING_RULE
  return true;
#else
  return false;
#endif
}

}  // namespace cdl::consensus
