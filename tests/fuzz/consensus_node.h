// One consensus core (node/consensus/core.h) in memory, for fuzz_consensus and
// the seed generator: fake signatures (node/consensus/testing/fake_crypto.h),
// memory stores, a clock that advances by 100 ms per Tick(), and effects
// recorded instead of sent. It checks the core's own contract on everything
// the core emits, whatever its peers do:
//   - it never signs two different votes, or two different proposals, for one
//     round, and never votes in a round at or below one it already voted or
//     timed out in;
//   - the safety state is persisted (highest_voted_round covers the round)
//     before a vote or timeout leaves;
//   - committed blocks arrive once, in height order, as a parent-linked chain
//     continuing the previous one, with a valid commit certificate of the
//     last block, and committed_head() follows them.
// A broken rule aborts (FUZZ_CHECK). Fuzzing and tools only.
#ifndef CDL_TESTS_FUZZ_CONSENSUS_NODE_H_
#define CDL_TESTS_FUZZ_CONSENSUS_NODE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "consensus.pb.h"
#include "node/consensus/certificates.h"
#include "node/consensus/core.h"
#include "node/consensus/encoding.h"
#include "node/consensus/testing/fake_crypto.h"
#include "node/consensus/testing/memory_stores.h"
#include "tests/fuzz/fuzz_input.h"

