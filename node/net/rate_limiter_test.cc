#include "node/net/rate_limiter.h"

#include "gtest/gtest.h"

namespace cdl::net {
namespace {

TEST(RateLimiterTest, BurstThenRateAndClientsAreIndependent) {
  int64_t now = 1000;
  RateLimiter limiter({.rate_per_second = 10, .burst = 5}, [&] { return now; });
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("10.0.0.1")) << i;
  EXPECT_FALSE(limiter.Allow("10.0.0.1"));
  EXPECT_TRUE(limiter.Allow("10.0.0.2"));  // its own bucket
  now += 100;                              // 10/s -> one token
  EXPECT_TRUE(limiter.Allow("10.0.0.1"));
  EXPECT_FALSE(limiter.Allow("10.0.0.1"));
  now += 60'000;  // refills to the burst, not beyond
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("10.0.0.1"));
  EXPECT_FALSE(limiter.Allow("10.0.0.1"));
}

TEST(RateLimiterTest, BoundedNumberOfClients) {
  int64_t now = 0;
  RateLimiter limiter({.rate_per_second = 1, .burst = 1, .max_clients = 4}, [&] { return now; });
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(limiter.Allow("client-" + std::to_string(i)));
    now += 1;
  }
  // The newest client still has its bucket (emptied above).
  EXPECT_FALSE(limiter.Allow("client-99"));
}

TEST(RateLimiterTest, ClientAddressDropsThePort) {
  EXPECT_EQ(ClientAddress("ipv4:127.0.0.1:5555"), "127.0.0.1");
  EXPECT_EQ(ClientAddress("ipv6:[::1]:5555"), "::1");
  EXPECT_EQ(ClientAddress("unix:/tmp/s"), "unix:/tmp/s");
  EXPECT_EQ(ClientAddress(""), "");
}

}  // namespace
}  // namespace cdl::net
