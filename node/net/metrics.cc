#include "node/net/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace cdl::net {
namespace {

bool ValidName(std::string_view name, bool label) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return !(label && name.size() >= 2 && name[0] == '_' && name[1] == '_');  // reserved
}

// A broken invariant of our own code (a bad or repeated metric name).
[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "metrics: %s\n", what.c_str());
  std::abort();
}

// HELP text escaping: backslash and newline.
std::string EscapeHelp(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// Label value escaping: backslash, double quote and newline.
std::string EscapeLabel(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out.append(name);
  if (!labels.empty()) {
    out += '{';
    out.append(labels);
    out += '}';
  }
  out += ' ';
  out += FormatMetricValue(value);
  out += '\n';
}

std::string Label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  out += EscapeLabel(value);
  out += '"';
  return out;
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);  // shortest text that reads back the same
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    Die("histogram bounds must be strictly increasing");
  }
}

void Histogram::Observe(double value) {
  size_t bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  absl::MutexLock lock(&mu_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  absl::MutexLock lock(&mu_);
  uint64_t running = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    running += counts_[i];
    s.cumulative.push_back(running);
  }
  s.cumulative.push_back(count_);
  s.sum = sum_;
  s.count = count_;
  return s;
}

Counter* CounterFamily::WithLabel(std::string_view value) {
  absl::MutexLock lock(&mu_);
  auto it = counters_.find(value);
  if (it == counters_.end()) it = counters_.emplace(std::string(value), std::make_unique<Counter>()).first;
  return it->second.get();
}

std::vector<std::pair<std::string, uint64_t>> CounterFamily::Values() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& [label, counter] : counters_) out.emplace_back(label, counter->value());
  return out;
}

MetricRegistry::Family& MetricRegistry::Add(std::string name, std::string help, Type type) {
  if (!ValidName(name, /*label=*/false)) Die("invalid metric name \"" + name + "\"");
  for (const auto& f : families_) {
    if (f->name == name) Die("metric \"" + name + "\" registered twice");
  }
  auto family = std::make_unique<Family>();
  family->name = std::move(name);
  family->help = std::move(help);
  family->type = type;
  families_.push_back(std::move(family));
  return *families_.back();
}

Counter* MetricRegistry::AddCounter(std::string name, std::string help) {
  absl::MutexLock lock(&mu_);
  Family& f = Add(std::move(name), std::move(help), Type::kCounter);
  f.counter = std::make_unique<Counter>();
  return f.counter.get();
}

CounterFamily* MetricRegistry::AddCounterFamily(std::string name, std::string help, std::string label) {
  if (!ValidName(label, /*label=*/true)) Die("invalid label name \"" + label + "\"");
  absl::MutexLock lock(&mu_);
  Family& f = Add(std::move(name), std::move(help), Type::kCounter);
  f.label = std::move(label);
  f.counters = std::make_unique<CounterFamily>();
  return f.counters.get();
}

Gauge* MetricRegistry::AddGauge(std::string name, std::string help) {
  absl::MutexLock lock(&mu_);
  Family& f = Add(std::move(name), std::move(help), Type::kGauge);
  f.gauge = std::make_unique<Gauge>();
  return f.gauge.get();
}

Histogram* MetricRegistry::AddHistogram(std::string name, std::string help, std::vector<double> bounds) {
  auto histogram = std::make_unique<Histogram>(std::move(bounds));
  absl::MutexLock lock(&mu_);
  Family& f = Add(std::move(name), std::move(help), Type::kHistogram);
  f.histogram = std::move(histogram);
  return f.histogram.get();
}

void MetricRegistry::AddCounterCallback(std::string name, std::string help, ValueCallback callback) {
  absl::MutexLock lock(&mu_);
  Add(std::move(name), std::move(help), Type::kCounter).callback = std::move(callback);
}

void MetricRegistry::AddGaugeCallback(std::string name, std::string help, ValueCallback callback) {
  absl::MutexLock lock(&mu_);
  Add(std::move(name), std::move(help), Type::kGauge).callback = std::move(callback);
}

void MetricRegistry::AddLabeled(std::string name, std::string help, Type type, std::string label,
                                LabeledCallback callback) {
  if (!ValidName(label, /*label=*/true)) Die("invalid label name \"" + label + "\"");
  absl::MutexLock lock(&mu_);
  Family& f = Add(std::move(name), std::move(help), type);
  f.label = std::move(label);
  f.labeled_callback = std::move(callback);
}

void MetricRegistry::AddLabeledCounterCallback(std::string name, std::string help, std::string label,
                                               LabeledCallback callback) {
  AddLabeled(std::move(name), std::move(help), Type::kCounter, std::move(label), std::move(callback));
}

void MetricRegistry::AddLabeledGaugeCallback(std::string name, std::string help, std::string label,
                                             LabeledCallback callback) {
  AddLabeled(std::move(name), std::move(help), Type::kGauge, std::move(label), std::move(callback));
}

size_t MetricRegistry::family_count() const {
  absl::MutexLock lock(&mu_);
  return families_.size();
}

std::vector<double> MetricRegistry::ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) out.push_back(bound);
  return out;
}

std::string MetricRegistry::RenderText() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& f : families_) {
    out += "# HELP " + f->name + " " + EscapeHelp(f->help) + "\n";
    out += "# TYPE " + f->name + " " +
           (f->type == Type::kCounter ? "counter" : f->type == Type::kGauge ? "gauge" : "histogram") + "\n";
    if (f->counter) {
      Sample(out, f->name, "", static_cast<double>(f->counter->value()));
    } else if (f->counters) {
      for (const auto& [value, count] : f->counters->Values()) {
        Sample(out, f->name, Label(f->label, value), static_cast<double>(count));
      }
    } else if (f->gauge) {
      Sample(out, f->name, "", f->gauge->value());
    } else if (f->histogram) {
      Histogram::Snapshot s = f->histogram->snapshot();
      for (size_t i = 0; i < s.bounds.size(); ++i) {
        Sample(out, f->name + "_bucket", Label("le", FormatMetricValue(s.bounds[i])),
               static_cast<double>(s.cumulative[i]));
      }
      Sample(out, f->name + "_bucket", Label("le", "+Inf"), static_cast<double>(s.count));
      Sample(out, f->name + "_sum", "", s.sum);
      Sample(out, f->name + "_count", "", static_cast<double>(s.count));
    } else if (f->callback) {
      if (std::optional<double> v = f->callback()) Sample(out, f->name, "", *v);
    } else if (f->labeled_callback) {
      auto values = f->labeled_callback();
      std::sort(values.begin(), values.end());
      for (const auto& [value, v] : values) Sample(out, f->name, Label(f->label, value), v);
    }
  }
  return out;
}

}  // namespace cdl::net
