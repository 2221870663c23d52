// Seeded simulations of 4 validators (one Byzantine) with partitions,
// crash-restarts and network faults: 1,000 seeds with fast fake signatures
// and 20 with real ECDSA P-256 signatures. A failure prints the seed; rerun
// one seed (with its message trace) as the failure message says, e.g.
//   CDL_SIM_SEED=17 CDL_SIM_TRACE=1 ./consensus_simulation_test
//       --gtest_filter=Simulation.ReplaySeedFromEnvironment

#include <cstdlib>
#include <iostream>
#include <string>

#include "gtest/gtest.h"
#include "node/consensus/testing/simulator.h"

namespace cdl::consensus::testing {
namespace {

constexpr int kSeedsPerShard = 100;
constexpr int kFastShards = 10;  // 1,000 seeds
constexpr int kEcdsaSeedsPerShard = 10;
constexpr int kEcdsaShards = 2;  // 20 seeds

// `replay` names the environment that reruns this kind of seed.
void RunSeed(const SimOptions& options, const std::string& replay = "") {
  SimResult r = RunSimulation(options);
  ASSERT_TRUE(r.ok()) << "failing seed " << options.seed << " (rerun with "
                      << "CDL_SIM_SEED=" << options.seed << replay
                      << "): " << r.Summary();
  EXPECT_GE(r.min_round, options.min_rounds) << r.Summary();
  EXPECT_GT(r.min_height, 0u) << r.Summary();
  EXPECT_EQ(r.restarts, 1u) << r.Summary();
}

class FastSignatureSimulation : public ::testing::TestWithParam<int> {};

TEST_P(FastSignatureSimulation, SafeAndLive) {
  for (int i = 0; i < kSeedsPerShard; ++i) {
    const uint64_t seed = 1 + GetParam() * kSeedsPerShard + i;
    RunSeed(StandardOptions(seed));
    if (HasFatalFailure()) return;
  }
}
INSTANTIATE_TEST_SUITE_P(Seeds, FastSignatureSimulation,
                         ::testing::Range(0, kFastShards));

class EcdsaSimulation : public ::testing::TestWithParam<int> {};

TEST_P(EcdsaSimulation, SafeAndLive) {
  for (int i = 0; i < kEcdsaSeedsPerShard; ++i) {
    const uint64_t seed = 100'001 + GetParam() * kEcdsaSeedsPerShard + i;
    SimOptions o = StandardOptions(seed);
    o.signatures = SignatureScheme::kEcdsaP256;
    RunSeed(o, " CDL_SIM_ECDSA=1");
    if (HasFatalFailure()) return;
  }
}
INSTANTIATE_TEST_SUITE_P(Seeds, EcdsaSimulation,
                         ::testing::Range(0, kEcdsaShards));

// The attack that breaks the weakened build (weakened_simulation_test.cc),
// on the same seeds, fails against the real voting rule.
TEST(Simulation, ForkSplitAttackFailsAgainstTheRealVotingRule) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    RunSeed(ForkSplitOptions(seed), " CDL_SIM_FORK_SPLIT=1");
    if (HasFatalFailure()) return;
  }
}

// CDL_SIM_SEED=<seed> [CDL_SIM_ECDSA=1] [CDL_SIM_FORK_SPLIT=1]
// [CDL_SIM_TRACE=1]: replay one seed and print its summary (and trace).
TEST(Simulation, ReplaySeedFromEnvironment) {
  const char* seed = std::getenv("CDL_SIM_SEED");
  if (seed == nullptr) GTEST_SKIP() << "set CDL_SIM_SEED to replay a seed";
  const uint64_t s = std::strtoull(seed, nullptr, 10);
  SimOptions o = std::getenv("CDL_SIM_FORK_SPLIT") != nullptr
                     ? ForkSplitOptions(s)
                     : StandardOptions(s);
  if (std::getenv("CDL_SIM_ECDSA") != nullptr) {
    o.signatures = SignatureScheme::kEcdsaP256;
  }
  o.trace = std::getenv("CDL_SIM_TRACE") != nullptr;
  SimResult r = RunSimulation(o);
  if (o.trace) std::cout << r.trace;
  std::cout << r.Summary() << "\n";
  EXPECT_TRUE(r.ok());
}

}  // namespace
}  // namespace cdl::consensus::testing
