#include "node/net/watch_hub.h"

#include <algorithm>
#include <utility>

#include "crypto/str_cat.h"

namespace cdl::net {

WatchHub::Subscription::~Subscription() { Cancel(); }

std::optional<WatchHub::Item> WatchHub::Subscription::Pop() {
  absl::MutexLock lock(&mu_);
  if (buffer_.empty()) return std::nullopt;
  Item item = std::move(buffer_.front());
  buffer_.pop_front();
  bytes_ -= item.block->ByteSizeLong();
  return item;
}

bool WatchHub::Subscription::overflowed() const {
  absl::MutexLock lock(&mu_);
  return overflowed_;
}

bool WatchHub::Subscription::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

void WatchHub::Subscription::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return;
    cancelled_ = true;
    buffer_.clear();
    bytes_ = 0;
  }
  hub_->Remove(this);
}

WatchHub::WatchHub(WatchHubOptions options) : options_(options) {
  notifier_ = std::thread([this] { NotifierLoop(); });
}

WatchHub::~WatchHub() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  notifier_.join();
}

absl::StatusOr<std::shared_ptr<WatchHub::Subscription>> WatchHub::Subscribe(std::function<void()> on_available) {
  std::shared_ptr<Subscription> sub(new Subscription(this, std::move(on_available)));
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::UnavailableError("the node is shutting down; watch another node or retry later");
  std::erase_if(subs_, [](const Entry& e) { return e.weak.expired(); });
  if (subs_.size() >= options_.max_watchers) {
    return absl::ResourceExhaustedError(cdl::StrCat("this node already serves its maximum of ", options_.max_watchers,
                                                    " Watch streams; retry later or watch another node"));
  }
  subs_.push_back({sub.get(), sub});
  return sub;
}

void WatchHub::Publish(uint64_t height, const cdl::v1::Block& block) {
  std::shared_ptr<const cdl::v1::Block> shared;
  size_t size = 0;
  // Released after mu_: dropping the last reference runs ~Subscription, which takes mu_.
  std::vector<std::shared_ptr<Subscription>> keep;
  absl::MutexLock lock(&mu_);
  for (const Entry& entry : subs_) {
    const std::weak_ptr<Subscription>& weak = entry.weak;
    std::shared_ptr<Subscription> sub = weak.lock();
    if (sub == nullptr) continue;
    keep.push_back(sub);
    if (shared == nullptr) {  // copied once, only when someone watches
      shared = std::make_shared<const cdl::v1::Block>(block);
      size = shared->ByteSizeLong();
    }
    absl::MutexLock sub_lock(&sub->mu_);
    if (sub->cancelled_ || sub->overflowed_) continue;
    if (sub->buffer_.size() + 1 > options_.max_buffered_blocks ||
        sub->bytes_ + size > options_.max_buffered_bytes) {
      sub->overflowed_ = true;
      sub->buffer_.clear();
      sub->bytes_ = 0;
      to_wake_.push_back(weak);
      continue;
    }
    if (sub->buffer_.empty()) to_wake_.push_back(weak);
    sub->buffer_.push_back({height, shared});
    sub->bytes_ += size;
  }
}

void WatchHub::Close() {
  std::vector<std::shared_ptr<Subscription>> keep;  // released after mu_, as in Publish
  absl::MutexLock lock(&mu_);
  if (closed_) return;
  closed_ = true;
  for (const Entry& entry : subs_) {
    std::shared_ptr<Subscription> sub = entry.weak.lock();
    if (sub == nullptr) continue;
    keep.push_back(sub);
    absl::MutexLock sub_lock(&sub->mu_);
    sub->closed_ = true;
    sub->buffer_.clear();
    sub->bytes_ = 0;
    to_wake_.push_back(entry.weak);
  }
}

size_t WatchHub::watchers() const {
  absl::MutexLock lock(&mu_);
  return std::count_if(subs_.begin(), subs_.end(), [](const Entry& e) { return !e.weak.expired(); });
}

void WatchHub::Remove(Subscription* sub) {
  absl::MutexLock lock(&mu_);
  std::erase_if(subs_, [sub](const Entry& e) { return e.raw == sub || e.weak.expired(); });
}

void WatchHub::NotifierLoop() {
  for (;;) {
    std::vector<std::weak_ptr<Subscription>> wake;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !to_wake_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      wake.swap(to_wake_);
    }
    for (const auto& weak : wake) {
      std::shared_ptr<Subscription> sub = weak.lock();
      if (sub == nullptr) continue;
      {
        absl::MutexLock lock(&sub->mu_);
        if (sub->cancelled_) continue;
      }
      sub->on_available_();
    }
  }
}

}  // namespace cdl::net
