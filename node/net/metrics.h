// A small metrics registry rendered in the Prometheus text exposition format
// (version 0.0.4): counters, gauges and histograms with fixed buckets, each a
// family with a HELP and TYPE line, optionally split by one label.
//
// Families are registered once (names must be unique and valid Prometheus
// metric names; label values are escaped when rendered). The node registers
// its own families when it is created; the HTTP gateway renders them with
// RenderText() for GET /metrics.
//
// Values come either from instruments the code updates as things happen
// (Counter, Gauge, Histogram) or from callbacks evaluated at render time for
// values another component already keeps (ledger height, mempool size, RocksDB
// properties). A callback returning std::nullopt emits no sample (the family
// keeps its HELP/TYPE lines).
//
// Thread-safety: everything may be used from any thread. Instruments are
// lock-free (counters, gauges) or take a short per-histogram lock. Pointers
// returned by the Add* and WithLabel calls stay valid for the registry's life.
// Callbacks run on the rendering thread with the registry's lock held: they
// must not call back into the registry.
#ifndef CDL_NODE_NET_METRICS_H_
#define CDL_NODE_NET_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace cdl::net {

// A monotonically increasing count.
class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into fixed cumulative buckets (upper bounds, ascending;
// +Inf is implicit) and keeps their sum.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value) ABSL_LOCKS_EXCLUDED(mu_);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::vector<uint64_t> counts_ ABSL_GUARDED_BY(mu_);  // per bucket, not cumulative; last is +Inf
  double sum_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// A counter family split by one label (e.g. status="accepted"). Label values
// appear in the output in sorted order.
class CounterFamily {
 public:
  // The counter for `value`, created at zero on first use.
  Counter* WithLabel(std::string_view value) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class MetricRegistry;
  std::vector<std::pair<std::string, uint64_t>> Values() const ABSL_LOCKS_EXCLUDED(mu_);
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters_ ABSL_GUARDED_BY(mu_);
};

class MetricRegistry {
 public:
  using ValueCallback = std::function<std::optional<double>()>;

  MetricRegistry() = default;
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  // Each Add* registers a new family named `name` (a valid metric name, not
  // registered before: both are broken invariants of the caller and CHECKed).
  // Counter names should end in _total, units should be base units
  // (_seconds, _bytes), as Prometheus' conventions (and promtool) expect.
  Counter* AddCounter(std::string name, std::string help);
  CounterFamily* AddCounterFamily(std::string name, std::string help, std::string label);
  Gauge* AddGauge(std::string name, std::string help);
  Histogram* AddHistogram(std::string name, std::string help, std::vector<double> bounds);
  // A counter or gauge whose value is read by `callback` at render time.
  void AddCounterCallback(std::string name, std::string help, ValueCallback callback);
  void AddGaugeCallback(std::string name, std::string help, ValueCallback callback);
  // A counter or gauge family with one sample per (label value, value) pair
  // the callback returns at render time.
  using LabeledCallback = std::function<std::vector<std::pair<std::string, double>>()>;
  void AddLabeledCounterCallback(std::string name, std::string help, std::string label, LabeledCallback callback);
  void AddLabeledGaugeCallback(std::string name, std::string help, std::string label, LabeledCallback callback);

  // Every family, in registration order, in the text exposition format.
  std::string RenderText() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t family_count() const ABSL_LOCKS_EXCLUDED(mu_);

  // Buckets from `start`, each `factor` times the previous, `count` of them.
  static std::vector<double> ExponentialBuckets(double start, double factor, int count);

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    std::string name;
    std::string help;
    Type type;
    std::string label;  // for labelled families
    std::unique_ptr<Counter> counter;
    std::unique_ptr<CounterFamily> counters;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    ValueCallback callback;
    LabeledCallback labeled_callback;
  };
  Family& Add(std::string name, std::string help, Type type) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddLabeled(std::string name, std::string help, Type type, std::string label, LabeledCallback callback);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ ABSL_GUARDED_BY(mu_);
};

// Prometheus' sample value text: integers without a fraction, "+Inf", "NaN".
std::string FormatMetricValue(double value);

}  // namespace cdl::net

#endif  // CDL_NODE_NET_METRICS_H_
