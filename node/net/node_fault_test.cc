// A node whose storage fails: it must stop (refuse further work with a clear
// status) rather than acknowledge what it could not make durable or carry on
// with a state that differs from its disk; after a restart on the same
// RocksDB data everything acknowledged is there and nothing else.
#include <filesystem>
#include <future>

#include "gtest/gtest.h"
#include "node/ledger/test_util.h"
#include "node/net/node.h"
#include "node/storage/fault_store.h"
#include "node/storage/store.h"

namespace cdl::net {
namespace {

using cdl::ledger::testing::TestChain;
using cdl::storage::FaultInjectingStore;

class NodeFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cdl_node_fault_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    if (node_) node_->Stop();
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Opens the ledger on RocksDB in dir_, behind a fault-injecting store.
  void Start() {
    auto rocks = cdl::storage::OpenRocksStore(dir_.string(), cdl::ledger::LedgerColumns());
    ASSERT_TRUE(rocks.ok()) << rocks.status();
    auto faulty = std::make_unique<FaultInjectingStore>(*std::move(rocks));
    faults_ = faulty.get();
    auto ledger = cdl::ledger::Ledger::Open(std::move(faulty), chain_.genesis());
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    NodeOptions options;
    options.validator_id = "v1";
    options.flush_interval = absl::Milliseconds(1);
    auto node = Node::Create(*std::move(ledger), chain_.TakeValidatorKey(), options);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    node_->Start();
  }
  void Restart() {
    node_->Stop();
    node_.reset();
    faults_ = nullptr;
    Start();
  }

  absl::StatusOr<cdl::v1::Receipt> Submit(const std::string& bytes) {
    std::promise<absl::StatusOr<cdl::v1::Receipt>> done;
    auto future = done.get_future();
    node_->Submit(bytes, true, absl::Seconds(10),
                  [&done](absl::StatusOr<cdl::v1::Receipt> r) { done.set_value(std::move(r)); });
    return future.get();
  }

  TestChain chain_;
  std::filesystem::path dir_;
  std::unique_ptr<Node> node_;
  FaultInjectingStore* faults_ = nullptr;
};

TEST_F(NodeFaultTest, FailedBlockWriteHaltsTheNodeAndNothingUnacknowledgedSurvives) {
  Start();
  auto park = Submit(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(park.ok()) << park.status();
  ASSERT_EQ(park->status(), cdl::v1::RECORD_ACCEPTED);

  faults_->FailSyncWrites(true);  // e.g. the disk is full
  auto lost = Submit(chain_.Register("reg-cn", "park-b", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_FALSE(lost.ok()) << "a record was acknowledged although its block could not be written";
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable) << lost.status();
  EXPECT_NE(lost.status().message().find("halted"), std::string::npos) << lost.status();
  // The node stays halted even once the disk recovers: its memory may be
  // ahead of its disk, so it must be restarted.
  faults_->ClearFaults();
  auto after = Submit(chain_.Register("reg-cn", "park-c", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable) << after.status();

  Restart();
  EXPECT_EQ(node_->ledger().head().height(), 1u);
  EXPECT_TRUE(node_->ledger().GetRecord(park->record_id()).ok());
  EXPECT_TRUE(absl::IsNotFound(node_->ledger().GetMember("park-b").status()));
  // It carries on from the durable state; the sequence the failed block
  // would have used is free again.
  chain_.RewindSequence("reg-cn", 1);
  auto again = Submit(chain_.Register("reg-cn", "park-b", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->status(), cdl::v1::RECORD_ACCEPTED) << again->message();
  EXPECT_EQ(again->height(), 2u);
}

}  // namespace
}  // namespace cdl::net
