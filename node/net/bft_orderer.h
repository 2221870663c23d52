// Orders blocks across several validators with the pure consensus core
// (node/consensus) and applies what it commits to the ledger. This is the
// daemon-side embedding: it implements the core's Transport, Timer, Clock,
// SafetyStore, BlockStore, PayloadSource, PayloadValidator, CommitSink and
// EvidenceSink over the peer network, the ledger's store and the mempool.
//
// After a consensus block commits and is executed, every validator signs the
// resulting ledger header and broadcasts that CheckpointVote; a quorum of them
// is the ledger block's commit certificate (proof that 2f+1 validators
// executed the same ordered records to the same roots). The consensus core's
// own commit signatures cover consensus block ids, which a passport verifier
// cannot relate to ledger roots; hence this second, post-execution signature.
//
// Threading: one event-loop thread owns the core; every other thread talks to
// it by posting events. Execution runs on a second thread, the applier, which
// is the ledger's only writer: the loop hands it each committed consensus
// block (in order) and goes on with the next round, so a round never waits
// for the previous block's execution, its fsync or its checkpoint signature.
// The applier also takes the checkpoint votes. Until the applier has executed
// a handed-over block, its records count as pending for the next proposals.
// A crash between commit and execution loses nothing: the core re-delivers
// committed blocks above the ledger's head from its block store on restart.
// When the applier falls kMaxQueuedBlocks behind, the loop waits for it
// (backpressure instead of an unbounded queue).
#ifndef CDL_NODE_NET_BFT_ORDERER_H_
#define CDL_NODE_NET_BFT_ORDERER_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/keys.h"
#include "node/consensus/core.h"
#include "node/consensus/key_signer.h"
#include "node/ledger/ledger.h"
#include "node/ledger/mempool.h"
#include "peer.pb.h"

namespace cdl::net {

// Where peer messages go. PeerTransport implements it; tests may fake it.
class PeerNetwork {
 public:
  virtual ~PeerNetwork() = default;
  virtual void Send(uint32_t to, const cdl::peer::v1::PeerMessage& msg) = 0;
  virtual void Broadcast(const cdl::peer::v1::PeerMessage& msg) = 0;
};

struct BftOptions {
  uint32_t self = 0;
  std::string validator_id;
  size_t max_block_records = 4000;
  size_t max_block_bytes = 8u << 20;
  uint64_t base_timeout_ms = 1000;
  uint64_t idle_proposal_delay_ms = 200;
  uint64_t batch_delay_ms = 0;  // see ConsensusConfig::batch_delay_ms
  int64_t max_block_time_drift_ms = 10000;
  // Equivocation the core detected (loop thread; must not block). Node turns
  // it into an Evidence record and admits it like any record.
  std::function<void(const cdl::consensus::v1::EquivocationEvidence&)> on_evidence;
};

struct BftStats {
  uint64_t current_round = 0;    // the consensus round this validator is in
  uint64_t committed_round = 0;  // round of the last consensus block it committed
  uint64_t committed_blocks = 0;
  uint64_t ledger_blocks = 0;
  uint64_t certified_height = 0;
  uint64_t checkpoint_votes = 0;
  uint64_t checkpoint_mismatches = 0;
  uint64_t rejected_messages = 0;
  // Refused peer messages by reason: the consensus core's reasons
  // (consensus::RejectName: "bad_signature", "far_future_round", ...) and the
  // orderer's own: "no_payload" (no kind set), "unsupported_kind",
  // "checkpoint_vote_not_from_sender", "checkpoint_vote_bad_signature".
  std::map<std::string, uint64_t> rejected_by_reason;
  uint64_t equivocations = 0;
  // Block sync: requests this validator sent, peers' requests it dropped
  // over their rate limit, and blocks waiting for a missing ancestor.
  uint64_t sync_requests_sent = 0;
  uint64_t sync_requests_dropped = 0;
  uint64_t orphan_blocks = 0;
};

class BftOrderer {
 public:
  // Called on the loop thread after a ledger block is durable, with its receipts.
  using BlockCallback = std::function<void(const cdl::v1::Block& block)>;
  // Records dropped from the mempool because their sequence was used by another record.
  using StaleCallback = std::function<void(const std::vector<cdl::ledger::Mempool::RecordPtr>&)>;

