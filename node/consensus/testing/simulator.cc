#include "node/consensus/testing/simulator.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "node/consensus/certificates.h"
#include "node/consensus/core.h"
#include "node/consensus/encoding.h"
#include "node/consensus/key_signer.h"
#include "node/consensus/safety_rules.h"
#include "node/consensus/testing/fake_crypto.h"
#include "node/consensus/testing/memory_stores.h"

namespace cdl::consensus::testing {
namespace {

constexpr char kChainId[] = "sim-chain";
constexpr int64_t kGenesisTimeMs = 1'700'000'000'000;

// Portable deterministic PRNG (splitmix64): std distributions differ between
// standard libraries, and a seed must replay the same run everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  // Uniform in [lo, hi].
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }
  bool Chance(double p) {
    return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0) < p;
  }
  std::string Bytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(Next());
    return s;
  }

 private:
  uint64_t state_;
};

std::string Short(std::string_view id) {
  return crypto::HexEncode(id.substr(0, std::min<size_t>(id.size(), 4)));
}

enum class EventType {
  kDeliver,
  kTimer,
  kCrash,
  kRestart,
  kPartition,
  kHeal,
  kPayloadAvailable,
};

struct Event {
  uint64_t time = 0;
  uint64_t seq = 0;
  EventType type = EventType::kDeliver;
  uint32_t node = 0;
  uint32_t from = 0;
  uint64_t incarnation = 0;
  TimerKind timer_kind = TimerKind::kRoundTimeout;
  uint64_t round = 0;
  std::shared_ptr<const v1::ConsensusMessage> msg;
  std::string block_id;
};

struct EventLater {
  bool operator()(const Event& a, const Event& b) const {
    return std::tie(a.time, a.seq) > std::tie(b.time, b.seq);
  }
};

class Simulation;
class Adversary;

// Everything one validator's core talks to, bound to the simulation.
class NodeEnv : public Transport,
                public Timer,
                public Clock,
                public PayloadSource,
                public PayloadValidator,
                public CommitSink,
                public EvidenceSink {
 public:
  NodeEnv(Simulation* sim, uint32_t node) : sim_(sim), node_(node) {}

  void Send(ValidatorIndex to, const v1::ConsensusMessage& msg) override;
  void Broadcast(const v1::ConsensusMessage& msg) override;
  void Schedule(TimerKind kind, uint64_t round, uint64_t delay_ms) override;
  int64_t NowMs() override;
  std::string NextPayload(const PayloadContext& context) override;
  PayloadStatus Check(std::string_view block_id,
                      const v1::Block& block) override;
  absl::Status Deliver(const std::vector<v1::Block>& blocks,
                       const v1::CommitCertificate& cert) override;
  void Report(const v1::EquivocationEvidence& evidence) override;

 private:
  Simulation* sim_;
  uint32_t node_;
};

struct Node {
  uint32_t index = 0;
  bool honest = true;
  bool up = true;
  uint64_t incarnation = 0;
  int64_t clock_skew_ms = 0;
  MemorySafetyStore safety;  // "disk": survives crashes
  MemoryBlockStore blocks;   // "disk"
  std::unique_ptr<Signer> signer;
  std::unique_ptr<NodeEnv> env;
  std::unique_ptr<ConsensusCore> core;
  // The durable commit log (what a ledger would hold).
  CommittedHead head;
  uint64_t last_commit_time = 0;
  bool committed_after_heal = false;
  uint64_t payload_counter = 0;
  std::set<std::string> payload_delayed;
  // Totals over all incarnations.
  uint64_t rejected = 0;
  uint64_t evidence = 0;
  uint64_t conflicting_commits = 0;
};

// The Byzantine validator: an honest core whose traffic is rewritten.
class Adversary {
 public:
  Adversary(Simulation* sim, uint32_t self, Signer* signer,
            const SimOptions& options, Rng* rng)
      : sim_(sim), self_(self), signer_(signer), options_(options), rng_(rng) {}

  void OnOutgoing(std::optional<uint32_t> to, const v1::ConsensusMessage& msg);
  void OnIncoming(uint32_t from, const v1::ConsensusMessage& msg);

 private:
  uint32_t n() const { return options_.num_validators; }
  uint32_t LeaderOf(uint64_t round) const {
    return static_cast<uint32_t>((round / options_.rounds_per_leader) % n());
  }
  uint64_t CurrentRound() const;
  std::vector<uint32_t> Others() const {
    std::vector<uint32_t> v;
    for (uint32_t i = 0; i < n(); ++i) {
      if (i != self_) v.push_back(i);
    }
    return v;
  }
  uint32_t RandomOther() {
    std::vector<uint32_t> o = Others();
    return o[rng_->Below(o.size())];
  }
  void Send(uint32_t to, const v1::ConsensusMessage& msg);
  void SendAll(const v1::ConsensusMessage& msg) {
    for (uint32_t i : Others()) Send(i, msg);
  }
  std::string Sign(std::string_view domain, std::string_view message) {
    absl::StatusOr<std::string> s = signer_->Sign(domain, message);
    return s.ok() ? *s : std::string();
  }
  v1::ConsensusMessage MakeProposal(const v1::Block& block,
                                    const v1::TimeoutCert* tc);
  v1::Vote MakeVote(const std::string& block_id, uint64_t round,
                    uint64_t height, const std::string& parent_id,
                    uint64_t parent_round);
  void CastVote(const v1::Vote& vote);
  void CollectVote(const v1::Vote& vote);

