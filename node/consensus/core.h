// ConsensusCore: one validator's 2-chain HotStuff (Jolteon / DiemBFT v4) state
// machine, as summarised in CONSENSUS.md.
//
// Pure and deterministic: no threads, sockets, clock, disk or randomness
// inside. Inputs are the On* methods; every effect (messages, timers,
// persisted state, committed blocks, evidence) goes through the interfaces in
// interfaces.h. Given the same inputs and the same answers from those
// interfaces it does the same thing, which is what the seeded simulation
// (testing/simulator.h) relies on.
//
// How an embedder drives it:
//   1. Create(config, env, head) with `head` = the last block the CommitSink
//      durably applied (CommittedHead::Genesis for a new chain). Create loads
//      the SafetyStore and the BlockStore.
//   2. OnStart() once.
//   3. Then, from one thread (or under one lock), in any order:
//        OnMessage(from, msg)      for each message from validator `from`
//                                  (the transport authenticates `from`)
//        OnTimer(kind, round)      when a Timer::Schedule expires
//        OnPayloadAvailable(id)    when records a proposal needed arrived
//        OnPayloadReady()          when the mempool has new records
//   The core persists SafetyState before any vote, timeout or proposal leaves,
//   and calls CommitSink::Deliver for each commit, in height order.
//
// What the embedder persists: the SafetyStore (synchronously, see
// interfaces.h), the BlockStore, and the blocks it receives through
// CommitSink::Deliver together with their consensus ids, so it can pass the
// CommittedHead it reached to Create after a restart. Nothing else: the core
// rebuilds rounds, the block tree and pending commits from these.
//
// Thread-safety: none; the embedder serialises all calls.
// Errors: bad peer input is rejected with InvalidArgument (and counted in
// counters()); it never crashes the core or stalls honest validators.

#ifndef CDL_NODE_CONSENSUS_CORE_H_
#define CDL_NODE_CONSENSUS_CORE_H_

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "consensus.pb.h"
#include "node/consensus/block_tree.h"
#include "node/consensus/certificates.h"
#include "node/consensus/interfaces.h"

namespace cdl::consensus {

struct ConsensusConfig {
  std::string chain_id;
  uint32_t num_validators = 1;
  ValidatorIndex self = 0;
  // Block time of the virtual genesis block; the first block must be later.
  int64_t genesis_time_ms = 0;

  // Pacemaker: a round lasts base * 2^k ms (at most max_timeout_ms), k = rounds
  // in a row that ended by timeout; a QC resets k. A validator that timed out
  // retransmits its timeout every min(round duration, base) ms.
  uint64_t base_timeout_ms = 1000;
  uint64_t max_timeout_ms = 60000;

  // Consecutive rounds each leader holds: leader(r) = (r / rounds_per_leader)
  // mod n. 1 is plain round-robin.
  uint32_t rounds_per_leader = 1;

  // Votes and timeouts more than this many rounds ahead of the current round
  // are ignored unless they carry certificates that justify the jump.
  uint64_t max_round_lookahead = 100;

  // Voters refuse blocks stamped more than this far in their future.
  int64_t max_block_time_drift_ms = 10000;

  // A leader with nothing to propose, no uncommitted block with records and
  // no just-committed one (whose commit the others learn from its proposal)
  // waits this long for records (OnPayloadReady ends the wait) before
  // proposing an empty block. Keep it well below base_timeout_ms.
  uint64_t idle_proposal_delay_ms = 200;

  // Batching: the leader of a round waits up to this long before proposing,
  // so that records arriving meanwhile share the block, unless the payload
  // source reports a full batch (then, or on OnPayloadReady with a full batch,
  // it proposes at once). 0: propose as soon as the round allows.
  uint64_t batch_delay_ms = 0;

  // Block sync: blocks per response, and blocks kept while waiting for an
  // ancestor to arrive.
  uint32_t sync_max_blocks = 64;
  size_t max_orphan_blocks = 4096;
  // Sync requests answered per peer per second (by the injected clock); more
  // are dropped and counted, and the requester asks again (sync_retry_ms). A
  // validator catching up from far behind, or a hostile one, must not fill
  // this validator's event loop with block lookups and starve its rounds.
  uint32_t sync_requests_per_second = 32;
  // An unanswered sync request is sent again, to the next peer, after this
  // long (and on every local round timeout). A validator far behind keeps
  // advancing rounds by the QCs it receives, so it cannot wait for a timeout.
  uint64_t sync_retry_ms = 500;