namespace cdl::fuzz {

inline constexpr char kConsensusChainId[] = "fuzz-consensus";
inline constexpr uint32_t kConsensusValidators = 4;
inline constexpr uint64_t kFakeCryptoSeed = 7;
inline constexpr int64_t kConsensusGenesisMs = 1'700'000'000'000;

inline cdl::consensus::ConsensusConfig ConsensusFuzzConfig(cdl::consensus::ValidatorIndex self) {
  cdl::consensus::ConsensusConfig config;
  config.chain_id = kConsensusChainId;
  config.num_validators = kConsensusValidators;
  config.self = self;
  config.genesis_time_ms = kConsensusGenesisMs;
  config.base_timeout_ms = 1000;
  config.max_timeout_ms = 8000;
  config.max_round_lookahead = 100;
  // Clocks are per-node step counters here, so allow any skew.
  config.max_block_time_drift_ms = 24 * 3600 * 1000;
  config.idle_proposal_delay_ms = 200;
  config.sync_max_blocks = 16;
  config.max_orphan_blocks = 64;
  config.retain_committed_blocks = 32;
  return config;
}

class ConsensusNode : private cdl::consensus::Transport,
                      private cdl::consensus::Timer,
                      private cdl::consensus::Clock,
                      private cdl::consensus::PayloadSource,
                      private cdl::consensus::PayloadValidator,
                      private cdl::consensus::CommitSink {
 public:
  struct Outgoing {
    std::optional<cdl::consensus::ValidatorIndex> to;  // nullopt: broadcast
    cdl::consensus::v1::ConsensusMessage msg;
  };
  struct Scheduled {
    cdl::consensus::TimerKind kind;
    uint64_t round;
    uint64_t delay_ms;
  };

  explicit ConsensusNode(cdl::consensus::ValidatorIndex self)
      : self_(self),
        config_(ConsensusFuzzConfig(self)),
        signer_(kFakeCryptoSeed, self),
        verifier_(kFakeCryptoSeed, kConsensusValidators) {
    head_ = cdl::consensus::CommittedHead::Genesis(config_);
    Start();
  }

  cdl::consensus::ConsensusCore& core() { return *core_; }
  const cdl::consensus::testing::FakeVerifier& verifier() const { return verifier_; }

  // Drops the core and creates a new one from the stores and the committed
  // head, as a restarted validator would.
  void Restart() {
    core_.reset();
    Start();
  }

  void Tick() { now_ms_ += 100; }

  // Effects since the last call.
  std::vector<Outgoing> TakeOutbox() { return std::exchange(outbox_, {}); }
  std::vector<Scheduled> TakeTimers() { return std::exchange(timers_, {}); }
  const std::string& last_unavailable() const { return last_unavailable_; }
  uint64_t delivered_height() const { return head_.height; }

  // The core's view must match what it delivered.
  void CheckHead() const {
    FUZZ_CHECK(core_->committed_head().height == head_.height, "committed_head follows deliveries");
    FUZZ_CHECK(core_->committed_head().block_id == head_.block_id, "committed_head id");
    FUZZ_CHECK(core_->halted().ok(), core_->halted().ToString());
  }

 private:
  void Start() {
    cdl::consensus::Environment env;
    env.transport = this;
    env.timer = this;
    env.clock = this;
    env.safety_store = &safety_store_;
    env.block_store = &block_store_;
    env.signer = &signer_;
    env.verifier = &verifier_;
    env.payload_source = this;
    env.payload_validator = this;
    env.commit_sink = this;
    auto core = cdl::consensus::ConsensusCore::Create(config_, env, head_);
    FUZZ_CHECK(core.ok(), core.status().ToString());
    core_ = *std::move(core);
    core_->OnStart();
  }

  // --- what the core emits ---
  void Send(cdl::consensus::ValidatorIndex to, const cdl::consensus::v1::ConsensusMessage& msg) override {
    CheckOwn(msg);
    outbox_.push_back({to, msg});
  }
  void Broadcast(const cdl::consensus::v1::ConsensusMessage& msg) override {
    CheckOwn(msg);
    outbox_.push_back({std::nullopt, msg});
  }

  void CheckOwn(const cdl::consensus::v1::ConsensusMessage& msg) {
    const auto& saved = safety_store_.state();
    if (msg.has_vote() && msg.vote().voter() == self_) {
      const auto& v = msg.vote();
      FUZZ_CHECK(saved.has_value() && saved->highest_voted_round() >= v.round(), "vote sent before it was persisted");
      auto [it, first] = votes_.try_emplace(v.round(), v.block_id());
      if (first) {
        FUZZ_CHECK(v.round() > last_vote_round_ && v.round() > last_timeout_round_,
                   absl::StrCat("vote in round ", v.round(), " after voting in ", last_vote_round_, " / timing out in ",
                                last_timeout_round_));
        last_vote_round_ = v.round();
      } else {
        FUZZ_CHECK(it->second == v.block_id(), absl::StrCat("two different votes in round ", v.round()));
      }
    }
    if (msg.has_timeout() && msg.timeout().sender() == self_) {
      const auto& t = msg.timeout();
      FUZZ_CHECK(saved.has_value() && saved->highest_voted_round() >= t.round(),
                 "timeout sent before it was persisted");
      if (t.round() > last_timeout_round_) last_timeout_round_ = t.round();
    }
    if (msg.has_proposal() && msg.proposal().block().author() == self_) {
      const auto& b = msg.proposal().block();
      const std::string id = cdl::consensus::BlockId(kConsensusChainId, b);
      auto [it, first] = proposals_.try_emplace(b.round(), id);
      FUZZ_CHECK(first || it->second == id, absl::StrCat("two different proposals in round ", b.round()));
    }
  }

  void Schedule(cdl::consensus::TimerKind kind, uint64_t round, uint64_t delay_ms) override {
    timers_.push_back({kind, round, delay_ms});
  }
  int64_t NowMs() override { return now_ms_; }

  std::string NextPayload(const cdl::consensus::PayloadContext& context) override {
    return absl::StrCat("payload of ", self_, " r", context.round, " h", context.height);
  }
  // Payloads starting with 'X' are invalid, with 'U' unavailable.
  cdl::consensus::PayloadStatus Check(std::string_view block_id, const cdl::consensus::v1::Block& block) override {
    if (!block.payload().empty() && block.payload()[0] == 'X') return cdl::consensus::PayloadStatus::kInvalid;
    if (!block.payload().empty() && block.payload()[0] == 'U') {
      last_unavailable_ = std::string(block_id);
      return cdl::consensus::PayloadStatus::kUnavailable;
    }
    return cdl::consensus::PayloadStatus::kValid;
  }

  absl::Status Deliver(const std::vector<cdl::consensus::v1::Block>& blocks,
                       const cdl::consensus::v1::CommitCertificate& cert) override {
    FUZZ_CHECK(!blocks.empty(), "empty delivery");
    std::string parent = head_.block_id;
    uint64_t height = head_.height;
    std::string id;
    for (const auto& b : blocks) {
      FUZZ_CHECK(b.parent_id() == parent, absl::StrCat("delivered block at height ", b.height(), " is not a child"));
      FUZZ_CHECK(b.height() == height + 1, absl::StrCat("delivered height ", b.height(), " after ", height));
      id = cdl::consensus::BlockId(kConsensusChainId, b);
      parent = id;
      height = b.height();
    }
    FUZZ_CHECK(cert.height() == height && cert.block_id() == id, "certificate names the last delivered block");
    auto s = cdl::consensus::VerifyCommitCertificate(kConsensusChainId, kConsensusValidators, verifier_, cert);
    FUZZ_CHECK(s.ok(), s.ToString());
    head_.height = height;
    head_.round = blocks.back().round();
    head_.block_id = id;
    head_.timestamp_ms = blocks.back().timestamp_ms();
    return absl::OkStatus();
  }

  const cdl::consensus::ValidatorIndex self_;
  const cdl::consensus::ConsensusConfig config_;
  cdl::consensus::testing::FakeSigner signer_;
  cdl::consensus::testing::FakeVerifier verifier_;
  cdl::consensus::testing::MemorySafetyStore safety_store_;
  cdl::consensus::testing::MemoryBlockStore block_store_;
  cdl::consensus::CommittedHead head_;
  std::unique_ptr<cdl::consensus::ConsensusCore> core_;
  int64_t now_ms_ = kConsensusGenesisMs + 1000;

  std::vector<Outgoing> outbox_;
  std::vector<Scheduled> timers_;
  std::string last_unavailable_;
  std::map<uint64_t, std::string> votes_;      // our vote's block id by round
  std::map<uint64_t, std::string> proposals_;  // our proposal's block id by round
  uint64_t last_vote_round_ = 0;
  uint64_t last_timeout_round_ = 0;
};

}  // namespace cdl::fuzz

#endif  // CDL_TESTS_FUZZ_CONSENSUS_NODE_H_