  BftOrderer(cdl::ledger::Ledger* ledger, cdl::ledger::Mempool* mempool, cdl::crypto::PrivateKey key,
             PeerNetwork* network, BftOptions options, BlockCallback on_block, StaleCallback on_stale);
  ~BftOrderer();

  absl::Status Start();
  void Stop();

  // Any thread.
  void OnPeerMessage(uint32_t from, cdl::peer::v1::PeerMessage msg);
  // A record was admitted locally: forward it to the other validators.
  void Gossip(std::string signed_record);
  // The mempool has new records.
  void PayloadReady();
  BftStats stats() const;
  // Why the core halted (OK while running).
  absl::Status halted() const;

 private:
  class Env;
  void Post(std::function<void()> event);
  void Loop();
  // A committed block handed to the applier, its records parsed.
  struct Delivered {
    cdl::consensus::v1::Block block;
    std::string id;
    std::vector<std::shared_ptr<const cdl::verify::ParsedRecord>> records;
  };
  // What a handed-over block holds, for NextPayload until it is executed.
  struct Inflight {
    absl::flat_hash_set<std::string> ids;
    absl::flat_hash_map<std::string, uint64_t> max_sequence;  // per author
  };
  static constexpr size_t kMaxQueuedBlocks = 32;

  void Deliver(const std::vector<cdl::consensus::v1::Block>& blocks);  // loop thread
  void ApplierLoop();
  void Apply(const Delivered& delivered);  // applier thread
  void HandleCheckpointVote(const cdl::peer::v1::CheckpointVote& vote);  // applier thread
  void ApplyBufferedVotes(uint64_t height);                              // applier thread
  void RecordCoreRejections();  // loop thread: the core's reject counters into stats_

  cdl::ledger::Ledger* ledger_;
  cdl::ledger::Mempool* mempool_;
  cdl::crypto::PrivateKey key_;
  PeerNetwork* network_;
  const BftOptions options_;
  BlockCallback on_block_;
  StaleCallback on_stale_;
  std::unique_ptr<Env> env_;
  std::unique_ptr<cdl::consensus::KeySigner> signer_;
  std::unique_ptr<cdl::consensus::KeyVerifier> verifier_;
  std::unique_ptr<cdl::consensus::ConsensusCore> core_;  // loop thread only
  std::map<uint64_t, std::vector<cdl::peer::v1::CheckpointVote>> pending_votes_;  // applier thread only

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> events_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, std::function<void()>> timers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> gossip_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  BftStats stats_ ABSL_GUARDED_BY(mu_);
  absl::Status halted_ ABSL_GUARDED_BY(mu_);
  std::thread loop_;

  // The applier's queue: committed blocks and checkpoint votes, in order.
  mutable absl::Mutex exec_mu_;
  std::deque<std::variant<Delivered, cdl::peer::v1::CheckpointVote>> exec_queue_ ABSL_GUARDED_BY(exec_mu_);
  size_t queued_blocks_ ABSL_GUARDED_BY(exec_mu_) = 0;
  std::deque<Inflight> inflight_ ABSL_GUARDED_BY(exec_mu_);  // handed over, not yet executed
  bool exec_stopping_ ABSL_GUARDED_BY(exec_mu_) = false;
  std::thread applier_;
  std::atomic<bool> payload_ready_posted_{false};  // one OnPayloadReady event queued at a time
};

}  // namespace cdl::net

#endif  // CDL_NODE_NET_BFT_ORDERER_H_
