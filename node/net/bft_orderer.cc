#include "node/net/bft_orderer.h"

#include <pthread.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "crypto/hash.h"
#include "crypto/str_cat.h"
#include "node/consensus/encoding.h"
#include "node/ledger/state_view.h"
#include "node/storage/keys.h"
#include "node/verify/genesis.h"
#include "spdlog/spdlog.h"

namespace cdl::net {

namespace cv1 = cdl::consensus::v1;
using cdl::ledger::Mempool;

namespace {
constexpr std::string_view kSafetyKey = "safety";
std::string Hex(std::string_view s) { return cdl::crypto::HexEncode(s).substr(0, 16); }
}  // namespace

// The core's environment. All methods run on the loop thread (the core only
// calls them from inside its inputs), so they need no locking of their own
// beyond what the orderer's queues take.
class BftOrderer::Env : public cdl::consensus::Transport,
                        public cdl::consensus::Timer,
                        public cdl::consensus::Clock,
                        public cdl::consensus::SafetyStore,
                        public cdl::consensus::BlockStore,
                        public cdl::consensus::PayloadSource,
                        public cdl::consensus::PayloadValidator,
                        public cdl::consensus::CommitSink,
                        public cdl::consensus::EvidenceSink {
 public:
  explicit Env(BftOrderer* o) : o_(o), store_(o->ledger_->store()) {}

  // Transport
  void Send(cdl::consensus::ValidatorIndex to, const cv1::ConsensusMessage& msg) override {
    cdl::peer::v1::PeerMessage out;
    *out.mutable_consensus() = msg;
    o_->network_->Send(to, out);
  }
  void Broadcast(const cv1::ConsensusMessage& msg) override {
    cdl::peer::v1::PeerMessage out;
    *out.mutable_consensus() = msg;
    o_->network_->Broadcast(out);
  }

  // Timer
  void Schedule(cdl::consensus::TimerKind kind, uint64_t round, uint64_t delay_ms) override {
    absl::MutexLock lock(&o_->mu_);
    o_->timers_.emplace(absl::Now() + absl::Milliseconds(delay_ms), [o = o_, kind, round] {
      if (o->core_) o->core_->OnTimer(kind, round);
    });
  }

  // Clock
  int64_t NowMs() override { return absl::ToUnixMillis(absl::Now()); }

  // SafetyStore: synced before the core lets a vote or timeout leave.
  absl::Status Save(const cv1::SafetyState& state) override {
    cdl::storage::WriteBatch batch;
    batch.Put(cdl::ledger::kConsensusColumn, kSafetyKey, state.SerializeAsString());
    return store_->Write(batch, /*sync=*/true);
  }
  absl::StatusOr<std::optional<cv1::SafetyState>> Load() override {
    auto raw = store_->Get(cdl::ledger::kConsensusColumn, kSafetyKey);
    if (absl::IsNotFound(raw.status())) return std::optional<cv1::SafetyState>();
    if (!raw.ok()) return raw.status();
    cv1::SafetyState state;
    if (!state.ParseFromString(*raw)) return absl::DataLossError("consensus safety state is corrupt");
    return std::optional<cv1::SafetyState>(std::move(state));
  }

  // BlockStore: "b"+id -> block, "h"+u64be(height)+id -> "" for LoadAbove.
  absl::Status Put(std::string_view block_id, const cv1::Block& block) override {
    cdl::storage::WriteBatch batch;
    batch.Put(cdl::ledger::kConsensusBlocksColumn, cdl::StrCat("b", block_id), block.SerializeAsString());
    batch.Put(cdl::ledger::kConsensusBlocksColumn,
              cdl::StrCat("h", cdl::storage::EncodeU64BE(block.height()), block_id), "");
    return store_->Write(batch, /*sync=*/false);
  }
  absl::StatusOr<std::optional<cv1::Block>> Get(std::string_view block_id) override {
    auto raw = store_->Get(cdl::ledger::kConsensusBlocksColumn, cdl::StrCat("b", block_id));
    if (absl::IsNotFound(raw.status())) return std::optional<cv1::Block>();
    if (!raw.ok()) return raw.status();
    cv1::Block block;
    if (!block.ParseFromString(*raw)) return absl::DataLossError("stored consensus block is corrupt");
    return std::optional<cv1::Block>(std::move(block));
  }
  absl::StatusOr<std::vector<cv1::Block>> LoadAbove(uint64_t min_height) override {
    auto rows = store_->Scan(cdl::ledger::kConsensusBlocksColumn,
                             cdl::StrCat("h", cdl::storage::EncodeU64BE(min_height + 1)), "i");
    if (!rows.ok()) return rows.status();
    std::vector<cv1::Block> out;
    for (const auto& [key, unused] : *rows) {
      auto block = Get(std::string_view(key).substr(9));
      if (!block.ok()) return block.status();
      if (block->has_value()) out.push_back(**block);
    }
    return out;
  }

  // PayloadSource: records not already in an uncommitted ancestor, each
  // author continuing after its committed and pending sequences.
  std::string NextPayload(const cdl::consensus::PayloadContext& ctx) override {
    absl::flat_hash_set<std::string> exclude;
    absl::flat_hash_map<std::string, uint64_t> pending_seq;
    for (std::string_view payload : ctx.pending_payloads) {
      cdl::peer::v1::RecordGossip batch;
      if (!batch.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) continue;
      for (const auto& bytes : batch.signed_records()) {
        auto rec = cdl::verify::ParseSignedRecord(bytes);
        if (!rec.ok()) continue;
        exclude.insert(rec->id);
        uint64_t& s = pending_seq[rec->body.author()];
        s = std::max(s, rec->body.sequence());
      }
    }
    {
      // Committed blocks the applier has not executed yet.
      absl::MutexLock lock(&o_->exec_mu_);
      for (const Inflight& f : o_->inflight_) {
        exclude.insert(f.ids.begin(), f.ids.end());
        for (const auto& [author, seq] : f.max_sequence) {
          uint64_t& s = pending_seq[author];
          s = std::max(s, seq);
        }
      }
    }
    auto last = [&](const std::string& author) {
      uint64_t committed = o_->ledger_->LastSequence(author);
      auto it = pending_seq.find(author);
      return it == pending_seq.end() ? committed : std::max(committed, it->second);
    };
    auto records = o_->mempool_->PeekBatch(o_->options_.max_block_records, o_->options_.max_block_bytes, last,
                                           exclude);
    if (records.empty()) return "";
    cdl::peer::v1::RecordGossip batch;
    for (const auto& r : records) batch.add_signed_records(r->signed_record.SerializeAsString());
    return batch.SerializeAsString();
  }

  bool BatchFull() override { return o_->mempool_->size() >= o_->options_.max_block_records; }

  // PayloadValidator: the records travel inside the proposal, so they are
  // always available; each must parse and pass the stateless checks.
  // Signatures are checked at execution (rules.cc) for records we did not
  // admit ourselves, so a bad one is REJECTED there, never applied.
  cdl::consensus::PayloadStatus Check(std::string_view block_id, const cv1::Block& block) override {
    if (block.payload().empty()) return cdl::consensus::PayloadStatus::kValid;
    cdl::peer::v1::RecordGossip batch;
    if (block.payload().size() > o_->options_.max_block_bytes * 2 || !batch.ParseFromString(block.payload()) ||
        static_cast<size_t>(batch.signed_records_size()) > o_->options_.max_block_records * 2) {
      return cdl::consensus::PayloadStatus::kInvalid;
    }
    for (const auto& bytes : batch.signed_records()) {
      auto rec = cdl::verify::ParseSignedRecord(bytes);
      if (!rec.ok() || !cdl::verify::CheckStateless(*rec, o_->ledger_->chain_id()).ok()) {
        return cdl::consensus::PayloadStatus::kInvalid;
      }
    }
    return cdl::consensus::PayloadStatus::kValid;
  }

  // CommitSink
  absl::Status Deliver(const std::vector<cv1::Block>& blocks, const cv1::CommitCertificate&) override {
    o_->Deliver(blocks);
    absl::MutexLock lock(&o_->mu_);
    return o_->halted_;
  }

  // EvidenceSink
  void Report(const cv1::EquivocationEvidence& evidence) override {
    spdlog::warn("equivocation evidence against validator {}", evidence.validator());
    {
      absl::MutexLock lock(&o_->mu_);
      ++o_->stats_.equivocations;
    }
    if (o_->options_.on_evidence) o_->options_.on_evidence(evidence);
  }

 private:
  BftOrderer* o_;
  cdl::storage::Store* store_;
};

BftOrderer::BftOrderer(cdl::ledger::Ledger* ledger, cdl::ledger::Mempool* mempool, cdl::crypto::PrivateKey key,
                       PeerNetwork* network, BftOptions options, BlockCallback on_block, StaleCallback on_stale)
    : ledger_(ledger),
      mempool_(mempool),
      key_(std::move(key)),
      network_(network),
      options_(std::move(options)),
      on_block_(std::move(on_block)),
      on_stale_(std::move(on_stale)) {}

BftOrderer::~BftOrderer() { Stop(); }

absl::Status BftOrderer::Start() {
  env_ = std::make_unique<Env>(this);
  auto pem = key_.ToPem();
  auto signing_key = cdl::crypto::PrivateKey::FromPem(pem);
  if (!signing_key.ok()) return signing_key.status();
  signer_ = std::make_unique<cdl::consensus::KeySigner>(*std::move(signing_key));
  const auto& genesis = ledger_->genesis();
  std::vector<cdl::crypto::PublicKey> keys;
  for (size_t i = 0; i < genesis.validator_count(); ++i) keys.push_back(genesis.validator_key(static_cast<int>(i)));
  verifier_ = std::make_unique<cdl::consensus::KeyVerifier>(std::move(keys));

  cdl::consensus::ConsensusConfig config;
  config.chain_id = genesis.chain_id();
  config.num_validators = static_cast<uint32_t>(genesis.validator_count());
  config.self = options_.self;
  config.genesis_time_ms = genesis.proto().genesis_time_ms();
  config.base_timeout_ms = options_.base_timeout_ms;
  config.idle_proposal_delay_ms = options_.idle_proposal_delay_ms;
  config.batch_delay_ms = options_.batch_delay_ms;
  config.max_block_time_drift_ms = options_.max_block_time_drift_ms;
  cdl::consensus::Environment env;
  env.transport = env_.get();
  env.timer = env_.get();
  env.clock = env_.get();
  env.safety_store = env_.get();
  env.block_store = env_.get();
  env.signer = signer_.get();
  env.verifier = verifier_.get();
  env.payload_source = env_.get();
  env.payload_validator = env_.get();
  env.commit_sink = env_.get();
  env.evidence_sink = env_.get();
  cdl::v1::LedgerHead head = ledger_->head();
  cdl::consensus::CommittedHead committed = cdl::consensus::CommittedHead::Genesis(config);
  if (!head.consensus_block_id().empty()) {
    committed.height = head.consensus_height();
    committed.round = head.consensus_round();
    committed.block_id = head.consensus_block_id();
    committed.timestamp_ms = head.consensus_time_ms();
  }
  auto core = cdl::consensus::ConsensusCore::Create(config, env, committed);
  if (!core.ok()) return core.status();
  core_ = *std::move(core);
  applier_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cdl-apply");
    ApplierLoop();
  });
  loop_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cdl-consensus");
    Loop();
  });
  Post([this] { core_->OnStart(); });
  return absl::OkStatus();
}

