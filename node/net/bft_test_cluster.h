// Test support: four validators in one process, wired by an in-memory peer
// network that can cut a node off: the real consensus core, ledger and
// admission, no TLS. Used by bft_node_test.cc and peer_bad_input_test.cc.
#ifndef CDL_NODE_NET_BFT_TEST_CLUSTER_H_
#define CDL_NODE_NET_BFT_TEST_CLUSTER_H_

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "node/ledger/test_util.h"
#include "node/net/node.h"
#include "node/storage/store.h"

namespace cdl::net::testing {

using cdl::ledger::testing::KeyInfo;
using cdl::ledger::testing::TestChain;

// Delivers messages on its own thread, like a real transport would.
class MemoryNetwork {
 public:
  class Endpoint : public PeerNetwork {
   public:
    Endpoint(MemoryNetwork* net, uint32_t self) : net_(net), self_(self) {}
    void Send(uint32_t to, const cdl::peer::v1::PeerMessage& msg) override { net_->Post(self_, to, msg); }
    void Broadcast(const cdl::peer::v1::PeerMessage& msg) override {
      for (uint32_t i = 0; i < net_->size(); ++i) {
        if (i != self_) net_->Post(self_, i, msg);
      }
    }

   private:
    MemoryNetwork* net_;
    uint32_t self_;
  };

  explicit MemoryNetwork(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) endpoints_.push_back(std::make_unique<Endpoint>(this, i));
    nodes_.resize(n, nullptr);
    cut_.resize(n, false);
    thread_ = std::thread([this] { Run(); });
  }
  ~MemoryNetwork() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }
  uint32_t size() const { return static_cast<uint32_t>(endpoints_.size()); }
  Endpoint* endpoint(uint32_t i) { return endpoints_[i].get(); }
  void Attach(uint32_t i, Node* node) {
    absl::MutexLock lock(&mu_);
    nodes_[i] = node;
  }
  // Called for every message before it is queued; may add messages to
  // deliver right after it (to the same node).
  using Tamper = std::function<std::vector<cdl::peer::v1::PeerMessage>(uint32_t from, uint32_t to,
                                                                        const cdl::peer::v1::PeerMessage& msg)>;
  void SetTamper(Tamper tamper) {
    absl::MutexLock lock(&mu_);
    tamper_ = std::move(tamper);
  }
  // A cut node neither sends nor receives.
  void Cut(uint32_t i, bool cut) {
    absl::MutexLock lock(&mu_);
    cut_[i] = cut;
  }

 private:
  struct Item {
    uint32_t from, to;
    cdl::peer::v1::PeerMessage msg;
  };
  void Post(uint32_t from, uint32_t to, const cdl::peer::v1::PeerMessage& msg) {
    absl::MutexLock lock(&mu_);
    queue_.push_back({from, to, msg});
    if (tamper_) {
      for (auto& extra : tamper_(from, to, msg)) queue_.push_back({from, to, std::move(extra)});
    }
  }
  void Run() {
    for (;;) {
      std::deque<Item> batch;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); };
        mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(50));
        if (stop_) return;
        batch.swap(queue_);
      }
      for (auto& item : batch) {
        Node* target;
        {
          absl::MutexLock lock(&mu_);
          if (cut_[item.from] || cut_[item.to]) continue;
          target = nodes_[item.to];
        }
        if (target != nullptr) target->OnPeerMessage(item.from, std::move(item.msg));
      }
    }
  }

  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<Node*> nodes_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> cut_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Tamper tamper_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class BftClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cdl::v1::Genesis genesis = chain_.genesis_proto();
    genesis.clear_validators();
    for (int i = 0; i < 4; ++i) {
      keys_.push_back(TestChain::Generate());
      auto* v = genesis.add_validators();
      v->set_id("v" + std::to_string(i));
      *v->mutable_key() = KeyInfo(keys_.back().public_key());
      v->set_address("127.0.0.1:" + std::to_string(1000 + i));
    }
    auto trusted = cdl::verify::TrustedGenesis::FromProto(genesis);
    ASSERT_TRUE(trusted.ok()) << trusted.status();
    genesis_ = std::make_unique<cdl::verify::TrustedGenesis>(*trusted);
    for (uint32_t i = 0; i < 4; ++i) {
      auto ledger = cdl::ledger::Ledger::Open(cdl::storage::NewMemoryStore(cdl::ledger::LedgerColumns()), *trusted);
      ASSERT_TRUE(ledger.ok());
      NodeOptions options;
      options.validator_id = "v" + std::to_string(i);
      options.network = network_.endpoint(i);
      options.bft.base_timeout_ms = 500;
      options.bft.idle_proposal_delay_ms = 50;
      auto key = cdl::crypto::PrivateKey::FromPem(keys_[i].ToPem());
      auto node = Node::Create(*std::move(ledger), *std::move(key), options);
      ASSERT_TRUE(node.ok()) << node.status();
      nodes_.push_back(*std::move(node));
      network_.Attach(i, nodes_.back().get());
    }
    for (auto& n : nodes_) n->Start();
  }
  void TearDown() override {
    for (auto& n : nodes_) n->Stop();
  }

  absl::StatusOr<cdl::v1::Receipt> Submit(Node& node, const std::string& bytes) {
    std::promise<absl::StatusOr<cdl::v1::Receipt>> done;
    auto future = done.get_future();
    node.Submit(bytes, true, absl::Seconds(20),
                [&done](absl::StatusOr<cdl::v1::Receipt> r) { done.set_value(std::move(r)); });
    return future.get();
  }

  // Waits until every listed node has the same certified checkpoint at >= height.
  bool Converged(const std::vector<int>& which, uint64_t min_ledger_size) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      bool same = true;
      auto ref = nodes_[which[0]]->ledger().head();
      for (int i : which) {
        auto h = nodes_[i]->ledger().head();
        same &= h.ledger_size() >= min_ledger_size && h.ledger_root() == ref.ledger_root() &&
                h.height() == ref.height() && h.certified_height() == h.height();
      }
      if (same) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  TestChain chain_;
  std::vector<cdl::crypto::PrivateKey> keys_;
  std::unique_ptr<cdl::verify::TrustedGenesis> genesis_;
  MemoryNetwork network_{4};
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace cdl::net::testing

#endif  // CDL_NODE_NET_BFT_TEST_CLUSTER_H_
