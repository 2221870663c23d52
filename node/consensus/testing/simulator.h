// A seeded, single-threaded discrete-event simulation of a validator network
// running the real ConsensusCore: simulated clock, a network with random
// delays, drops, reordering, duplication and partitions that heal, crashes and
// restarts from the persisted SafetyStore/BlockStore, and one Byzantine
// validator (equivocating leader, double votes, bad signatures, far-future
// rounds, garbage).
//
// After every commit it checks safety (no two honest validators commit
// different blocks at one height; every honest validator's commits form one
// parent-linked chain with valid commit certificates, so each is a prefix of
// the longest) and that evidence only ever names the Byzantine validator.
// After the last fault heals it checks liveness (every honest validator keeps
// committing within a bound of simulated time). The same seed always gives
// the same run.

#ifndef CDL_NODE_CONSENSUS_TESTING_SIMULATOR_H_
#define CDL_NODE_CONSENSUS_TESTING_SIMULATOR_H_

#include <cstdint>
#include <string>

namespace cdl::consensus::testing {

enum class SignatureScheme {
  kFake,       // FakeSigner: an 8-byte keyed hash, fast
  kEcdsaP256,  // real cdl_crypto ECDSA P-256 keys
};

struct ByzantineOptions {
  bool enabled = true;
  bool equivocate = true;      // different proposals to different peers
  bool double_vote = true;     // a second, conflicting vote each round
  bool bad_signatures = true;  // copies of messages with broken signatures
  bool far_future = true;      // messages for rounds far ahead
  bool garbage = true;         // malformed and unsolicited messages
  // Try to get two conflicting chains certified: while it leads consecutive
  // rounds, it extends two forks, each sent to a group of honest validators
  // that overlap in one "pivot". Only a validator that votes twice per round
  // lets it succeed (see cdl_consensus_weakened).
  bool fork_split = false;
};

struct SimOptions {
  uint64_t seed = 1;
  uint32_t num_validators = 4;
  SignatureScheme signatures = SignatureScheme::kFake;
  ByzantineOptions byzantine;
  uint32_t rounds_per_leader = 1;
  // Run until every honest validator reached this round (after all faults).
  uint64_t min_rounds = 200;
  bool partition = true;
  bool crash_restart = true;
  bool network_faults = true;  // drops, duplicates, long delays
  // Per seed, drop/duplicate/long-delay probabilities are drawn from
  // [0, max_fault_rate]; a partition lasts up to max_partition_ms.
  double max_fault_rate = 0.05;
  uint64_t max_partition_ms = 8000;
  uint64_t base_timeout_ms = 400;
  uint64_t max_timeout_ms = 3200;
  // Every honest validator must commit within this long after the final heal
  // and then at least this often until the end.
  uint64_t liveness_bound_ms = 30000;
  uint64_t max_sim_time_ms = 900000;
  // Record a trace of every delivered message (slow; for debugging a seed).
  bool trace = false;
};

struct SimResult {
  bool ok() const {
    return safety_violation.empty() && liveness_failure.empty();
  }
  // One line: seed, outcome and the key figures.
  std::string Summary() const;

  uint64_t seed = 0;
  std::string safety_violation;  // empty if safe
  std::string liveness_failure;  // empty if live
  uint64_t sim_time_ms = 0;
  uint64_t final_heal_ms = 0;
  uint64_t min_round = 0;   // lowest current round of honest validators
  uint64_t min_height = 0;  // lowest committed height of honest ones
  uint64_t max_height = 0;
  uint64_t events = 0;
  uint64_t messages = 0;
  uint64_t evidence = 0;  // evidence reports by honest validators
  uint64_t rejected = 0;  // inputs rejected by honest validators
  uint64_t restarts = 0;
  uint64_t conflicting_commits = 0;
  std::string trace;
};

SimResult RunSimulation(const SimOptions& options);

// The options of the standard test seeds: 4 validators, >= 200 rounds, a
// partition that heals, a crash-restart of an honest validator, network
// faults and an active Byzantine validator. One seed in five gives each leader
// three consecutive rounds and lets the Byzantine validator try fork_split.
SimOptions StandardOptions(uint64_t seed);

// Every seed runs the fork_split attack (three rounds per leader).
SimOptions ForkSplitOptions(uint64_t seed);

}  // namespace cdl::consensus::testing

#endif  // CDL_NODE_CONSENSUS_TESTING_SIMULATOR_H_
