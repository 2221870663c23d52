// The consensus core's window on the world. The core (core.h) is a pure state
// machine: every effect goes through one of these interfaces, injected by the
// embedder (node/net and node/storage in the daemon, the simulator in tests).
//
// Threading: the core calls these only from inside its own input methods, on
// the caller's thread, never concurrently and never re-entrantly. An
// implementation must not call back into the core from inside a call; it
// queues work and calls the core's input methods later instead.

#ifndef CDL_NODE_CONSENSUS_INTERFACES_H_
#define CDL_NODE_CONSENSUS_INTERFACES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "consensus.pb.h"

namespace cdl::consensus {

// Position of a validator in the genesis validator list.
using ValidatorIndex = uint32_t;

// Delivers messages to other validators. Best effort: messages may be lost,
// delayed, duplicated or reordered; the protocol copes. Never blocks on the
// network.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void Send(ValidatorIndex to, const v1::ConsensusMessage& msg) = 0;
  // To every validator except this one.
  virtual void Broadcast(const v1::ConsensusMessage& msg) = 0;
};

enum class TimerKind {
  kRoundTimeout,  // the round's pacemaker timer (and timeout retransmits)
  kPropose,       // an idle leader's proposal delay
  kContinue,      // the core paused to let other inputs in; resume at once
};

// Every Schedule(kind, round, delay) must be followed, about delay_ms later,
// by one call to ConsensusCore::OnTimer(kind, round) (or OnTimeout(round) for
// kRoundTimeout). Stale and duplicate firings are harmless; an embedder may
// drop an earlier pending timer of the same kind when a new one is scheduled.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void Schedule(TimerKind kind, uint64_t round, uint64_t delay_ms) = 0;
};

// Wall-clock time in Unix milliseconds, only used for block time: the leader
// stamps blocks with it and voters bound how far in their future a block may
// be. Nothing else in the core reads a clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() = 0;
};

// Durable safety state. Save must have reached stable storage (fsync) when it
// returns OK; the core calls it before any vote, timeout or proposal that
// depends on the state leaves through Transport. Load returns what the last
// successful Save stored, or nullopt for a validator that never saved.
class SafetyStore {
 public:
  virtual ~SafetyStore() = default;
  virtual absl::Status Save(const v1::SafetyState& state) = 0;
  virtual absl::StatusOr<std::optional<v1::SafetyState>> Load() = 0;
};

// Blocks the core has verified, so a restarted validator recovers its block
// tree and can serve block sync. Losing a Put is not a safety problem (the
// block is fetched again); keeping what was put across a restart is what
// makes restarts cheap.
class BlockStore {
 public:
  virtual ~BlockStore() = default;
  // Idempotent.
  virtual absl::Status Put(std::string_view block_id,
                           const v1::Block& block) = 0;
  virtual absl::StatusOr<std::optional<v1::Block>> Get(
      std::string_view block_id) = 0;
  // Every stored block with height > min_height, in any order.
  virtual absl::StatusOr<std::vector<v1::Block>> LoadAbove(
      uint64_t min_height) = 0;
};

// Signs with this validator's key. The signature is over
// (domain || 0x00 || message), as cdl::crypto::SignDomain computes it.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual absl::StatusOr<std::string> Sign(std::string_view domain,
                                           std::string_view message) = 0;
};

// Checks a validator's signature made by its Signer. False for an unknown
// validator index or a malformed signature. Must be safe to call with
// attacker-chosen bytes.
class Verifier {
 public:
  virtual ~Verifier() = default;
  virtual bool Verify(ValidatorIndex signer, std::string_view domain,
                      std::string_view message,
                      std::string_view signature) const = 0;
};

// What a leader knows when it asks for a payload.
struct PayloadContext {
  uint64_t round = 0;
  uint64_t height = 0;
  std::string_view parent_id;
  // Payloads of the uncommitted ancestors of the new block, oldest first:
  // records in them must not be proposed again.
  std::vector<std::string_view> pending_payloads;
};

// The leader's side of the mempool. Returns the next batch (possibly empty);
// the mempool keeps the records until a committed block containing them is
// delivered, because a proposal may never commit.
class PayloadSource {
 public:
  virtual ~PayloadSource() = default;
  virtual std::string NextPayload(const PayloadContext& context) = 0;
  // Whether enough is waiting to fill a block (ends a batch delay early).
  virtual bool BatchFull() { return false; }
};

enum class PayloadStatus {
  kValid,        // every record is held and passed its stateless checks
  kInvalid,      // malformed or contains a bad record: never vote
  kUnavailable,  // records missing: the embedder fetches them and then calls
                 // ConsensusCore::OnPayloadAvailable(block_id)
};

// A voter's check of a proposal's payload.
class PayloadValidator {
 public:
  virtual ~PayloadValidator() = default;
  virtual PayloadStatus Check(std::string_view block_id,
                              const v1::Block& block) = 0;
};

// Receives committed blocks in height order, each once per core instance,
// starting just above the CommittedHead the core was created with. `blocks` is
// a parent-linked chain (blocks[i+1].parent_id == id of blocks[i]); `cert`
// certifies the last of them, and through the parent links, all of them.
// The embedder must apply them in this order; it may do so after Deliver
// returns (execution off the consensus path): after a restart it passes the
// head it durably reached to ConsensusCore::Create, and the core delivers the
// committed blocks above that head again from its BlockStore. An error halts
// the core (every later input returns it).
class CommitSink {
 public:
  virtual ~CommitSink() = default;
  virtual absl::Status Deliver(const std::vector<v1::Block>& blocks,
                               const v1::CommitCertificate& cert) = 0;
};

// Receives proof that a validator signed two conflicting proposals or votes
// for one round. Reported once per (validator, round, kind).
class EvidenceSink {
 public:
  virtual ~EvidenceSink() = default;
  virtual void Report(const v1::EquivocationEvidence& evidence) = 0;
};

// All interfaces a core needs. Not owned; they must outlive the core.
// evidence_sink may be null (evidence is then only counted).
struct Environment {
  Transport* transport = nullptr;
  Timer* timer = nullptr;
  Clock* clock = nullptr;
  SafetyStore* safety_store = nullptr;
  BlockStore* block_store = nullptr;
  Signer* signer = nullptr;
  const Verifier* verifier = nullptr;
  PayloadSource* payload_source = nullptr;
  PayloadValidator* payload_validator = nullptr;
  CommitSink* commit_sink = nullptr;
  EvidenceSink* evidence_sink = nullptr;
};

}  // namespace cdl::consensus

#endif  // CDL_NODE_CONSENSUS_INTERFACES_H_
