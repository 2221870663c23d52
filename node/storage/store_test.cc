// One behavioural suite run against every Store implementation.

#include "node/storage/store.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/storage/keys.h"
#include "node/storage/test_util.h"

namespace cdl::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using KV = std::pair<std::string, std::string>;

struct MemoryImpl {
  absl::StatusOr<std::unique_ptr<Store>> Open(const std::vector<std::string>& columns) {
    return NewMemoryStore(columns);
  }
};

struct RocksImpl {
  absl::StatusOr<std::unique_ptr<Store>> Open(const std::vector<std::string>& columns) {
    return OpenRocksStore(dir.path() + "/db", columns);
  }
  ScopedTempDir dir;
};

template <typename Impl>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Store>> store = impl_.Open({"a", "b"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void Put(std::string_view column, std::string_view key, std::string_view value) {
    WriteBatch batch;
    batch.Put(column, key, value);
    ASSERT_TRUE(store_->Write(batch, /*sync=*/false).ok());
  }

  void Delete(std::string_view column, std::string_view key) {
    WriteBatch batch;
    batch.Delete(column, key);
    ASSERT_TRUE(store_->Write(batch, /*sync=*/false).ok());
  }

  // The value, or "<NotFound>" / the error text.
  std::string GetOr(std::string_view column, std::string_view key, const ReadOptions& ro = {}) {
    absl::StatusOr<std::string> v = store_->Get(column, key, ro);
    if (absl::IsNotFound(v.status())) return "<NotFound>";
    if (!v.ok()) return v.status().ToString();
    return *v;
  }

  std::vector<KV> All(std::string_view column, const ReadOptions& ro = {}) {
    absl::StatusOr<std::vector<KV>> all = store_->Scan(column, "", "", Store::kNoLimit, ro);
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? *all : std::vector<KV>{};
  }

  Impl impl_;  // declared first: outlives the store (owns its directory)
  std::unique_ptr<Store> store_;
};

class ImplNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryImpl>) return "Memory";
    if (std::is_same_v<T, RocksImpl>) return "Rocks";
    return "Unknown";
  }
};

using Impls = ::testing::Types<MemoryImpl, RocksImpl>;
TYPED_TEST_SUITE(StoreTest, Impls, ImplNames);

TYPED_TEST(StoreTest, PutGetOverwriteDelete) {
  this->Put("a", "k", "v1");
  EXPECT_EQ(this->GetOr("a", "k"), "v1");
  this->Put("a", "k", "v2");
  EXPECT_EQ(this->GetOr("a", "k"), "v2");
  this->Delete("a", "k");
  EXPECT_EQ(this->GetOr("a", "k"), "<NotFound>");
}

TYPED_TEST(StoreTest, AbsentKeyIsNotFound) {
  absl::StatusOr<std::string> v = this->store_->Get("a", "nothing");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kNotFound);
}

TYPED_TEST(StoreTest, DeletingAbsentKeyIsOk) {
  this->Delete("a", "never-written");
  EXPECT_EQ(this->GetOr("a", "never-written"), "<NotFound>");
}

TYPED_TEST(StoreTest, EmptyValueIsStoredNotAbsent) {
  this->Put("a", "k", "");
  absl::StatusOr<std::string> v = this->store_->Get("a", "k");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "");
}

TYPED_TEST(StoreTest, ColumnsAreSeparateKeySpaces) {
  this->Put("a", "k", "in-a");
  this->Put("b", "k", "in-b");
  EXPECT_EQ(this->GetOr("a", "k"), "in-a");
  EXPECT_EQ(this->GetOr("b", "k"), "in-b");
  EXPECT_EQ(this->GetOr(std::string(kDefaultColumn), "k"), "<NotFound>");
  this->Delete("a", "k");
  EXPECT_EQ(this->GetOr("b", "k"), "in-b");
}

