#include "node/consensus/core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/consensus/encoding.h"
#include "node/consensus/safety_rules.h"

namespace cdl::consensus {
namespace {

// Rounds of signed proposals/votes kept to detect equivocation.
constexpr uint64_t kEvidenceWindow = 64;

bool VoteCommitsParent(uint64_t round, uint64_t height, uint64_t parent_round) {
  return round > 0 && height > 1 && parent_round + 1 == round;
}

bool IsSafetyRelevant(const v1::ConsensusMessage& msg) {
  return msg.has_proposal() || msg.has_vote() || msg.has_timeout();
}

// Structural checks shared by proposals and synced blocks.
bool WellFormedBlock(const v1::Block& b) {
  if (b.round() == 0 || b.height() == 0 || !b.has_qc()) return false;
  const v1::QuorumCert& qc = b.qc();
  return qc.block_id() == b.parent_id() && qc.height() + 1 == b.height() &&
         qc.round() < b.round();
}

}  // namespace

CommittedHead CommittedHead::Genesis(const ConsensusConfig& config) {
  CommittedHead head;
  head.block_id = GenesisBlockId(config.chain_id);
  head.timestamp_ms = config.genesis_time_ms;
  return head;
}

std::string_view RejectName(Reject reason) {
  switch (reason) {
    case Reject::kMalformed:
      return "malformed";
    case Reject::kUnknownSender:
      return "unknown_sender";
    case Reject::kBadSignature:
      return "bad_signature";
    case Reject::kInvalidQc:
      return "invalid_qc";
    case Reject::kInvalidTc:
      return "invalid_tc";
    case Reject::kWrongLeader:
      return "wrong_leader";
    case Reject::kStaleRound:
      return "stale_round";
    case Reject::kFarFutureRound:
      return "far_future_round";
    case Reject::kBadBlockTime:
      return "bad_block_time";
    case Reject::kInvalidPayload:
      return "invalid_payload";
    case Reject::kUnsolicitedSync:
      return "unsolicited_sync";
    case Reject::kConflictingBlock:
      return "conflicting_block";
    case Reject::kNumReasons:
      break;
  }
  return "unknown";
}

uint64_t Counters::rejected_total() const {
  uint64_t total = 0;
  for (uint64_t r : rejected) total += r;
  return total;
}

absl::StatusOr<std::unique_ptr<ConsensusCore>> ConsensusCore::Create(
    const ConsensusConfig& config, const Environment& env,
    const CommittedHead& head) {
  if (config.chain_id.empty()) {
    return absl::InvalidArgumentError("consensus: empty chain id");
  }
  if (config.num_validators == 0 || config.num_validators > 1024) {
    return absl::InvalidArgumentError(
        "consensus: num_validators must be in [1, 1024]");
  }
  if (config.self >= config.num_validators) {
    return absl::InvalidArgumentError("consensus: self is not a validator");
  }
  if (config.base_timeout_ms == 0 ||
      config.max_timeout_ms < config.base_timeout_ms) {
    return absl::InvalidArgumentError(
        "consensus: need 0 < base_timeout_ms <= max_timeout_ms");
  }
  if (config.rounds_per_leader == 0 || config.sync_max_blocks == 0 ||
      config.sync_requests_per_second == 0 || config.sync_retry_ms == 0 ||
      config.max_round_lookahead == 0 || config.max_internal_steps <= 0) {
    return absl::InvalidArgumentError(
        "consensus: rounds_per_leader, sync_max_blocks, "
        "sync_requests_per_second, sync_retry_ms, max_round_lookahead and "
        "max_internal_steps must be positive");
  }
  if (env.transport == nullptr || env.timer == nullptr ||
      env.clock == nullptr || env.safety_store == nullptr ||
      env.block_store == nullptr || env.signer == nullptr ||
      env.verifier == nullptr || env.payload_source == nullptr ||
      env.payload_validator == nullptr || env.commit_sink == nullptr) {
    return absl::InvalidArgumentError(
        "consensus: every interface except evidence_sink is required");
  }
  if (head.block_id.empty()) {
    return absl::InvalidArgumentError("consensus: committed head has no id");
  }
  std::unique_ptr<ConsensusCore> core(new ConsensusCore(config, env, head));
  absl::Status s = core->Recover();
  if (!s.ok()) return s;
  return core;
}

namespace {
BlockEntry RootEntry(const CommittedHead& head) {
  BlockEntry root;
  root.id = head.block_id;
  root.round = head.round;
  root.height = head.height;
  root.timestamp_ms = head.timestamp_ms;
  root.payload_valid = true;
  return root;
}
}  // namespace

ConsensusCore::ConsensusCore(const ConsensusConfig& config,
                             const Environment& env, const CommittedHead& head)
    : config_(config),
      env_(env),
      quorum_(QuorumSize(config.num_validators)),
      committed_(head),
      tree_(RootEntry(head)),
      sync_info_sent_round_(config.num_validators, 0),
      sync_budget_(config.num_validators) {
  committed_ids_by_height_[head.height] = head.block_id;
}

absl::Status ConsensusCore::Recover() {
  absl::StatusOr<std::optional<v1::SafetyState>> loaded =
      env_.safety_store->Load();
  if (!loaded.ok()) return loaded.status();
  if (loaded->has_value()) safety_ = **loaded;
  if (!safety_.has_highest_qc()) {
    *safety_.mutable_highest_qc() = GenesisQc(config_.chain_id);
  }
  uint64_t resume = safety_.highest_qc().round();
  if (safety_.has_highest_tc()) {
    resume = std::max(resume, safety_.highest_tc().round());
  }
  current_round_ = resume + 1;

  absl::StatusOr<std::vector<v1::Block>> blocks =
      env_.block_store->LoadAbove(committed_.height);
  if (!blocks.ok()) return blocks.status();
  std::sort(blocks->begin(), blocks->end(),
            [](const v1::Block& a, const v1::Block& b) {
              return a.height() < b.height();
            });
  for (const v1::Block& b : *blocks) {
    if (!WellFormedBlock(b)) continue;
    std::string id = BlockId(config_.chain_id, b);
    // Our own disk: the blocks were verified before they were stored.
    verified_qcs_.emplace(b.qc().block_id(), b.qc());
    if (tree_.Insert(id, b) == nullptr && b.height() > committed_.height + 1 &&
        !orphan_ids_.contains(id)) {
      AddOrphan(Orphan{id, b, false, std::nullopt});
    }
  }
  return absl::OkStatus();
}

void ConsensusCore::OnStart() {
  if (!halted_.ok()) return;
  // Commit whatever the recovered blocks already prove committed.
  std::vector<v1::QuorumCert> qcs;
  qcs.push_back(safety_.highest_qc());
  for (const auto& [block_id, qc] : verified_qcs_) qcs.push_back(qc);
  std::sort(qcs.begin(), qcs.end(),
            [](const v1::QuorumCert& a, const v1::QuorumCert& b) {
              return a.round() < b.round();
            });
  for (const v1::QuorumCert& qc : qcs) TryCommit(qc, std::nullopt);
  env_.timer->Schedule(TimerKind::kRoundTimeout, current_round_,
                       RoundDurationMs());
  if (LeaderOf(current_round_) == config_.self) TryPropose();
  Finish();
}

ValidatorIndex ConsensusCore::LeaderOf(uint64_t round) const {
  return static_cast<ValidatorIndex>((round / config_.rounds_per_leader) %
                                     config_.num_validators);
}

// ---------------------------------------------------------------------------
// Inputs and effects.

absl::Status ConsensusCore::OnMessage(ValidatorIndex from,
                                      const v1::ConsensusMessage& msg) {
  if (!halted_.ok()) return halted_;
  absl::Status s;
  if (from >= config_.num_validators || from == config_.self) {
    s = RejectWith(Reject::kUnknownSender, "message from a non-peer");
  } else {
    s = Dispatch(from, msg, /*internal=*/false);
  }
  Finish();
  return s;
}

void ConsensusCore::OnTimer(TimerKind kind, uint64_t round) {
  if (!halted_.ok()) return;
  switch (kind) {
    case TimerKind::kRoundTimeout:
      if (round == current_round_) LocalTimeout(round);
      break;
    case TimerKind::kPropose:
      if (round == current_round_) {
        // The batch delay comes first in a round, the idle delay after it.
        if (batch_wait_round_ == round && batch_expired_round_ != round) {
          batch_expired_round_ = round;
        } else {
          idle_expired_round_ = round;
        }
        TryPropose();
      }
      break;
    case TimerKind::kContinue:
      break;
  }
  Finish();
}

void ConsensusCore::OnPayloadAvailable(std::string_view block_id) {
  if (!halted_.ok()) return;
  std::string id(block_id);
  if (BlockEntry* e = tree_.Find(id)) e->payload_unavailable = false;
  TryVote(id);
  Finish();
}

void ConsensusCore::OnPayloadReady() {
  if (!halted_.ok()) return;
  if (batch_wait_round_ == current_round_ &&
      batch_expired_round_ != current_round_ &&
      env_.payload_source->BatchFull()) {
    batch_expired_round_ = current_round_;
    TryPropose();
  } else if (idle_wait_round_ == current_round_) {
    idle_expired_round_ = current_round_;
    TryPropose();
  }
  Finish();
}

void ConsensusCore::Emit(std::optional<ValidatorIndex> to,
                         v1::ConsensusMessage msg) {
  outbox_.push_back(Outgoing{to, std::move(msg)});
}

void ConsensusCore::SendTo(ValidatorIndex to, v1::ConsensusMessage msg) {
  if (to == config_.self) {
    internal_.push_back(std::move(msg));
  } else {
    Emit(to, std::move(msg));
  }
}

void ConsensusCore::DrainInternal() {
  while (!internal_.empty() && halted_.ok()) {
    if (internal_steps_ >= config_.max_internal_steps) {
      env_.timer->Schedule(TimerKind::kContinue, current_round_, 0);
      return;
    }
    ++internal_steps_;
    v1::ConsensusMessage msg = std::move(internal_.front());
    internal_.pop_front();
    (void)Dispatch(config_.self, msg, /*internal=*/true);
  }
}

void ConsensusCore::Finish() {
  DrainInternal();
  ResendRequests(/*only_stale=*/true);
  internal_steps_ = 0;
  bool persisted = true;
  if (safety_dirty_) {
    absl::Status s = env_.safety_store->Save(safety_);
    if (s.ok()) {
      safety_dirty_ = false;
    } else {
      // Nothing that depends on the unsaved state may leave. The in-memory
      // state stays ahead of the disk, which only makes us more cautious.
      ++counters_.persist_failures;
      persisted = false;
    }
  }
  std::vector<Outgoing> out = std::move(outbox_);
  outbox_.clear();
  for (Outgoing& o : out) {
    if (!persisted && IsSafetyRelevant(o.msg)) continue;
    if (o.to.has_value()) {
      env_.transport->Send(*o.to, o.msg);
    } else {
      env_.transport->Broadcast(o.msg);
    }
  }
}

absl::Status ConsensusCore::RejectWith(Reject reason,
                                       absl::string_view message) {
  ++counters_.rejected[static_cast<size_t>(reason)];
  const std::string_view name = RejectName(reason);
  return absl::InvalidArgumentError(
      absl::StrCat("consensus: ", absl::string_view(name.data(), name.size()),
                   ": ", message));
}

absl::Status ConsensusCore::Dispatch(ValidatorIndex from,
                                     const v1::ConsensusMessage& msg,
                                     bool internal) {
  switch (msg.kind_case()) {
    case v1::ConsensusMessage::kProposal:
      return HandleProposal(from, msg.proposal(), internal);
    case v1::ConsensusMessage::kVote:
      return HandleVote(from, msg.vote(), internal);
    case v1::ConsensusMessage::kTimeout:
      return HandleTimeout(from, msg.timeout(), internal);
    case v1::ConsensusMessage::kSyncInfo:
      return HandleSyncInfo(from, msg.sync_info());
    case v1::ConsensusMessage::kSyncRequest:
      return HandleSyncRequest(from, msg.sync_request());
    case v1::ConsensusMessage::kSyncResponse:
      return HandleSyncResponse(from, msg.sync_response());
    case v1::ConsensusMessage::KIND_NOT_SET:
      break;
  }
  return RejectWith(Reject::kMalformed, "empty message");
}

// ---------------------------------------------------------------------------
// Certificates.

absl::Status ConsensusCore::CheckQc(const v1::QuorumCert& qc) {
  if (qc.round() == 0) {
    return VerifyQuorumCert(config_.chain_id, config_.num_validators,
                            *env_.verifier, qc);
  }
  auto it = verified_qcs_.find(qc.block_id());
  if (it != verified_qcs_.end()) {
    const v1::QuorumCert& known = it->second;
    if (known.round() == qc.round() && known.height() == qc.height() &&
        known.parent_id() == qc.parent_id() &&
        known.parent_round() == qc.parent_round()) {
      return absl::OkStatus();
    }
  }
  absl::Status s = VerifyQuorumCert(config_.chain_id, config_.num_validators,
                                    *env_.verifier, qc);
  if (s.ok()) verified_qcs_.insert_or_assign(qc.block_id(), qc);
  return s;
}

absl::Status ConsensusCore::CheckTc(const v1::TimeoutCert& tc) {
  if (verified_tcs_.contains(tc.round())) return absl::OkStatus();
  absl::Status s = VerifyTimeoutCert(config_.chain_id, config_.num_validators,
                                     *env_.verifier, tc);
  if (s.ok()) verified_tcs_.emplace(tc.round(), tc);
  return s;
}

void ConsensusCore::ProcessQc(const v1::QuorumCert& in,
                              std::optional<ValidatorIndex> from,
                              bool fetch_missing) {
  // Use the verified copy: `in` may differ in signatures that were not
  // checked because an equivalent QC was verified before.
  v1::QuorumCert qc = in;
  if (qc.round() > 0) {
    auto it = verified_qcs_.find(qc.block_id());
    if (it != verified_qcs_.end()) qc = it->second;
  }
  if (qc.round() > safety_.highest_qc().round()) {
    *safety_.mutable_highest_qc() = qc;
    MarkSafetyDirty();
  }
  if (fetch_missing && qc.height() > committed_.height &&
      !tree_.Contains(qc.block_id())) {
    RequestBlock(qc.block_id(), qc.height(), from);
  }
  TryCommit(qc, from, fetch_missing);
  if (qc.round() >= current_round_) AdvanceRound(qc.round() + 1, true);
}

void ConsensusCore::ProcessTc(const v1::TimeoutCert& in) {
  v1::TimeoutCert tc = in;
  auto it = verified_tcs_.find(tc.round());
  if (it != verified_tcs_.end()) tc = it->second;
  if (!safety_.has_highest_tc() || tc.round() > safety_.highest_tc().round()) {
    *safety_.mutable_highest_tc() = tc;
    MarkSafetyDirty();
  }
  if (tc.round() >= current_round_) AdvanceRound(tc.round() + 1, false);
}

// ---------------------------------------------------------------------------
// Pacemaker.

uint64_t ConsensusCore::RoundDurationMs() const {
  uint64_t d = config_.base_timeout_ms;
  for (uint64_t i = 0; i < consecutive_timeouts_ && d < config_.max_timeout_ms;
       ++i) {
    d *= 2;
  }
  return std::min(d, config_.max_timeout_ms);
}

void ConsensusCore::AdvanceRound(uint64_t round, bool by_qc) {
  if (round <= current_round_) return;
  current_round_ = round;
  consecutive_timeouts_ = by_qc ? 0 : consecutive_timeouts_ + 1;
  env_.timer->Schedule(TimerKind::kRoundTimeout, round, RoundDurationMs());
  PruneOldRounds();
  if (LeaderOf(round) == config_.self) TryPropose();
}

void ConsensusCore::LocalTimeout(uint64_t round) {
  if (round != current_round_) return;
  const v1::QuorumCert& hqc = safety_.highest_qc();
  std::optional<TcSummary> last_tc;
  if (safety_.has_highest_tc()) last_tc = SummarizeTc(safety_.highest_tc());
  const uint64_t retransmit =
      std::min(RoundDurationMs(), config_.base_timeout_ms);
  if (!SafeToTimeout(round, hqc.round(), last_tc, safety_.highest_voted_round(),
                     hqc.round())) {
    env_.timer->Schedule(TimerKind::kRoundTimeout, round, retransmit);
    return;
  }
  absl::StatusOr<std::string> sig = env_.signer->Sign(
      kTimeoutDomain, TimeoutMessage(config_.chain_id, round, hqc.round()));
  if (!sig.ok()) {
    ++counters_.persist_failures;
    env_.timer->Schedule(TimerKind::kRoundTimeout, round, retransmit);
    return;
  }
  if (safety_.highest_voted_round() < round) {
    safety_.set_highest_voted_round(round);
    MarkSafetyDirty();
  }
  v1::ConsensusMessage msg;
  v1::TimeoutMsg* t = msg.mutable_timeout();
  t->set_round(round);
  *t->mutable_high_qc() = hqc;
  t->set_sender(config_.self);
  t->set_signature(*std::move(sig));
  if (last_tc.has_value() && last_tc->round + 1 == round) {
    *t->mutable_last_round_tc() = safety_.highest_tc();
  }
  timed_out_round_ = round;
  ++counters_.timeouts_sent;
  internal_.push_back(msg);
  Emit(std::nullopt, std::move(msg));
  ResendRequests(/*only_stale=*/false);
  env_.timer->Schedule(TimerKind::kRoundTimeout, round, retransmit);
}

void ConsensusCore::MaybeSendSyncInfo(ValidatorIndex to) {
  if (to == config_.self || to >= config_.num_validators ||
      sync_info_sent_round_[to] >= current_round_) {
    return;
  }
  sync_info_sent_round_[to] = current_round_;
  v1::ConsensusMessage msg;
  *msg.mutable_sync_info()->mutable_highest_qc() = safety_.highest_qc();
  if (safety_.has_highest_tc()) {
    *msg.mutable_sync_info()->mutable_highest_tc() = safety_.highest_tc();
  }
  Emit(to, std::move(msg));
}

// ---------------------------------------------------------------------------
// Proposals.

bool ConsensusCore::HasUncommittedPayload(const std::string& parent_id) const {
  for (const BlockEntry* e : tree_.PathFromRoot(parent_id)) {
    if (!e->block->payload().empty()) return true;
  }
  return false;
}

void ConsensusCore::TryPropose() {
  const uint64_t round = current_round_;
  if (LeaderOf(round) != config_.self || proposed_round_ >= round ||
      safety_.highest_voted_round() >= round) {
    return;
  }
  const v1::QuorumCert hqc = safety_.highest_qc();
  std::optional<v1::TimeoutCert> tc;
  if (hqc.round() + 1 != round) {
    if (!safety_.has_highest_tc() ||
        safety_.highest_tc().round() + 1 != round ||
        hqc.round() < SummarizeTc(safety_.highest_tc()).max_high_qc_round) {
      return;  // cannot justify a proposal; the round will time out
    }
    tc = safety_.highest_tc();
  }
  const BlockEntry* parent = tree_.Find(hqc.block_id());
  if (parent == nullptr) {
    RequestBlock(hqc.block_id(), hqc.height(), std::nullopt);
    return;  // OnBlockConnected retries
  }
  if (config_.batch_delay_ms > 0 && batch_expired_round_ != round &&
      !env_.payload_source->BatchFull()) {
    if (batch_wait_round_ != round) {
      batch_wait_round_ = round;
      env_.timer->Schedule(TimerKind::kPropose, round, config_.batch_delay_ms);
    }
    return;
  }
  std::vector<const BlockEntry*> path = tree_.PathFromRoot(hqc.block_id());
  PayloadContext ctx;
  ctx.round = round;
  ctx.height = parent->height + 1;
  ctx.parent_id = parent->id;
  // The other validators learn that the root committed only from the QC this
  // proposal carries: a root with records counts as pending too (else a lone
  // record would wait the idle delay before its submitter hears it commit).
  const BlockEntry& root = tree_.root();
  bool pending = root.block.has_value() && !root.block->payload().empty();
  for (const BlockEntry* e : path) {
    ctx.pending_payloads.push_back(e->block->payload());
    pending = pending || !e->block->payload().empty();
  }
  std::string payload = env_.payload_source->NextPayload(ctx);
  if (payload.empty() && !pending && idle_expired_round_ != round &&
      config_.idle_proposal_delay_ms > 0) {
    if (idle_wait_round_ != round) {
      idle_wait_round_ = round;
      env_.timer->Schedule(TimerKind::kPropose, round,
                           config_.idle_proposal_delay_ms);
    }
    return;
  }

  v1::ConsensusMessage msg;
  v1::Proposal* p = msg.mutable_proposal();
  v1::Block* b = p->mutable_block();
  b->set_round(round);
  b->set_height(parent->height + 1);
  b->set_parent_id(parent->id);
  *b->mutable_qc() = hqc;
  b->set_payload(std::move(payload));
  b->set_author(config_.self);
  b->set_timestamp_ms(std::max(env_.clock->NowMs(), parent->timestamp_ms + 1));
  if (tc.has_value()) *p->mutable_tc() = *tc;
  const std::string id = BlockId(config_.chain_id, *b);
  absl::StatusOr<std::string> sig = env_.signer->Sign(
      kProposalDomain, ProposalMessage(config_.chain_id, round, id));
  if (!sig.ok()) {
    ++counters_.persist_failures;
    return;
  }
  p->set_signature(*std::move(sig));
  proposed_round_ = round;
  ++counters_.proposals_sent;
  // Our own copy goes through the normal path at once: it enters the tree and
  // gets our vote, so highest_voted_round covers it (and is persisted by
  // Finish) before the proposal leaves. After a restart we never propose a
  // second, different block for this round.
  own_proposal_id_ = id;
  (void)HandleProposal(config_.self, msg.proposal(), /*internal=*/true);
  Emit(std::nullopt, std::move(msg));
}

absl::Status ConsensusCore::HandleProposal(ValidatorIndex from,
                                           const v1::Proposal& p,
                                           bool internal) {
  if (!p.has_block()) return RejectWith(Reject::kMalformed, "no block");
  const v1::Block& b = p.block();
  if (!WellFormedBlock(b)) {
    return RejectWith(Reject::kMalformed, "inconsistent block fields");
  }
  if (b.author() >= config_.num_validators) {
    return RejectWith(Reject::kUnknownSender, "author is not a validator");
  }
  if (LeaderOf(b.round()) != b.author()) {
    return RejectWith(Reject::kWrongLeader, "author does not lead the round");
  }
  const bool has_tc = p.has_tc();
  if (has_tc && p.tc().round() + 1 != b.round()) {
    return RejectWith(Reject::kMalformed, "TC is not for the previous round");
  }
  if (b.qc().round() + 1 != b.round() && !has_tc) {
    return RejectWith(Reject::kMalformed, "round not justified by QC or TC");
  }
  if (b.height() <= committed_.height) {
    return RejectWith(Reject::kStaleRound, "block at a committed height");
  }
  const std::string id = BlockId(config_.chain_id, b);
  if (const BlockEntry* e = tree_.Find(id); e != nullptr && e->proposed) {
    ++counters_.duplicates;
    TryVote(id);
    return absl::OkStatus();
  }
  if (!internal &&
      !env_.verifier->Verify(b.author(), kProposalDomain,
                             ProposalMessage(config_.chain_id, b.round(), id),
                             p.signature())) {
    return RejectWith(Reject::kBadSignature, "proposal signature");
  }
  if (absl::Status s = CheckQc(b.qc()); !s.ok()) {
    return RejectWith(Reject::kInvalidQc, s.message());
  }
  std::optional<v1::TimeoutCert> tc;
  if (has_tc) {
    if (absl::Status s = CheckTc(p.tc()); !s.ok()) {
      return RejectWith(Reject::kInvalidTc, s.message());
    }
    tc = p.tc();
  }
  if (!internal) CheckProposalEquivocation(p, id);
  ProcessQc(b.qc(), from);
  if (tc.has_value()) ProcessTc(*tc);
  if (!AddBlock(id, b, from, /*proposed=*/true, tc)) {
    return RejectWith(Reject::kConflictingBlock,
                      "block conflicts with the committed chain");
  }
  TryVote(id);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Voting.

void ConsensusCore::TryVote(const std::string& id) {
  BlockEntry* e = tree_.Find(id);
  if (e == nullptr || !e->proposed || !e->block.has_value() ||
      e->vote_refused || e->round != current_round_) {
    return;
  }
  const v1::Block& b = *e->block;
  const BlockEntry* parent = tree_.Find(b.parent_id());
  if (parent == nullptr) return;
  if (b.timestamp_ms() <= parent->timestamp_ms ||
      b.timestamp_ms() >
          env_.clock->NowMs() + config_.max_block_time_drift_ms) {
    e->vote_refused = true;
    (void)RejectWith(Reject::kBadBlockTime, "block time");
    return;
  }
  if (!e->payload_valid) {
    switch (env_.payload_validator->Check(id, b)) {
      case PayloadStatus::kValid:
        e->payload_valid = true;
        e->payload_unavailable = false;
        break;
      case PayloadStatus::kInvalid:
        e->vote_refused = true;
        (void)RejectWith(Reject::kInvalidPayload, "payload");
        return;
      case PayloadStatus::kUnavailable:
        e->payload_unavailable = true;
        return;  // OnPayloadAvailable retries
    }
  }
  std::optional<TcSummary> tc;
  if (e->tc.has_value()) tc = SummarizeTc(*e->tc);
  if (!SafeToVote(b.round(), b.qc().round(), tc,
                  safety_.highest_voted_round())) {
    return;
  }
  v1::ConsensusMessage msg;
  v1::Vote* v = msg.mutable_vote();
  v->set_block_id(id);
  v->set_round(b.round());
  v->set_height(b.height());
  v->set_parent_id(b.parent_id());
  v->set_parent_round(b.qc().round());
  v->set_voter(config_.self);
  absl::StatusOr<std::string> sig =
      env_.signer->Sign(kVoteDomain, VoteMessage(config_.chain_id, *v));
  if (!sig.ok()) {
    ++counters_.persist_failures;
    return;
  }
  v->set_signature(*std::move(sig));
  if (VoteCommitsParent(v->round(), v->height(), v->parent_round())) {
    absl::StatusOr<std::string> commit_sig = env_.signer->Sign(
        kCommitDomain,
        CommitMessage(config_.chain_id, v->height() - 1, v->parent_id()));
    if (!commit_sig.ok()) {
      ++counters_.persist_failures;
      return;
    }
    v->set_commit_signature(*std::move(commit_sig));
  }
  // Persisted by Finish() before the vote leaves.
  safety_.set_highest_voted_round(
      std::max(safety_.highest_voted_round(), b.round()));
  MarkSafetyDirty();
  ++counters_.votes_sent;
  SendTo(LeaderOf(b.round() + 1), std::move(msg));
}

absl::Status ConsensusCore::HandleVote(ValidatorIndex from,
                                       const v1::Vote& vote, bool internal) {
  const uint64_t round = vote.round();
  if (round == 0 || vote.height() == 0 || vote.parent_round() >= round) {
    return RejectWith(Reject::kMalformed, "vote fields");
  }
  if (vote.voter() >= config_.num_validators) {
    return RejectWith(Reject::kUnknownSender, "voter is not a validator");
  }
  if (LeaderOf(round + 1) != config_.self) {
    return RejectWith(Reject::kWrongLeader, "vote for another leader");
  }
  if (round + 1 < current_round_) {
    if (!internal) MaybeSendSyncInfo(from);
    return RejectWith(Reject::kStaleRound, "vote");
  }
  if (round > current_round_ + config_.max_round_lookahead) {
    return RejectWith(Reject::kFarFutureRound, "vote");
  }
  const bool commits =
      VoteCommitsParent(round, vote.height(), vote.parent_round());
  if (commits == vote.commit_signature().empty()) {
    return RejectWith(Reject::kMalformed, "commit signature presence");
  }
  if (!internal) {
    if (!env_.verifier->Verify(vote.voter(), kVoteDomain,
                               VoteMessage(config_.chain_id, vote),
                               vote.signature())) {
      return RejectWith(Reject::kBadSignature, "vote signature");
    }
    if (commits && !env_.verifier->Verify(
                       vote.voter(), kCommitDomain,
                       CommitMessage(config_.chain_id, vote.height() - 1,
                                     vote.parent_id()),
                       vote.commit_signature())) {
      return RejectWith(Reject::kBadSignature, "commit signature");
    }
    if (!CheckVoteEquivocation(vote)) return absl::OkStatus();
  }
  auto agg = votes_.try_emplace(round, config_.num_validators).first;
  std::optional<v1::QuorumCert> qc = agg->second.Add(config_.chain_id, vote);
  if (qc.has_value()) {
    ++counters_.qcs_formed;
    verified_qcs_.insert_or_assign(qc->block_id(), *qc);
    ProcessQc(*qc, internal ? std::nullopt : std::optional(from));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Timeouts and sync info.

absl::Status ConsensusCore::HandleTimeout(ValidatorIndex from,
                                          const v1::TimeoutMsg& t,
                                          bool internal) {
  const uint64_t round = t.round();
  if (round == 0 || !t.has_high_qc() || t.high_qc().round() >= round) {
    return RejectWith(Reject::kMalformed, "timeout fields");
  }
  if (t.sender() >= config_.num_validators) {
    return RejectWith(Reject::kUnknownSender, "sender is not a validator");
  }
  const bool has_tc = t.has_last_round_tc();
  if (has_tc && t.last_round_tc().round() + 1 != round) {
    return RejectWith(Reject::kMalformed, "TC is not for the previous round");
  }
  // An honest validator only times out in a round its certificates justify.
  if (t.high_qc().round() + 1 != round && !has_tc) {
    return RejectWith(Reject::kMalformed, "round not justified");
  }
  if (round + 1 < current_round_ && !internal) {
    // A laggard: help it catch up. Its QC may still be news to us if we
    // advanced by timeout certificates.
    MaybeSendSyncInfo(from);
    if (t.high_qc().round() > safety_.highest_qc().round() &&
        CheckQc(t.high_qc()).ok()) {
      ProcessQc(t.high_qc(), from);
    }
    return RejectWith(Reject::kStaleRound, "timeout");
  }
  if (!internal &&
      !env_.verifier->Verify(
          t.sender(), kTimeoutDomain,
          TimeoutMessage(config_.chain_id, round, t.high_qc().round()),
          t.signature())) {
    return RejectWith(Reject::kBadSignature, "timeout signature");
  }
  if (absl::Status s = CheckQc(t.high_qc()); !s.ok()) {
    return RejectWith(round > current_round_ + config_.max_round_lookahead
                          ? Reject::kFarFutureRound
                          : Reject::kInvalidQc,
                      s.message());
  }
  if (has_tc) {
    if (absl::Status s = CheckTc(t.last_round_tc()); !s.ok()) {
      return RejectWith(Reject::kInvalidTc, s.message());
    }
  }
  ProcessQc(t.high_qc(), internal ? std::nullopt : std::optional(from));
  if (has_tc) ProcessTc(t.last_round_tc());
  if (round < current_round_) return absl::OkStatus();  // already past it

  auto agg = timeouts_.try_emplace(round, config_.num_validators, round).first;
  std::optional<v1::TimeoutCert> tc = agg->second.Add(t);
  if (tc.has_value()) {
    ++counters_.tcs_formed;
    verified_tcs_.insert_or_assign(round, *tc);
    ProcessTc(*tc);
  } else if (round == current_round_ && timed_out_round_ < round &&
             agg->second.count() > MaxFaulty(config_.num_validators)) {
    // f+1 validators gave up on this round, so at least one honest one did:
    // join them rather than wait for our own timer.
    LocalTimeout(round);
  }
  return absl::OkStatus();
}

absl::Status ConsensusCore::HandleSyncInfo(ValidatorIndex from,
                                           const v1::SyncInfo& info) {
  if (!info.has_highest_qc()) {
    return RejectWith(Reject::kMalformed, "sync info without QC");
  }
  const bool useful_qc =
      info.highest_qc().round() > safety_.highest_qc().round() ||
      (info.highest_qc().height() > committed_.height + 1 &&
       !verified_qcs_.contains(info.highest_qc().block_id()));
  if (useful_qc) {
    if (absl::Status s = CheckQc(info.highest_qc()); !s.ok()) {
      return RejectWith(Reject::kInvalidQc, s.message());
    }
    ProcessQc(info.highest_qc(), from);
  }
  if (info.has_highest_tc() && info.highest_tc().round() >= current_round_) {
    if (absl::Status s = CheckTc(info.highest_tc()); !s.ok()) {
      return RejectWith(Reject::kInvalidTc, s.message());
    }
    ProcessTc(info.highest_tc());
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Blocks and block sync.

std::optional<v1::Block> ConsensusCore::LookupBlock(const std::string& id) {
  if (const BlockEntry* e = tree_.Find(id); e != nullptr && e->block) {
    return e->block;
  }
  if (auto it = recent_committed_.find(id); it != recent_committed_.end()) {
    return it->second;
  }
  absl::StatusOr<std::optional<v1::Block>> stored = env_.block_store->Get(id);
  if (stored.ok()) return *stored;
  return std::nullopt;
}

BlockEntry* ConsensusCore::InsertConnected(
    const std::string& id, const v1::Block& block, bool proposed,
    const std::optional<v1::TimeoutCert>& tc) {
  const bool existed = tree_.Contains(id);
  BlockEntry* e = tree_.Insert(id, block);
  if (e == nullptr) return nullptr;
  if (!existed && !env_.block_store->Put(id, block).ok()) {
    ++counters_.persist_failures;
  }
  if (proposed && !e->proposed) {
    e->proposed = true;
    e->tc = tc;
  }
  if (id == own_proposal_id_) e->payload_valid = true;  // we built it
  return e;
}

bool ConsensusCore::AddBlock(const std::string& id, const v1::Block& block,
                             std::optional<ValidatorIndex> from, bool proposed,
                             const std::optional<v1::TimeoutCert>& tc) {
  if (tree_.Contains(id)) {
    InsertConnected(id, block, proposed, tc);
    return true;
  }
  if (block.height() <= committed_.height) {
    auto it = committed_ids_by_height_.find(block.height());
    return it == committed_ids_by_height_.end() || it->second == id;
  }
  if (InsertConnected(id, block, proposed, tc) != nullptr) {
    requested_.erase(id);
    OnBlockConnected(id);
    return true;
  }
  // Parent unknown.
  if (block.height() == committed_.height + 1) {
    return false;  // its parent would have to be our committed head
  }
  const bool kept = orphan_ids_.contains(id) || AddOrphan(Orphan{id, block, proposed, tc});
  requested_.erase(id);
  // A block the full buffer could not keep is fetched again on a later pass;
  // chasing its parents now would only fetch more blocks it cannot keep.
  if (kept) RequestBlock(block.parent_id(), block.height() - 1, from);
  return true;
}

bool ConsensusCore::AddOrphan(Orphan o) {
  if (orphan_ids_.size() >= config_.max_orphan_blocks) {
    if (orphans_by_height_.empty()) return false;
    auto highest = std::prev(orphans_by_height_.end());
    if (highest->first.first <= o.block.height()) return false;
    const std::string evict = highest->first.second;
    auto it = orphans_.find(highest->second);
    ForgetOrphanId(evict, highest->first.first);
    if (it != orphans_.end()) {
      std::erase_if(it->second, [&](const Orphan& x) { return x.id == evict; });
      if (it->second.empty()) orphans_.erase(it);
    }
  }
  orphan_ids_.insert(o.id);
  orphans_by_height_.emplace(std::make_pair(o.block.height(), o.id), o.block.parent_id());
  std::string parent = o.block.parent_id();
  orphans_[parent].push_back(std::move(o));
  return true;
}

void ConsensusCore::ForgetOrphanId(const std::string& id, uint64_t height) {
  orphan_ids_.erase(id);
  orphans_by_height_.erase({height, id});
}

void ConsensusCore::OnBlockConnected(const std::string& first) {
  std::vector<std::string> connected = {first};
  for (size_t i = 0; i < connected.size(); ++i) {
    auto it = orphans_.find(connected[i]);
    if (it == orphans_.end()) continue;
    std::vector<Orphan> children = std::move(it->second);
    orphans_.erase(it);
    for (Orphan& o : children) {
      ForgetOrphanId(o.id, o.block.height());
      requested_.erase(o.id);
      if (InsertConnected(o.id, o.block, o.proposed, o.tc) != nullptr) {
        connected.push_back(o.id);
      }
    }
  }
  for (const std::string& id : connected) {
    const BlockEntry* e = tree_.Find(id);
    if (e != nullptr && e->block.has_value()) {
      // The block's QC may now commit something we could not before.
      TryCommit(e->block->qc(), std::nullopt);
    }
    TryVote(id);
  }
  RetryPendingCommit();
  if (tree_.Contains(safety_.highest_qc().block_id())) TryPropose();
}

void ConsensusCore::RequestBlock(const std::string& id, uint64_t height,
                                 std::optional<ValidatorIndex> from) {
  if (config_.num_validators == 1 || height <= committed_.height ||
      tree_.Contains(id) || orphan_ids_.contains(id)) {
    return;
  }
  // Outstanding requests are retried by ResendRequests on a local timeout.
  if (requested_.contains(id)) return;
  ValidatorIndex peer =
      from.value_or((config_.self + 1) % config_.num_validators);
  if (peer == config_.self) peer = (peer + 1) % config_.num_validators;
  requested_[id] = Request{env_.clock->NowMs(), peer, height};
  SendSyncRequest(id, height, peer);
}

void ConsensusCore::SendSyncRequest(const std::string& id, uint64_t height,
                                    ValidatorIndex peer) {
  v1::ConsensusMessage msg;
  msg.mutable_sync_request()->set_block_id(id);
  msg.mutable_sync_request()->set_max_blocks(static_cast<uint32_t>(
      std::min<uint64_t>(config_.sync_max_blocks, height - committed_.height)));
  ++counters_.sync_requests_sent;
  Emit(peer, std::move(msg));
}

void ConsensusCore::ResendRequests(bool only_stale) {
  if (config_.num_validators == 1 || requested_.empty()) return;
  const int64_t now = env_.clock->NowMs();
  const auto retry = static_cast<int64_t>(config_.sync_retry_ms);
  if (only_stale) {
    if (now < next_stale_check_ms_) return;
    next_stale_check_ms_ = now + retry / 2;
  }
  for (auto it = requested_.begin(); it != requested_.end();) {
    if (it->second.height <= committed_.height) {
      it = requested_.erase(it);
      continue;
    }
    if (only_stale && now - it->second.sent_ms < retry) {
      ++it;
      continue;
    }
    // Ask the next peer this time: the last one may be down or lying.
    ValidatorIndex peer = (it->second.peer + 1) % config_.num_validators;
    if (peer == config_.self) peer = (peer + 1) % config_.num_validators;
    it->second.peer = peer;
    it->second.sent_ms = now;
    SendSyncRequest(it->first, it->second.height, peer);
    ++it;
  }
}

absl::Status ConsensusCore::HandleSyncRequest(ValidatorIndex from,
                                              const v1::SyncRequest& req) {
  SyncBudget& budget = sync_budget_[from];
  const int64_t now = env_.clock->NowMs();
  if (now - budget.window_start_ms >= 1000 || now < budget.window_start_ms) {
    budget.window_start_ms = now;
    budget.answered = 0;
  }
  if (budget.answered >= config_.sync_requests_per_second) {
    ++counters_.sync_requests_dropped;
    return absl::OkStatus();
  }
  ++budget.answered;
  uint32_t max = std::min(std::max<uint32_t>(req.max_blocks(), 1),
                          config_.sync_max_blocks);
  v1::ConsensusMessage msg;
  v1::SyncResponse* resp = msg.mutable_sync_response();
  std::string id = req.block_id();
  while (resp->blocks_size() < static_cast<int>(max)) {
    std::optional<v1::Block> b = LookupBlock(id);
    if (!b.has_value()) break;
    id = b->parent_id();
    const uint64_t height = b->height();
    *resp->add_blocks() = *std::move(b);
    if (height <= 1) break;
  }
  if (resp->blocks_size() > 0) Emit(from, std::move(msg));
  return absl::OkStatus();
}

absl::Status ConsensusCore::HandleSyncResponse(ValidatorIndex from,
                                               const v1::SyncResponse& resp) {
  if (resp.blocks_size() == 0) {
    return RejectWith(Reject::kMalformed, "empty sync response");
  }
  std::vector<std::string> ids;
  ids.reserve(resp.blocks_size());
  for (int i = 0; i < resp.blocks_size(); ++i) {
    const v1::Block& b = resp.blocks(i);
    if (!WellFormedBlock(b) || b.author() >= config_.num_validators ||
        LeaderOf(b.round()) != b.author()) {
      return RejectWith(Reject::kMalformed, "synced block fields");
    }
    ids.push_back(BlockId(config_.chain_id, b));
    if (i > 0 && resp.blocks(i - 1).parent_id() != ids.back()) {
      return RejectWith(Reject::kUnsolicitedSync, "blocks are not a chain");
    }
  }
  if (!requested_.contains(ids.front())) {
    if (tree_.Contains(ids.front()) || orphan_ids_.contains(ids.front())) {
      ++counters_.duplicates;
      return absl::OkStatus();
    }
    return RejectWith(Reject::kUnsolicitedSync, "block was not requested");
  }
  // The ids are authenticated by the hash chain from a block we asked for;
  // the QCs inside are not covered by the ids and are checked here.
  for (const v1::Block& b : resp.blocks()) {
    if (absl::Status s = CheckQc(b.qc()); !s.ok()) {
      return RejectWith(Reject::kInvalidQc, s.message());
    }
  }
  for (int i = resp.blocks_size() - 1; i >= 0; --i) {
    if (!AddBlock(ids[i], resp.blocks(i), from, /*proposed=*/false,
                  std::nullopt)) {
      return RejectWith(Reject::kConflictingBlock,
                        "synced chain conflicts with the committed chain");
    }
  }
  for (int i = resp.blocks_size() - 1; i >= 0; --i) {
    ProcessQc(resp.blocks(i).qc(), from, /*fetch_missing=*/false);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Commit.

void ConsensusCore::TryCommit(const v1::QuorumCert& qc,
                              std::optional<ValidatorIndex> from,
                              bool fetch_missing) {
  if (!QcCommitsParent(qc) || !halted_.ok()) return;
  const std::string& target = qc.parent_id();
  const uint64_t target_height = qc.height() - 1;
  if (target_height <= committed_.height) {
    auto it = committed_ids_by_height_.find(target_height);
    if (it != committed_ids_by_height_.end() && it->second != target) {
      ++counters_.conflicting_commits;
    }
    return;
  }
  std::vector<const BlockEntry*> path = tree_.PathFromRoot(target);
  if (path.empty()) {
    if (!pending_commit_.has_value() || pending_commit_->round() < qc.round()) {
      pending_commit_ = qc;
    }
    if (fetch_missing) RequestBlock(target, target_height, from);
    return;
  }
  std::vector<BlockEntry> entries = tree_.CommitTo(target);
  std::vector<v1::Block> blocks;
  blocks.reserve(entries.size());
  for (BlockEntry& e : entries) {
    recent_committed_.emplace(e.id, *e.block);
    committed_ids_by_height_[e.height] = e.id;
    blocks.push_back(std::move(*e.block));
  }
  const BlockEntry& last = entries.back();
  committed_.height = last.height;
  committed_.round = last.round;
  committed_.block_id = last.id;
  committed_.timestamp_ms = last.timestamp_ms;
  counters_.blocks_committed += blocks.size();

  // Forget what the commit made irrelevant.
  while (recent_committed_.size() > config_.retain_committed_blocks &&
         !committed_ids_by_height_.empty()) {
    auto oldest = committed_ids_by_height_.begin();
    recent_committed_.erase(oldest->second);
    committed_ids_by_height_.erase(oldest);
  }
  for (auto it = orphans_.begin(); it != orphans_.end();) {
    std::vector<Orphan>& list = it->second;
    std::erase_if(list, [&](const Orphan& o) {
      if (o.block.height() > committed_.height) return false;
      ForgetOrphanId(o.id, o.block.height());
      return true;
    });
    it = list.empty() ? orphans_.erase(it) : std::next(it);
  }
  if (pending_commit_.has_value() &&
      pending_commit_->height() - 1 <= committed_.height) {
    pending_commit_.reset();
  }

  absl::Status s =
      env_.commit_sink->Deliver(blocks, CommitCertificateFromQc(qc));
  if (!s.ok()) halted_ = s;
}

void ConsensusCore::RetryPendingCommit() {
  if (!pending_commit_.has_value()) return;
  v1::QuorumCert qc = *std::move(pending_commit_);
  pending_commit_.reset();
  TryCommit(qc, std::nullopt);
}

// ---------------------------------------------------------------------------
// Equivocation.

void ConsensusCore::ReportEvidence(const v1::EquivocationEvidence& evidence,
                                   int kind) {
  if (!reported_.emplace(evidence.round(), evidence.validator(), kind).second) {
    return;
  }
  ++counters_.equivocations;
  if (env_.evidence_sink != nullptr) env_.evidence_sink->Report(evidence);
}

void ConsensusCore::CheckProposalEquivocation(const v1::Proposal& p,
                                              const std::string& id) {
  const v1::Block& b = p.block();
  if (b.round() + kEvidenceWindow < current_round_) return;
  v1::SignedProposalHeader header;
  header.set_round(b.round());
  header.set_block_id(id);
  header.set_author(b.author());
  header.set_signature(p.signature());
  auto [it, inserted] =
      seen_proposals_.try_emplace({b.round(), b.author()}, header);
  if (inserted || it->second.block_id() == id) return;
  v1::EquivocationEvidence ev;
  ev.set_validator(b.author());
  ev.set_round(b.round());
  *ev.mutable_proposal_a() = it->second;
  *ev.mutable_proposal_b() = std::move(header);
  ReportEvidence(ev, 0);
}

bool ConsensusCore::CheckVoteEquivocation(const v1::Vote& vote) {
  auto [it, inserted] =
      seen_votes_.try_emplace({vote.round(), vote.voter()}, vote);
  if (inserted) return true;
  if (it->second.block_id() == vote.block_id()) return true;  // retransmit
  v1::EquivocationEvidence ev;
  ev.set_validator(vote.voter());
  ev.set_round(vote.round());
  *ev.mutable_vote_a() = it->second;
  *ev.mutable_vote_b() = vote;
  ReportEvidence(ev, 1);
  return false;
}

void ConsensusCore::PruneOldRounds() {
  const uint64_t r = current_round_;
  votes_.erase(votes_.begin(), votes_.lower_bound(r >= 1 ? r - 1 : 0));
  timeouts_.erase(timeouts_.begin(), timeouts_.lower_bound(r >= 1 ? r - 1 : 0));
  verified_tcs_.erase(verified_tcs_.begin(),
                      verified_tcs_.lower_bound(r >= 2 ? r - 2 : 0));
  const uint64_t keep = r > kEvidenceWindow ? r - kEvidenceWindow : 0;
  seen_proposals_.erase(seen_proposals_.begin(),
                        seen_proposals_.lower_bound({keep, 0}));
  seen_votes_.erase(seen_votes_.begin(), seen_votes_.lower_bound({keep, 0}));
  reported_.erase(reported_.begin(), reported_.lower_bound({keep, 0, 0}));
  for (auto it = verified_qcs_.begin(); it != verified_qcs_.end();) {
    if (it->second.height() < committed_.height) {
      it = verified_qcs_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace cdl::consensus
