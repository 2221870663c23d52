// Records admitted but not yet in a block. Keeps each author's records in
// sequence order and holds gaps (a record whose predecessor has not arrived
// waits); deduplicates by record id; bounded — a full pool refuses new
// records with ResourceExhausted instead of dropping anything.
//
// Thread-safe.
#ifndef CDL_NODE_LEDGER_MEMPOOL_H_
#define CDL_NODE_LEDGER_MEMPOOL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "node/verify/record.h"

namespace cdl::ledger {

struct MempoolOptions {
  size_t max_records = 200000;
  size_t max_bytes = 512u << 20;
  size_t max_per_author = 50000;
};

class Mempool {
 public:
  using RecordPtr = std::shared_ptr<const cdl::verify::ParsedRecord>;
  // The author's last committed sequence (0 for none).
  using SequenceLookup = std::function<uint64_t(const std::string& author)>;

  explicit Mempool(MempoolOptions options = {}) : options_(options) {}

  // Adds an admitted record. AlreadyExists if the same record is pending;
  // FailedPrecondition if another record of the author holds that sequence;
  // ResourceExhausted when a limit would be exceeded.
  absl::Status Add(RecordPtr record) ABSL_LOCKS_EXCLUDED(mu_);

  // Removes and returns up to `max_records` records (and about `max_bytes`)
  // that can run next: for each author, its pending records whose sequences
  // continue `last_sequence(author)` without a gap. Authors are served round
  // robin. Records whose sequence is already consumed are dropped and
  // returned in `stale` (if non-null).
  std::vector<RecordPtr> TakeBatch(size_t max_records, size_t max_bytes, const SequenceLookup& last_sequence,
                                   std::vector<RecordPtr>* stale = nullptr) ABSL_LOCKS_EXCLUDED(mu_);

  // Like TakeBatch but leaves the records in the pool (a BFT proposal may
  // never commit): skips `exclude` ids (records already in uncommitted
  // ancestor blocks) and continues each author from `last_sequence`.
  std::vector<RecordPtr> PeekBatch(size_t max_records, size_t max_bytes, const SequenceLookup& last_sequence,
                                   const absl::flat_hash_set<std::string>& exclude) const ABSL_LOCKS_EXCLUDED(mu_);

  // Drops records that are now on the ledger, and every pending record whose
  // sequence `last_sequence` says is consumed; returns the dropped stale ones
  // (not the committed ids themselves).
  std::vector<RecordPtr> RemoveCommitted(const std::vector<std::string>& ids, const SequenceLookup& last_sequence)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The author's next free sequence given its last committed one: continues
  // past the contiguous pending records.
  uint64_t NextSequence(const std::string& author, uint64_t last_committed) const ABSL_LOCKS_EXCLUDED(mu_);

  bool Contains(const std::string& record_id) const ABSL_LOCKS_EXCLUDED(mu_);
  // The pending copy of `record`: same id and byte-identical signatures, or
  // null. Execution may use its verification result only then: a copy of the
  // same body with other signatures (re-signed, or forged by a Byzantine
  // leader) must be judged on its own, as every other replica judges it.
  RecordPtr Find(const cdl::verify::ParsedRecord& record) const ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t bytes() const ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until the pool is non-empty or `timeout` passes; true if non-empty.
  bool WaitNonEmpty(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  // Wakes WaitNonEmpty callers (used on shutdown).
  void Wake() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const MempoolOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::map<uint64_t, RecordPtr>> by_author_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> ids_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::string cursor_ ABSL_GUARDED_BY(mu_);  // round-robin position among authors
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cdl::ledger

#endif  // CDL_NODE_LEDGER_MEMPOOL_H_
