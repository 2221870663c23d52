#include "node/net/node.h"

#include <chrono>
#include <optional>

#include "crypto/str_cat.h"
#include "crypto/hash.h"
#include "node/net/evidence.h"
#include "node/verify/genesis.h"
#include "node/verify/json_view.h"
#include "spdlog/spdlog.h"

namespace cdl::net {
namespace {

class RealClock : public Clock {
 public:
  int64_t NowMs() override { return absl::ToUnixMillis(absl::Now()); }
};

std::string Hex(std::string_view s) { return cdl::crypto::HexEncode(s); }

}  // namespace

Clock* SystemClock() {
  static RealClock clock;
  return &clock;
}

absl::StatusOr<std::unique_ptr<Node>> Node::Create(std::unique_ptr<cdl::ledger::Ledger> ledger,
                                                   cdl::crypto::PrivateKey validator_key, NodeOptions options,
                                                   Clock* clock) {
  const auto& genesis = ledger->genesis();
  int index = genesis.ValidatorIndex(options.validator_id);
  if (index < 0) {
    return absl::InvalidArgumentError(cdl::StrCat("validator \"", options.validator_id,
                                                   "\" is not in the genesis validator set"));
  }
  if (genesis.validator_key(index).KeyId() != validator_key.public_key().KeyId()) {
    return absl::InvalidArgumentError(cdl::StrCat("the key file is not validator \"", options.validator_id,
                                                   "\"'s key in the genesis"));
  }
  if (genesis.validator_count() > 1 && options.network == nullptr) {
    return absl::InvalidArgumentError(cdl::StrCat("the genesis names ", genesis.validator_count(),
                                                  " validators: the node needs its peer network"));
  }
  options.bft.self = static_cast<uint32_t>(index);
  options.bft.validator_id = options.validator_id;
  options.bft.max_block_records = options.max_block_records;
  options.bft.batch_delay_ms = static_cast<uint64_t>(absl::ToInt64Milliseconds(options.flush_interval));
  // Every node executes Evidence records with the same check of consensus signatures.
  ledger->SetEvidenceVerifier(std::make_shared<ConsensusEvidenceVerifier>(ledger->genesis()));
  std::unique_ptr<Node> node(new Node(std::move(ledger), std::move(validator_key), std::move(options), clock));
  if (node->ledger_->genesis().validator_count() > 1) {
    auto key = cdl::crypto::PrivateKey::FromPem(node->key_.ToPem());
    if (!key.ok()) return key.status();
    Node* raw = node.get();
    BftOptions bft = node->options_.bft;
    bft.on_evidence = [raw](const cdl::consensus::v1::EquivocationEvidence& e) { raw->SubmitEvidence(e); };
    node->orderer_ = std::make_unique<BftOrderer>(
        node->ledger_.get(), &node->mempool_, *std::move(key), node->options_.network, std::move(bft),
        [raw](const cdl::v1::Block& block) { raw->OnBlockCommitted(block); },
        [raw](const std::vector<cdl::ledger::Mempool::RecordPtr>& stale) {
          for (const auto& r : stale) {
            cdl::v1::Receipt receipt;
            receipt.set_record_id(r->id);
            receipt.set_status(cdl::v1::RECORD_REJECTED);
            receipt.set_code(cdl::v1::REJECT_BAD_SEQUENCE);
            receipt.set_message(cdl::StrCat("body.sequence: ", r->body.sequence(), " was consumed by another record"));
            raw->Notify(receipt);
          }
        });
  }
  return node;
}

Node::Node(std::unique_ptr<cdl::ledger::Ledger> ledger, cdl::crypto::PrivateKey key, NodeOptions options,
           Clock* clock)
    : ledger_(std::move(ledger)),
      key_(std::move(key)),
      options_(std::move(options)),
      clock_(clock),
      mempool_(options_.mempool),
      verifiers_(std::make_unique<WorkerPool>(options_.verify_threads, options_.verify_queue, "cdl-verify")),
      watch_hub_(std::make_unique<WatchHub>(options_.watch)) {
  RegisterMetrics();
}

void Node::RegisterMetrics() {
  MetricRegistry& m = metrics_;
  auto head = [this] { return ledger_->head(); };
  m.AddGaugeCallback("cdl_commit_height", "Height of the last committed block",
                     [head] { return static_cast<double>(head().height()); });
  m.AddGaugeCallback("cdl_certified_height", "Height of the last block whose commit certificate has a quorum",
                     [head] { return static_cast<double>(head().certified_height()); });
  m.AddGaugeCallback("cdl_ledger_size", "Accepted records in the ledger tree",
                     [head] { return static_cast<double>(head().ledger_size()); });
  m.AddGaugeCallback("cdl_last_block_time_seconds", "Block time of the last committed block (Unix seconds)",
                     [head] { return static_cast<double>(head().last_time_ms()) / 1000.0; });
  m.AddCounterCallback("cdl_blocks_committed_total", "Blocks committed by this node since it started",
                       [this] { return static_cast<double>(stats().blocks); });
  m.AddLabeledCounterCallback("cdl_records_total", "Committed records since start, by status", "status", [this] {
    NodeStats s = stats();
    return std::vector<std::pair<std::string, double>>{{"accepted", static_cast<double>(s.accepted)},
                                                       {"rejected", static_cast<double>(s.rejected)}};
  });
  instruments_.rejected_by_code =
      m.AddCounterFamily("cdl_rejected_records_total", "Committed records rejected by a rule, by reject code", "code");
  m.AddLabeledCounterCallback("cdl_submissions_total",
                              "Records offered to this node (clients and peers), by admission result", "result",
                              [this] {
                                NodeStats s = stats();
                                return std::vector<std::pair<std::string, double>>{
                                    {"admitted", static_cast<double>(s.admitted)},
                                    {"refused", static_cast<double>(s.refused)}};
                              });
  instruments_.block_records = m.AddHistogram("cdl_block_records", "Records per committed block",
                                              MetricRegistry::ExponentialBuckets(1, 4, 8));
  instruments_.submit_to_commit = m.AddHistogram(
      "cdl_submit_to_commit_seconds", "Time from admission at this node to the commit of the record's block",
      MetricRegistry::ExponentialBuckets(0.005, 2, 14));
  m.AddGaugeCallback("cdl_mempool_records", "Admitted records waiting for a block",
                     [this] { return static_cast<double>(mempool_.size()); });
  m.AddGaugeCallback("cdl_validators", "Validators in the genesis",
                     [this] { return static_cast<double>(ledger_->genesis().validator_count()); });
  m.AddGaugeCallback("cdl_node_healthy", "1 while the node accepts writes; 0 after a storage or consensus failure",
                     [this] { return healthy() ? 1.0 : 0.0; });
  m.AddGaugeCallback("cdl_consensus_round", "Consensus round this validator is in (0 on a single-validator chain)",
                     [this] { return static_cast<double>(bft_stats().current_round); });
  m.AddGaugeCallback("cdl_consensus_committed_round", "Round of the last consensus block committed here",
                     [this] { return static_cast<double>(bft_stats().committed_round); });
  m.AddCounterCallback("cdl_consensus_blocks_total", "Consensus blocks committed (with or without records)",
                       [this] { return static_cast<double>(bft_stats().committed_blocks); });
  m.AddCounterCallback("cdl_checkpoint_votes_total", "Post-execution header signatures received from validators",
                       [this] { return static_cast<double>(bft_stats().checkpoint_votes); });
  m.AddCounterCallback("cdl_checkpoint_mismatches_total",
                       "Validator signatures over a header different from ours (never certified)",
                       [this] { return static_cast<double>(bft_stats().checkpoint_mismatches); });
  m.AddCounterCallback("cdl_consensus_sync_requests_sent_total", "Block sync requests this validator sent to peers",
                       [this] { return static_cast<double>(bft_stats().sync_requests_sent); });
  m.AddCounterCallback("cdl_consensus_sync_requests_dropped_total",
                       "Peers' block sync requests dropped over their per-peer rate limit",
                       [this] { return static_cast<double>(bft_stats().sync_requests_dropped); });
  m.AddGaugeCallback("cdl_consensus_orphan_blocks", "Consensus blocks held while their ancestors are fetched",
                     [this] { return static_cast<double>(bft_stats().orphan_blocks); });
  m.AddCounterCallback("cdl_consensus_rejected_messages_total", "Consensus messages refused by the core",
                       [this] { return static_cast<double>(bft_stats().rejected_messages); });
  m.AddCounterCallback("cdl_consensus_equivocations_total", "Equivocation evidence seen from validators",
                       [this] { return static_cast<double>(bft_stats().equivocations); });
  // RocksDB properties (summed over columns); absent on the memory store.
  cdl::storage::Store* store = ledger_->store();
  auto property = [store](std::string_view name) {
    return [store, name]() -> std::optional<double> {
      auto v = store->GetIntProperty(name);
      return v.ok() ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
    };
  };
  m.AddGaugeCallback("cdl_rocksdb_live_data_bytes", "RocksDB estimate of live data size",
                     property("rocksdb.estimate-live-data-size"));
  m.AddGaugeCallback("cdl_rocksdb_sst_files_bytes", "RocksDB total size of SST files",
                     property("rocksdb.total-sst-files-size"));
  m.AddGaugeCallback("cdl_rocksdb_memtable_bytes", "RocksDB size of all memtables",
                     property("rocksdb.cur-size-all-mem-tables"));
  m.AddGaugeCallback("cdl_rocksdb_keys", "RocksDB estimate of the number of keys", property("rocksdb.estimate-num-keys"));
  m.AddGaugeCallback("cdl_rocksdb_pending_compaction_bytes", "RocksDB estimate of bytes compaction still has to rewrite",
                     property("rocksdb.estimate-pending-compaction-bytes"));
  m.AddGaugeCallback("cdl_storage_disk_bytes", "Size of all files in the database directory",
                     property(cdl::storage::kPropertyDiskBytes));
}

Node::~Node() { Stop(); }

void Node::Start() {
  if (started_.exchange(true)) return;
  if (orderer_) {
    if (auto s = orderer_->Start(); !s.ok()) {
      spdlog::critical("consensus could not start: {}", std::string(s.message()));
      healthy_.store(false);
    }
    producer_ = std::thread([this] {
      // Answers waiters whose deadline passed; block production is the orderer's.
      while (!stopping_.load()) {
        mempool_.WaitNonEmpty(absl::Milliseconds(100));
        ExpireWaiters(/*all=*/false);
        if (!orderer_->halted().ok()) healthy_.store(false);
        absl::SleepFor(absl::Milliseconds(50));
      }
    });
    return;
  }
  producer_ = std::thread([this] { ProducerLoop(); });
}

void Node::OnBlockCommitted(const cdl::v1::Block& block) {
  uint64_t accepted = 0;
  for (const auto& receipt : block.receipts()) {
    if (receipt.status() == cdl::v1::RECORD_ACCEPTED) ++accepted;
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.blocks;
    stats_.accepted += accepted;
    stats_.rejected += block.receipts_size() - accepted;
  }
  instruments_.block_records->Observe(block.receipts_size());
  for (const auto& receipt : block.receipts()) {
    if (receipt.status() == cdl::v1::RECORD_REJECTED) {
      instruments_.rejected_by_code->WithLabel(cdl::verify::RejectCodeName(receipt.code()))->Increment();
    }
  }
  for (const auto& receipt : block.receipts()) Notify(receipt);
  cdl::v1::BlockHeader header;
  if (header.ParseFromString(block.header())) watch_hub_->Publish(header.height(), block);
}

void Node::OnPeerMessage(uint32_t from, cdl::peer::v1::PeerMessage msg) {
  if (!orderer_) return;
  if (msg.kind_case() == cdl::peer::v1::PeerMessage::kRecords) {
    for (auto& bytes : *msg.mutable_records()->mutable_signed_records()) {
      auto shared = std::make_shared<std::string>(std::move(bytes));
      bool queued = verifiers_ && verifiers_->TrySchedule([this, shared] {
        Admit(std::move(*shared), false, absl::InfiniteFuture(), [](absl::StatusOr<cdl::v1::Receipt>) {},
              /*from_peer=*/true);
      });
      if (!queued) {
        absl::MutexLock lock(&mu_);
        ++stats_.refused;  // the leader will still get it from the submitter's own node
      }
    }
    return;
  }
  orderer_->OnPeerMessage(from, std::move(msg));
}

void Node::Stop() {
  if (stopping_.exchange(true)) return;
  watch_hub_->Close();  // Watch streams end now (UNAVAILABLE), not at the server's shutdown deadline
  mempool_.Wake();
  if (producer_.joinable()) producer_.join();
  if (orderer_) orderer_->Stop();
  verifiers_.reset();  // finishes queued admissions
  ExpireWaiters(/*all=*/true);
}

NodeStats Node::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

uint64_t Node::NextSequence(const std::string& member) const {
  return mempool_.NextSequence(member, ledger_->LastSequence(member));
}

absl::Status Node::CheckValidatorAuthor(const cdl::verify::ParsedRecord& record) const {
  const auto& genesis = ledger_->genesis();
  const std::string& author = record.body.author();
  int index = genesis.ValidatorIndex(author);
  if (index < 0) {
    return absl::PermissionDeniedError(cdl::StrCat(
        "body.author: \"", author, "\" is not a genesis validator (evidence records are authored by validators)"));
  }
  if (record.signed_record.signatures_size() != 1) {
    return absl::InvalidArgumentError("signed_record.signatures: an evidence record carries only its author's signature");
  }
  const auto& key = genesis.validator_key(index);
  const auto& sig = record.signed_record.signatures(0);
  if (sig.key_id() != key.KeyId()) {
    return absl::PermissionDeniedError(cdl::StrCat("signed_record.signatures[0].key_id: ", Hex(sig.key_id()),
                                                   " is not the genesis key of validator \"", author, "\""));
  }
  if (!cdl::verify::VerifyRecordSignature(key, record.id, sig.signature()).ok()) {
    return absl::PermissionDeniedError(cdl::StrCat(
        "signed_record.signatures[0]: signature does not verify with the genesis key of validator \"", author, "\""));
  }
  return absl::OkStatus();
}

void Node::SubmitEvidence(const cdl::consensus::v1::EquivocationEvidence& evidence) {
  auto payload = EvidenceFromConsensus(evidence, ledger_->genesis());
  if (!payload.ok()) {
    spdlog::error("equivocation evidence not recorded: {}", std::string(payload.status().message()));
    return;
  }
  auto shared = std::make_shared<cdl::v1::Evidence>(*std::move(payload));
  // Off the consensus loop: signing and admission run on the worker pool.
  bool queued = verifiers_ && verifiers_->TrySchedule([this, shared] {
    // One at a time, so each evidence record takes the next free sequence.
    absl::MutexLock lock(&evidence_mu_);
    cdl::v1::RecordBody body;
    body.set_chain_id(ledger_->chain_id());
    body.set_author(options_.validator_id);
    body.set_key_id(key_.public_key().KeyId());
    body.set_sequence(NextSequence(options_.validator_id));
    body.set_created_ms(clock_->NowMs());
    *body.mutable_evidence() = *shared;
    auto signed_record = cdl::verify::SignBody(body, key_);
    if (!signed_record.ok()) {
      spdlog::error("could not sign equivocation evidence: {}", std::string(signed_record.status().message()));
      return;
    }
    Admit(signed_record->SerializeAsString(), false, absl::InfiniteFuture(),
          [validator = shared->validator()](absl::StatusOr<cdl::v1::Receipt> r) {
            if (r.ok()) {
              spdlog::warn("equivocation evidence against validator \"{}\" admitted as record {}", validator,
                           cdl::crypto::HexEncode(r->record_id()).substr(0, 16));
            } else {
              spdlog::error("equivocation evidence against validator \"{}\" refused: {}", validator,
                            std::string(r.status().message()));
            }
          });
  });
  if (!queued) spdlog::error("equivocation evidence dropped: verification queue full");
}

void Node::Submit(std::string signed_record, bool wait, absl::Duration wait_for, ReceiptCallback done) {
  if (stopping_.load()) {
    done(absl::UnavailableError("node is shutting down"));
    return;
  }
  if (!healthy_.load()) {
    done(absl::UnavailableError("node halted after a storage failure; see its log and restart it"));
    return;
  }
  if (wait_for <= absl::ZeroDuration()) wait_for = options_.default_wait;
  wait_for = std::min(wait_for, options_.max_wait);
  absl::Time deadline = absl::Now() + wait_for;
  // The task owns the callback; if the pool refuses, answer here.
  auto shared_done = std::make_shared<ReceiptCallback>(std::move(done));
  auto bytes = std::make_shared<std::string>(std::move(signed_record));
  bool queued = verifiers_ && verifiers_->TrySchedule([this, bytes, wait, deadline, shared_done] {
    Admit(std::move(*bytes), wait, deadline, std::move(*shared_done));
  });
  if (!queued) {
    {
      absl::MutexLock lock(&mu_);
      ++stats_.refused;
    }
    (*shared_done)(absl::ResourceExhaustedError("node is overloaded (verification queue full); retry later"));
  }
}

absl::StatusOr<cdl::crypto::PublicKey> Node::KeyFor(const cdl::v1::PublicKeyInfo& info, const std::string& key_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = key_cache_.find(key_id);
    if (it != key_cache_.end()) return it->second;
  }
  auto key = cdl::verify::ParsePublicKeyInfo("key", info);
  if (!key.ok()) return key.status();
  absl::MutexLock lock(&mu_);
  if (key_cache_.size() > 100000) key_cache_.clear();
  key_cache_.emplace(key_id, *key);
  return key;
}

