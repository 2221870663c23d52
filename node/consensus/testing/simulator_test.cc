#include "node/consensus/testing/simulator.h"

#include "gtest/gtest.h"

namespace cdl::consensus::testing {
namespace {

TEST(Simulator, SameSeedReplaysTheSameRun) {
  SimResult a = RunSimulation(StandardOptions(3));
  SimResult b = RunSimulation(StandardOptions(3));
  ASSERT_TRUE(a.ok()) << a.Summary();
  EXPECT_EQ(a.Summary(), b.Summary());
  EXPECT_EQ(a.events, b.events);
  SimResult c = RunSimulation(StandardOptions(4));
  EXPECT_NE(a.events, c.events);
}

TEST(Simulator, RunsTheFaultScheduleAndTheAdversary) {
  SimResult r = RunSimulation(StandardOptions(11));
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_GE(r.min_round, 200u);
  EXPECT_EQ(r.restarts, 1u);
  EXPECT_GT(r.final_heal_ms, 0u);
  EXPECT_GT(r.evidence, 0u);   // the Byzantine validator equivocated
  EXPECT_GT(r.rejected, 0u);   // and sent garbage
  EXPECT_EQ(r.conflicting_commits, 0u);
}

TEST(Simulator, LivenessCheckerCanFail) {
  SimOptions o = StandardOptions(3);
  o.liveness_bound_ms = 10;  // nobody commits every 10 ms
  SimResult r = RunSimulation(o);
  EXPECT_TRUE(r.safety_violation.empty()) << r.Summary();
  EXPECT_FALSE(r.liveness_failure.empty()) << r.Summary();
}

TEST(Simulator, SingleValidatorNetwork) {
  SimOptions o;
  o.seed = 1;
  o.num_validators = 1;
  SimResult r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_GE(r.min_height, 190u);
}

TEST(Simulator, SevenValidatorsWithOneByzantine) {
  SimOptions o = StandardOptions(2);
  o.num_validators = 7;
  SimResult r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.Summary();
}

}  // namespace
}  // namespace cdl::consensus::testing