TYPED_TEST(StoreTest, ColumnsListsRequestedAndDefaultSorted) {
  EXPECT_THAT(this->store_->Columns(), ElementsAre("a", "b", "default"));
}

TYPED_TEST(StoreTest, UnknownColumnIsInvalidArgumentEverywhere) {
  absl::StatusOr<std::string> get = this->store_->Get("nope", "k");
  EXPECT_EQ(get.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(get.status().message(), HasSubstr("unknown column 'nope'"));

  WriteBatch batch;
  batch.Put("nope", "k", "v");
  EXPECT_EQ(this->store_->Write(batch, false).code(), absl::StatusCode::kInvalidArgument);

  std::unique_ptr<Iterator> it = this->store_->NewIterator("nope");
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_EQ(it->status().code(), absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(this->store_->Scan("nope", "", "", 10).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->Scan("nope", "", "", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(StoreTest, BatchWithAnyBadOpAppliesNothing) {
  this->Put("a", "existing", "old");
  WriteBatch batch;
  batch.Put("a", "x", "1");
  batch.Delete("a", "existing");
  batch.Put("b", "y", "2");
  batch.Put("no-such-column", "z", "3");
  EXPECT_EQ(this->store_->Write(batch, true).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->GetOr("a", "x"), "<NotFound>");
  EXPECT_EQ(this->GetOr("a", "existing"), "old");
  EXPECT_EQ(this->GetOr("b", "y"), "<NotFound>");
}

TYPED_TEST(StoreTest, BatchAppliesOpsInOrderAcrossColumns) {
  WriteBatch batch;
  batch.Put("a", "k1", "first");
  batch.Put("a", "k1", "second");
  batch.Put("a", "k2", "gone");
  batch.Delete("a", "k2");
  batch.Delete("b", "k3");
  batch.Put("b", "k3", "back");
  EXPECT_EQ(batch.size(), 6u);
  ASSERT_TRUE(this->store_->Write(batch, /*sync=*/true).ok());
  EXPECT_EQ(this->GetOr("a", "k1"), "second");
  EXPECT_EQ(this->GetOr("a", "k2"), "<NotFound>");
  EXPECT_EQ(this->GetOr("b", "k3"), "back");
}

TYPED_TEST(StoreTest, EmptyBatchIsOk) {
  EXPECT_TRUE(this->store_->Write(WriteBatch(), true).ok());
  EXPECT_TRUE(this->store_->Write(WriteBatch(), false).ok());
}

TYPED_TEST(StoreTest, ReadersSeeBatchesWhole) {
  // Each batch sets x and y (in different columns) to the same value; a
  // snapshot must never see them differ.
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 300; ++i) {
      WriteBatch batch;
      batch.Put("a", "x", absl::StrCat(i));
      batch.Put("b", "y", absl::StrCat(i));
      EXPECT_TRUE(this->store_->Write(batch, false).ok());
    }
    done = true;
  });
  int mismatches = 0;
  int reads = 0;
  while (!done || reads < 10) {
    std::shared_ptr<const Snapshot> snap = this->store_->GetSnapshot();
    ReadOptions ro{snap.get()};
    if (this->GetOr("a", "x", ro) != this->GetOr("b", "y", ro)) ++mismatches;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(this->GetOr("a", "x"), "299");
}

TYPED_TEST(StoreTest, IteratesInBytewiseKeyOrder) {
  const std::vector<std::string> keys = {std::string("\xff", 1),
                                         "ab",
                                         "a",
                                         std::string("a\0", 2),
                                         std::string("\x80", 1),
                                         "b",
                                         std::string("\0", 1),
                                         std::string("\x7f", 1),
                                         "aa"};
  for (const std::string& k : keys) this->Put("a", k, "v" + k);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end(), [](const std::string& x, const std::string& y) {
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end(), [](char p, char q) {
      return static_cast<unsigned char>(p) < static_cast<unsigned char>(q);
    });
  });
  std::vector<std::string> seen;
  std::unique_ptr<Iterator> it = this->store_->NewIterator("a");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    seen.emplace_back(it->key());
    EXPECT_EQ(it->value(), "v" + std::string(it->key()));
  }
  EXPECT_TRUE(it->status().ok());
  EXPECT_EQ(seen, sorted);
  EXPECT_EQ(seen.front(), std::string("\0", 1));
  EXPECT_EQ(seen.back(), std::string("\xff", 1));
}