  // Committed blocks kept in memory to answer block sync (older ones are read
  // from the BlockStore).
  size_t retain_committed_blocks = 256;

  // Internal messages (to itself) processed per input before the core yields
  // with a kContinue timer, so a single validator cannot spin forever.
  int max_internal_steps = 64;
};

// The last block the embedder durably applied: its height, round, consensus
// block id (encoding.h BlockId) and block time. Blocks above it are delivered
// again after a restart if the core proves them committed.
struct CommittedHead {
  uint64_t height = 0;
  uint64_t round = 0;
  std::string block_id;
  int64_t timestamp_ms = 0;

  static CommittedHead Genesis(const ConsensusConfig& config);
};

// Why an input was rejected.
enum class Reject {
  kMalformed,      // missing/inconsistent fields, empty message
  kUnknownSender,  // `from` or a signer outside the validator set
  kBadSignature,   // includes wrong chain id and wrong message kind
  kInvalidQc,
  kInvalidTc,
  kWrongLeader,  // proposal not by the round's leader, vote not for us
  kStaleRound,
  kFarFutureRound,
  kBadBlockTime,
  kInvalidPayload,
  kUnsolicitedSync,   // sync response nobody asked for / not matching
  kConflictingBlock,  // block conflicts with the committed chain
  kNumReasons,
};
std::string_view RejectName(Reject reason);

struct Counters {
  std::array<uint64_t, static_cast<size_t>(Reject::kNumReasons)> rejected{};
  uint64_t proposals_sent = 0;
  uint64_t votes_sent = 0;
  uint64_t timeouts_sent = 0;
  uint64_t qcs_formed = 0;
  uint64_t tcs_formed = 0;
  uint64_t blocks_committed = 0;
  uint64_t equivocations = 0;
  uint64_t sync_requests_sent = 0;
  uint64_t sync_requests_dropped = 0;  // over a peer's sync_requests_per_second
  uint64_t duplicates = 0;
  uint64_t persist_failures = 0;  // SafetyStore/BlockStore/Signer errors
  // A certified 2-chain contradicting the committed chain: only possible if
  // more than f validators are faulty. Never acted on; watched by tests.
  uint64_t conflicting_commits = 0;

  uint64_t rejected_total() const;
  uint64_t rejected_for(Reject r) const {
    return rejected[static_cast<size_t>(r)];
  }
};

class ConsensusCore {
 public:
  // Checks `config` and the environment, loads the SafetyStore and the
  // BlockStore and rebuilds the block tree above `head`. Errors:
  // InvalidArgument for a bad config, the store's error if loading fails.
  static absl::StatusOr<std::unique_ptr<ConsensusCore>> Create(
      const ConsensusConfig& config, const Environment& env,
      const CommittedHead& head);

  ConsensusCore(const ConsensusCore&) = delete;
  ConsensusCore& operator=(const ConsensusCore&) = delete;

  // Enters the first round (or resumes the persisted one): starts the timer
  // and, as leader, proposes. Also commits what the recovered tree proves
  // committed above `head`.
  void OnStart();

  // A message from validator `from`. OK if accepted (including harmless
  // duplicates); InvalidArgument with the reason otherwise.
  absl::Status OnMessage(ValidatorIndex from, const v1::ConsensusMessage& msg);

  // A timer scheduled through Timer::Schedule expired.
  void OnTimer(TimerKind kind, uint64_t round);
  void OnTimeout(uint64_t round) { OnTimer(TimerKind::kRoundTimeout, round); }

  // The records of a proposal whose payload was kUnavailable are now held.
  void OnPayloadAvailable(std::string_view block_id);

  // The mempool has records: a leader waiting idle proposes now.
  void OnPayloadReady();

  // Leader of `round` (round-robin, rounds_per_leader rounds each).
  ValidatorIndex LeaderOf(uint64_t round) const;