  void Equivocate(const v1::Proposal& p);
  void ForkSplit(const v1::Proposal& p);
  void StartSplit(const v1::Proposal& p);
  void SplitOn(uint64_t round, const v1::QuorumCert& a,
               const v1::QuorumCert& b);
  void SendToFork(int fork, const v1::ConsensusMessage& msg);
  void Junk();

  Simulation* sim_;
  uint32_t self_;
  Signer* signer_;
  const SimOptions& options_;
  Rng* rng_;
  std::vector<v1::ConsensusMessage> old_proposals_;

  // Fork-split state.
  std::map<std::string, v1::Block> blocks_;  // blocks it proposed, by id
  std::map<std::string, int> fork_of_;       // 1 or 2
  std::map<uint64_t, VoteAggregator> votes_;
  std::map<uint64_t, std::vector<v1::QuorumCert>> qcs_;
  std::set<uint64_t> split_rounds_;
  std::vector<uint32_t> fork_group_[3];
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& options);
  SimResult Run();

  // Called by NodeEnv and Adversary.
  uint64_t now() const { return now_; }
  Rng& rng() { return rng_; }
  Node& node(uint32_t i) { return *nodes_[i]; }
  const std::string& chain_id() const { return chain_id_; }
  const Verifier& verifier() const { return *verifier_; }
  void NetSend(uint32_t from, uint32_t to,
               std::shared_ptr<const v1::ConsensusMessage> msg);
  void Outgoing(uint32_t from, std::optional<uint32_t> to,
                const v1::ConsensusMessage& msg);
  void ScheduleTimer(uint32_t node, TimerKind kind, uint64_t round,
                     uint64_t delay_ms);
  std::string NextPayload(uint32_t node, const PayloadContext& context);
  PayloadStatus CheckPayload(uint32_t node, std::string_view block_id,
                             const v1::Block& block);
  absl::Status OnCommit(uint32_t node, const std::vector<v1::Block>& blocks,
                        const v1::CommitCertificate& cert);
  void OnEvidence(uint32_t node, const v1::EquivocationEvidence& evidence);

 private:
  void Push(Event e) {
    e.seq = next_seq_++;
    queue_.push(std::move(e));
  }
  void StartNode(uint32_t i);
  void CrashNode(uint32_t i);
  void Handle(const Event& e);
  bool Partitioned(uint32_t a, uint32_t b) const {
    return partitioned_ && group_[a] != group_[b];
  }
  bool Done();
  void Fail(std::string* slot, std::string message) {
    if (slot->empty()) *slot = absl::StrCat("t=", now_, "ms: ", message);
  }
  void Finalize();

  const SimOptions options_;
  Rng rng_;
  std::string chain_id_ = kChainId;
  std::unique_ptr<Verifier> verifier_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unique_ptr<Adversary> adversary_;
  int byzantine_ = -1;

  std::priority_queue<Event, std::vector<Event>, EventLater> queue_;
  uint64_t next_seq_ = 0;
  uint64_t now_ = 0;

  // Network.
  double drop_ = 0;
  double duplicate_ = 0;
  double tail_ = 0;
  uint64_t max_delay_ = 30;
  bool partitioned_ = false;
  std::vector<int> group_;
  uint64_t final_heal_ = 0;

  // Committed block id per height, from every honest validator, and who.
  std::map<uint64_t, std::pair<std::string, uint32_t>> canonical_;

  SimResult result_;
};

// ---------------------------------------------------------------------------
// NodeEnv.

void NodeEnv::Send(ValidatorIndex to, const v1::ConsensusMessage& msg) {
  sim_->Outgoing(node_, to, msg);
}
void NodeEnv::Broadcast(const v1::ConsensusMessage& msg) {
  sim_->Outgoing(node_, std::nullopt, msg);
}
void NodeEnv::Schedule(TimerKind kind, uint64_t round, uint64_t delay_ms) {
  sim_->ScheduleTimer(node_, kind, round, delay_ms);
}
int64_t NodeEnv::NowMs() {
  return kGenesisTimeMs + static_cast<int64_t>(sim_->now()) +
         sim_->node(node_).clock_skew_ms;
}
std::string NodeEnv::NextPayload(const PayloadContext& context) {
  return sim_->NextPayload(node_, context);
}
PayloadStatus NodeEnv::Check(std::string_view block_id,
                             const v1::Block& block) {
  return sim_->CheckPayload(node_, block_id, block);
}
absl::Status NodeEnv::Deliver(const std::vector<v1::Block>& blocks,
                              const v1::CommitCertificate& cert) {
  return sim_->OnCommit(node_, blocks, cert);
}
void NodeEnv::Report(const v1::EquivocationEvidence& evidence) {
  sim_->OnEvidence(node_, evidence);
}

