// Four validators in one process, wired by an in-memory peer network that
// can drop a node: the real consensus core, ledger and admission, no TLS.
#include <future>
#include <thread>

#include "crypto/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/consensus/encoding.h"
#include "node/ledger/test_util.h"
#include "node/net/node.h"
#include "node/storage/store.h"

namespace cdl::net {
namespace {

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

class BftNodeTest : public ::testing::Test {
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

TEST_F(BftNodeTest, FourValidatorsAgreeAndCertifyCheckpoints) {
  // Each record goes to a different node; the leader gets it by gossip.
  auto r1 = Submit(*nodes_[1], chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->status(), cdl::v1::RECORD_ACCEPTED) << r1->message();
  // A receipt comes from the node that was asked; node 2 must have applied
  // the park's registration before it admits the park's own record.
  ASSERT_TRUE(Converged({0, 1, 2, 3}, 1));
  auto r2 = Submit(*nodes_[2], chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->status(), cdl::v1::RECORD_ACCEPTED) << r2->message();
  // A receipt comes from the node that was asked; the others apply the same
  // block moments later.
  ASSERT_TRUE(Converged({0, 1, 2, 3}, 2));
  for (int i = 0; i < 20; ++i) {
    auto r = Submit(*nodes_[i % 4], chain_.Disclosure("ent-1", "2026", std::to_string(100 + i)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), cdl::v1::RECORD_ACCEPTED) << r->message();
  }
  ASSERT_TRUE(Converged({0, 1, 2, 3}, 22));
  // The checkpoint is cosigned by a quorum of distinct validators and proves
  // the record offline against the genesis alone.
  auto proof = nodes_[3]->ledger().GetInclusionProof(r2->record_id(), 0);
  ASSERT_TRUE(proof.ok()) << proof.status();
  auto header = cdl::verify::VerifyCheckpoint(*genesis_, proof->second);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_GE(proof->second.commit().signatures_size(), 3);
  EXPECT_TRUE(cdl::verify::VerifyRecordInclusion(*header, proof->first, r2->record_id()).ok());
}

TEST_F(BftNodeTest, CommitsWithOneValidatorCutOffAndItCatchesUp) {
  network_.Cut(3, true);
  auto r1 = Submit(*nodes_[0], chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->status(), cdl::v1::RECORD_ACCEPTED);
  for (int i = 0; i < 10; ++i) {
    auto r = Submit(*nodes_[i % 3], chain_.Register("reg-cn", "p" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), cdl::v1::RECORD_ACCEPTED);
  }
  ASSERT_TRUE(Converged({0, 1, 2}, 11));
  EXPECT_LT(nodes_[3]->ledger().head().ledger_size(), 11u);
  network_.Cut(3, false);
  // More traffic lets the healed node learn the chain and sync.
  auto r = Submit(*nodes_[1], chain_.Register("reg-cn", "late", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(Converged({0, 1, 2, 3}, 12));
}

// Validator 3 equivocates once as leader: besides its real proposal every
// other validator also gets a second one for the same round (another block,
// signed with its key). Each honest validator reports it as an Evidence
// record; the ledger keeps exactly one, on every node.
TEST_F(BftNodeTest, EquivocatingLeaderEndsUpAsOneEvidenceRecordEverywhere) {
  namespace cv1 = cdl::consensus::v1;
  auto conflicting = std::make_shared<std::optional<cdl::peer::v1::PeerMessage>>();
  auto equivocated_round = std::make_shared<std::atomic<uint64_t>>(0);
  network_.SetTamper([this, conflicting, equivocated_round](uint32_t from, uint32_t,
                                                             const cdl::peer::v1::PeerMessage& msg)
                         -> std::vector<cdl::peer::v1::PeerMessage> {
    if (from != 3 || !msg.has_consensus() || !msg.consensus().has_proposal()) return {};
    const cv1::Proposal& real = msg.consensus().proposal();
    if (!conflicting->has_value()) {
      if (equivocated_round->load() != 0) return {};
      cv1::Proposal fake = real;
      fake.mutable_block()->set_timestamp_ms(real.block().timestamp_ms() + 1);
      std::string id = cdl::consensus::BlockId(genesis_->chain_id(), fake.block());
      auto sig = cdl::crypto::SignDomain(keys_[3], cdl::consensus::kProposalDomain,
                                         cdl::consensus::ProposalMessage(genesis_->chain_id(), fake.block().round(), id));
      if (!sig.ok()) return {};
      fake.set_signature(*sig);
      cdl::peer::v1::PeerMessage out;
      *out.mutable_consensus()->mutable_proposal() = fake;
      *conflicting = out;
      equivocated_round->store(real.block().round());
    }
    if ((*conflicting)->consensus().proposal().block().round() != real.block().round()) return {};
    return {**conflicting};
  });
  // Traffic until validator 3 has led a round.
  auto r = Submit(*nodes_[0], chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(r.ok()) << r.status();
  for (int i = 0; i < 40 && equivocated_round->load() == 0; ++i) {
    auto more = Submit(*nodes_[i % 4], chain_.Register("reg-cn", "p" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"));
    ASSERT_TRUE(more.ok()) << more.status();
  }
  ASSERT_NE(equivocated_round->load(), 0u);

  auto evidence_on = [&](int node) {
    auto page = nodes_[node]->ledger().Query({.member = "v3", .record_type = "evidence"});
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->entries : std::vector<cdl::ledger::QueryEntry>{};
  };
  bool all = false;
  for (int attempt = 0; attempt < 200 && !all; ++attempt) {
    all = true;
    for (int i = 0; i < 4; ++i) all &= !evidence_on(i).empty();
    if (!all) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(all) << "evidence did not reach every ledger";
  // Let the other reports commit too: they are rejected as duplicates.
  auto last = Submit(*nodes_[1], chain_.Register("reg-cn", "late", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_TRUE(Converged({0, 1, 2, 3}, 1));
  std::string record_id;
  for (int i = 0; i < 4; ++i) {
    auto entries = evidence_on(i);
    ASSERT_EQ(entries.size(), 1u) << "node " << i;
    EXPECT_EQ(entries[0].state.subject_member(), "v3");
    EXPECT_NE(entries[0].state.author(), "v3");
    if (i == 0) record_id = entries[0].record_id;
    EXPECT_EQ(entries[0].record_id, record_id);
  }
  auto bytes = nodes_[2]->ledger().GetRecord(record_id);
  ASSERT_TRUE(bytes.ok());
  auto parsed = cdl::verify::ParseSignedRecord(*bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->body.evidence().validator(), "v3");
  cv1::EvidenceMessage a;
  ASSERT_TRUE(a.ParseFromString(parsed->body.evidence().message_a()));
  EXPECT_EQ(a.proposal().round(), equivocated_round->load());
  // The two other reports were committed as REJECT_DUPLICATE receipts.
  auto duplicates = [&] {
    int n = 0;
    for (uint64_t h = 1; h <= nodes_[0]->ledger().head().height(); ++h) {
      auto block = nodes_[0]->ledger().GetBlock(h);
      if (!block.ok()) continue;
      for (const auto& receipt : block->first.receipts()) n += receipt.code() == cdl::v1::REJECT_DUPLICATE;
    }
    return n;
  };
  for (int attempt = 0; attempt < 100 && duplicates() < 2; ++attempt) absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(duplicates(), 2);
  EXPECT_EQ(evidence_on(0).size(), 1u);
  // A replay of the stored record is refused at admission, as for any record.
  auto replay = Submit(*nodes_[1], *bytes);
  EXPECT_TRUE(absl::IsAlreadyExists(replay.status())) << replay.status();
  // Only genesis validators author evidence, with their genesis key.
  cdl::v1::RecordBody by_member = chain_.Body("reg-cn");
  *by_member.mutable_evidence() = parsed->body.evidence();
  auto refused = Submit(*nodes_[0], chain_.Sign(by_member));
  EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
  cdl::v1::RecordBody wrong_key = parsed->body;
  wrong_key.set_author("v0");
  wrong_key.set_key_id(keys_[1].public_key().KeyId());
  auto signed_wrong = cdl::verify::SignBody(wrong_key, keys_[1]);
  ASSERT_TRUE(signed_wrong.ok());
  refused = Submit(*nodes_[0], signed_wrong->SerializeAsString());
  EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("genesis key"));
  // Every honest validator saw it.
  for (int i = 0; i < 3; ++i) EXPECT_GE(nodes_[i]->bft_stats().equivocations, 1u) << "node " << i;
  network_.SetTamper(nullptr);
}

}  // namespace
}  // namespace cdl::net