  uint64_t current_round() const { return current_round_; }
  const v1::SafetyState& safety_state() const { return safety_; }
  const CommittedHead& committed_head() const { return committed_; }
  const Counters& counters() const { return counters_; }
  // Blocks held until their missing ancestors arrive (<= max_orphan_blocks).
  size_t orphan_blocks() const { return orphan_ids_.size(); }
  const ConsensusConfig& config() const { return config_; }
  // Set once CommitSink::Deliver failed; every input then returns it.
  const absl::Status& halted() const { return halted_; }

 private:
  ConsensusCore(const ConsensusConfig& config, const Environment& env,
                const CommittedHead& head);
  absl::Status Recover();

  // One external input = Begin, handlers, Finish (process internal messages,
  // persist, then send).
  void Finish();
  void DrainInternal();
  void Emit(std::optional<ValidatorIndex> to, v1::ConsensusMessage msg);
  void SendTo(ValidatorIndex to, v1::ConsensusMessage msg);

  absl::Status Dispatch(ValidatorIndex from, const v1::ConsensusMessage& msg,
                        bool internal);
  absl::Status HandleProposal(ValidatorIndex from, const v1::Proposal& p,
                              bool internal);
  absl::Status HandleVote(ValidatorIndex from, const v1::Vote& vote,
                          bool internal);
  absl::Status HandleTimeout(ValidatorIndex from, const v1::TimeoutMsg& t,
                             bool internal);
  absl::Status HandleSyncInfo(ValidatorIndex from, const v1::SyncInfo& info);
  absl::Status HandleSyncRequest(ValidatorIndex from,
                                 const v1::SyncRequest& req);
  absl::Status HandleSyncResponse(ValidatorIndex from,
                                  const v1::SyncResponse& resp);

  absl::Status RejectWith(Reject reason, absl::string_view message);

  // Certificates: verified once, then cached.
  absl::Status CheckQc(const v1::QuorumCert& qc);
  absl::Status CheckTc(const v1::TimeoutCert& tc);
  // `fetch_missing`: request the certified block (and a commit target) if
  // unknown. False for the QCs inside sync responses: their blocks came with
  // the response, and re-requesting the ones the full orphan buffer did not
  // keep would multiply requests with every response.
  void ProcessQc(const v1::QuorumCert& qc, std::optional<ValidatorIndex> from,
                 bool fetch_missing = true);
  void ProcessTc(const v1::TimeoutCert& tc);

  // Pacemaker.
  void AdvanceRound(uint64_t round, bool by_qc);
  uint64_t RoundDurationMs() const;
  void LocalTimeout(uint64_t round);
  void MaybeSendSyncInfo(ValidatorIndex to);

  // Proposing and voting.
  void TryPropose();
  bool HasUncommittedPayload(const std::string& parent_id) const;
  void TryVote(const std::string& block_id);

  // Blocks.
  // Adds a verified block (tree or orphan pool) and what becomes connected
  // through it. Returns false if it conflicts with the committed chain.
  bool AddBlock(const std::string& id, const v1::Block& block,
                std::optional<ValidatorIndex> from, bool proposed,
                const std::optional<v1::TimeoutCert>& tc);
  BlockEntry* InsertConnected(const std::string& id, const v1::Block& block,
                              bool proposed,
                              const std::optional<v1::TimeoutCert>& tc);
  void OnBlockConnected(const std::string& id);
  void SendSyncRequest(const std::string& id, uint64_t height,
                       ValidatorIndex peer);
  // Sends outstanding sync requests again to the next peer: all of them, or
  // only those unanswered for sync_retry_ms.
  void ResendRequests(bool only_stale);
  void RequestBlock(const std::string& id, uint64_t height,
                    std::optional<ValidatorIndex> from);
  std::optional<v1::Block> LookupBlock(const std::string& id);

  // Commit.
  void TryCommit(const v1::QuorumCert& qc, std::optional<ValidatorIndex> from,
                 bool fetch_missing = true);
  void RetryPendingCommit();

  // Equivocation.
  void CheckProposalEquivocation(const v1::Proposal& p, const std::string& id);
  // False if the voter already voted for another block in this round.
  bool CheckVoteEquivocation(const v1::Vote& vote);
  void ReportEvidence(const v1::EquivocationEvidence& evidence, int kind);
  void PruneOldRounds();