void BftOrderer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (loop_.joinable()) loop_.join();
  {
    absl::MutexLock lock(&exec_mu_);
    exec_stopping_ = true;
  }
  if (applier_.joinable()) applier_.join();
}

void BftOrderer::Post(std::function<void()> event) {
  absl::MutexLock lock(&mu_);
  events_.push_back(std::move(event));
}

void BftOrderer::OnPeerMessage(uint32_t from, cdl::peer::v1::PeerMessage msg) {
  switch (msg.kind_case()) {
    case cdl::peer::v1::PeerMessage::kConsensus:
      Post([this, from, m = std::move(*msg.mutable_consensus())] {
        auto s = core_->OnMessage(from, m);
        if (!s.ok()) {
          absl::MutexLock lock(&mu_);
          ++stats_.rejected_messages;
        }
        RecordCoreRejections();
      });
      break;
    case cdl::peer::v1::PeerMessage::kCheckpointVote: {
      // The transport authenticated `from`; a vote must be its own.
      const auto& genesis = ledger_->genesis();
      if (from >= genesis.validator_count() ||
          genesis.proto().validators(static_cast<int>(from)).id() != msg.checkpoint_vote().validator()) {
        absl::MutexLock lock(&mu_);
        ++stats_.rejected_messages;
        ++stats_.rejected_by_reason["checkpoint_vote_not_from_sender"];
        break;
      }
      absl::MutexLock lock(&exec_mu_);
      if (exec_queue_.size() < kMaxQueuedBlocks * 64) {
        exec_queue_.emplace_back(std::move(*msg.mutable_checkpoint_vote()));
      }  // else dropped: the applier is far behind; the block gets certified by later votes or sync
      break;
    }
    case cdl::peer::v1::PeerMessage::kRecords:
    case cdl::peer::v1::PeerMessage::kHello:
      break;  // records are admitted by the node; hellos are the transport's
    default: {  // no kind, or one this version does not serve (ledger block sync goes through consensus)
      absl::MutexLock lock(&mu_);
      ++stats_.rejected_messages;
      ++stats_.rejected_by_reason[msg.kind_case() == cdl::peer::v1::PeerMessage::KIND_NOT_SET ? "no_payload"
                                                                                                : "unsupported_kind"];
      break;
    }
  }
}