TYPED_TEST(StoreTest, IteratorStaysWithinItsColumn) {
  this->Put("a", "1", "a1");
  this->Put("b", "0", "b0");
  this->Put("b", "2", "b2");
  std::unique_ptr<Iterator> it = this->store_->NewIterator("a");
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "1");
  it->Next();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TYPED_TEST(StoreTest, SeekFindsFirstKeyNotLess) {
  for (const char* k : {"b", "d", "f"}) this->Put("a", k, k);
  std::unique_ptr<Iterator> it = this->store_->NewIterator("a");
  it->Seek("c");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  it->Seek("d");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  it->Seek("");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->Seek("g");
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TYPED_TEST(StoreTest, EmptyColumnIteratesNothing) {
  std::unique_ptr<Iterator> it = this->store_->NewIterator("b");
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TYPED_TEST(StoreTest, IteratorIgnoresWritesAfterCreation) {
  this->Put("a", "1", "one");
  this->Put("a", "2", "two");
  std::unique_ptr<Iterator> it = this->store_->NewIterator("a");
  this->Put("a", "0", "zero");
  this->Put("a", "2", "TWO");
  this->Delete("a", "1");
  std::vector<KV> seen;
  for (it->SeekToFirst(); it->Valid(); it->Next()) seen.emplace_back(it->key(), it->value());
  EXPECT_THAT(seen, ElementsAre(Pair("1", "one"), Pair("2", "two")));
}

TYPED_TEST(StoreTest, ScanRespectsBoundsAndLimit) {
  for (const char* k : {"a1", "a2", "a3", "b1", "b2", "c"}) this->Put("a", k, std::string("v") + k);
  absl::StatusOr<std::vector<KV>> r = this->store_->Scan("a", "a2", "b2", 100);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(Pair("a2", "va2"), Pair("a3", "va3"), Pair("b1", "vb1")));

  r = this->store_->Scan("a", "a", "", 2);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(Pair("a1", "va1"), Pair("a2", "va2")));

  r = this->store_->Scan("a", "b", "");  // no end bound, no limit
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(Pair("b1", "vb1"), Pair("b2", "vb2"), Pair("c", "vc")));

  r = this->store_->Scan("a", "a1", "z", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());

  r = this->store_->Scan("a", "b2", "b2", 10);  // empty range
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TYPED_TEST(StoreTest, ScanOfPrefixWithPrefixEnd) {
  this->Put("a", "p", "before");
  this->Put("a", "p/1", "x");
  this->Put("a", "p/2", "y");
  this->Put("a", "p0", "after");
  absl::StatusOr<std::vector<KV>> r = this->store_->Scan("a", "p/", PrefixEnd("p/"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(Pair("p/1", "x"), Pair("p/2", "y")));
}

TYPED_TEST(StoreTest, SnapshotIsAPointInTimeView) {
  this->Put("a", "keep", "k0");
  this->Put("a", "change", "c0");
  this->Put("a", "remove", "r0");
  this->Put("b", "other", "o0");
  std::shared_ptr<const Snapshot> snap = this->store_->GetSnapshot();
  ReadOptions at_snap{snap.get()};

  WriteBatch batch;
  batch.Put("a", "change", "c1");
  batch.Delete("a", "remove");
  batch.Put("a", "added", "a1");
  batch.Put("b", "other", "o1");
  ASSERT_TRUE(this->store_->Write(batch, false).ok());

  EXPECT_EQ(this->GetOr("a", "change", at_snap), "c0");
  EXPECT_EQ(this->GetOr("a", "remove", at_snap), "r0");
  EXPECT_EQ(this->GetOr("a", "added", at_snap), "<NotFound>");
  EXPECT_EQ(this->GetOr("b", "other", at_snap), "o0");
  EXPECT_THAT(this->All("a", at_snap),
              ElementsAre(Pair("change", "c0"), Pair("keep", "k0"), Pair("remove", "r0")));

  std::unique_ptr<Iterator> it = this->store_->NewIterator("b", at_snap);
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "o0");
  it.reset();

  // The latest state is unaffected by the snapshot.
  EXPECT_EQ(this->GetOr("a", "change"), "c1");
  EXPECT_THAT(this->All("a"),
              ElementsAre(Pair("added", "a1"), Pair("change", "c1"), Pair("keep", "k0")));
}

