// The storage interface of cdl-node: an ordered key-value store split into
// named columns, with atomic batched writes, point-in-time snapshots and
// ordered iteration. Two implementations: RocksDB (OpenRocksStore) for the
// daemon, and an in-memory one (NewMemoryStore) for tests and simulations.
// FaultInjectingStore (fault_store.h) wraps either for crash/fault tests.
//
// Keys and values are arbitrary byte strings (NUL bytes allowed). Keys are
// ordered bytewise (unsigned memcmp, shorter prefix first); use keys.h to build
// keys whose byte order matches numeric order.
//
// Errors (absl::Status codes used by every implementation):
//   NotFound           Get of an absent key.
//   InvalidArgument    an unknown column name, or a snapshot from another store.
//   FailedPrecondition the data directory is locked by another process/store.
//   DataLoss           the on-disk data is corrupt.
//   Internal           an I/O error (disk full is ResourceExhausted).
//   Unimplemented      a property the implementation does not have.

#ifndef CDL_NODE_STORAGE_STORE_H_
#define CDL_NODE_STORAGE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cdl::storage {

// Every store has this column, whether requested or not (RocksDB requires it).
inline constexpr std::string_view kDefaultColumn = "default";

// An ordered list of puts and deletes, applied atomically by Store::Write.
// Later operations on the same key win. Owns copies of all bytes passed in.
// Not thread-safe: build a batch on one thread, then hand it to Write.
class WriteBatch {
 public:
  enum class OpType { kPut, kDelete };
  struct Op {
    OpType type;
    std::string column;
    std::string key;
    std::string value;  // empty for kDelete
  };

  void Put(std::string_view column, std::string_view key, std::string_view value);
  void Delete(std::string_view column, std::string_view key);
  void Clear();

  // Number of operations.
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  // Sum of column, key and value sizes: a cheap measure for batching limits.
  size_t ApproximateBytes() const { return bytes_; }
  // The operations, in the order they were added.
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

// A consistent, point-in-time read view of a whole store (all columns).
// Obtained from Store::GetSnapshot; released when the last shared_ptr goes.
// A snapshot is only valid with the store that created it, and must be
// released before that store is destroyed.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
};

struct ReadOptions {
  // If set, reads see the store as of this snapshot, not its latest state.
  // The snapshot must outlive any iterator created with these options.
  const Snapshot* snapshot = nullptr;
};

// Ordered (bytewise by key) iteration over one column. An iterator reads a
// consistent view: the given snapshot, or else the state when it was created;
// later writes are never seen. Not thread-safe: use one iterator from one
// thread at a time. Must be destroyed before its store.
//
// If creation failed (unknown column, foreign snapshot), the iterator is
// never Valid() and status() returns the error.
class Iterator {
 public:
  virtual ~Iterator() = default;

  // Positions at the first key >= `key`.
  virtual void Seek(std::string_view key) = 0;
  virtual void SeekToFirst() = 0;
  virtual bool Valid() const = 0;
  // Requires Valid().
  virtual void Next() = 0;
  // Require Valid(). The views stay valid until the iterator moves or dies.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // OK unless creation or iteration failed; check it when Valid() turns false.
  virtual absl::Status status() const = 0;
};

// An iterator that is never valid and reports `status`.
std::unique_ptr<Iterator> NewErrorIterator(absl::Status status);

// A key-value store with a fixed set of columns (named key spaces, RocksDB
// column families), chosen when it is opened.
//
// Thread-safety: all methods may be called concurrently from any threads.
// A Write is atomic: readers see all of a batch or none of it.
class Store {
 public:
  static constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

  virtual ~Store() = default;

  // The value of `key`, or NotFound if absent.
  virtual absl::StatusOr<std::string> Get(std::string_view column, std::string_view key,
                                          const ReadOptions& options = {}) = 0;

  // Applies all operations of `batch` atomically, or none of them on error
  // (an unknown column in any operation fails the whole batch). With
  // sync=true the batch is durable (WAL fsync'd) before this returns;
  // with sync=false a machine crash (not a process crash) may lose it.
  virtual absl::Status Write(const WriteBatch& batch, bool sync) = 0;

  // An iterator over `column`, initially not positioned: call Seek or
  // SeekToFirst first.
  virtual std::unique_ptr<Iterator> NewIterator(std::string_view column,
                                                const ReadOptions& options = {}) = 0;

  // A point-in-time view of the current state.
  virtual std::shared_ptr<const Snapshot> GetSnapshot() = 0;

  // Up to `limit` (key, value) pairs with start <= key < end, in key order.
  // An empty `end` means no upper bound. limit == 0 returns nothing.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(
      std::string_view column, std::string_view start, std::string_view end,
      size_t limit = kNoLimit, const ReadOptions& options = {});

  // Names of all columns, sorted, including kDefaultColumn.
  virtual std::vector<std::string> Columns() const = 0;

  // An integer property for metrics. For RocksDB, any "rocksdb.*" integer
  // property (e.g. "rocksdb.estimate-num-keys", "rocksdb.total-sst-files-size")
  // summed over all columns, plus kPropertyDiskBytes. NotFound for an unknown
  // property; the memory store returns Unimplemented.
  virtual absl::StatusOr<uint64_t> GetIntProperty(std::string_view name) = 0;
};

// Total size in bytes of all files in the store's data directory.
inline constexpr std::string_view kPropertyDiskBytes = "cdl.disk-bytes";

struct RocksStoreOptions {
  // Shared LRU cache for data, index and filter blocks of all columns.
  size_t block_cache_bytes = 64 << 20;
  // Memtable size per column before it is flushed to disk.
  size_t write_buffer_bytes = 32 << 20;
  // Threads for flushes and compactions together.
  int max_background_jobs = 2;
  // Bloom filter size; ~1% false positives at 10. 0 disables filters.
  int bloom_bits_per_key = 10;
  // Fail instead of creating the directory/database when it does not exist.
  bool error_if_missing = false;
};

// Opens (creating if needed) the RocksDB database in directory `path`.
// The store has every column in `columns`, every column that already exists
// in the database (so no data is ever hidden), and kDefaultColumn. Missing
// columns are created. Errors: FailedPrecondition if another process or
// store holds the directory's LOCK; InvalidArgument for an empty column name;
// otherwise the mapped RocksDB error with the path in the message.
absl::StatusOr<std::unique_ptr<Store>> OpenRocksStore(const std::string& path,
                                                      const std::vector<std::string>& columns,
                                                      const RocksStoreOptions& options = {});

// An empty in-memory store with `columns` and kDefaultColumn. Snapshots and
// iterators are true point-in-time views (copy-on-write per column: a write
// copies a column's whole map if a snapshot or iterator is still reading it,
// so keep such views short-lived in big tests). Write ignores `sync`;
// nothing survives the object.
std::unique_ptr<Store> NewMemoryStore(const std::vector<std::string>& columns);

}  // namespace cdl::storage

#endif  // CDL_NODE_STORAGE_STORE_H_
