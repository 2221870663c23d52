// RocksDB-backed Store: one column family per column.

#include <algorithm>
#include <atomic>
#include <cassert>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/dynamic_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/storage/store.h"
#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace cdl::storage {
namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }
// Debian's Abseil has its own string_view type, distinct from std's.
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Maps a RocksDB status onto the absl codes documented in store.h.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(AsAbsl(context), ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  if (s.IsNotSupported()) return absl::UnimplementedError(message);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return absl::UnavailableError(message);
  if (s.IsAborted()) return absl::AbortedError(message);
  return absl::InternalError(message);
}

// RocksDB reports a held LOCK as an IO error: "While lock file: <dir>/LOCK:
// Resource temporarily unavailable" from another process, "lock hold by
// current process" from this one.
bool IsLockHeld(const rocksdb::Status& s) {
  if (!s.IsIOError()) return false;
  const std::string text = s.ToString();
  return absl::StrContains(text, "While lock file") ||
         absl::StrContains(text, "lock hold by current process");
}

rocksdb::CompressionType PickCompression() {
  std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  for (rocksdb::CompressionType wanted : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), wanted) != supported.end()) return wanted;
  }
  return rocksdb::kNoCompression;
}

class RocksSnapshot final : public Snapshot {
 public:
  RocksSnapshot(rocksdb::DB* db, std::atomic<int>* live)
      : db_(db), snapshot_(db->GetSnapshot()), live_(live) {
    live_->fetch_add(1, std::memory_order_relaxed);
  }
  ~RocksSnapshot() override {
    db_->ReleaseSnapshot(snapshot_);
    live_->fetch_sub(1, std::memory_order_relaxed);
  }
  RocksSnapshot(const RocksSnapshot&) = delete;
  RocksSnapshot& operator=(const RocksSnapshot&) = delete;

  rocksdb::DB* db() const { return db_; }
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
  std::atomic<int>* live_;
};

class RocksIterator final : public Iterator {
 public:
  RocksIterator(std::unique_ptr<rocksdb::Iterator> it, std::atomic<int>* live)
      : it_(std::move(it)), live_(live) {
    live_->fetch_add(1, std::memory_order_relaxed);
  }
  ~RocksIterator() override {
    it_.reset();
    live_->fetch_sub(1, std::memory_order_relaxed);
  }
  RocksIterator(const RocksIterator&) = delete;
  RocksIterator& operator=(const RocksIterator&) = delete;

  void Seek(std::string_view key) override { it_->Seek(ToSlice(key)); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return ToView(it_->key()); }
  std::string_view value() const override { return ToView(it_->value()); }
  absl::Status status() const override { return FromRocks(it_->status(), "iterator"); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
  std::atomic<int>* live_;
};

class RocksStore final : public Store {
 public:
  RocksStore(std::string path, std::unique_ptr<rocksdb::DB> db,
             std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : path_(std::move(path)), db_(std::move(db)), handles_(std::move(handles)) {
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      by_name_.emplace(h->GetName(), h);
      names_.push_back(h->GetName());
    }
    std::sort(names_.begin(), names_.end());
  }

  ~RocksStore() override {
    assert(live_views_.load() == 0 && "iterators and snapshots must die before their Store");
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      db_->DestroyColumnFamilyHandle(h);
    }
    // Close flushes nothing (the WAL has everything) but reports errors that
    // the destructor would swallow; there is nobody to report them to here.
    db_->Close().PermitUncheckedError();
  }

  RocksStore(const RocksStore&) = delete;
  RocksStore& operator=(const RocksStore&) = delete;

  absl::StatusOr<std::string> Get(std::string_view column, std::string_view key,
                                  const ReadOptions& options) override {
    absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf = Column(column);
    if (!cf.ok()) return cf.status();
    absl::StatusOr<rocksdb::ReadOptions> ro = ToRocks(options);
    if (!ro.ok()) return ro.status();
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db_->Get(*ro, *cf, ToSlice(key), &value);
    if (s.IsNotFound()) return absl::NotFoundError("key not found");
    if (!s.ok()) return FromRocks(s, absl::StrCat("get from ", path_));
    return std::string(ToView(value));
  }

