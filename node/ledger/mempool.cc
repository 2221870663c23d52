#include "node/ledger/mempool.h"

#include "crypto/str_cat.h"

namespace cdl::ledger {
namespace {
size_t SizeOf(const Mempool::RecordPtr& r) { return r->signed_record.ByteSizeLong() + 256; }
}  // namespace

absl::Status Mempool::Add(RecordPtr record) {
  absl::MutexLock lock(&mu_);
  if (ids_.contains(record->id)) {
    return absl::AlreadyExistsError("record is already pending");
  }
  auto& queue = by_author_[record->body.author()];
  auto existing = queue.find(record->body.sequence());
  if (existing != queue.end()) {
    return absl::FailedPreconditionError(
        cdl::StrCat("body.sequence: ", record->body.sequence(), " of \"", record->body.author(),
                     "\" is already held by another pending record"));
  }
  size_t size = SizeOf(record);
  if (ids_.size() >= options_.max_records || bytes_ + size > options_.max_bytes) {
    if (queue.empty()) by_author_.erase(record->body.author());
    return absl::ResourceExhaustedError(
        cdl::StrCat("mempool is full (", ids_.size(), " records); retry later"));
  }
  if (queue.size() >= options_.max_per_author) {
    return absl::ResourceExhaustedError(
        cdl::StrCat("too many pending records of \"", record->body.author(), "\" (", queue.size(),
                     "); wait for them to commit"));
  }
  ids_.insert(record->id);
  bytes_ += size;
  queue.emplace(record->body.sequence(), std::move(record));
  return absl::OkStatus();
}

std::vector<Mempool::RecordPtr> Mempool::TakeBatch(size_t max_records, size_t max_bytes,
                                                   const SequenceLookup& last_sequence,
                                                   std::vector<RecordPtr>* stale) {
  absl::MutexLock lock(&mu_);
  std::vector<RecordPtr> out;
  if (by_author_.empty()) return out;
  size_t taken_bytes = 0;
  // Start after the author served last, wrap around once.
  auto start = by_author_.upper_bound(cursor_);
  std::vector<std::string> order;
  for (auto it = start; it != by_author_.end(); ++it) order.push_back(it->first);
  for (auto it = by_author_.begin(); it != start; ++it) order.push_back(it->first);
  for (const std::string& author : order) {
    if (out.size() >= max_records || taken_bytes >= max_bytes) break;
    auto& queue = by_author_[author];
    uint64_t next = last_sequence(author) + 1;
    while (!queue.empty() && queue.begin()->first < next) {
      RecordPtr r = queue.begin()->second;
      ids_.erase(r->id);
      bytes_ -= SizeOf(r);
      if (stale != nullptr) stale->push_back(std::move(r));
      queue.erase(queue.begin());
    }
    while (!queue.empty() && queue.begin()->first == next && out.size() < max_records &&
           taken_bytes < max_bytes) {
      RecordPtr r = queue.begin()->second;
      size_t size = SizeOf(r);
      ids_.erase(r->id);
      bytes_ -= size;
      taken_bytes += size;
      out.push_back(std::move(r));
      queue.erase(queue.begin());
      ++next;
    }
    cursor_ = author;
    if (queue.empty()) by_author_.erase(author);
  }
  return out;
}

std::vector<Mempool::RecordPtr> Mempool::PeekBatch(size_t max_records, size_t max_bytes,
                                                   const SequenceLookup& last_sequence,
                                                   const absl::flat_hash_set<std::string>& exclude) const {
  absl::MutexLock lock(&mu_);
  std::vector<RecordPtr> out;
  size_t taken_bytes = 0;
  auto start = by_author_.upper_bound(cursor_);
  auto visit = [&](const std::string& author, const std::map<uint64_t, RecordPtr>& queue) {
    uint64_t next = last_sequence(author) + 1;
    for (auto it = queue.lower_bound(next); it != queue.end() && it->first == next; ++it, ++next) {
      if (out.size() >= max_records || taken_bytes >= max_bytes) return;
      if (exclude.contains(it->second->id)) continue;
      taken_bytes += SizeOf(it->second);
      out.push_back(it->second);
    }
  };
  for (auto it = start; it != by_author_.end(); ++it) visit(it->first, it->second);
  for (auto it = by_author_.begin(); it != start; ++it) visit(it->first, it->second);
  return out;
}

std::vector<Mempool::RecordPtr> Mempool::RemoveCommitted(const std::vector<std::string>& ids,
                                                         const SequenceLookup& last_sequence) {
  absl::MutexLock lock(&mu_);
  std::vector<RecordPtr> stale;
  absl::flat_hash_set<std::string> committed(ids.begin(), ids.end());
  for (auto it = by_author_.begin(); it != by_author_.end();) {
    auto& queue = it->second;
    uint64_t last = last_sequence(it->first);
    while (!queue.empty() && queue.begin()->first <= last) {
      RecordPtr r = queue.begin()->second;
      ids_.erase(r->id);
      bytes_ -= SizeOf(r);
      if (!committed.contains(r->id)) stale.push_back(std::move(r));
      queue.erase(queue.begin());
    }
    if (queue.empty()) {
      it = by_author_.erase(it);
    } else {
      ++it;
    }
  }
  return stale;
}

uint64_t Mempool::NextSequence(const std::string& author, uint64_t last_committed) const {
  absl::MutexLock lock(&mu_);
  uint64_t next = last_committed + 1;
  auto it = by_author_.find(author);
  if (it == by_author_.end()) return next;
  for (auto r = it->second.lower_bound(next); r != it->second.end() && r->first == next; ++r) ++next;
  return next;
}

bool Mempool::Contains(const std::string& record_id) const {
  absl::MutexLock lock(&mu_);
  return ids_.contains(record_id);
}

Mempool::RecordPtr Mempool::Find(const cdl::verify::ParsedRecord& record) const {
  RecordPtr mine;
  {
    absl::MutexLock lock(&mu_);
    auto a = by_author_.find(record.body.author());
    if (a == by_author_.end()) return nullptr;
    auto r = a->second.find(record.body.sequence());
    if (r == a->second.end() || r->second->id != record.id) return nullptr;
    mine = r->second;
  }
  const auto& ours = mine->signed_record.signatures();
  const auto& theirs = record.signed_record.signatures();
  if (ours.size() != theirs.size()) return nullptr;
  for (int i = 0; i < ours.size(); ++i) {
    if (ours[i].member() != theirs[i].member() || ours[i].key_id() != theirs[i].key_id() ||
        ours[i].signature() != theirs[i].signature()) {
      return nullptr;
    }
  }
  return mine;
}

size_t Mempool::size() const {
  absl::MutexLock lock(&mu_);
  return ids_.size();
}

size_t Mempool::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

bool Mempool::WaitNonEmpty(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !ids_.empty() || woken_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  woken_ = false;
  return !ids_.empty();
}

void Mempool::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

}  // namespace cdl::ledger
