// The two rules where a validator can lose safety, as pure functions
// (CONSENSUS.md "Rules"). The core calls them before signing any vote or
// timeout and nothing else decides whether to sign.
//
// Test builds may compile safety_rules.cc with
// CDL_CONSENSUS_WEAKEN_VOTING_RULE defined (target cdl_consensus_weakened) to
// drop the "never vote twice in a round" check; the simulation must then find
// a safety violation. Production code never links that target.

#ifndef CDL_NODE_CONSENSUS_SAFETY_RULES_H_
#define CDL_NODE_CONSENSUS_SAFETY_RULES_H_

#include <cstdint>
#include <optional>

namespace cdl::consensus {

// What a timeout certificate contributes to the rules.
struct TcSummary {
  uint64_t round = 0;
  uint64_t max_high_qc_round = 0;
};

// Voting rule. May this validator vote for a block of `round` whose QC has
// `qc_round`, proposed with timeout certificate `tc` (for round - 1, if any),
// given its persisted `highest_voted_round`? True iff
//   round > max(highest_voted_round, qc_round) and
//   (round == qc_round + 1 or
//    (tc && round == tc->round + 1 && qc_round >= tc->max_high_qc_round)).
// The caller then sets highest_voted_round = round and persists it before the
// vote leaves.
bool SafeToVote(uint64_t round, uint64_t qc_round,
                const std::optional<TcSummary>& tc,
                uint64_t highest_voted_round);

// Timeout rule. May this validator sign a timeout for `round` carrying its own
// high QC of `high_qc_round`, with `last_tc` its highest TC (if any), given its
// `highest_voted_round` and persisted `highest_qc_round`? True iff
//   high_qc_round >= highest_qc_round and
//   round > max(highest_voted_round - 1, high_qc_round) and
//   (round == high_qc_round + 1 or (last_tc && round == last_tc->round + 1)).
// The caller then sets highest_voted_round = max(highest_voted_round, round).
bool SafeToTimeout(uint64_t round, uint64_t high_qc_round,
                   const std::optional<TcSummary>& last_tc,
                   uint64_t highest_voted_round, uint64_t highest_qc_round);

// True in the deliberately weakened test build.
bool VotingRuleWeakened();

}  // namespace cdl::consensus

#endif  // CDL_NODE_CONSENSUS_SAFETY_RULES_H_