void Node::Admit(std::string bytes, bool wait, absl::Time deadline, ReceiptCallback done, bool from_peer) {
  auto refuse = [&](absl::Status status) {
    {
      absl::MutexLock lock(&mu_);
      ++stats_.refused;
    }
    done(std::move(status));
  };
  auto parsed = cdl::verify::ParseSignedRecord(bytes);
  if (!parsed.ok()) return refuse(parsed.status());
  auto record = std::make_shared<cdl::verify::ParsedRecord>(*std::move(parsed));
  if (auto s = cdl::verify::CheckStateless(*record, ledger_->chain_id()); !s.ok()) return refuse(s);

  // Already committed: a replay of the same record.
  if (auto receipt = ledger_->GetReceipt(record->id); receipt.ok()) {
    return refuse(absl::AlreadyExistsError(cdl::StrCat(
        "record ", Hex(record->id), " is already on the ledger at height ", receipt->height(), " (",
        receipt->status() == cdl::v1::RECORD_ACCEPTED ? "ACCEPTED" : "REJECTED", ")")));
  }
  const std::string& author = record->body.author();
  const bool evidence = record->body.payload_case() == cdl::v1::RecordBody::kEvidence;
  // A member author's committed state, read once for the checks below.
  std::optional<cdl::v1::MemberState> author_state;
  if (evidence) {
    // Evidence comes from genesis validators, which are not members.
    if (auto s = CheckValidatorAuthor(*record); !s.ok()) return refuse(s);
  } else {
    auto member = ledger_->GetMember(author);
    if (absl::IsNotFound(member.status())) {
      return refuse(absl::PermissionDeniedError(cdl::StrCat(
          "body.author: \"", author, "\" is not a registered member (if its registration was just "
          "submitted, wait until it is ACCEPTED)")));
    }
    if (!member.ok()) return refuse(member.status());
    author_state = *std::move(member);
  }
  for (int i = 0; !evidence && i < record->signed_record.signatures_size(); ++i) {
    const auto& sig = record->signed_record.signatures(i);
    auto check = ledger_->CheckSigner(sig.member(), sig.key_id(), author, *author_state);
    if (!check.ok()) return refuse(check.status());
    if (check->code != cdl::v1::REJECT_NONE) {
      return refuse(absl::PermissionDeniedError(cdl::StrCat("signed_record.signatures[", i, "]: ", check->message)));
    }
    auto key = KeyFor(*check->key, sig.key_id());
    if (!key.ok()) return refuse(absl::InternalError("registered key does not parse"));
    if (!cdl::verify::VerifyRecordSignature(*key, record->id, sig.signature()).ok()) {
      return refuse(absl::PermissionDeniedError(cdl::StrCat("signed_record.signatures[", i,
                                                             "]: signature does not verify with key ",
                                                             Hex(sig.key_id()), " of \"", sig.member(), "\"")));
    }
  }

  const uint64_t last = author_state ? author_state->last_sequence() : ledger_->LastSequence(author);
  if (record->body.sequence() <= last) {
    return refuse(absl::FailedPreconditionError(cdl::StrCat(
        "body.sequence: ", record->body.sequence(), " of \"", author, "\" is already used (replay?); the next is ",
        NextSequence(author))));
  }

  record->signatures_verified = true;
  cdl::v1::Receipt admitted;
  admitted.set_record_id(record->id);
  admitted.set_status(cdl::v1::RECORD_ADMITTED);
  admitted.set_author(author);
  admitted.set_sequence(record->body.sequence());
  std::string id = record->id;
  {
    absl::MutexLock lock(&mu_);
    if (wait) waiters_[id].push_back(Waiter{deadline, std::move(done), admitted});
    // Before the mempool sees it, so a fast commit finds it. Bounded by the
    // mempool in practice; the cap guards against records leaving it unseen.
    if (admitted_at_.size() > 1'000'000) admitted_at_.clear();
    admitted_at_.emplace(id, absl::Now());
  }
  absl::Status added = mempool_.Add(std::move(record));
  if (absl::IsAlreadyExists(added)) added = absl::OkStatus();  // a retry of a pending record
  if (!added.ok()) {
    {
      absl::MutexLock lock(&mu_);
      admitted_at_.erase(id);
      if (wait) {
        auto it = waiters_.find(id);
        if (it != waiters_.end()) {
          done = std::move(it->second.back().done);
          it->second.pop_back();
          if (it->second.empty()) waiters_.erase(it);
        }
      }
    }
    return refuse(added);
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.admitted;
  }
  if (orderer_) {
    if (!from_peer) orderer_->Gossip(std::move(bytes));
    orderer_->PayloadReady();
  }
  if (!wait) done(admitted);
}

