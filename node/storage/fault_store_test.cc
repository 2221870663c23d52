#include "node/storage/fault_store.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "node/storage/store.h"
#include "node/storage/test_util.h"

namespace cdl::storage {
namespace {

WriteBatch OnePut(std::string_view key, std::string_view value = "v") {
  WriteBatch batch;
  batch.Put("a", key, value);
  return batch;
}

bool Has(Store& store, std::string_view key) { return store.Get("a", key).ok(); }

class FaultStoreTest : public ::testing::Test {
 protected:
  FaultInjectingStore store_{NewMemoryStore({"a"})};
};

TEST_F(FaultStoreTest, PassesEverythingThroughWithoutFaults) {
  ASSERT_TRUE(store_.Write(OnePut("k", "v"), true).ok());
  ASSERT_TRUE(store_.Write(OnePut("j"), false).ok());
  EXPECT_EQ(*store_.Get("a", "k"), "v");
  EXPECT_EQ(*store_.base()->Get("a", "k"), "v");
  EXPECT_EQ(store_.Scan("a", "", "")->size(), 2u);
  std::shared_ptr<const Snapshot> snap = store_.GetSnapshot();
  ASSERT_TRUE(store_.Write(OnePut("k", "later"), false).ok());
  EXPECT_EQ(*store_.Get("a", "k", ReadOptions{snap.get()}), "v");
  EXPECT_EQ(store_.Columns(), store_.base()->Columns());
  FaultInjectingStore::Counters c = store_.counters();
  EXPECT_EQ(c.writes, 3u);
  EXPECT_EQ(c.applied, 3u);
  EXPECT_EQ(c.synced, 1u);
  EXPECT_EQ(c.failed + c.dropped + c.base_errors, 0u);
}

TEST_F(FaultStoreTest, FailNextWritesFailsExactlyNAndAppliesNothing) {
  store_.FailNextWrites(2);
  absl::Status first = store_.Write(OnePut("k1"), false);
  EXPECT_EQ(first.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(store_.Write(OnePut("k2"), true).code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(store_.Write(OnePut("k3"), false).ok());
  EXPECT_FALSE(Has(store_, "k1"));
  EXPECT_FALSE(Has(store_, "k2"));
  EXPECT_TRUE(Has(store_, "k3"));
  EXPECT_EQ(store_.counters().failed, 2u);
  EXPECT_EQ(store_.counters().applied, 1u);
}

TEST_F(FaultStoreTest, FailSyncWritesOnlyFailsSyncedOnes) {
  store_.FailSyncWrites(true);
  EXPECT_EQ(store_.Write(OnePut("synced"), true).code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(store_.Write(OnePut("unsynced"), false).ok());
  EXPECT_FALSE(Has(store_, "synced"));
  EXPECT_TRUE(Has(store_, "unsynced"));
  store_.FailSyncWrites(false);
  EXPECT_TRUE(store_.Write(OnePut("synced"), true).ok());
  EXPECT_TRUE(Has(store_, "synced"));
}

TEST_F(FaultStoreTest, DropUnsyncedAcknowledgesButLosesOnlyUnsynced) {
  store_.DropWrites(FaultInjectingStore::DropMode::kUnsynced);
  EXPECT_TRUE(store_.Write(OnePut("lost"), false).ok());
  EXPECT_TRUE(store_.Write(OnePut("kept"), true).ok());
  EXPECT_FALSE(Has(store_, "lost"));
  EXPECT_TRUE(Has(store_, "kept"));
  EXPECT_EQ(store_.counters().dropped, 1u);
  EXPECT_EQ(store_.counters().applied, 1u);
}

TEST_F(FaultStoreTest, DropAllLosesSyncedWritesToo) {
  store_.DropWrites(FaultInjectingStore::DropMode::kAll);
  EXPECT_TRUE(store_.Write(OnePut("a"), true).ok());
  EXPECT_TRUE(store_.Write(OnePut("b"), false).ok());
  EXPECT_FALSE(Has(store_, "a"));
  EXPECT_FALSE(Has(store_, "b"));
  EXPECT_EQ(store_.counters().dropped, 2u);
}

TEST_F(FaultStoreTest, FailuresTakePrecedenceOverDrops) {
  store_.DropWrites(FaultInjectingStore::DropMode::kAll);
  store_.FailNextWrites(1);
  EXPECT_EQ(store_.Write(OnePut("x"), false).code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(store_.Write(OnePut("x"), false).ok());  // now dropped
  EXPECT_EQ(store_.counters().failed, 1u);
  EXPECT_EQ(store_.counters().dropped, 1u);
}

TEST_F(FaultStoreTest, ClearFaultsAndResetCounters) {
  store_.FailNextWrites(5);
  store_.FailSyncWrites(true);
  store_.DropWrites(FaultInjectingStore::DropMode::kAll);
  store_.ClearFaults();
  EXPECT_TRUE(store_.Write(OnePut("k"), true).ok());
  EXPECT_TRUE(Has(store_, "k"));
  store_.ResetCounters();
  EXPECT_EQ(store_.counters().writes, 0u);
}

TEST_F(FaultStoreTest, WrappedStoreStillRejectsBadBatches) {
  WriteBatch bad;
  bad.Put("no-such-column", "k", "v");
  EXPECT_EQ(store_.Write(bad, false).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.counters().base_errors, 1u);
  EXPECT_EQ(store_.counters().applied, 0u);
}

TEST(FaultStoreCrashTest, DroppedUnsyncedWritesAreGoneAfterReopen) {
  ScopedTempDir dir;
  const std::string path = dir.path() + "/db";
  {
    absl::StatusOr<std::unique_ptr<Store>> rocks = OpenRocksStore(path, {"a"});
    ASSERT_TRUE(rocks.ok()) << rocks.status();
    FaultInjectingStore store(*std::move(rocks));
    ASSERT_TRUE(store.Write(OnePut("block-1"), true).ok());
    store.DropWrites(FaultInjectingStore::DropMode::kUnsynced);
    ASSERT_TRUE(store.Write(OnePut("mempool-entry"), false).ok());
    ASSERT_TRUE(store.Write(OnePut("block-2"), true).ok());
  }  // "crash": closes the wrapped RocksDB store
  absl::StatusOr<std::unique_ptr<Store>> reopened = OpenRocksStore(path, {"a"});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_TRUE(Has(**reopened, "block-1"));
  EXPECT_TRUE(Has(**reopened, "block-2"));
  EXPECT_FALSE(Has(**reopened, "mempool-entry"));
}

}  // namespace
}  // namespace cdl::storage
