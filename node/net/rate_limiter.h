// Per-client token buckets for the client API (Submit): each client address
// gets `rate_per_second` tokens a second, up to `burst` saved up. Bounds what
// one client can push into admission (signature checks) and the mempool.
//
// Thread-safe. The clock is injected (milliseconds, monotonic) for tests.
#ifndef CDL_NODE_NET_RATE_LIMITER_H_
#define CDL_NODE_NET_RATE_LIMITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/synchronization/mutex.h"

namespace cdl::net {

class RateLimiter {
 public:
  struct Options {
    double rate_per_second = 10000;
    double burst = 20000;
    // Buckets kept at most; when full, buckets that have refilled completely
    // (idle clients) are dropped, and if none has, the oldest half.
    size_t max_clients = 10000;
  };

  RateLimiter(Options options, std::function<int64_t()> now_ms);

  // Takes one token from `client`'s bucket; false when it is empty.
  bool Allow(std::string_view client);

  const Options& options() const { return options_; }

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_ms = 0;
  };
  void EvictLocked(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const std::function<int64_t()> now_ms_;
  absl::Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// The client's address without the port, from a gRPC peer string:
// "ipv4:10.0.0.7:51234" -> "10.0.0.7", "ipv6:[::1]:51234" -> "::1",
// anything else (e.g. "unix:/path") as it is.
std::string ClientAddress(std::string_view grpc_peer);

}  // namespace cdl::net

#endif  // CDL_NODE_NET_RATE_LIMITER_H_
