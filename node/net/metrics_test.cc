#include "node/net/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdl::net {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersHelpTypeAndSamples) {
  MetricRegistry m;
  m.AddCounter("cdl_things_total", "Things done")->Increment(3);
  m.AddGauge("cdl_level", "A level")->Set(2.5);
  m.AddGaugeCallback("cdl_height", "Height", [] { return 42.0; });
  m.AddGaugeCallback("cdl_absent", "Not available here", [] { return std::nullopt; });
  EXPECT_EQ(m.RenderText(),
            "# HELP cdl_things_total Things done\n"
            "# TYPE cdl_things_total counter\n"
            "cdl_things_total 3\n"
            "# HELP cdl_level A level\n"
            "# TYPE cdl_level gauge\n"
            "cdl_level 2.5\n"
            "# HELP cdl_height Height\n"
            "# TYPE cdl_height gauge\n"
            "cdl_height 42\n"
            "# HELP cdl_absent Not available here\n"
            "# TYPE cdl_absent gauge\n");
  EXPECT_EQ(m.family_count(), 4u);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricRegistry m;
  Histogram* h = m.AddHistogram("cdl_latency_seconds", "Latency", {0.25, 1, 4});
  for (double v : {0.125, 0.25, 0.5, 2.0, 8.0}) h->Observe(v);
  EXPECT_EQ(m.RenderText(),
            "# HELP cdl_latency_seconds Latency\n"
            "# TYPE cdl_latency_seconds histogram\n"
            "cdl_latency_seconds_bucket{le=\"0.25\"} 2\n"  // le is inclusive
            "cdl_latency_seconds_bucket{le=\"1\"} 3\n"
            "cdl_latency_seconds_bucket{le=\"4\"} 4\n"
            "cdl_latency_seconds_bucket{le=\"+Inf\"} 5\n"
            "cdl_latency_seconds_sum 10.875\n"
            "cdl_latency_seconds_count 5\n");
}

TEST(MetricsTest, LabelledFamiliesAreSortedAndEscaped) {
  MetricRegistry m;
  CounterFamily* f = m.AddCounterFamily("cdl_rejected_total", "Rejections", "code");
  f->WithLabel("SUPERSEDED")->Increment();
  f->WithLabel("INVALID_FIELD")->Increment(2);
  f->WithLabel("a\"b\\c\nd")->Increment();
  m.AddLabeledGaugeCallback("cdl_by_name", "Per name", "name",
                            [] { return std::vector<std::pair<std::string, double>>{{"z", 1}, {"a", 2}}; });
  std::string text = m.RenderText();
  EXPECT_THAT(text, HasSubstr("cdl_rejected_total{code=\"INVALID_FIELD\"} 2\n"
                              "cdl_rejected_total{code=\"SUPERSEDED\"} 1\n"
                              "cdl_rejected_total{code=\"a\\\"b\\\\c\\nd\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cdl_by_name{name=\"a\"} 2\ncdl_by_name{name=\"z\"} 1\n"));
}

TEST(MetricsTest, HelpTextIsEscaped) {
  MetricRegistry m;
  m.AddGauge("cdl_x", "line one\nback\\slash");
  EXPECT_THAT(m.RenderText(), HasSubstr("# HELP cdl_x line one\\nback\\\\slash\n"));
}

TEST(MetricsTest, ValuesFormatAsPrometheusReadsThem) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(12345678901234), "12345678901234");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatMetricValue(0.0 / 0.0), "NaN");
}

TEST(MetricsTest, ExponentialBuckets) {
  EXPECT_EQ(MetricRegistry::ExponentialBuckets(1, 4, 4), (std::vector<double>{1, 4, 16, 64}));
}

TEST(MetricsTest, RepeatedOrInvalidNamesAreBrokenInvariants) {
  EXPECT_DEATH(
      {
        MetricRegistry m;
        m.AddCounter("cdl_a_total", "a");
        m.AddGauge("cdl_a_total", "again");
      },
      "registered twice");
  EXPECT_DEATH(
      {
        MetricRegistry m;
        m.AddGauge("cdl-bad", "dash");
      },
      "invalid metric name");
  EXPECT_DEATH(
      {
        MetricRegistry m;
        m.AddHistogram("cdl_h", "h", {1, 1});
      },
      "strictly increasing");
}

// Concurrent updates while rendering lose nothing.
TEST(MetricsTest, ConcurrentUpdatesAreCounted) {
  MetricRegistry m;
  Counter* c = m.AddCounter("cdl_n_total", "n");
  CounterFamily* f = m.AddCounterFamily("cdl_l_total", "l", "k");
  Histogram* h = m.AddHistogram("cdl_h", "h", {1, 10});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c->Increment();
        f->WithLabel(t % 2 ? "odd" : "even")->Increment();
        h->Observe(i % 20);
        if (i % 1000 == 0) (void)m.RenderText();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(c->value(), 40000u);
  EXPECT_EQ(f->WithLabel("odd")->value(), 20000u);
  EXPECT_EQ(h->snapshot().count, 40000u);
  EXPECT_THAT(m.RenderText(), HasSubstr("cdl_h_bucket{le=\"1\"} 4000\n"));
}

}  // namespace
}  // namespace cdl::net
