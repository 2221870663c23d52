// A cdl node: admission (parse, stateless checks and signature verification on
// a worker pool), the mempool, block production and commit, and receipts for
// waiting clients. This build orders blocks with a single validator (the
// genesis must name exactly one, whose key this node holds); BFT ordering
// across several validators plugs in where ProduceOnce() decides the block.
//
// Threads: gRPC threads call Submit and the reads; verification runs on the
// worker pool; one producer thread owns Prepare/Commit on the ledger.
#ifndef CDL_NODE_NET_NODE_H_
#define CDL_NODE_NET_NODE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/keys.h"
#include "ledger.pb.h"
#include "node/ledger/ledger.h"
#include "node/ledger/mempool.h"
#include "node/net/bft_orderer.h"
#include "node/net/metrics.h"
#include "node/net/watch_hub.h"
#include "node/net/worker_pool.h"

namespace cdl::net {

// Injected so tests can control block times.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() = 0;
};
Clock* SystemClock();

struct NodeOptions {
  std::string validator_id;
  size_t max_block_records = 4000;
  absl::Duration flush_interval = absl::Milliseconds(10);  // batching window
  int verify_threads = 2;
  size_t verify_queue = 50000;
  cdl::ledger::MempoolOptions mempool;
  absl::Duration default_wait = absl::Seconds(30);
  absl::Duration max_wait = absl::Seconds(120);
  // Several validators: blocks are ordered by BFT consensus over `network`
  // (required then; not owned). One validator: the node cuts blocks itself.
  PeerNetwork* network = nullptr;
  BftOptions bft;
  WatchHubOptions watch;  // limits of the Watch streams
};

struct NodeStats {
  uint64_t admitted = 0;
  uint64_t refused = 0;
  uint64_t blocks = 0;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
};

class Node {
 public:
  using ReceiptCallback = std::function<void(absl::StatusOr<cdl::v1::Receipt>)>;

  static absl::StatusOr<std::unique_ptr<Node>> Create(std::unique_ptr<cdl::ledger::Ledger> ledger,
                                                      cdl::crypto::PrivateKey validator_key, NodeOptions options,
                                                      Clock* clock = SystemClock());
  ~Node();

  void Start();
  // Stops producing, answers every waiting client, ends Watch streams
  // (watch_hub().Close()), joins threads. Idempotent.
  void Stop();

  // Admits a serialized SignedRecord. `done` runs exactly once, on another
  // thread: with an error status (the record was not admitted: code and
  // message say why), or with the ADMITTED receipt, or — when `wait` — with the
  // final ACCEPTED/REJECTED receipt once its block is committed (ADMITTED again
  // if `wait_for` passes first). A record already committed answers its receipt.
  void Submit(std::string signed_record, bool wait, absl::Duration wait_for, ReceiptCallback done);

  const cdl::ledger::Ledger& ledger() const { return *ledger_; }
  size_t mempool_size() const { return mempool_.size(); }
  uint64_t NextSequence(const std::string& member) const;
  const std::string& validator_id() const { return options_.validator_id; }
  NodeStats stats() const;
  // False once storage failed: the node stops accepting writes rather than diverge.
  bool healthy() const { return healthy_.load(); }

  // A message from validator `from` (authenticated by the transport). Any thread.
  void OnPeerMessage(uint32_t from, cdl::peer::v1::PeerMessage msg);
  bool bft() const { return orderer_ != nullptr; }
  BftStats bft_stats() const { return orderer_ ? orderer_->stats() : BftStats{}; }

  // The node's metrics: blocks, records by outcome and reject code, block
  // sizes, submit->commit latency, ledger head, mempool, consensus and
  // RocksDB figures. Its callbacks read this node: render it only while the
  // node exists.
  MetricRegistry& metrics() { return metrics_; }

  // Every block this node commits is published here once it is durable
  // (after its receipts are answered), in height order, for Watch streams.
  WatchHub& watch_hub() { return *watch_hub_; }

  // Runs one production step synchronously (tests): takes a batch, executes,
  // commits. Returns the number of records in the block (0 = none ready).
  absl::StatusOr<size_t> ProduceOnce();

 private:
  Node(std::unique_ptr<cdl::ledger::Ledger> ledger, cdl::crypto::PrivateKey key, NodeOptions options, Clock* clock);
  void Admit(std::string bytes, bool wait, absl::Time deadline, ReceiptCallback done, bool from_peer = false);
  // Admission of an Evidence record's author: a genesis validator whose
  // genesis key made the only signature. PermissionDenied/InvalidArgument.
  absl::Status CheckValidatorAuthor(const cdl::verify::ParsedRecord& record) const;
  // Equivocation the consensus core saw: builds an Evidence record authored
  // and signed by this validator and admits it (so it is gossiped and
  // proposed like any record). Any thread; does not block.
  void SubmitEvidence(const cdl::consensus::v1::EquivocationEvidence& evidence);
  void OnBlockCommitted(const cdl::v1::Block& block);
  absl::StatusOr<cdl::crypto::PublicKey> KeyFor(const cdl::v1::PublicKeyInfo& info, const std::string& key_id);
  void ProducerLoop();
  void ExpireWaiters(bool all);
  void Notify(const cdl::v1::Receipt& receipt);
  void RegisterMetrics();

  std::unique_ptr<cdl::ledger::Ledger> ledger_;
  cdl::crypto::PrivateKey key_;
  const NodeOptions options_;
  Clock* clock_;
  cdl::ledger::Mempool mempool_;
  std::unique_ptr<WorkerPool> verifiers_;
  std::unique_ptr<WatchHub> watch_hub_;
  std::unique_ptr<BftOrderer> orderer_;
  std::thread producer_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> healthy_{true};
  absl::Mutex produce_mu_;  // serialises ProduceOnce
  absl::Mutex evidence_mu_;  // serialises SubmitEvidence's sequence choice and admission

  MetricRegistry metrics_;
  struct Instruments {
    Histogram* block_records = nullptr;
    CounterFamily* rejected_by_code = nullptr;
    Histogram* submit_to_commit = nullptr;
  } instruments_;

  struct Waiter {
    absl::Time deadline;
    ReceiptCallback done;
    cdl::v1::Receipt admitted;
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::vector<Waiter>> waiters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, cdl::crypto::PublicKey> key_cache_ ABSL_GUARDED_BY(mu_);
  NodeStats stats_ ABSL_GUARDED_BY(mu_);
  // When each pending record was admitted here (for submit_to_commit).
  absl::flat_hash_map<std::string, absl::Time> admitted_at_ ABSL_GUARDED_BY(mu_);
};


}  // namespace cdl::net

#endif  // CDL_NODE_NET_NODE_H_