TYPED_TEST(StoreTest, SnapshotsTakenAtDifferentTimesDiffer) {
  this->Put("a", "k", "1");
  std::shared_ptr<const Snapshot> s1 = this->store_->GetSnapshot();
  this->Put("a", "k", "2");
  std::shared_ptr<const Snapshot> s2 = this->store_->GetSnapshot();
  this->Put("a", "k", "3");
  EXPECT_EQ(this->GetOr("a", "k", ReadOptions{s1.get()}), "1");
  EXPECT_EQ(this->GetOr("a", "k", ReadOptions{s2.get()}), "2");
  s1.reset();
  EXPECT_EQ(this->GetOr("a", "k", ReadOptions{s2.get()}), "2");
  EXPECT_EQ(this->GetOr("a", "k"), "3");
}

TYPED_TEST(StoreTest, SnapshotOfAnotherStoreIsInvalidArgument) {
  std::unique_ptr<Store> other = NewMemoryStore({"a"});
  std::shared_ptr<const Snapshot> foreign = other->GetSnapshot();
  ReadOptions ro{foreign.get()};
  EXPECT_EQ(this->store_->Get("a", "k", ro).status().code(), absl::StatusCode::kInvalidArgument);
  std::unique_ptr<Iterator> it = this->store_->NewIterator("a", ro);
  EXPECT_EQ(it->status().code(), absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(StoreTest, BinaryKeysAndValuesWithNulBytes) {
  const std::string key("k\0ey\0", 5);
  const std::string shorter("k\0ey", 4);
  const std::string value("\0\xff\0 v\0", 6);
  this->Put("a", key, value);
  this->Put("a", shorter, "short");
  EXPECT_EQ(this->GetOr("a", key), value);
  EXPECT_EQ(this->GetOr("a", shorter), "short");
  EXPECT_EQ(this->GetOr("a", std::string("k", 1)), "<NotFound>");
  EXPECT_THAT(this->All("a"), ElementsAre(Pair(shorter, "short"), Pair(key, value)));
}

TYPED_TEST(StoreTest, LargeValueRoundTrips) {
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
  this->Put("a", "big", big);
  EXPECT_EQ(this->GetOr("a", "big"), big);
}

TYPED_TEST(StoreTest, BigEndianKeysIterateInNumericOrder) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> numbers = {0, 1, 255, 256, 65535, 65536, UINT64_MAX, UINT64_MAX - 1};
  for (int i = 0; i < 100; ++i) numbers.push_back(rng());
  for (uint64_t n : numbers) this->Put("a", EncodeU64BE(n), absl::StrCat(n));
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  std::vector<uint64_t> seen;
  for (const KV& kv : this->All("a")) {
    absl::StatusOr<uint64_t> n = DecodeU64BE(kv.first);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(kv.second, absl::StrCat(*n));
    seen.push_back(*n);
  }
  EXPECT_EQ(seen, numbers);

  // A range of heights, as the ledger would scan blocks [256, 65536).
  absl::StatusOr<std::vector<KV>> r = this->store_->Scan("a", EncodeU64BE(256), EncodeU64BE(65536));
  ASSERT_TRUE(r.ok());
  ASSERT_GE(r->size(), 2u);
  EXPECT_EQ(r->front().second, "256");
  EXPECT_EQ(r->back().second, "65535");
}

TYPED_TEST(StoreTest, ConcurrentWritersAndReaders) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 200;
  std::vector<std::thread> threads;
  std::atomic<int> read_errors{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        WriteBatch batch;
        const std::string key = absl::StrCat("w", w, "/", EncodeU64BE(i));
        batch.Put("a", key, absl::StrCat(i));
        batch.Put("b", key, absl::StrCat(i));
        if (!this->store_->Write(batch, /*sync=*/i % 50 == 0).ok()) ++read_errors;
        // Read back our own write and scan someone else's prefix.
        absl::StatusOr<std::string> v = this->store_->Get("a", key);
        if (!v.ok() || *v != absl::StrCat(i)) ++read_errors;
        const std::string other = absl::StrCat("w", (w + 1) % kWriters, "/");
        if (!this->store_->Scan("b", other, PrefixEnd(other), 10).ok()) ++read_errors;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        std::shared_ptr<const Snapshot> snap = this->store_->GetSnapshot();
        ReadOptions ro{snap.get()};
        // Each batch writes the same key to both columns: counts must agree.
        absl::StatusOr<std::vector<KV>> a = this->store_->Scan("a", "", "", Store::kNoLimit, ro);
        absl::StatusOr<std::vector<KV>> b = this->store_->Scan("b", "", "", Store::kNoLimit, ro);
        if (!a.ok() || !b.ok() || a->size() != b->size()) ++read_errors;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(read_errors.load(), 0);
  EXPECT_EQ(this->All("a").size(), static_cast<size_t>(kWriters * kPerWriter));
  EXPECT_EQ(this->All("b").size(), static_cast<size_t>(kWriters * kPerWriter));
}

TEST(WriteBatchTest, CountsOpsAndBytes) {
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  batch.Put("col", "key", "value");
  batch.Delete("col", "k2");
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.ApproximateBytes(), 3u + 3u + 5u + 3u + 2u);
  ASSERT_EQ(batch.ops().size(), 2u);
  EXPECT_EQ(batch.ops()[0].type, WriteBatch::OpType::kPut);
  EXPECT_EQ(batch.ops()[1].type, WriteBatch::OpType::kDelete);
  EXPECT_EQ(batch.ops()[1].key, "k2");
  batch.Clear();
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(batch.ApproximateBytes(), 0u);
}