// ---------------------------------------------------------------------------
// Adversary.

uint64_t Adversary::CurrentRound() const {
  Node& z = sim_->node(self_);
  return z.core ? z.core->current_round() : 1;
}

void Adversary::Send(uint32_t to, const v1::ConsensusMessage& msg) {
  sim_->NetSend(self_, to, std::make_shared<v1::ConsensusMessage>(msg));
}

v1::ConsensusMessage Adversary::MakeProposal(const v1::Block& block,
                                             const v1::TimeoutCert* tc) {
  v1::ConsensusMessage msg;
  v1::Proposal* p = msg.mutable_proposal();
  *p->mutable_block() = block;
  if (tc != nullptr) *p->mutable_tc() = *tc;
  const std::string id = BlockId(sim_->chain_id(), block);
  p->set_signature(Sign(kProposalDomain,
                        ProposalMessage(sim_->chain_id(), block.round(), id)));
  return msg;
}

v1::Vote Adversary::MakeVote(const std::string& block_id, uint64_t round,
                             uint64_t height, const std::string& parent_id,
                             uint64_t parent_round) {
  v1::Vote v;
  v.set_block_id(block_id);
  v.set_round(round);
  v.set_height(height);
  v.set_parent_id(parent_id);
  v.set_parent_round(parent_round);
  v.set_voter(self_);
  v.set_signature(Sign(kVoteDomain, VoteMessage(sim_->chain_id(), v)));
  if (height > 1 && parent_round + 1 == round) {
    v.set_commit_signature(Sign(
        kCommitDomain, CommitMessage(sim_->chain_id(), height - 1, parent_id)));
  }
  return v;
}

void Adversary::OnOutgoing(std::optional<uint32_t> to,
                           const v1::ConsensusMessage& msg) {
  const ByzantineOptions& opt = options_.byzantine;
  if (msg.has_proposal()) {
    old_proposals_.push_back(msg);
    if (old_proposals_.size() > 8) old_proposals_.erase(old_proposals_.begin());
    if (opt.fork_split) {
      ForkSplit(msg.proposal());
    } else if (opt.equivocate && rng_->Chance(0.6)) {
      Equivocate(msg.proposal());
    } else if (!rng_->Chance(0.1)) {  // sometimes silent
      SendAll(msg);
    }
  } else if (msg.has_vote()) {
    const v1::Vote& v = msg.vote();
    const uint32_t target = to.value_or(LeaderOf(v.round() + 1));
    if (opt.fork_split && LeaderOf(v.round() + 1) == self_) {
      CollectVote(v);
    }
    if (!rng_->Chance(0.1)) Send(target, msg);
    if (opt.double_vote && rng_->Chance(0.5)) {
      v1::ConsensusMessage dv;
      *dv.mutable_vote() = MakeVote(rng_->Bytes(32), v.round(), v.height(),
                                    v.parent_id(), v.parent_round());
      Send(target, dv);
    }
    if (opt.bad_signatures && rng_->Chance(0.3)) {
      v1::ConsensusMessage bad = msg;
      std::string* sig = bad.mutable_vote()->mutable_signature();
      if (!sig->empty()) (*sig)[0] ^= 0x5a;
      Send(target, bad);
    }
  } else if (to.has_value()) {
    v1::ConsensusMessage out = msg;
    if (opt.garbage && out.has_sync_response() && rng_->Chance(0.2) &&
        out.sync_response().blocks_size() > 0) {
      out.mutable_sync_response()->mutable_blocks(0)->set_payload("forged");
    }
    Send(*to, out);
  } else {
    SendAll(msg);
    if (opt.bad_signatures && msg.has_timeout() && rng_->Chance(0.3)) {
      v1::ConsensusMessage bad = msg;
      bad.mutable_timeout()->set_signature("bad");
      Send(RandomOther(), bad);
    }
  }
  if ((opt.far_future || opt.garbage) && rng_->Chance(0.08)) Junk();
}

void Adversary::OnIncoming(uint32_t from, const v1::ConsensusMessage& msg) {
  if (options_.byzantine.fork_split && msg.has_vote() &&
      LeaderOf(msg.vote().round() + 1) == self_) {
    CollectVote(msg.vote());
  }
}

void Adversary::Equivocate(const v1::Proposal& p) {
  v1::Block other = p.block();
  other.set_payload(rng_->Chance(0.2) ? "X-invalid-payload"
                                      : other.payload() + "~evil");
  v1::ConsensusMessage a;
  *a.mutable_proposal() = p;
  v1::ConsensusMessage b = MakeProposal(other, p.has_tc() ? &p.tc() : nullptr);
  std::vector<uint32_t> others = Others();
  const uint32_t both =
      rng_->Chance(0.3) ? others[rng_->Below(others.size())] : UINT32_MAX;
  for (uint32_t i : others) {
    if (i == both) {
      Send(i, a);
      Send(i, b);
    } else {
      Send(i, rng_->Chance(0.5) ? a : b);
    }
  }
}