  absl::Status Write(const WriteBatch& batch, bool sync) override {
    rocksdb::WriteBatch rb;
    for (const WriteBatch::Op& op : batch.ops()) {
      absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf = Column(op.column);
      if (!cf.ok()) return cf.status();
      rocksdb::Status s = op.type == WriteBatch::OpType::kPut
                              ? rb.Put(*cf, ToSlice(op.key), ToSlice(op.value))
                              : rb.Delete(*cf, ToSlice(op.key));
      if (!s.ok()) return FromRocks(s, "building write batch");
    }
    if (rb.Count() == 0) return absl::OkStatus();
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    // ThreadSanitizer builds only (a no-op otherwise): RocksDB is Debian's
    // uninstrumented static librocksdb.a, and DB::Write is where its write
    // group hands batches between writer threads (the leader copies the
    // others' batches into the group's WAL record, on lock-free atomics TSan
    // cannot see). What TSan would check in here are only the memcpy/malloc
    // calls RocksDB's code makes, with none of its frames on the stack to
    // suppress by name — what `called_from_lib` does for a shared library.
    // No code of ours runs inside the call (no listeners, comparators or
    // merge operators); `rb` is built before and freed after it, checked.
    ABSL_ANNOTATE_IGNORE_READS_AND_WRITES_BEGIN();
    rocksdb::Status s = db_->Write(wo, &rb);
    ABSL_ANNOTATE_IGNORE_READS_AND_WRITES_END();
    return FromRocks(s, absl::StrCat("write to ", path_));
  }

  std::unique_ptr<Iterator> NewIterator(std::string_view column,
                                        const ReadOptions& options) override {
    absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf = Column(column);
    if (!cf.ok()) return NewErrorIterator(cf.status());
    absl::StatusOr<rocksdb::ReadOptions> ro = ToRocks(options);
    if (!ro.ok()) return NewErrorIterator(ro.status());
    return std::make_unique<RocksIterator>(
        std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(*ro, *cf)), &live_views_);
  }

  std::shared_ptr<const Snapshot> GetSnapshot() override {
    return std::make_shared<RocksSnapshot>(db_.get(), &live_views_);
  }

  std::vector<std::string> Columns() const override { return names_; }

  absl::StatusOr<uint64_t> GetIntProperty(std::string_view name) override {
    if (name == kPropertyDiskBytes) return DiskBytes();
    uint64_t value = 0;
    if (!db_->GetAggregatedIntProperty(ToSlice(name), &value)) {
      return absl::NotFoundError(absl::StrCat("no integer property '", AsAbsl(name), "'"));
    }
    return value;
  }

 private:
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> Column(std::string_view column) const {
    auto it = by_name_.find(column);
    if (it == by_name_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown column '", AsAbsl(column), "'"));
    }
    return it->second;
  }

  absl::StatusOr<rocksdb::ReadOptions> ToRocks(const ReadOptions& options) const {
    rocksdb::ReadOptions ro;
    if (options.snapshot != nullptr) {
      const auto* snap = dynamic_cast<const RocksSnapshot*>(options.snapshot);
      if (snap == nullptr || snap->db() != db_.get()) {
        return absl::InvalidArgumentError("snapshot belongs to another store");
      }
      ro.snapshot = snap->get();
    }
    return ro;
  }

  uint64_t DiskBytes() const {
    uint64_t total = 0;
    std::error_code ec;
    // Files come and go with compactions; skip any that vanish mid-walk.
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code size_ec;
      if (!it->is_regular_file(size_ec)) continue;
      uint64_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
    return total;
  }

  const std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  // Fixed after construction; read without locking (RocksDB is thread-safe).
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> by_name_;
  std::vector<std::string> names_;
  // Iterators and snapshots alive, to catch use after the store is gone.
  std::atomic<int> live_views_{0};
};

rocksdb::ColumnFamilyOptions MakeColumnOptions(const RocksStoreOptions& options,
                                               const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.format_version = 5;
  if (options.bloom_bits_per_key > 0) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key));
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.write_buffer_size = options.write_buffer_bytes;
  cf.level_compaction_dynamic_level_bytes = true;
  cf.compression = PickCompression();
  return cf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenRocksStore(const std::string& path,
                                                      const std::vector<std::string>& columns,
                                                      const RocksStoreOptions& options) {
  for (const std::string& c : columns) {
    if (c.empty()) return absl::InvalidArgumentError("column names must not be empty");
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool exists = fs::exists(fs::path(path) / "CURRENT", ec);
  if (!exists) {
    if (options.error_if_missing) {
      return absl::NotFoundError(absl::StrCat("no database in data dir ", path));
    }
    fs::create_directories(path, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("cannot create data dir ", path, ": ", ec.message()));
    }
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !options.error_if_missing;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = options.max_background_jobs;
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 5;

  // Open every existing column family, or RocksDB refuses to open the DB.
  std::vector<std::string> names;
  if (exists) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, path, &names);
    if (!s.ok()) return FromRocks(s, absl::StrCat("listing columns of data dir ", path));
  }
  names.insert(names.end(), columns.begin(), columns.end());
  names.emplace_back(kDefaultColumn);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  const rocksdb::ColumnFamilyOptions cf_options = MakeColumnOptions(options, cache);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, cf_options);

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!s.ok()) {
    if (IsLockHeld(s)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data dir ", path, " is in use by another cdl-node (LOCK held): ", s.ToString()));
    }
    return FromRocks(s, absl::StrCat("opening data dir ", path));
  }
  return std::make_unique<RocksStore>(path, std::unique_ptr<rocksdb::DB>(raw), std::move(handles));
}

}  // namespace cdl::storage