TEST(MemoryStoreTest, PropertiesAreUnimplemented) {
  std::unique_ptr<Store> store = NewMemoryStore({"a"});
  EXPECT_EQ(store->GetIntProperty("rocksdb.estimate-num-keys").status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(MemoryStoreTest, SnapshotSurvivesManyLaterWrites) {
  // Copy-on-write: the snapshot's version must not be mutated in place.
  std::unique_ptr<Store> store = NewMemoryStore({"a"});
  WriteBatch batch;
  batch.Put("a", "k", "old");
  ASSERT_TRUE(store->Write(batch, false).ok());
  std::shared_ptr<const Snapshot> snap = store->GetSnapshot();
  for (int i = 0; i < 10; ++i) {
    WriteBatch w;
    w.Put("a", "k", absl::StrCat("new", i));
    w.Put("a", absl::StrCat("extra", i), "x");
    ASSERT_TRUE(store->Write(w, false).ok());
  }
  EXPECT_EQ(*store->Get("a", "k", ReadOptions{snap.get()}), "old");
  EXPECT_EQ(store->Scan("a", "", "", Store::kNoLimit, ReadOptions{snap.get()})->size(), 1u);
  EXPECT_EQ(*store->Get("a", "k"), "new9");
}

}  // namespace
}  // namespace cdl::storage
