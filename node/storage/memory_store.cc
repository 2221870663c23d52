// In-memory Store. Each column's current contents are one Version (a std::map)
// held by shared_ptr. Snapshots and iterators hold counted references
// (VersionRef) to the versions they read. A write changes a version in place
// only while no reference to it is alive; otherwise it first copies the map
// into a new version (copy-on-write), so every view is truly point-in-time.

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "node/storage/store.h"

namespace cdl::storage {
namespace {

using Map = std::map<std::string, std::string, std::less<>>;

// Debian's Abseil has its own string_view type, distinct from std's.
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct Version {
  Map map;
  // Live VersionRefs. Not shared_ptr::use_count(): that load is relaxed and
  // would not order a reader's last access before the writer's change.
  std::atomic<int> views{0};
};

// A reference that freezes a version while it lives. The first reference to
// a version is taken under MemoryStore::mu_; further ones are copies of a live
// one, so a writer holding mu_ that sees views == 0 is alone with the version.
class VersionRef {
 public:
  explicit VersionRef(std::shared_ptr<Version> version) : version_(std::move(version)) {
    version_->views.fetch_add(1, std::memory_order_relaxed);
  }
  VersionRef(const VersionRef& other) : VersionRef(other.version_) {}
  VersionRef& operator=(const VersionRef&) = delete;
  ~VersionRef() {
    // Release: this view's reads happen before a writer's acquire load of 0.
    version_->views.fetch_sub(1, std::memory_order_release);
  }

  const Map& map() const { return version_->map; }

 private:
  std::shared_ptr<Version> version_;
};

class MemoryStore;

// One VersionRef per column, indexed like MemoryStore::names_.
class MemorySnapshot final : public Snapshot {
 public:
  MemorySnapshot(const MemoryStore* owner, std::vector<VersionRef> columns)
      : owner_(owner), columns_(std::move(columns)) {}

  const MemoryStore* owner() const { return owner_; }
  const VersionRef& column(size_t index) const { return columns_[index]; }

 private:
  const MemoryStore* owner_;
  std::vector<VersionRef> columns_;
};

class MemoryIterator final : public Iterator {
 public:
  explicit MemoryIterator(VersionRef ref) : ref_(std::move(ref)), it_(ref_.map().end()) {}

  void Seek(std::string_view key) override { it_ = ref_.map().lower_bound(key); }
  void SeekToFirst() override { it_ = ref_.map().begin(); }
  bool Valid() const override { return it_ != ref_.map().end(); }
  void Next() override { ++it_; }
  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  const VersionRef ref_;
  Map::const_iterator it_;
};

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const std::vector<std::string>& columns) {
    names_ = columns;
    names_.emplace_back(kDefaultColumn);
    std::sort(names_.begin(), names_.end());
    names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
    for (size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], i);
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < names_.size(); ++i) versions_.push_back(std::make_shared<Version>());
  }

  absl::StatusOr<std::string> Get(std::string_view column, std::string_view key,
                                  const ReadOptions& options) override {
    absl::StatusOr<size_t> index = ColumnIndex(column);
    if (!index.ok()) return index.status();
    if (options.snapshot != nullptr) {
      absl::StatusOr<const MemorySnapshot*> snap = OwnSnapshot(options.snapshot);
      if (!snap.ok()) return snap.status();
      return Lookup((*snap)->column(*index).map(), key);
    }
    absl::MutexLock lock(&mu_);
    return Lookup(versions_[*index]->map, key);
  }

  absl::Status Write(const WriteBatch& batch, bool /*sync*/) override {
    // Validate everything first so a bad batch applies nothing.
    std::vector<size_t> indexes;
    indexes.reserve(batch.size());
    for (const WriteBatch::Op& op : batch.ops()) {
      absl::StatusOr<size_t> index = ColumnIndex(op.column);
      if (!index.ok()) return index.status();
      indexes.push_back(*index);
    }
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < indexes.size(); ++i) {
      std::shared_ptr<Version>& version = versions_[indexes[i]];
      if (version->views.load(std::memory_order_acquire) != 0) {
        auto fresh = std::make_shared<Version>();
        fresh->map = version->map;
        version = std::move(fresh);
      }
      const WriteBatch::Op& op = batch.ops()[i];
      if (op.type == WriteBatch::OpType::kPut) {
        version->map[op.key] = op.value;
      } else {
        version->map.erase(op.key);
      }
    }
    return absl::OkStatus();
  }

  std::unique_ptr<Iterator> NewIterator(std::string_view column,
                                        const ReadOptions& options) override {
    absl::StatusOr<size_t> index = ColumnIndex(column);
    if (!index.ok()) return NewErrorIterator(index.status());
    if (options.snapshot != nullptr) {
      absl::StatusOr<const MemorySnapshot*> snap = OwnSnapshot(options.snapshot);
      if (!snap.ok()) return NewErrorIterator(snap.status());
      return std::make_unique<MemoryIterator>((*snap)->column(*index));
    }
    absl::MutexLock lock(&mu_);
    return std::make_unique<MemoryIterator>(VersionRef(versions_[*index]));
  }

  std::shared_ptr<const Snapshot> GetSnapshot() override {
    std::vector<VersionRef> refs;
    refs.reserve(names_.size());
    absl::MutexLock lock(&mu_);
    for (const std::shared_ptr<Version>& version : versions_) refs.emplace_back(version);
    return std::make_shared<MemorySnapshot>(this, std::move(refs));
  }

  std::vector<std::string> Columns() const override { return names_; }

  absl::StatusOr<uint64_t> GetIntProperty(std::string_view name) override {
    return absl::UnimplementedError(
        absl::StrCat("the memory store has no property '", AsAbsl(name), "'"));
  }

 private:
  static absl::StatusOr<std::string> Lookup(const Map& map, std::string_view key) {
    auto it = map.find(key);
    if (it == map.end()) return absl::NotFoundError("key not found");
    return it->second;
  }

  absl::StatusOr<size_t> ColumnIndex(std::string_view column) const {
    auto it = index_.find(column);
    if (it == index_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown column '", AsAbsl(column), "'"));
    }
    return it->second;
  }

  absl::StatusOr<const MemorySnapshot*> OwnSnapshot(const Snapshot* snapshot) const {
    const auto* snap = dynamic_cast<const MemorySnapshot*>(snapshot);
    if (snap == nullptr || snap->owner() != this) {
      return absl::InvalidArgumentError("snapshot belongs to another store");
    }
    return snap;
  }

  // Fixed at construction; read without locking.
  std::vector<std::string> names_;
  std::map<std::string, size_t, std::less<>> index_;

  absl::Mutex mu_;
  // The current version of each column, indexed like names_.
  std::vector<std::shared_ptr<Version>> versions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore(const std::vector<std::string>& columns) {
  return std::make_unique<MemoryStore>(columns);
}

}  // namespace cdl::storage