void Node::Notify(const cdl::v1::Receipt& receipt) {
  std::vector<Waiter> ready;
  std::optional<absl::Time> admitted;
  {
    absl::MutexLock lock(&mu_);
    if (auto a = admitted_at_.find(receipt.record_id()); a != admitted_at_.end()) {
      admitted = a->second;
      admitted_at_.erase(a);
    }
    auto it = waiters_.find(receipt.record_id());
    if (it != waiters_.end()) {
      ready = std::move(it->second);
      waiters_.erase(it);
    }
  }
  if (admitted && receipt.height() > 0) {
    instruments_.submit_to_commit->Observe(absl::ToDoubleSeconds(absl::Now() - *admitted));
  }
  for (auto& w : ready) w.done(receipt);
}

void Node::ExpireWaiters(bool all) {
  std::vector<Waiter> expired;
  absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      auto& list = it->second;
      for (size_t i = 0; i < list.size();) {
        if (all || list[i].deadline <= now) {
          expired.push_back(std::move(list[i]));
          list.erase(list.begin() + static_cast<long>(i));
        } else {
          ++i;
        }
      }
      if (list.empty()) {
        waiters_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  // Still pending: the client gets ADMITTED and can ask for the receipt later.
  for (auto& w : expired) w.done(w.admitted);
}

absl::StatusOr<size_t> Node::ProduceOnce() {
  absl::MutexLock produce_lock(&produce_mu_);
  if (!healthy_.load()) return absl::UnavailableError("node halted after a storage failure");
  std::vector<cdl::ledger::Mempool::RecordPtr> stale;
  auto batch = mempool_.TakeBatch(
      options_.max_block_records, 64u << 20,
      [this](const std::string& author) { return ledger_->LastSequence(author); },
      &stale);
  for (const auto& r : stale) {
    if (auto committed = ledger_->GetReceipt(r->id); committed.ok()) {
      Notify(*committed);  // admitted twice across a commit: answer the real receipt
      continue;
    }
    cdl::v1::Receipt receipt;
    receipt.set_record_id(r->id);
    receipt.set_status(cdl::v1::RECORD_REJECTED);
    receipt.set_code(cdl::v1::REJECT_BAD_SEQUENCE);
    receipt.set_message(cdl::StrCat("body.sequence: ", r->body.sequence(), " was consumed by another record"));
    Notify(receipt);
  }
  if (batch.empty()) return 0;
  std::vector<const cdl::verify::ParsedRecord*> records;
  records.reserve(batch.size());
  for (const auto& r : batch) records.push_back(r.get());
  cdl::v1::LedgerHead head = ledger_->head();
  int64_t time_ms = std::max(clock_->NowMs(), head.last_time_ms() + 1);
  absl::Status failure;
  absl::Time t0 = absl::Now();
  auto prepared = ledger_->Prepare(records, time_ms, head.height() + 1, options_.validator_id);
  absl::Time t1 = absl::Now();
  if (prepared.ok()) {
    auto sig = cdl::verify::SignCommit(key_, options_.validator_id, ledger_->chain_id(), prepared->header.height(),
                                       prepared->hash);
    if (sig.ok()) {
      cdl::v1::CommitCertificate commit;
      commit.set_height(prepared->header.height());
      commit.set_block_hash(prepared->hash);
      *commit.add_signatures() = *sig;
      cdl::v1::Block block = std::move(prepared->block);  // Commit does not need it
      failure = ledger_->Commit(*std::move(prepared), commit);
      spdlog::debug("block {}: {} records, prepare {} ms, commit {} ms", commit.height(), records.size(),
                    absl::ToDoubleMilliseconds(t1 - t0), absl::ToDoubleMilliseconds(absl::Now() - t1));
      if (failure.ok()) {
        OnBlockCommitted(block);
        return batch.size();
      }
    } else {
      failure = sig.status();
    }
  } else {
    failure = prepared.status();
  }
  // Nothing of this block is durable. Continuing could diverge from what
  // clients were told, so the node stops accepting writes.
  healthy_.store(false);
  spdlog::critical("block production failed, node halted: {}", std::string(failure.message()));
  for (const auto& r : batch) {
    std::vector<Waiter> waiting;
    {
      absl::MutexLock lock(&mu_);
      auto it = waiters_.find(r->id);
      if (it == waiters_.end()) continue;
      waiting = std::move(it->second);
      waiters_.erase(it);
    }
    for (auto& w : waiting) w.done(absl::UnavailableError(cdl::StrCat("node halted: ", failure.message())));
  }
  return failure;
}

void Node::ProducerLoop() {
  while (!stopping_.load()) {
    bool any = mempool_.WaitNonEmpty(absl::Milliseconds(100));
    ExpireWaiters(/*all=*/false);
    if (stopping_.load() || !any) continue;
    if (mempool_.size() < options_.max_block_records) absl::SleepFor(options_.flush_interval);
    auto produced = ProduceOnce();
    if (!produced.ok()) return;
    if (*produced == 0) absl::SleepFor(options_.flush_interval);  // only gapped records
  }
}

}  // namespace cdl::net
