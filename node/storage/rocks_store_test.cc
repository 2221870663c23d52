// RocksDB-only behaviour: persistence, the directory lock, column families
// of existing databases, properties.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/storage/keys.h"
#include "node/storage/store.h"
#include "node/storage/test_util.h"

namespace cdl::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RocksStoreTest : public ::testing::Test {
 protected:
  std::string db_path() const { return dir_.path() + "/data"; }

  std::unique_ptr<Store> MustOpen(const std::vector<std::string>& columns,
                                  const RocksStoreOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<Store>> store = OpenRocksStore(db_path(), columns, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static void MustPut(Store& store, std::string_view column, std::string_view key,
                      std::string_view value, bool sync) {
    WriteBatch batch;
    batch.Put(column, key, value);
    ASSERT_TRUE(store.Write(batch, sync).ok());
  }

  ScopedTempDir dir_;
};

TEST_F(RocksStoreTest, DataSurvivesCloseAndReopen) {
  {
    std::unique_ptr<Store> store = MustOpen({"blocks", "state"});
    ASSERT_NE(store, nullptr);
    MustPut(*store, "blocks", EncodeU64BE(1), "block-1", /*sync=*/true);
    MustPut(*store, "state", "unsynced", "kept on clean close", /*sync=*/false);
    WriteBatch batch;
    batch.Put("blocks", EncodeU64BE(2), "block-2");
    batch.Put("state", std::string("bin\0key", 7), std::string("\0v", 2));
    ASSERT_TRUE(store->Write(batch, true).ok());
    WriteBatch del;
    del.Delete("blocks", EncodeU64BE(1));
    ASSERT_TRUE(store->Write(del, true).ok());
  }
  std::unique_ptr<Store> store = MustOpen({"blocks", "state"});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("blocks", EncodeU64BE(1)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*store->Get("blocks", EncodeU64BE(2)), "block-2");
  EXPECT_EQ(*store->Get("state", "unsynced"), "kept on clean close");
  EXPECT_EQ(*store->Get("state", std::string("bin\0key", 7)), std::string("\0v", 2));
}

TEST_F(RocksStoreTest, SecondOpenInThisProcessFailsWithInUse) {
  std::unique_ptr<Store> first = MustOpen({"a"});
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<Store>> second = OpenRocksStore(db_path(), {"a"});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("data dir ", db_path(),
                                     " is in use by another cdl-node (LOCK held)")));
  // The failed open must not disturb the first store.
  MustPut(*first, "a", "k", "v", true);
  EXPECT_EQ(*first->Get("a", "k"), "v");
}

TEST_F(RocksStoreTest, OpenWhileAnotherProcessHoldsItFailsWithInUse) {
  MustOpen({"a"}).reset();  // create it, then let the helper hold it
  int to_child[2];
  int from_child[2];
  ASSERT_EQ(pipe2(to_child, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(from_child, O_CLOEXEC), 0);
  const std::string helper = CDL_STORAGE_LOCK_HOLDER;
  const std::string path = db_path();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    execl(helper.c_str(), helper.c_str(), path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  char buf[16] = {};
  ssize_t n = read(from_child[0], buf, sizeof(buf) - 1);
  close(from_child[0]);
  ASSERT_GT(n, 0) << "lock holder did not start";
  ASSERT_STREQ(buf, "ready\n");

  absl::StatusOr<std::unique_ptr<Store>> store = OpenRocksStore(path, {"a"});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      store.status().message(),
      HasSubstr(absl::StrCat("data dir ", path, " is in use by another cdl-node (LOCK held)")));

  close(to_child[1]);  // the helper exits on EOF and releases the lock
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  EXPECT_NE(MustOpen({"a"}), nullptr);
}

TEST_F(RocksStoreTest, CloseReleasesTheLock) {
  MustOpen({"a"}).reset();
  EXPECT_NE(MustOpen({"a"}), nullptr);
}

TEST_F(RocksStoreTest, ReopenWithExtraColumnsAddsThem) {
  {
    std::unique_ptr<Store> store = MustOpen({"a"});
    ASSERT_NE(store, nullptr);
    MustPut(*store, "a", "k", "v", true);
  }
  std::unique_ptr<Store> store = MustOpen({"a", "b", "c"});
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Columns(), ElementsAre("a", "b", "c", "default"));
  EXPECT_EQ(*store->Get("a", "k"), "v");
  MustPut(*store, "c", "k", "in-c", true);
  EXPECT_EQ(*store->Get("c", "k"), "in-c");
}

TEST_F(RocksStoreTest, ReopenWithFewerColumnsStillOpensAllExisting) {
  {
    std::unique_ptr<Store> store = MustOpen({"a", "b"});
    ASSERT_NE(store, nullptr);
    MustPut(*store, "b", "k", "still here", true);
  }
  std::unique_ptr<Store> store = MustOpen({});
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Columns(), ElementsAre("a", "b", "default"));
  EXPECT_EQ(*store->Get("b", "k"), "still here");
}

TEST_F(RocksStoreTest, CreatesMissingParentDirectories) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenRocksStore(dir_.path() + "/x/y/z", {"a"});
  ASSERT_TRUE(store.ok()) << store.status();
}

TEST_F(RocksStoreTest, ErrorIfMissingRefusesToCreate) {
  RocksStoreOptions options;
  options.error_if_missing = true;
  absl::StatusOr<std::unique_ptr<Store>> store = OpenRocksStore(db_path(), {"a"}, options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(store.status().message(), HasSubstr(db_path()));
  MustOpen({"a"}).reset();
  EXPECT_NE(MustOpen({"a"}, options), nullptr);
}

TEST_F(RocksStoreTest, EmptyColumnNameIsInvalidArgument) {
  EXPECT_EQ(OpenRocksStore(db_path(), {"a", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksStoreTest, PathThatIsAFileFailsCleanly) {
  const std::string file = dir_.path() + "/plain-file";
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  absl::StatusOr<std::unique_ptr<Store>> store = OpenRocksStore(file, {"a"});
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(file));
}

TEST_F(RocksStoreTest, IntPropertiesForMetrics) {
  std::unique_ptr<Store> store = MustOpen({"a", "b"});
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 100; ++i) {
    MustPut(*store, i % 2 ? "a" : "b", EncodeU64BE(i), std::string(100, 'v'), false);
  }
  absl::StatusOr<uint64_t> keys = store->GetIntProperty("rocksdb.estimate-num-keys");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_GE(*keys, 50u);  // an estimate, summed over columns
  absl::StatusOr<uint64_t> disk = store->GetIntProperty(kPropertyDiskBytes);
  ASSERT_TRUE(disk.ok()) << disk.status();
  EXPECT_GT(*disk, 0u);
  EXPECT_EQ(store->GetIntProperty("rocksdb.no-such-property").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cdl::storage