void Adversary::CollectVote(const v1::Vote& vote) {
  if (!blocks_.contains(vote.block_id())) return;
  auto agg = votes_.try_emplace(vote.round(), n()).first;
  std::optional<v1::QuorumCert> qc = agg->second.Add(sim_->chain_id(), vote);
  if (!qc.has_value()) return;
  std::vector<v1::QuorumCert>& list = qcs_[vote.round()];
  list.push_back(*qc);
  const uint64_t next = vote.round() + 1;
  if (list.size() >= 2 && LeaderOf(next) == self_ &&
      !split_rounds_.contains(next)) {
    SplitOn(next, list[0], list[1]);
  }
}

void Adversary::CastVote(const v1::Vote& vote) {
  const uint32_t leader = LeaderOf(vote.round() + 1);
  if (leader == self_) {
    CollectVote(vote);
  } else {
    v1::ConsensusMessage m;
    *m.mutable_vote() = vote;
    Send(leader, m);
  }
}

void Adversary::SendToFork(int fork, const v1::ConsensusMessage& msg) {
  for (uint32_t i : fork_group_[fork]) Send(i, msg);
}

void Adversary::ForkSplit(const v1::Proposal& p) {
  const uint64_t round = p.block().round();
  if (split_rounds_.contains(round)) return;  // already sent its own
  auto it = qcs_.find(round - 1);
  if (it != qcs_.end() && it->second.size() >= 2) {
    SplitOn(round, it->second[0], it->second[1]);
    return;
  }
  if (split_rounds_.contains(round - 1)) {
    return;  // waiting for the second fork's QC; stall the round
  }
  StartSplit(p);
}

void Adversary::StartSplit(const v1::Proposal& p) {
  const uint64_t round = p.block().round();
  split_rounds_.insert(round);
  // Groups that overlap in one pivot validator.
  std::vector<uint32_t> others = Others();
  const size_t pivot = rng_->Below(others.size());
  fork_group_[1].clear();
  fork_group_[2].clear();
  for (size_t i = 0; i < others.size(); ++i) {
    if (i == pivot) {
      fork_group_[1].push_back(others[i]);
      fork_group_[2].push_back(others[i]);
    } else {
      fork_group_[(i % 2) + 1].push_back(others[i]);
    }
  }
  v1::Block a = p.block();
  v1::Block b = p.block();
  b.set_payload(b.payload() + "~fork");
  const v1::TimeoutCert* tc = p.has_tc() ? &p.tc() : nullptr;
  int fork = 1;
  for (const v1::Block* blk : {&a, &b}) {
    const std::string id = BlockId(sim_->chain_id(), *blk);
    blocks_[id] = *blk;
    fork_of_[id] = fork;
    SendToFork(fork, MakeProposal(*blk, tc));
    CastVote(MakeVote(id, blk->round(), blk->height(), blk->parent_id(),
                      blk->qc().round()));
    ++fork;
  }
}

void Adversary::SplitOn(uint64_t round, const v1::QuorumCert& qa,
                        const v1::QuorumCert& qb) {
  auto fa = fork_of_.find(qa.block_id());
  auto fb = fork_of_.find(qb.block_id());
  if (fa == fork_of_.end() || fb == fork_of_.end() ||
      fa->second == fb->second) {
    return;
  }
  split_rounds_.insert(round);
  for (const v1::QuorumCert* qc : {&qa, &qb}) {
    const v1::Block& parent = blocks_.at(qc->block_id());
    const int fork = fork_of_.at(qc->block_id());
    v1::Block blk;
    blk.set_round(round);
    blk.set_height(qc->height() + 1);
    blk.set_parent_id(qc->block_id());
    *blk.mutable_qc() = *qc;
    blk.set_payload(absl::StrCat("p-fork", fork, "-r", round));
    blk.set_author(self_);
    blk.set_timestamp_ms(std::max<int64_t>(sim_->node(self_).env->NowMs(),
                                           parent.timestamp_ms() + 1));
    const std::string id = BlockId(sim_->chain_id(), blk);
    blocks_[id] = blk;
    fork_of_[id] = fork;
    SendToFork(fork, MakeProposal(blk, nullptr));
    CastVote(MakeVote(id, round, blk.height(), blk.parent_id(), qc->round()));
  }
}

