// Fan-out of committed blocks to the node's Watch streams.
//
// The node publishes every block right after it is durable (Publish); each
// subscriber gets its own bounded buffer of those blocks (the block itself is
// shared, not copied). A subscriber that lets its buffer fill up is marked
// overflowed and gets no more blocks: it must resume from storage or end.
// Subscribers are woken on the hub's own notifier thread, never on the
// publisher's (the block producer or the consensus thread), so a watcher can
// never slow down block production.
//
// Thread-safety: all methods may be called from any thread.
#ifndef CDL_NODE_NET_WATCH_HUB_H_
#define CDL_NODE_NET_WATCH_HUB_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ledger.pb.h"

namespace cdl::net {

struct WatchHubOptions {
  size_t max_watchers = 64;  // concurrent subscriptions
  // Per subscription: blocks published but not yet taken. Whichever limit is
  // reached first overflows the subscription.
  size_t max_buffered_blocks = 256;
  size_t max_buffered_bytes = 16 << 20;
};

class WatchHub {
 public:
  struct Item {
    uint64_t height = 0;
    std::shared_ptr<const cdl::v1::Block> block;
  };

  // One subscriber's buffer. Destroying it (or Cancel) unsubscribes.
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    // The oldest buffered block, or nullopt when none is buffered.
    std::optional<Item> Pop();
    // Whether blocks were dropped because the buffer was full. Stays true;
    // nothing is buffered after it.
    bool overflowed() const;
    // Whether the hub was closed (the node is shutting down). Stays true.
    bool closed() const;
    // Unsubscribes (idempotent). on_available may still run once if it was
    // already under way.
    void Cancel();

   private:
    friend class WatchHub;
    Subscription(WatchHub* hub, std::function<void()> on_available)
        : hub_(hub), on_available_(std::move(on_available)) {}

    WatchHub* hub_;
    const std::function<void()> on_available_;
    mutable absl::Mutex mu_;
    std::deque<Item> buffer_ ABSL_GUARDED_BY(mu_);
    size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
    bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
    bool closed_ ABSL_GUARDED_BY(mu_) = false;
    bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  };

  explicit WatchHub(WatchHubOptions options = {});
  // Stops the notifier thread. Subscriptions must not outlive the hub.
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  const WatchHubOptions& options() const { return options_; }

  // Subscribes to every block published from now on. `on_available` runs on
  // the notifier thread when the buffer goes from empty to non-empty and
  // when it overflows; it must not block for long. RESOURCE_EXHAUSTED when
  // max_watchers subscriptions exist.
  absl::StatusOr<std::shared_ptr<Subscription>> Subscribe(std::function<void()> on_available);

  // Hands block `height` to every subscriber. Never blocks on a subscriber.
  void Publish(uint64_t height, const cdl::v1::Block& block);

  // Marks every subscription closed and wakes it, so that streams can end
  // at once when the node shuts down; later Subscribe calls are UNAVAILABLE.
  // Idempotent.
  void Close();

  size_t watchers() const;

 private:
  void Remove(Subscription* sub);
  void NotifierLoop();

  const WatchHubOptions options_;
  mutable absl::Mutex mu_;
  struct Entry {
    Subscription* raw;  // identity only; never dereferenced without `weak`
    std::weak_ptr<Subscription> weak;
  };
  std::vector<Entry> subs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::weak_ptr<Subscription>> to_wake_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread notifier_;
};

}  // namespace cdl::net

#endif  // CDL_NODE_NET_WATCH_HUB_H_
