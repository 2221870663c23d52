#include "node/storage/fault_store.h"

#include <cstdlib>
#include <utility>

namespace cdl::storage {

FaultInjectingStore::FaultInjectingStore(std::unique_ptr<Store> base) : base_(std::move(base)) {
  if (base_ == nullptr) std::abort();  // broken invariant of the caller
}

void FaultInjectingStore::FailNextWrites(int n) {
  absl::MutexLock lock(&mu_);
  fail_next_ = n > 0 ? n : 0;
}

void FaultInjectingStore::FailSyncWrites(bool enabled) {
  absl::MutexLock lock(&mu_);
  fail_sync_ = enabled;
}

void FaultInjectingStore::DropWrites(DropMode mode) {
  absl::MutexLock lock(&mu_);
  drop_ = mode;
}

void FaultInjectingStore::ClearFaults() {
  absl::MutexLock lock(&mu_);
  fail_next_ = 0;
  fail_sync_ = false;
  drop_ = DropMode::kNone;
}

FaultInjectingStore::Counters FaultInjectingStore::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

void FaultInjectingStore::ResetCounters() {
  absl::MutexLock lock(&mu_);
  counters_ = Counters();
}

absl::Status FaultInjectingStore::Write(const WriteBatch& batch, bool sync) {
  {
    absl::MutexLock lock(&mu_);
    ++counters_.writes;
    if (fail_next_ > 0) {
      --fail_next_;
      ++counters_.failed;
      return absl::InternalError("injected IO error: write failed (FaultInjectingStore)");
    }
    if (sync && fail_sync_) {
      ++counters_.failed;
      return absl::InternalError("injected IO error: fsync failed (FaultInjectingStore)");
    }
    if (drop_ == DropMode::kAll || (drop_ == DropMode::kUnsynced && !sync)) {
      ++counters_.dropped;
      return absl::OkStatus();
    }
  }
  // The wrapped store is called outside mu_ so writers run concurrently.
  absl::Status status = base_->Write(batch, sync);
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    ++counters_.applied;
    if (sync) ++counters_.synced;
  } else {
    ++counters_.base_errors;
  }
  return status;
}

absl::StatusOr<std::string> FaultInjectingStore::Get(std::string_view column, std::string_view key,
                                                     const ReadOptions& options) {
  return base_->Get(column, key, options);
}

std::unique_ptr<Iterator> FaultInjectingStore::NewIterator(std::string_view column,
                                                           const ReadOptions& options) {
  return base_->NewIterator(column, options);
}

std::shared_ptr<const Snapshot> FaultInjectingStore::GetSnapshot() { return base_->GetSnapshot(); }

std::vector<std::string> FaultInjectingStore::Columns() const { return base_->Columns(); }

absl::StatusOr<uint64_t> FaultInjectingStore::GetIntProperty(std::string_view name) {
  return base_->GetIntProperty(name);
}

}  // namespace cdl::storage