void Adversary::Junk() {
  const uint64_t cur = CurrentRound();
  const uint32_t to = RandomOther();
  v1::ConsensusMessage m;
  switch (rng_->Below(11)) {
    case 0: {  // validly signed vote a million rounds ahead
      *m.mutable_vote() = MakeVote(rng_->Bytes(32), cur + 1'000'000, 9,
                                   rng_->Bytes(32), cur + 999'999);
      break;
    }
    case 1: {  // far-future timeout with a forged QC
      v1::TimeoutMsg* t = m.mutable_timeout();
      t->set_round(cur + 1'000'000);
      v1::QuorumCert* qc = t->mutable_high_qc();
      qc->set_block_id(rng_->Bytes(32));
      qc->set_round(cur + 999'999);
      qc->set_height(7);
      qc->set_parent_id(rng_->Bytes(32));
      qc->set_parent_round(cur + 999'998);
      for (uint32_t i = 0; i < n(); ++i) {
        v1::VoteSignature* s = qc->add_votes();
        s->set_voter(i);
        s->set_signature(rng_->Bytes(8));
        s->set_commit_signature(rng_->Bytes(8));
      }
      t->set_sender(self_);
      t->set_signature(
          Sign(kTimeoutDomain,
               TimeoutMessage(sim_->chain_id(), t->round(), qc->round())));
      break;
    }
    case 2:  // empty envelope
      break;
    case 3: {  // proposal whose QC does not match its parent
      v1::Block* b = m.mutable_proposal()->mutable_block();
      b->set_round(cur);
      b->set_height(3);
      b->set_parent_id(rng_->Bytes(32));
      b->mutable_qc()->set_block_id(rng_->Bytes(32));
      b->set_author(self_);
      break;
    }
    case 4: {  // proposal for a round it does not lead
      v1::Block b;
      uint64_t r = cur;
      while (LeaderOf(r) == self_) ++r;
      b.set_round(r);
      b.set_height(1);
      b.set_parent_id(GenesisBlockId(sim_->chain_id()));
      *b.mutable_qc() = GenesisQc(sim_->chain_id());
      b.set_author(self_);
      b.set_payload("p-wrong-leader");
      m = MakeProposal(b, nullptr);
      break;
    }
    case 5: {  // unsolicited sync response
      v1::Block* b = m.mutable_sync_response()->add_blocks();
      b->set_round(cur + 3);
      b->set_height(50);
      b->set_parent_id(rng_->Bytes(32));
      b->mutable_qc()->set_block_id(b->parent_id());
      b->mutable_qc()->set_round(cur + 2);
      b->mutable_qc()->set_height(49);
      b->set_author(LeaderOf(cur + 3));
      break;
    }
    case 6:  // sync request for a random block, absurd size
      m.mutable_sync_request()->set_block_id(rng_->Bytes(32));
      m.mutable_sync_request()->set_max_blocks(1'000'000'000);
      break;
    case 7: {  // sync info with a forged QC
      v1::QuorumCert* qc = m.mutable_sync_info()->mutable_highest_qc();
      qc->set_block_id(rng_->Bytes(32));
      qc->set_round(cur + 5);
      qc->set_height(100);
      qc->set_parent_id(rng_->Bytes(32));
      qc->set_parent_round(cur + 3);
      for (uint32_t i = 0; i < n(); ++i) {
        v1::VoteSignature* s = qc->add_votes();
        s->set_voter(i % 2);
        s->set_signature(rng_->Bytes(8));
      }
      break;
    }
    case 8: {  // vote in another validator's name
      v1::Vote v = MakeVote(rng_->Bytes(32), cur, 2, rng_->Bytes(32), 0);
      v.set_voter(to);
      *m.mutable_vote() = v;
      break;
    }
    case 9: {  // timeout from a non-validator index
      v1::TimeoutMsg* t = m.mutable_timeout();
      t->set_round(1);
      *t->mutable_high_qc() = GenesisQc(sim_->chain_id());
      t->set_sender(n() + 5);
      break;
    }
    default:  // replay an old proposal
      if (!old_proposals_.empty()) {
        m = old_proposals_[rng_->Below(old_proposals_.size())];
      }
      break;
  }
  Send(to, m);
}

// ---------------------------------------------------------------------------
// Simulation.

Simulation::Simulation(const SimOptions& options)
    : options_(options), rng_(options.seed * 0x9e3779b97f4a7c15ULL + 17) {
  result_.seed = options.seed;
  const uint32_t n = options.num_validators;
  std::vector<crypto::PublicKey> public_keys;
  std::vector<std::unique_ptr<Signer>> signers;
  for (uint32_t i = 0; i < n; ++i) {
    if (options.signatures == SignatureScheme::kEcdsaP256) {
      absl::StatusOr<crypto::PrivateKey> key =
          crypto::PrivateKey::Generate(crypto::Algorithm::kEcdsaP256Sha256);
      if (!key.ok()) {
        Fail(&result_.safety_violation,
             absl::StrCat("key generation: ", key.status().ToString()));
        return;
      }
      public_keys.push_back(key->public_key());
      signers.push_back(std::make_unique<KeySigner>(*std::move(key)));
    } else {
      signers.push_back(std::make_unique<FakeSigner>(options.seed, i));
    }
  }
  if (options.signatures == SignatureScheme::kEcdsaP256) {
    verifier_ = std::make_unique<KeyVerifier>(std::move(public_keys));
  } else {
    verifier_ = std::make_unique<FakeVerifier>(options.seed, n);
  }
  if (options.byzantine.enabled && n >= 4) {
    byzantine_ = static_cast<int>(rng_.Below(n));
  }
  for (uint32_t i = 0; i < n; ++i) {
    auto node = std::make_unique<Node>();
    node->index = i;
    node->honest = static_cast<int>(i) != byzantine_;
    node->clock_skew_ms = static_cast<int64_t>(rng_.Below(1001)) - 500;
    node->signer = std::move(signers[i]);
    node->env = std::make_unique<NodeEnv>(this, i);
    nodes_.push_back(std::move(node));
  }
  if (byzantine_ >= 0) {
    adversary_ = std::make_unique<Adversary>(
        this, byzantine_, nodes_[byzantine_]->signer.get(), options_, &rng_);
  }
  group_.assign(n, 0);
  if (options.network_faults) {
    const double rate = options.max_fault_rate;
    drop_ = rate * static_cast<double>(rng_.Below(1001)) / 1000.0;
    duplicate_ = rate * static_cast<double>(rng_.Below(1001)) / 1000.0;
    tail_ = rate * static_cast<double>(rng_.Below(1001)) / 1000.0;
  }
  max_delay_ = rng_.Range(5, 60);
}

void Simulation::Outgoing(uint32_t from, std::optional<uint32_t> to,
                          const v1::ConsensusMessage& msg) {
  if (static_cast<int>(from) == byzantine_) {
    adversary_->OnOutgoing(to, msg);
    return;
  }
  auto shared = std::make_shared<const v1::ConsensusMessage>(msg);
  if (to.has_value()) {
    NetSend(from, *to, std::move(shared));
    return;
  }
  for (uint32_t i = 0; i < options_.num_validators; ++i) {
    if (i != from) NetSend(from, i, shared);
  }
}

void Simulation::NetSend(uint32_t from, uint32_t to,
                         std::shared_ptr<const v1::ConsensusMessage> msg) {
  ++result_.messages;
  if (to >= options_.num_validators || from == to) return;
  if (rng_.Chance(drop_)) return;
  const int copies = rng_.Chance(duplicate_) ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    uint64_t delay = rng_.Range(1, max_delay_);
    if (rng_.Chance(tail_)) delay += rng_.Range(50, 1500);
    Event e;
    e.type = EventType::kDeliver;
    e.time = now_ + delay;
    e.node = to;
    e.from = from;
    e.msg = msg;
    Push(std::move(e));
  }
}

void Simulation::ScheduleTimer(uint32_t node, TimerKind kind, uint64_t round,
                               uint64_t delay_ms) {
  Event e;
  e.type = EventType::kTimer;
  e.time = now_ + delay_ms;
  e.node = node;
  e.incarnation = nodes_[node]->incarnation;
  e.timer_kind = kind;
  e.round = round;
  Push(std::move(e));
}

std::string Simulation::NextPayload(uint32_t node,
                                    const PayloadContext& context) {
  Node& nd = *nodes_[node];
  if (rng_.Chance(0.15)) return "";  // mempool empty now
  return absl::StrCat("p", node, ".", context.round, ".", nd.payload_counter++);
}

PayloadStatus Simulation::CheckPayload(uint32_t node, std::string_view block_id,
                                       const v1::Block& block) {
  if (!block.payload().empty() && block.payload()[0] != 'p') {
    return PayloadStatus::kInvalid;
  }
  Node& nd = *nodes_[node];
  std::string id(block_id);
  if (!nd.payload_delayed.contains(id) && rng_.Chance(0.03)) {
    // Records not here yet: fetch them, then tell the core.
    nd.payload_delayed.insert(id);
    Event e;
    e.type = EventType::kPayloadAvailable;
    e.time = now_ + rng_.Range(5, 100);
    e.node = node;
    e.incarnation = nd.incarnation;
    e.block_id = id;
    Push(std::move(e));
    return PayloadStatus::kUnavailable;
  }
  return PayloadStatus::kValid;
}

absl::Status Simulation::OnCommit(uint32_t node,
                                  const std::vector<v1::Block>& blocks,
                                  const v1::CommitCertificate& cert) {
  Node& nd = *nodes_[node];
  if (blocks.empty()) {
    Fail(&result_.safety_violation,
         absl::StrCat("validator ", node, " delivered an empty commit"));
    return absl::OkStatus();
  }
  std::string prev = nd.head.block_id;
  uint64_t height = nd.head.height;
  std::string id;
  for (const v1::Block& b : blocks) {
    id = BlockId(chain_id_, b);
    if (b.height() != height + 1 || b.parent_id() != prev) {
      Fail(&result_.safety_violation,
           absl::StrCat("validator ", node, " committed block ", Short(id),
                        " at height ", b.height(), " not extending its head ",
                        Short(prev), " at height ", height));
    }
    if (nd.honest) {
      auto [it, inserted] =
          canonical_.try_emplace(b.height(), std::make_pair(id, node));
      if (!inserted && it->second.first != id) {
        Fail(&result_.safety_violation,
             absl::StrCat("SAFETY: at height ", b.height(), " validator ",
                          it->second.second, " committed ",
                          Short(it->second.first), " but validator ", node,
                          " committed ", Short(id)));
      }
    }
    prev = id;
    height = b.height();
  }
  if (cert.block_id() != id || cert.height() != height) {
    Fail(&result_.safety_violation,
         absl::StrCat("validator ", node,
                      ": commit certificate is not for the last block"));
  } else if (absl::Status s = VerifyCommitCertificate(
                 chain_id_, options_.num_validators, *verifier_, cert);
             !s.ok()) {
    Fail(&result_.safety_violation,
         absl::StrCat("validator ", node,
                      ": invalid commit certificate: ", s.message()));
  }
  const v1::Block& last = blocks.back();
  nd.head.height = last.height();
  nd.head.round = last.round();
  nd.head.block_id = id;
  nd.head.timestamp_ms = last.timestamp_ms();
  if (nd.honest && now_ > final_heal_) {
    const uint64_t since = std::max(nd.last_commit_time, final_heal_);
    if (now_ - since > options_.liveness_bound_ms) {
      Fail(&result_.liveness_failure,
           absl::StrCat("validator ", node, " did not commit for ",
                        now_ - since, "ms after the final heal"));
    }
    nd.committed_after_heal = true;
  }
  nd.last_commit_time = now_;
  return absl::OkStatus();
}

void Simulation::OnEvidence(uint32_t node,
                            const v1::EquivocationEvidence& evidence) {
  Node& nd = *nodes_[node];
  if (!nd.honest) return;
  ++nd.evidence;
  if (absl::Status s = VerifyEvidence(chain_id_, options_.num_validators,
                                      *verifier_, evidence);
      !s.ok()) {
    Fail(&result_.safety_violation,
         absl::StrCat("validator ", node,
                      " reported unverifiable evidence: ", s.message()));
  }
  if (static_cast<int>(evidence.validator()) != byzantine_ &&
      !VotingRuleWeakened()) {
    Fail(&result_.safety_violation,
         absl::StrCat("validator ", node, " accused honest validator ",
                      evidence.validator(), " in round ", evidence.round()));
  }
}

void Simulation::StartNode(uint32_t i) {
  Node& nd = *nodes_[i];
  ConsensusConfig config;
  config.chain_id = chain_id_;
  config.num_validators = options_.num_validators;
  config.self = i;
  config.genesis_time_ms = kGenesisTimeMs - 1000;
  config.base_timeout_ms = options_.base_timeout_ms;
  config.max_timeout_ms = options_.max_timeout_ms;
  config.rounds_per_leader = options_.rounds_per_leader;
  config.max_round_lookahead = 50;
  config.max_block_time_drift_ms = 2000;
  config.idle_proposal_delay_ms = 50;
  config.sync_max_blocks = 32;
  Environment env;
  env.transport = nd.env.get();
  env.timer = nd.env.get();
  env.clock = nd.env.get();
  env.safety_store = &nd.safety;
  env.block_store = &nd.blocks;
  env.signer = nd.signer.get();
  env.verifier = verifier_.get();
  env.payload_source = nd.env.get();
  env.payload_validator = nd.env.get();
  env.commit_sink = nd.env.get();
  env.evidence_sink = nd.env.get();
  if (nd.head.block_id.empty()) nd.head = CommittedHead::Genesis(config);
  absl::StatusOr<std::unique_ptr<ConsensusCore>> core =
      ConsensusCore::Create(config, env, nd.head);
  if (!core.ok()) {
    Fail(&result_.safety_violation,
         absl::StrCat("validator ", i,
                      " failed to start: ", core.status().ToString()));
    return;
  }
  nd.core = *std::move(core);
  nd.up = true;
  nd.core->OnStart();
}

void Simulation::CrashNode(uint32_t i) {
  Node& nd = *nodes_[i];
  if (nd.core) {
    nd.conflicting_commits += nd.core->counters().conflicting_commits;
  }
  nd.core.reset();
  nd.up = false;
  ++nd.incarnation;
}

void Simulation::Handle(const Event& e) {
  Node* nd = e.type == EventType::kPartition || e.type == EventType::kHeal
                 ? nullptr
                 : nodes_[e.node].get();
  switch (e.type) {
    case EventType::kDeliver: {
      if (!nd->up || Partitioned(e.from, e.node)) return;
      if (options_.trace) {
        absl::StrAppend(&result_.trace, now_, " ", e.from, "->", e.node, " ",
                        e.msg->ShortDebugString().substr(0, 160), "\n");
      }
      if (static_cast<int>(e.node) == byzantine_) {
        adversary_->OnIncoming(e.from, *e.msg);
      }
      absl::Status s = nd->core->OnMessage(e.from, *e.msg);
      if (!s.ok() && nd->honest) ++nd->rejected;
      return;
    }
    case EventType::kTimer:
      if (nd->up && nd->incarnation == e.incarnation) {
        nd->core->OnTimer(e.timer_kind, e.round);
      }
      return;
    case EventType::kPayloadAvailable:
      if (nd->up && nd->incarnation == e.incarnation) {
        nd->core->OnPayloadAvailable(e.block_id);
      }
      return;
    case EventType::kCrash:
      if (options_.trace)
        absl::StrAppend(&result_.trace, now_, " crash ", e.node, "\n");
      CrashNode(e.node);
      return;
    case EventType::kRestart:
      if (options_.trace)
        absl::StrAppend(&result_.trace, now_, " restart ", e.node, "\n");
      ++result_.restarts;
      StartNode(e.node);
      return;
    case EventType::kPartition:
      partitioned_ = true;
      return;
    case EventType::kHeal:
      partitioned_ = false;
      return;
  }
}

bool Simulation::Done() {
  if (now_ <= final_heal_) return false;
  for (const auto& nd : nodes_) {
    if (!nd->honest) continue;
    if (!nd->up || !nd->committed_after_heal ||
        nd->core->current_round() < options_.min_rounds) {
      return false;
    }
  }
  return true;
}

void Simulation::Finalize() {
  result_.sim_time_ms = now_;
  result_.final_heal_ms = final_heal_;
  result_.min_round = UINT64_MAX;
  result_.min_height = UINT64_MAX;
  for (const auto& nd : nodes_) {
    if (!nd->honest) continue;
    if (nd->core) {
      result_.min_round =
          std::min(result_.min_round, nd->core->current_round());
      nd->conflicting_commits += nd->core->counters().conflicting_commits;
    }
    result_.min_height = std::min(result_.min_height, nd->head.height);
    result_.max_height = std::max(result_.max_height, nd->head.height);
    result_.evidence += nd->evidence;
    result_.rejected += nd->rejected;
    result_.conflicting_commits += nd->conflicting_commits;
    if (now_ - std::max(nd->last_commit_time, final_heal_) >
        options_.liveness_bound_ms) {
      Fail(&result_.liveness_failure,
           absl::StrCat("validator ", nd->index, " last committed at ",
                        nd->last_commit_time, "ms (final heal at ", final_heal_,
                        "ms)"));
    }
  }
  if (result_.conflicting_commits > 0) {
    Fail(&result_.safety_violation,
         absl::StrCat("SAFETY: honest validators saw ",
                      result_.conflicting_commits,
                      " certified chains conflicting with their commits"));
  }
}

SimResult Simulation::Run() {
  if (!result_.safety_violation.empty()) return result_;
  const uint32_t n = options_.num_validators;
  // The fault schedule.
  if (options_.partition && n > 1) {
    const uint64_t start = rng_.Range(1000, 10000);
    const uint64_t end =
        start +
        rng_.Range(1000, std::max<uint64_t>(1000, options_.max_partition_ms));
    if (rng_.Chance(0.5)) {
      group_[rng_.Below(n)] = 1;  // isolate one validator
    } else {
      for (uint32_t i = 0; i < n; ++i) group_[i] = rng_.Chance(0.5) ? 1 : 0;
    }
    Event p;
    p.type = EventType::kPartition;
    p.time = start;
    Push(p);
    Event h;
    h.type = EventType::kHeal;
    h.time = end;
    Push(h);
    final_heal_ = std::max(final_heal_, end);
  }
  if (options_.crash_restart && n > 1) {
    std::vector<uint32_t> honest;
    for (uint32_t i = 0; i < n; ++i) {
      if (nodes_[i]->honest) honest.push_back(i);
    }
    const uint32_t victim = honest[rng_.Below(honest.size())];
    const uint64_t at = rng_.Range(500, 15000);
    const uint64_t back = at + rng_.Range(200, 8000);
    Event c;
    c.type = EventType::kCrash;
    c.time = at;
    c.node = victim;
    Push(c);
    Event r;
    r.type = EventType::kRestart;
    r.time = back;
    r.node = victim;
    Push(r);
    final_heal_ = std::max(final_heal_, back);
  }
  for (uint32_t i = 0; i < n; ++i) StartNode(i);

  while (!queue_.empty()) {
    Event e = queue_.top();
    queue_.pop();
    now_ = e.time;
    if (now_ > options_.max_sim_time_ms) break;
    ++result_.events;
    Handle(e);
    if (!result_.safety_violation.empty()) break;
    if (Done()) break;
  }
  Finalize();
  if (result_.ok() && !Done()) {
    Fail(&result_.liveness_failure,
         absl::StrCat("no progress to round ", options_.min_rounds,
                      " (lowest honest round ", result_.min_round,
                      ", lowest height ", result_.min_height, ")"));
  }
  return result_;
}

}  // namespace

std::string SimResult::Summary() const {
  std::string outcome = ok() ? "ok" : "FAILED";
  std::string s = absl::StrCat(
      "seed ", seed, ": ", outcome, " sim_time=", sim_time_ms,
      "ms final_heal=", final_heal_ms, "ms rounds>=", min_round,
      " heights=", min_height, "..", max_height, " events=", events,
      " messages=", messages, " evidence=", evidence, " rejected=", rejected,
      " restarts=", restarts);
  if (!safety_violation.empty())
    absl::StrAppend(&s, "\n  safety: ", safety_violation);
  if (!liveness_failure.empty())
    absl::StrAppend(&s, "\n  liveness: ", liveness_failure);
  return s;
}

SimOptions StandardOptions(uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  if (seed % 5 == 0) {
    o.rounds_per_leader = 3;
    o.byzantine.fork_split = true;
  }
  return o;
}

SimOptions ForkSplitOptions(uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  o.rounds_per_leader = 3;
  o.byzantine.fork_split = true;
  return o;
}

SimResult RunSimulation(const SimOptions& options) {
  Simulation sim(options);
  return sim.Run();
}

}  // namespace cdl::consensus::testing
