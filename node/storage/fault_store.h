// FaultInjectingStore: a Store wrapper for crash and error-handling tests.
// Reads, iterators and snapshots pass straight through to the wrapped store;
// Write can be made to fail or to be silently lost. Faults are checked in
// this order for each Write:
//
//  1. FailNextWrites(n): the next n Write calls (sync or not) return an
//     injected I/O error (absl::StatusCode::kInternal, like a real disk error
//     from the RocksDB store) and apply nothing. Counts down to zero.
//  2. FailSyncWrites(true): every Write with sync=true returns the injected
//     I/O error and applies nothing, as if fsync failed; sync=false writes
//     succeed. Until FailSyncWrites(false).
//  3. DropWrites(mode): matching writes return OK but apply nothing, as if
//     the process crashed after acknowledging them and the data was lost.
//     kUnsynced drops only sync=false writes (data a machine crash may lose);
//     kAll drops synced writes too (a disk that lies about fsync). Until
//     DropWrites(kNone). Note the loss is immediate: a dropped write is never
//     visible, not even before the simulated crash.
//
// Invalid batches (unknown column) are still rejected by the wrapped store.
// Thread-safe: faults may be set and counters read while other threads write.

#ifndef CDL_NODE_STORAGE_FAULT_STORE_H_
#define CDL_NODE_STORAGE_FAULT_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "node/storage/store.h"

namespace cdl::storage {

class FaultInjectingStore final : public Store {
 public:
  enum class DropMode { kNone, kUnsynced, kAll };

  // What happened to Write calls so far (since construction or ResetCounters).
  struct Counters {
    uint64_t writes = 0;       // Write calls
    uint64_t applied = 0;      // passed to the wrapped store and succeeded
    uint64_t synced = 0;       // of `applied`, those with sync=true
    uint64_t failed = 0;       // failed by an injected fault
    uint64_t dropped = 0;      // acknowledged but not applied
    uint64_t base_errors = 0;  // failed by the wrapped store itself
  };

  // Takes ownership of `base` (non-null).
  explicit FaultInjectingStore(std::unique_ptr<Store> base);

  // See the file comment for each mode. Setting a mode replaces its old value.
  void FailNextWrites(int n);
  void FailSyncWrites(bool enabled);
  void DropWrites(DropMode mode);
  // Turns every fault off.
  void ClearFaults();

  Counters counters() const;
  void ResetCounters();

  // The wrapped store, to inspect what really was applied. Writing to it
  // directly bypasses the faults and the counters.
  Store* base() const { return base_.get(); }

  absl::StatusOr<std::string> Get(std::string_view column, std::string_view key,
                                  const ReadOptions& options = {}) override;
  absl::Status Write(const WriteBatch& batch, bool sync) override;
  std::unique_ptr<Iterator> NewIterator(std::string_view column,
                                        const ReadOptions& options = {}) override;
  std::shared_ptr<const Snapshot> GetSnapshot() override;
  std::vector<std::string> Columns() const override;
  absl::StatusOr<uint64_t> GetIntProperty(std::string_view name) override;

 private:
  const std::unique_ptr<Store> base_;

  mutable absl::Mutex mu_;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  bool fail_sync_ ABSL_GUARDED_BY(mu_) = false;
  DropMode drop_ ABSL_GUARDED_BY(mu_) = DropMode::kNone;
  Counters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdl::storage

#endif  // CDL_NODE_STORAGE_FAULT_STORE_H_