void BftOrderer::RecordCoreRejections() {
  const auto& counters = core_->counters();
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < counters.rejected.size(); ++i) {
    if (counters.rejected[i] == 0) continue;
    stats_.rejected_by_reason[std::string(cdl::consensus::RejectName(static_cast<cdl::consensus::Reject>(i)))] =
        counters.rejected[i];
  }
}

void BftOrderer::Gossip(std::string signed_record) {
  absl::MutexLock lock(&mu_);
  gossip_.push_back(std::move(signed_record));
}

void BftOrderer::PayloadReady() {
  // Admissions come in bursts: one queued event covers them all.
  if (payload_ready_posted_.exchange(true)) return;
  Post([this] {
    payload_ready_posted_.store(false);
    core_->OnPayloadReady();
  });
}

BftStats BftOrderer::stats() const {
  absl::MutexLock lock(&mu_);
  BftStats out = stats_;
  out.certified_height = ledger_->head().certified_height();
  return out;
}

absl::Status BftOrderer::halted() const {
  absl::MutexLock lock(&mu_);
  return halted_;
}

void BftOrderer::Loop() {
  for (;;) {
    std::vector<std::function<void()>> run;
    std::vector<std::string> gossip;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !events_.empty() || !gossip_.empty() ||
               (!timers_.empty() && timers_.begin()->first <= absl::Now());
      };
      absl::Time wake = timers_.empty() ? absl::Now() + absl::Milliseconds(100)
                                        : std::min(timers_.begin()->first, absl::Now() + absl::Milliseconds(100));
      mu_.AwaitWithDeadline(absl::Condition(&ready), wake);
      if (stopping_) return;
      while (!events_.empty()) {
        run.push_back(std::move(events_.front()));
        events_.pop_front();
      }
      absl::Time now = absl::Now();
      while (!timers_.empty() && timers_.begin()->first <= now) {
        run.push_back(std::move(timers_.begin()->second));
        timers_.erase(timers_.begin());
      }
      gossip.swap(gossip_);
    }
    if (!gossip.empty()) {
      cdl::peer::v1::PeerMessage msg;
      for (auto& g : gossip) msg.mutable_records()->add_signed_records(std::move(g));
      network_->Broadcast(msg);
    }
    for (auto& event : run) event();
    if (!run.empty()) {
      absl::MutexLock lock(&mu_);
      stats_.current_round = core_->current_round();
      stats_.committed_round = core_->committed_head().round;
      stats_.sync_requests_sent = core_->counters().sync_requests_sent;
      stats_.sync_requests_dropped = core_->counters().sync_requests_dropped;
      stats_.orphan_blocks = core_->orphan_blocks();
    }
  }
}

