// Proves the simulation's safety checker can fail. This binary links
// cdl_consensus_weakened, whose voting rule forgets highest_voted_round, so an
// honest validator votes for every valid proposal of its current round. A
// Byzantine leader holding three consecutive rounds then gets two conflicting
// chains certified (fork_split), and honest validators commit different blocks
// at one height: the simulation must report it.

#include <iostream>

#include "gtest/gtest.h"
#include "node/consensus/safety_rules.h"
#include "node/consensus/testing/simulator.h"

namespace cdl::consensus::testing {
namespace {

TEST(WeakenedVotingRule, IsCompiledIn) { EXPECT_TRUE(VotingRuleWeakened()); }

TEST(WeakenedVotingRule, SimulationReportsSafetyViolation) {
  constexpr int kSeeds = 50;
  int violations = 0;
  uint64_t first = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SimResult r = RunSimulation(ForkSplitOptions(seed));
    if (!r.safety_violation.empty()) {
      if (violations++ == 0) {
        first = seed;
        std::cout << "seed " << seed
                  << " violates safety as expected: " << r.safety_violation
                  << "\n";
      }
    }
  }
  std::cout << violations << " of " << kSeeds
            << " seeds report a safety violation (first: seed " << first
            << ")\n";
  EXPECT_GT(violations, 0)
      << "the weakened voting rule went unnoticed: the checker is blind";
}

}  // namespace
}  // namespace cdl::consensus::testing
