#include "node/net/rate_limiter.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace cdl::net {

RateLimiter::RateLimiter(Options options, std::function<int64_t()> now_ms)
    : options_(options), now_ms_(std::move(now_ms)) {}

bool RateLimiter::Allow(std::string_view client) {
  int64_t now = now_ms_();
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(std::string(client));
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_clients) EvictLocked(now);
    it = buckets_.emplace(std::string(client), Bucket{options_.burst, now}).first;
  }
  Bucket& b = it->second;
  if (now > b.last_ms) {
    b.tokens = std::min(options_.burst, b.tokens + (now - b.last_ms) * options_.rate_per_second / 1000.0);
    b.last_ms = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void RateLimiter::EvictLocked(int64_t now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const Bucket& b = it->second;
    double refilled = b.tokens + (now - b.last_ms) * options_.rate_per_second / 1000.0;
    it = refilled >= options_.burst ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() < options_.max_clients) return;
  std::vector<std::pair<int64_t, std::string>> by_age;
  for (const auto& [key, b] : buckets_) by_age.emplace_back(b.last_ms, key);
  std::sort(by_age.begin(), by_age.end());
  for (size_t i = 0; i < by_age.size() / 2; ++i) buckets_.erase(by_age[i].second);
}

std::string ClientAddress(std::string_view peer) {
  if (peer.starts_with("ipv4:")) {
    std::string_view rest = peer.substr(5);
    return std::string(rest.substr(0, rest.rfind(':')));
  }
  if (peer.starts_with("ipv6:[")) {
    std::string_view rest = peer.substr(6);
    return std::string(rest.substr(0, rest.find(']')));
  }
  return std::string(peer);
}

}  // namespace cdl::net