void BftOrderer::Deliver(const std::vector<cv1::Block>& blocks) {
  const auto& genesis = ledger_->genesis();
  for (const cv1::Block& cblock : blocks) {
    Delivered d;
    d.id = cdl::consensus::BlockId(genesis.chain_id(), cblock);
    Inflight inflight;
    cdl::peer::v1::RecordGossip batch;
    if (!cblock.payload().empty() && batch.ParseFromString(cblock.payload())) {
      for (const auto& bytes : batch.signed_records()) {
        auto parsed = cdl::verify::ParseSignedRecord(bytes);
        if (!parsed.ok()) continue;  // cannot happen: voters checked the payload
        auto record = std::make_shared<const cdl::verify::ParsedRecord>(*std::move(parsed));
        inflight.ids.insert(record->id);
        uint64_t& seq = inflight.max_sequence[record->body.author()];
        seq = std::max(seq, record->body.sequence());
        d.records.push_back(std::move(record));
      }
    }
    d.block = cblock;
    {
      absl::MutexLock lock(&mu_);
      ++stats_.committed_blocks;
    }
    absl::MutexLock lock(&exec_mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(exec_mu_) {
      return queued_blocks_ < kMaxQueuedBlocks || exec_stopping_;
    };
    exec_mu_.Await(absl::Condition(&room));
    if (exec_stopping_) return;
    inflight_.push_back(std::move(inflight));
    exec_queue_.emplace_back(std::move(d));
    ++queued_blocks_;
  }
}

void BftOrderer::ApplierLoop() {
  for (;;) {
    std::variant<Delivered, cdl::peer::v1::CheckpointVote> work;
    {
      absl::MutexLock lock(&exec_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(exec_mu_) {
        return exec_stopping_ || !exec_queue_.empty();
      };
      exec_mu_.Await(absl::Condition(&ready));
      if (exec_stopping_) return;
      work = std::move(exec_queue_.front());
      exec_queue_.pop_front();
    }
    if (auto* vote = std::get_if<cdl::peer::v1::CheckpointVote>(&work)) {
      HandleCheckpointVote(*vote);
      continue;
    }
    Apply(std::get<Delivered>(work));
    absl::MutexLock lock(&exec_mu_);
    --queued_blocks_;
    inflight_.pop_front();
  }
}

void BftOrderer::Apply(const Delivered& delivered) {
  {
    absl::MutexLock lock(&mu_);
    if (!halted_.ok()) return;
  }
  const auto& genesis = ledger_->genesis();
  const cv1::Block& cblock = delivered.block;
  const auto& records = delivered.records;
  absl::Status failure;
  if (records.empty()) {
    failure = ledger_->SetConsensusHead(delivered.id, cblock.height(), cblock.round(), cblock.timestamp_ms());
  } else {
    // Our own verified copy (admitted, perhaps after the block was delivered)
    // saves a signature check at execution.
    std::vector<std::shared_ptr<const cdl::verify::ParsedRecord>> verified;
    std::vector<const cdl::verify::ParsedRecord*> ptrs;
    for (const auto& r : records) {
      auto mine = r->signatures_verified ? nullptr : mempool_->Find(*r);
      ptrs.push_back(mine ? mine.get() : r.get());
      if (mine) verified.push_back(std::move(mine));
    }
    std::string proposer = cblock.author() < genesis.validator_count()
                               ? genesis.proto().validators(static_cast<int>(cblock.author())).id()
                               : "";
    auto prepared = ledger_->Prepare(ptrs, cblock.timestamp_ms(), cblock.round(), proposer);
    if (prepared.ok()) {
      prepared->new_head.set_consensus_block_id(delivered.id);
      prepared->new_head.set_consensus_height(cblock.height());
      prepared->new_head.set_consensus_round(cblock.round());
      prepared->new_head.set_consensus_time_ms(cblock.timestamp_ms());
      uint64_t height = prepared->header.height();
      std::string hash = prepared->hash;
      auto sig = cdl::verify::SignCommit(key_, options_.validator_id, genesis.chain_id(), height, hash);
      if (sig.ok()) {
        cdl::v1::CommitCertificate commit;
        commit.set_height(height);
        commit.set_block_hash(hash);
        *commit.add_signatures() = *sig;
        cdl::v1::Block block = std::move(prepared->block);  // Commit does not need it
        failure = ledger_->Commit(*std::move(prepared), commit);
        if (failure.ok()) {
          cdl::peer::v1::PeerMessage vote;
          auto* v = vote.mutable_checkpoint_vote();
          v->set_height(height);
          v->set_block_hash(hash);
          v->set_validator(options_.validator_id);
          v->set_signature(sig->signature());
          network_->Broadcast(vote);
          {
            absl::MutexLock lock(&mu_);
            ++stats_.ledger_blocks;
          }
          std::vector<std::string> ids;
          for (const auto& r : records) ids.push_back(r->id);
          auto stale = mempool_->RemoveCommitted(
              ids, [this](const std::string& author) { return ledger_->LastSequence(author); });
          on_block_(block);
          if (!stale.empty()) on_stale_(stale);
          ApplyBufferedVotes(height);
        }
      } else {
        failure = sig.status();
      }
    } else {
      failure = prepared.status();
    }
  }
  if (!failure.ok()) {
    spdlog::critical("applying committed block failed, validator halted: {}", std::string(failure.message()));
    absl::MutexLock lock(&mu_);
    halted_ = failure;
  }
}

void BftOrderer::HandleCheckpointVote(const cdl::peer::v1::CheckpointVote& vote) {
  {
    absl::MutexLock lock(&mu_);
    ++stats_.checkpoint_votes;
  }
  uint64_t head = ledger_->head().height();
  if (vote.height() > head) {
    if (vote.height() <= head + 10000) pending_votes_[vote.height()].push_back(vote);
    return;
  }
  const auto& genesis = ledger_->genesis();
  int index = genesis.ValidatorIndex(vote.validator());
  auto refuse = [this] {
    absl::MutexLock lock(&mu_);
    ++stats_.rejected_messages;
    ++stats_.rejected_by_reason["checkpoint_vote_bad_signature"];
  };
  if (index < 0) return refuse();
  auto commit = ledger_->GetCommitCertificate(vote.height());
  if (!commit.ok()) return;
  if (commit->block_hash() != vote.block_hash()) {
    // Authenticate first: a header mismatch is only evidence against a
    // validator that really signed it.
    if (!cdl::crypto::VerifyDomain(genesis.validator_key(index), cdl::verify::kCommitDomain,
                                   cdl::verify::CommitMessage(ledger_->chain_id(), vote.height(), vote.block_hash()),
                                   vote.signature())
             .ok()) {
      return refuse();
    }
    // Another validator executed the same ordered records to a different
    // header: a bug or a Byzantine peer. Never certify it.
    spdlog::error("validator {} signed a different header at height {} ({} vs ours)", vote.validator(),
                  vote.height(), Hex(vote.block_hash()));
    absl::MutexLock lock(&mu_);
    ++stats_.checkpoint_mismatches;
    return;
  }
  // The ledger verifies the signature, once, unless the certificate already
  // has a quorum or this validator (then there is nothing to add).
  cdl::v1::CommitSignature sig;
  sig.set_validator(vote.validator());
  sig.set_signature(vote.signature());
  auto added = ledger_->AddCommitSignatures(vote.height(), {sig});
  if (!added.ok()) {
    spdlog::critical("storing a commit signature failed: {}", std::string(added.status().message()));
    absl::MutexLock lock(&mu_);
    halted_ = added.status();
    return;
  }
  if (added->refused > 0) refuse();
}

void BftOrderer::ApplyBufferedVotes(uint64_t height) {
  for (auto it = pending_votes_.begin(); it != pending_votes_.end() && it->first <= height;) {
    auto votes = std::move(it->second);
    it = pending_votes_.erase(it);
    for (const auto& v : votes) HandleCheckpointVote(v);
  }
}

}  // namespace cdl::net