  void MarkSafetyDirty() { safety_dirty_ = true; }

  const ConsensusConfig config_;
  const Environment env_;
  const uint32_t quorum_;

  v1::SafetyState safety_;
  bool safety_dirty_ = false;
  uint64_t current_round_ = 0;
  uint64_t consecutive_timeouts_ = 0;
  uint64_t timed_out_round_ = 0;     // round we sent a timeout in
  uint64_t proposed_round_ = 0;      // round we proposed in (this run)
  uint64_t idle_wait_round_ = 0;     // round whose idle delay is scheduled
  uint64_t idle_expired_round_ = 0;  // round whose idle delay expired
  uint64_t batch_wait_round_ = 0;     // round whose batch delay is scheduled
  uint64_t batch_expired_round_ = 0;  // round whose batch delay is over
  std::string own_proposal_id_;      // our latest proposal's block id
  CommittedHead committed_;
  BlockTree tree_;
  absl::Status halted_;

  // Verified blocks waiting for their parent, by parent id.
  struct Orphan {
    std::string id;
    v1::Block block;
    bool proposed = false;
    std::optional<v1::TimeoutCert> tc;
  };
  std::map<std::string, std::vector<Orphan>> orphans_;
  std::set<std::string> orphan_ids_;
  // (height, id) -> parent id, to find the highest orphan.
  std::map<std::pair<uint64_t, std::string>, std::string> orphans_by_height_;
  // Keeps `o` unless it is known or the buffer is full of lower blocks. A
  // full buffer gives up its highest block for a lower one: the blocks next
  // to our committed head are the ones that connect, so a validator far
  // behind (say, restarted with an empty data dir) catches up in passes of
  // max_orphan_blocks however long the chain (the evicted ones are fetched
  // again on the next pass). Returns whether it was kept.
  bool AddOrphan(Orphan o);
  void ForgetOrphanId(const std::string& id, uint64_t height);
  // Blocks requested through block sync, by id.
  struct Request {
    int64_t sent_ms = 0;  // when last sent (injected clock)
    ValidatorIndex peer = 0;
    uint64_t height = 0;
  };
  std::map<std::string, Request> requested_;
  // Highest QC that commits something we cannot deliver yet (blocks missing).
  std::optional<v1::QuorumCert> pending_commit_;

  // Recently committed blocks (for sync and conflict checks).
  std::map<std::string, v1::Block> recent_committed_;
  std::map<uint64_t, std::string> committed_ids_by_height_;

  // Certificates already verified: QCs by block id, TCs by round.
  std::map<std::string, v1::QuorumCert> verified_qcs_;
  std::map<uint64_t, v1::TimeoutCert> verified_tcs_;

  std::map<uint64_t, VoteAggregator> votes_;        // by round
  std::map<uint64_t, TimeoutAggregator> timeouts_;  // by round

  // First signed proposal / vote seen per (validator, round).
  std::map<std::pair<uint64_t, ValidatorIndex>, v1::SignedProposalHeader>
      seen_proposals_;
  std::map<std::pair<uint64_t, ValidatorIndex>, v1::Vote> seen_votes_;
  std::set<std::tuple<uint64_t, ValidatorIndex, int>> reported_;

  // Last round we sent SyncInfo to each validator (rate limit).
  std::vector<uint64_t> sync_info_sent_round_;
  // Sync requests answered per validator in the current one-second window.
  struct SyncBudget {
    int64_t window_start_ms = 0;
    uint32_t answered = 0;
  };
  std::vector<SyncBudget> sync_budget_;
  int64_t next_stale_check_ms_ = 0;

  // Effects of the current input.
  struct Outgoing {
    std::optional<ValidatorIndex> to;  // nullopt: broadcast
    v1::ConsensusMessage msg;
  };
  std::vector<Outgoing> outbox_;
  std::deque<v1::ConsensusMessage> internal_;
  int internal_steps_ = 0;

  Counters counters_;
};

}  // namespace cdl::consensus

#endif  // CDL_NODE_CONSENSUS_CORE_H_
