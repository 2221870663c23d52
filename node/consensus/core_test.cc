#include "node/consensus/core.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "node/consensus/certificates.h"
#include "node/consensus/encoding.h"
#include "node/consensus/key_signer.h"
#include "node/consensus/testing/fake_crypto.h"
#include "node/consensus/testing/memory_stores.h"

namespace cdl::consensus {
namespace {

using testing::FakeSigner;
using testing::FakeVerifier;
using testing::MemoryBlockStore;
using testing::MemorySafetyStore;

constexpr char kChain[] = "core-test";
constexpr uint64_t kSeed = 7;
constexpr int64_t kNow = 1'000'000;

struct Sent {
  std::optional<ValidatorIndex> to;  // nullopt: broadcast
  v1::ConsensusMessage msg;
};

struct Scheduled {
  TimerKind kind;
  uint64_t round;
  uint64_t delay_ms;
};

// One validator's core with recording fakes for every interface.
class Harness : public Transport,
                public Timer,
                public Clock,
                public PayloadSource,
                public PayloadValidator,
                public CommitSink,
                public EvidenceSink {
 public:
  Harness(uint32_t n, ValidatorIndex self,
          std::unique_ptr<Signer> signer = nullptr,
          const Verifier* verifier = nullptr)
      : fake_verifier_(kSeed, n),
        signer_(signer ? std::move(signer)
                       : std::make_unique<FakeSigner>(kSeed, self)),
        verifier_(verifier ? verifier : &fake_verifier_) {
    config.chain_id = kChain;
    config.num_validators = n;
    config.self = self;
    config.genesis_time_ms = 0;
    config.base_timeout_ms = 1000;
    config.max_timeout_ms = 8000;
    head = CommittedHead::Genesis(config);
  }

  void Start() {
    Environment env;
    env.transport = this;
    env.timer = this;
    env.clock = this;
    env.safety_store = &safety;
    env.block_store = &blocks;
    env.signer = signer_.get();
    env.verifier = verifier_;
    env.payload_source = this;
    env.payload_validator = this;
    env.commit_sink = this;
    env.evidence_sink = this;
    absl::StatusOr<std::unique_ptr<ConsensusCore>> c =
        ConsensusCore::Create(config, env, head);
    ASSERT_TRUE(c.ok()) << c.status();
    core = *std::move(c);
    core->OnStart();
  }

  // A crash: the core goes, the stores ("disk") and commit log stay.
  void Restart() {
    core.reset();
    Start();
  }

  absl::Status Receive(ValidatorIndex from, const v1::ConsensusMessage& msg) {
    return core->OnMessage(from, msg);
  }

  std::vector<v1::Vote> Votes() const {
    std::vector<v1::Vote> out;
    for (const Sent& s : sent) {
      if (s.msg.has_vote()) out.push_back(s.msg.vote());
    }
    return out;
  }
  int Count(v1::ConsensusMessage::KindCase kind) const {
    int n = 0;
    for (const Sent& s : sent) n += s.msg.kind_case() == kind;
    return n;
  }
  std::optional<Scheduled> LastRoundTimer() const {
    for (auto it = timers.rbegin(); it != timers.rend(); ++it) {
      if (it->kind == TimerKind::kRoundTimeout) return *it;
    }
    return std::nullopt;
  }
  uint64_t CommittedHeight() const {
    return committed.empty() ? 0 : committed.back().height();
  }

  // Transport: also checks that the safety state covering a vote, timeout or
  // proposal is on "disk" before the message leaves.
  void Send(ValidatorIndex to, const v1::ConsensusMessage& msg) override {
    CheckPersisted(msg);
    sent.push_back({to, msg});
  }
  void Broadcast(const v1::ConsensusMessage& msg) override {
    CheckPersisted(msg);
    sent.push_back({std::nullopt, msg});
  }
  void Schedule(TimerKind kind, uint64_t round, uint64_t delay_ms) override {
    timers.push_back({kind, round, delay_ms});
  }
  int64_t NowMs() override { return now; }
  std::string NextPayload(const PayloadContext&) override {
    std::string p = payload;
    if (payload_once) payload.clear();
    return p;
  }
  bool BatchFull() override { return batch_full; }
  PayloadStatus Check(std::string_view, const v1::Block&) override {
    return payload_status;
  }
  absl::Status Deliver(const std::vector<v1::Block>& blocks_in,
                       const v1::CommitCertificate& cert) override {
    deliveries.push_back(blocks_in);
    for (const v1::Block& b : blocks_in) committed.push_back(b);
    certs.push_back(cert);
    head.height = blocks_in.back().height();
    head.round = blocks_in.back().round();
    head.block_id = cert.block_id();
    head.timestamp_ms = blocks_in.back().timestamp_ms();
    return absl::OkStatus();
  }
  void Report(const v1::EquivocationEvidence& e) override {
    evidence.push_back(e);
  }

  ConsensusConfig config;
  CommittedHead head;
  MemorySafetyStore safety;
  MemoryBlockStore blocks;
  std::unique_ptr<ConsensusCore> core;
  std::vector<Sent> sent;
  std::vector<Scheduled> timers;
  int64_t now = kNow;
  std::string payload = "p-records";
  bool payload_once = false;  // the next proposal takes `payload`, later ones nothing
  bool batch_full = false;
  PayloadStatus payload_status = PayloadStatus::kValid;
  std::vector<std::vector<v1::Block>> deliveries;
  std::vector<v1::Block> committed;
  std::vector<v1::CommitCertificate> certs;
  std::vector<v1::EquivocationEvidence> evidence;
  int unpersisted_sends = 0;

 private:
  void CheckPersisted(const v1::ConsensusMessage& msg) {
    uint64_t round = 0;
    if (msg.has_vote()) round = msg.vote().round();
    if (msg.has_timeout()) round = msg.timeout().round();
    if (msg.has_proposal()) round = msg.proposal().block().round();
    if (round == 0) return;
    if (!safety.state().has_value() ||
        safety.state()->highest_voted_round() < round) {
      ++unpersisted_sends;
    }
  }

  FakeVerifier fake_verifier_;
  std::unique_ptr<Signer> signer_;
  const Verifier* verifier_;
};

// Builders for messages of the other validators (fake signatures).
uint32_t LeaderOf(uint64_t round, uint32_t n = 4) { return round % n; }

v1::Block MakeBlock(uint64_t round, const v1::QuorumCert& qc,
                    std::string payload = "p", uint32_t n = 4) {
  v1::Block b;
  b.set_round(round);
  b.set_height(qc.height() + 1);
  b.set_parent_id(qc.block_id());
  *b.mutable_qc() = qc;
  b.set_payload(std::move(payload));
  b.set_author(LeaderOf(round, n));
  b.set_timestamp_ms(1000 + static_cast<int64_t>(round));
  return b;
}

v1::ConsensusMessage ProposalMsg(const v1::Block& b,
                                 const v1::TimeoutCert* tc = nullptr,
                                 Signer* signer = nullptr) {
  FakeSigner fake(kSeed, b.author());
  Signer* s = signer ? signer : &fake;
  v1::ConsensusMessage m;
  *m.mutable_proposal()->mutable_block() = b;
  if (tc != nullptr) *m.mutable_proposal()->mutable_tc() = *tc;
  m.mutable_proposal()->set_signature(*s->Sign(
      kProposalDomain, ProposalMessage(kChain, b.round(), BlockId(kChain, b))));
  return m;
}

v1::Vote MakeVote(ValidatorIndex voter, const v1::Block& b) {
  v1::Vote v;
  v.set_block_id(BlockId(kChain, b));
  v.set_round(b.round());
  v.set_height(b.height());
  v.set_parent_id(b.parent_id());
  v.set_parent_round(b.qc().round());
  v.set_voter(voter);
  FakeSigner s(kSeed, voter);
  v.set_signature(*s.Sign(kVoteDomain, VoteMessage(kChain, v)));
  if (v.height() > 1 && v.parent_round() + 1 == v.round()) {
    v.set_commit_signature(*s.Sign(
        kCommitDomain, CommitMessage(kChain, v.height() - 1, v.parent_id())));
  }
  return v;
}

v1::ConsensusMessage VoteMsg(const v1::Vote& v) {
  v1::ConsensusMessage m;
  *m.mutable_vote() = v;
  return m;
}

v1::QuorumCert MakeQc(const v1::Block& b,
                      const std::vector<ValidatorIndex>& voters = {0, 1, 2}) {
  VoteAggregator agg(4);
  std::optional<v1::QuorumCert> qc;
  for (ValidatorIndex v : voters) qc = agg.Add(kChain, MakeVote(v, b));
  return *qc;
}

v1::TimeoutMsg MakeTimeout(ValidatorIndex sender, uint64_t round,
                           const v1::QuorumCert& hqc,
                           const v1::TimeoutCert* last_tc = nullptr) {
  v1::TimeoutMsg t;
  t.set_round(round);
  *t.mutable_high_qc() = hqc;
  t.set_sender(sender);
  t.set_signature(
      *FakeSigner(kSeed, sender)
           .Sign(kTimeoutDomain, TimeoutMessage(kChain, round, hqc.round())));
  if (last_tc != nullptr) *t.mutable_last_round_tc() = *last_tc;
  return t;
}

v1::ConsensusMessage TimeoutMsg(const v1::TimeoutMsg& t) {
  v1::ConsensusMessage m;
  *m.mutable_timeout() = t;
  return m;
}

v1::ConsensusMessage SyncInfoMsg(const v1::QuorumCert& qc) {
  v1::ConsensusMessage m;
  *m.mutable_sync_info()->mutable_highest_qc() = qc;
  return m;
}

v1::TimeoutCert MakeTc(uint64_t round, const v1::QuorumCert& hqc,
                       const std::vector<ValidatorIndex>& senders = {0, 1, 2}) {
  TimeoutAggregator agg(4, round);
  std::optional<v1::TimeoutCert> tc;
  for (ValidatorIndex s : senders) tc = agg.Add(MakeTimeout(s, round, hqc));
  return *tc;
}

// ---------------------------------------------------------------------------
// Voting rule, persistence and restarts.

TEST(ConsensusCore, VotesForAValidProposalAndPersistsFirst) {
  Harness h(4, 0);
  h.Start();
  v1::Block a = MakeBlock(1, GenesisQc(kChain));
  ASSERT_TRUE(h.Receive(1, ProposalMsg(a)).ok());
  std::vector<v1::Vote> votes = h.Votes();
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].block_id(), BlockId(kChain, a));
  EXPECT_EQ(h.sent.back().to, std::optional<ValidatorIndex>(2));  // leader(2)
  EXPECT_EQ(h.safety.state()->highest_voted_round(), 1u);
  EXPECT_EQ(h.unpersisted_sends, 0);
}

TEST(ConsensusCore, NeverVotesTwiceInARoundAndReportsTheEquivocatingLeader) {
  Harness h(4, 0);
  h.Start();
  v1::Block a = MakeBlock(1, GenesisQc(kChain), "p-a");
  v1::Block b = MakeBlock(1, GenesisQc(kChain), "p-b");
  EXPECT_TRUE(h.Receive(1, ProposalMsg(a)).ok());
  EXPECT_TRUE(h.Receive(3, ProposalMsg(b)).ok());
  EXPECT_EQ(h.Votes().size(), 1u);
  ASSERT_EQ(h.evidence.size(), 1u);
  EXPECT_EQ(h.evidence[0].validator(), 1u);
  EXPECT_EQ(h.evidence[0].round(), 1u);
  FakeVerifier verifier(kSeed, 4);
  EXPECT_TRUE(VerifyEvidence(kChain, 4, verifier, h.evidence[0]).ok());
  EXPECT_EQ(h.core->counters().equivocations, 1u);
}

TEST(ConsensusCore, ResignedRetransmitIsNotEquivocation) {
  // ECDSA signatures are randomised: a retransmit has different bytes.
  std::vector<crypto::PublicKey> pubs;
  std::vector<std::unique_ptr<KeySigner>> signers;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<crypto::PrivateKey> k =
        crypto::PrivateKey::Generate(crypto::Algorithm::kEcdsaP256Sha256);
    ASSERT_TRUE(k.ok());
    pubs.push_back(k->public_key());
    signers.push_back(std::make_unique<KeySigner>(*std::move(k)));
  }
  KeyVerifier verifier(pubs);
  Harness h(4, 0, std::move(signers[0]), &verifier);
  h.Start();
  v1::Block a = MakeBlock(1, GenesisQc(kChain));
  v1::ConsensusMessage first = ProposalMsg(a, nullptr, signers[1].get());
  v1::ConsensusMessage again = ProposalMsg(a, nullptr, signers[1].get());
  ASSERT_NE(first.proposal().signature(), again.proposal().signature());
  EXPECT_TRUE(h.Receive(1, first).ok());
  EXPECT_TRUE(h.Receive(1, again).ok());
  EXPECT_EQ(h.Votes().size(), 1u);
  EXPECT_TRUE(h.evidence.empty());
  EXPECT_EQ(h.core->counters().duplicates, 1u);
}

TEST(ConsensusCore, NoVoteLeavesWhenSafetyStateCannotBeSaved) {
  Harness h(4, 0);
  h.Start();
  h.safety.fail_saves = true;
  EXPECT_TRUE(h.Receive(1, ProposalMsg(MakeBlock(1, GenesisQc(kChain)))).ok());
  EXPECT_TRUE(h.Votes().empty());
  EXPECT_GT(h.core->counters().persist_failures, 0u);
  // Once the disk works again, it still never votes twice in round 1.
  h.safety.fail_saves = false;
  EXPECT_TRUE(h.Receive(1, ProposalMsg(MakeBlock(1, GenesisQc(kChain)))).ok());
  EXPECT_TRUE(h.Votes().empty());
}

TEST(ConsensusCore, RestartNeverVotesAgainInTheSameRound) {
  Harness h(4, 0);
  h.Start();
  v1::Block a = MakeBlock(1, GenesisQc(kChain), "p-a");
  EXPECT_TRUE(h.Receive(1, ProposalMsg(a)).ok());
  ASSERT_EQ(h.Votes().size(), 1u);
  h.Restart();
  EXPECT_EQ(h.core->current_round(), 1u);
  EXPECT_EQ(h.core->safety_state().highest_voted_round(), 1u);
  EXPECT_TRUE(h.Receive(1, ProposalMsg(a)).ok());
  EXPECT_TRUE(
      h.Receive(1, ProposalMsg(MakeBlock(1, GenesisQc(kChain), "p-b"))).ok());
  EXPECT_EQ(h.Votes().size(), 1u);
}

TEST(ConsensusCore, NoVoteInARoundAfterTimingItOut) {
  Harness h(4, 0);
  h.Start();
  h.core->OnTimeout(1);
  EXPECT_EQ(h.Count(v1::ConsensusMessage::kTimeout), 1);
  EXPECT_EQ(h.unpersisted_sends, 0);
  EXPECT_TRUE(h.Receive(1, ProposalMsg(MakeBlock(1, GenesisQc(kChain)))).ok());
  EXPECT_TRUE(h.Votes().empty());
}

TEST(ConsensusCore, RefusesBadBlockTimeAndInvalidPayload) {
  Harness h(4, 0);
  h.Start();
  v1::Block future = MakeBlock(1, GenesisQc(kChain));
  future.set_timestamp_ms(kNow + h.config.max_block_time_drift_ms + 1);
  EXPECT_TRUE(h.Receive(1, ProposalMsg(future)).ok());
  EXPECT_TRUE(h.Votes().empty());
  EXPECT_EQ(h.core->counters().rejected_for(Reject::kBadBlockTime), 1u);

  Harness h2(4, 0);
  h2.Start();
  h2.payload_status = PayloadStatus::kInvalid;
  EXPECT_TRUE(h2.Receive(1, ProposalMsg(MakeBlock(1, GenesisQc(kChain)))).ok());
  EXPECT_TRUE(h2.Votes().empty());
  EXPECT_EQ(h2.core->counters().rejected_for(Reject::kInvalidPayload), 1u);
}

TEST(ConsensusCore, WaitsForUnavailablePayloadThenVotes) {
  Harness h(4, 0);
  h.Start();
  h.payload_status = PayloadStatus::kUnavailable;
  v1::Block a = MakeBlock(1, GenesisQc(kChain));
  EXPECT_TRUE(h.Receive(1, ProposalMsg(a)).ok());
  EXPECT_TRUE(h.Votes().empty());
  h.payload_status = PayloadStatus::kValid;
  h.core->OnPayloadAvailable(BlockId(kChain, a));
  EXPECT_EQ(h.Votes().size(), 1u);
}

// ---------------------------------------------------------------------------
// Quorums and vote equivocation (at the next leader).

TEST(ConsensusCore, DuplicateVoterNeverCountsTwice) {
  Harness h(4, 2);  // leader of round 2 collects round-1 votes
  h.Start();
  v1::Block a = MakeBlock(1, GenesisQc(kChain));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(h.Receive(0, VoteMsg(MakeVote(0, a))).ok());
  }
  EXPECT_TRUE(h.Receive(1, VoteMsg(MakeVote(1, a))).ok());
  EXPECT_EQ(h.core->counters().qcs_formed, 0u);
  EXPECT_TRUE(h.Receive(3, VoteMsg(MakeVote(3, a))).ok());
  EXPECT_EQ(h.core->counters().qcs_formed, 1u);
  EXPECT_EQ(h.core->current_round(), 2u);
  EXPECT_TRUE(h.evidence.empty());
}

TEST(ConsensusCore, ConflictingVotesAreEvidenceAndCountOnce) {
  Harness h(4, 2);
  h.Start();
  v1::Block a = MakeBlock(1, GenesisQc(kChain), "p-a");
  v1::Block b = MakeBlock(1, GenesisQc(kChain), "p-b");
  EXPECT_TRUE(h.Receive(0, VoteMsg(MakeVote(0, a))).ok());
  EXPECT_TRUE(h.Receive(0, VoteMsg(MakeVote(0, b))).ok());
  EXPECT_TRUE(h.Receive(3, VoteMsg(MakeVote(3, b))).ok());
  EXPECT_TRUE(h.Receive(1, VoteMsg(MakeVote(1, b))).ok());
  // Validator 0's vote for b was not counted: only 1 and 3 back b.
  EXPECT_EQ(h.core->counters().qcs_formed, 0u);
  ASSERT_EQ(h.evidence.size(), 1u);
  EXPECT_EQ(h.evidence[0].validator(), 0u);
  EXPECT_TRUE(h.evidence[0].has_vote_a());
  FakeVerifier verifier(kSeed, 4);
  EXPECT_TRUE(VerifyEvidence(kChain, 4, verifier, h.evidence[0]).ok());
}

// ---------------------------------------------------------------------------
// Commit rule.

TEST(ConsensusCore, CommitsOnlyOnAConsecutiveRoundTwoChain) {
  Harness h(4, 3);
  h.Start();
  v1::Block b1 = MakeBlock(1, GenesisQc(kChain));
  v1::Block b2 = MakeBlock(2, MakeQc(b1));
  ASSERT_TRUE(h.Receive(1, ProposalMsg(b1)).ok());
  ASSERT_TRUE(h.Receive(2, ProposalMsg(b2)).ok());
  EXPECT_TRUE(h.committed.empty());  // b1's parent is genesis: nothing yet

  // Round 3 timed out; b3 (round 4) carries QC(b2) and TC(3).
  v1::QuorumCert qc2 = MakeQc(b2);
  v1::TimeoutCert tc3 = MakeTc(3, qc2);
  v1::Block b3 = MakeBlock(4, qc2);
  ASSERT_TRUE(h.Receive(0, ProposalMsg(b3, &tc3)).ok());
  // QC(b2) with b2.round == b1.round + 1 commits b1.
  ASSERT_EQ(h.committed.size(), 1u);
  EXPECT_EQ(BlockId(kChain, h.committed[0]), BlockId(kChain, b1));

  // QC(b3): b3 (round 4) and b2 (round 2) are not consecutive: no commit.
  v1::Block b4 = MakeBlock(5, MakeQc(b3));
  ASSERT_TRUE(h.Receive(1, ProposalMsg(b4)).ok());
  EXPECT_EQ(h.committed.size(), 1u);

  // QC(b4): rounds 5 and 4 are consecutive: b3 commits, with b2 before it.
  v1::Block b5 = MakeBlock(6, MakeQc(b4));
  ASSERT_TRUE(h.Receive(2, ProposalMsg(b5)).ok());
  ASSERT_EQ(h.deliveries.size(), 2u);
  ASSERT_EQ(h.deliveries[1].size(), 2u);
  EXPECT_EQ(BlockId(kChain, h.deliveries[1][0]), BlockId(kChain, b2));
  EXPECT_EQ(BlockId(kChain, h.deliveries[1][1]), BlockId(kChain, b3));
  EXPECT_EQ(h.certs[1].block_id(), BlockId(kChain, b3));
  EXPECT_EQ(h.certs[1].height(), 3u);
  FakeVerifier verifier(kSeed, 4);
  for (const v1::CommitCertificate& c : h.certs) {
    EXPECT_TRUE(VerifyCommitCertificate(kChain, 4, verifier, c).ok());
  }
  EXPECT_EQ(h.core->committed_head().height, 3u);
  EXPECT_EQ(h.unpersisted_sends, 0);
}

// ---------------------------------------------------------------------------
// Block sync.

TEST(ConsensusCore, FetchesAMissingParentThenVotes) {
  Harness h(4, 0);
  h.Start();
  v1::Block b1 = MakeBlock(1, GenesisQc(kChain));
  v1::Block b2 = MakeBlock(2, MakeQc(b1));
  ASSERT_TRUE(h.Receive(2, ProposalMsg(b2)).ok());
  EXPECT_TRUE(h.Votes().empty());
  ASSERT_EQ(h.Count(v1::ConsensusMessage::kSyncRequest), 1);
  const Sent& req = h.sent.back();
  EXPECT_EQ(req.to, std::optional<ValidatorIndex>(2));
  EXPECT_EQ(req.msg.sync_request().block_id(), BlockId(kChain, b1));

  // Unsolicited blocks are refused.
  v1::ConsensusMessage junk;
  *junk.mutable_sync_response()->add_blocks() =
      MakeBlock(1, GenesisQc(kChain), "p-other");
  EXPECT_FALSE(h.Receive(2, junk).ok());
  EXPECT_EQ(h.core->counters().rejected_for(Reject::kUnsolicitedSync), 1u);

  v1::ConsensusMessage resp;
  *resp.mutable_sync_response()->add_blocks() = b1;
  ASSERT_TRUE(h.Receive(2, resp).ok());
  ASSERT_EQ(h.Votes().size(), 1u);
  EXPECT_EQ(h.Votes()[0].block_id(), BlockId(kChain, b2));
}

TEST(ConsensusCore, ServesBlockSync) {
  Harness h(4, 0);
  h.Start();
  v1::Block b1 = MakeBlock(1, GenesisQc(kChain));
  v1::Block b2 = MakeBlock(2, MakeQc(b1));
  ASSERT_TRUE(h.Receive(1, ProposalMsg(b1)).ok());
  ASSERT_TRUE(h.Receive(2, ProposalMsg(b2)).ok());
  v1::ConsensusMessage req;
  req.mutable_sync_request()->set_block_id(BlockId(kChain, b2));
  req.mutable_sync_request()->set_max_blocks(10);
  ASSERT_TRUE(h.Receive(3, req).ok());
  const Sent& resp = h.sent.back();
  ASSERT_TRUE(resp.msg.has_sync_response());
  EXPECT_EQ(resp.to, std::optional<ValidatorIndex>(3));
  ASSERT_EQ(resp.msg.sync_response().blocks_size(), 2);
  EXPECT_EQ(BlockId(kChain, resp.msg.sync_response().blocks(1)),
            BlockId(kChain, b1));
}

// A peer asking for blocks faster than sync_requests_per_second gets the
// rest dropped, so it cannot fill this validator's loop with block lookups.
TEST(ConsensusCore, SyncRequestsPerPeerAreRateLimited) {
  Harness h(4, 0);
  h.config.sync_requests_per_second = 5;
  h.Start();
  v1::Block b1 = MakeBlock(1, GenesisQc(kChain));
  ASSERT_TRUE(h.Receive(1, ProposalMsg(b1)).ok());
  v1::ConsensusMessage req;
  req.mutable_sync_request()->set_block_id(BlockId(kChain, b1));
  req.mutable_sync_request()->set_max_blocks(1);
  auto answered = [&] { return h.Count(v1::ConsensusMessage::kSyncResponse); };
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(h.Receive(3, req).ok());
  EXPECT_EQ(answered(), 5);
  EXPECT_EQ(h.core->counters().sync_requests_dropped, 3u);
  // Another peer has its own budget.
  ASSERT_TRUE(h.Receive(2, req).ok());
  EXPECT_EQ(answered(), 6);
  // A second later the first one is answered again.
  h.now += 1000;
  ASSERT_TRUE(h.Receive(3, req).ok());
  EXPECT_EQ(answered(), 7);
}

// A lagging validator keeps advancing rounds by the QCs in proposals, so its
// round timer never fires; a sync request that got no answer (lost, or
// dropped by the peer's rate limit) is still sent again, to another peer.
TEST(ConsensusCore, UnansweredSyncRequestIsRetriedWithoutARoundTimeout) {
  Harness h(4, 0);
  h.Start();
  v1::Block b1 = MakeBlock(1, GenesisQc(kChain));
  v1::Block b2 = MakeBlock(2, MakeQc(b1));
  v1::Block b3 = MakeBlock(3, MakeQc(b2));
  const std::string b2_id = BlockId(kChain, b2);
  auto requests_for_b2 = [&] {
    std::vector<ValidatorIndex> peers;
    for (const Sent& s : h.sent) {
      if (s.msg.has_sync_request() && s.msg.sync_request().block_id() == b2_id) {
        peers.push_back(*s.to);
      }
    }
    return peers;
  };
  ASSERT_TRUE(h.Receive(b3.author(), ProposalMsg(b3)).ok());
  ASSERT_EQ(requests_for_b2(), std::vector<ValidatorIndex>{b3.author()});
  // Unanswered. Well before sync_retry_ms nothing is re-sent...
  h.now += 100;
  ASSERT_TRUE(h.Receive(1, SyncInfoMsg(MakeQc(b3))).ok());
  EXPECT_EQ(requests_for_b2().size(), 1u);
  EXPECT_EQ(h.core->current_round(), 4u);
  // ...after it, the next input re-sends it to the next peer.
  h.now += h.config.sync_retry_ms;
  ASSERT_TRUE(h.Receive(1, SyncInfoMsg(MakeQc(b3))).ok());
  std::vector<ValidatorIndex> peers = requests_for_b2();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_NE(peers[1], peers[0]);
  EXPECT_NE(peers[1], 0u);
  // Answered: nothing more is asked for b2.
  v1::ConsensusMessage resp;
  *resp.mutable_sync_response()->add_blocks() = b2;
  *resp.mutable_sync_response()->add_blocks() = b1;
  ASSERT_TRUE(h.Receive(peers[1], resp).ok());
  h.now += 10 * h.config.sync_retry_ms;
  ASSERT_TRUE(h.Receive(1, SyncInfoMsg(MakeQc(b3))).ok());
  EXPECT_EQ(requests_for_b2().size(), 2u);
  EXPECT_EQ(h.CommittedHeight(), 2u);  // b3's QC: a 2-chain on b2
}

// A validator far behind (an empty data dir on a long chain) catches up
// although the chain above it is longer than its orphan buffer: the buffer
// keeps the blocks nearest its committed head, and each pass commits them.
TEST(ConsensusCore, SyncsAChainLongerThanTheOrphanBuffer) {
  Harness h(4, 0);
  h.config.max_orphan_blocks = 8;
  h.config.sync_max_blocks = 4;
  h.Start();
  std::map<std::string, v1::Block> chain;
  v1::Block tip = MakeBlock(1, GenesisQc(kChain));
  chain[BlockId(kChain, tip)] = tip;
  for (uint64_t round = 2; round <= 61; ++round) {
    tip = MakeBlock(round, MakeQc(tip));
    chain[BlockId(kChain, tip)] = tip;
  }
  ASSERT_NE(tip.author(), 0u);
  ASSERT_TRUE(h.Receive(tip.author(), ProposalMsg(tip)).ok());
  // Answer every sync request as an honest peer would, until none is left.
  size_t answered = 0;
  int rounds = 0;
  for (; answered < h.sent.size() && rounds < 10000; ++rounds) {
    const Sent s = h.sent[answered++];
    if (!s.msg.has_sync_request() || !s.to.has_value()) continue;
    v1::ConsensusMessage resp;
    std::string id = s.msg.sync_request().block_id();
    for (uint32_t i = 0; i < s.msg.sync_request().max_blocks() && chain.contains(id); ++i) {
      *resp.mutable_sync_response()->add_blocks() = chain[id];
      id = chain[id].parent_id();
    }
    if (resp.sync_response().blocks_size() > 0) (void)h.Receive(*s.to, resp);
    if (answered == h.sent.size()) h.core->OnTimer(TimerKind::kRoundTimeout, h.core->current_round());
  }
  // b61's QC certifies b60, a 2-chain on b59.
  EXPECT_EQ(h.CommittedHeight(), 59u);
  // One pass down the chain per buffer-full (16 requests for 61 blocks, then
  // fewer): 47. Re-requesting the synced blocks the buffer did not keep, as
  // the QCs inside responses once did, takes 87 here and grows with the
  // chain until the peers are flooded.
  EXPECT_LE(h.core->counters().sync_requests_sent, 60u);
}

// ---------------------------------------------------------------------------
// Pacemaker.

TEST(ConsensusCore, TimeoutsDoubleAndResetOnProgress) {
  Harness h(4, 0);
  h.Start();
  ASSERT_TRUE(h.LastRoundTimer().has_value());
  EXPECT_EQ(h.LastRoundTimer()->delay_ms, 1000u);

  // Round 1 ends by timeout certificate: round 2 lasts twice as long.
  h.core->OnTimeout(1);
  const v1::QuorumCert genesis = GenesisQc(kChain);
  ASSERT_TRUE(h.Receive(1, TimeoutMsg(MakeTimeout(1, 1, genesis))).ok());
  ASSERT_TRUE(h.Receive(2, TimeoutMsg(MakeTimeout(2, 1, genesis))).ok());
  EXPECT_EQ(h.core->current_round(), 2u);
  EXPECT_EQ(h.LastRoundTimer()->round, 2u);
  EXPECT_EQ(h.LastRoundTimer()->delay_ms, 2000u);

  // Again for round 2 (justified by TC(1)).
  v1::TimeoutCert tc1 = MakeTc(1, genesis);
  h.core->OnTimeout(2);
  ASSERT_TRUE(h.Receive(1, TimeoutMsg(MakeTimeout(1, 2, genesis, &tc1))).ok());
  ASSERT_TRUE(h.Receive(3, TimeoutMsg(MakeTimeout(3, 2, genesis, &tc1))).ok());
  EXPECT_EQ(h.core->current_round(), 3u);
  EXPECT_EQ(h.LastRoundTimer()->delay_ms, 4000u);

  // Round 3's block gets certified: round 4 is back to the base timeout.
  v1::TimeoutCert tc2 = MakeTc(2, genesis);
  v1::Block b3 = MakeBlock(3, genesis);
  ASSERT_TRUE(h.Receive(3, ProposalMsg(b3, &tc2)).ok());
  // It voted (to itself, the leader of round 4).
  EXPECT_EQ(h.core->safety_state().highest_voted_round(), 3u);
  v1::ConsensusMessage info;
  *info.mutable_sync_info()->mutable_highest_qc() = MakeQc(b3, {1, 2, 3});
  ASSERT_TRUE(h.Receive(1, info).ok());
  EXPECT_EQ(h.core->current_round(), 4u);
  EXPECT_EQ(h.LastRoundTimer()->delay_ms, 1000u);
  // Validator 0 leads round 4 and proposes on QC(b3).
  ASSERT_TRUE(h.sent.back().msg.has_proposal());
  EXPECT_EQ(h.sent.back().msg.proposal().block().parent_id(),
            BlockId(kChain, b3));
  EXPECT_EQ(h.unpersisted_sends, 0);
}

TEST(ConsensusCore, JoinsATimeoutOnceFPlusOneValidatorsGaveUp) {
  Harness h(4, 0);
  h.Start();
  const v1::QuorumCert genesis = GenesisQc(kChain);
  ASSERT_TRUE(h.Receive(1, TimeoutMsg(MakeTimeout(1, 1, genesis))).ok());
  EXPECT_EQ(h.Count(v1::ConsensusMessage::kTimeout), 0);
  ASSERT_TRUE(h.Receive(2, TimeoutMsg(MakeTimeout(2, 1, genesis))).ok());
  EXPECT_EQ(h.Count(v1::ConsensusMessage::kTimeout), 1);
  // Its own timeout completed the quorum.
  EXPECT_EQ(h.core->current_round(), 2u);
}

TEST(ConsensusCore, HelpsALaggardWithSyncInfo) {
  Harness h(4, 0);
  h.Start();
  const v1::QuorumCert genesis = GenesisQc(kChain);
  v1::TimeoutCert tc1 = MakeTc(1, genesis);
  v1::TimeoutCert tc2 = MakeTc(2, genesis);
  v1::ConsensusMessage info;
  *info.mutable_sync_info()->mutable_highest_qc() = genesis;
  *info.mutable_sync_info()->mutable_highest_tc() = tc2;
  ASSERT_TRUE(h.Receive(1, info).ok());
  EXPECT_EQ(h.core->current_round(), 3u);
  // Validator 3 is still timing out round 1.
  EXPECT_FALSE(h.Receive(3, TimeoutMsg(MakeTimeout(3, 1, genesis))).ok());
  ASSERT_TRUE(h.sent.back().msg.has_sync_info());
  EXPECT_EQ(h.sent.back().to, std::optional<ValidatorIndex>(3));
  EXPECT_EQ(h.sent.back().msg.sync_info().highest_tc().round(), 2u);
}

// ---------------------------------------------------------------------------
// Bad input: rejected, counted, never a crash.

TEST(ConsensusCore, RejectsAndCountsBadInput) {
  Harness h(4, 0);
  h.Start();
  const v1::QuorumCert genesis = GenesisQc(kChain);
  v1::Block a = MakeBlock(1, genesis);
  auto rejected = [&](Reject r) { return h.core->counters().rejected_for(r); };

  EXPECT_FALSE(h.Receive(9, ProposalMsg(a)).ok());
  EXPECT_EQ(rejected(Reject::kUnknownSender), 1u);

  EXPECT_FALSE(h.Receive(1, v1::ConsensusMessage()).ok());
  EXPECT_EQ(rejected(Reject::kMalformed), 1u);

  v1::ConsensusMessage bad_sig = ProposalMsg(a);
  bad_sig.mutable_proposal()->set_signature("nope");
  EXPECT_FALSE(h.Receive(1, bad_sig).ok());
  v1::ConsensusMessage other_chain = ProposalMsg(a);
  other_chain.mutable_proposal()->set_signature(*FakeSigner(kSeed, 1).Sign(
      kProposalDomain,
      ProposalMessage("other-chain", 1, BlockId("other-chain", a))));
  EXPECT_FALSE(h.Receive(1, other_chain).ok());
  EXPECT_EQ(rejected(Reject::kBadSignature), 2u);

  v1::Block wrong = a;
  wrong.set_author(2);
  EXPECT_FALSE(h.Receive(2, ProposalMsg(wrong)).ok());
  EXPECT_EQ(rejected(Reject::kWrongLeader), 1u);

  // A vote a thousand rounds ahead (validator 0 leads round 1004).
  v1::Block far = MakeBlock(1003, genesis);
  EXPECT_FALSE(h.Receive(3, VoteMsg(MakeVote(3, far))).ok());
  EXPECT_EQ(rejected(Reject::kFarFutureRound), 1u);

  // A proposal whose QC lacks a quorum.
  v1::Block b2 = MakeBlock(2, MakeQc(a));
  b2.mutable_qc()->mutable_votes()->RemoveLast();
  EXPECT_FALSE(h.Receive(2, ProposalMsg(b2)).ok());
  EXPECT_EQ(rejected(Reject::kInvalidQc), 1u);

  // A timeout whose round its certificates do not justify.
  EXPECT_FALSE(h.Receive(1, TimeoutMsg(MakeTimeout(1, 50, genesis))).ok());

  EXPECT_TRUE(h.Votes().empty());
  EXPECT_EQ(h.core->current_round(), 1u);
  // And the honest proposal still gets its vote.
  EXPECT_TRUE(h.Receive(1, ProposalMsg(a)).ok());
  EXPECT_EQ(h.Votes().size(), 1u);
}

// ---------------------------------------------------------------------------
// Whole small networks without faults.

TEST(ConsensusCore, SingleValidatorCommitsAlone) {
  Harness h(1, 0);
  h.Start();
  // It ran ahead on its own until it yielded with a kContinue timer.
  for (int i = 0; i < 5; ++i) h.core->OnTimer(TimerKind::kContinue, 0);
  EXPECT_GT(h.CommittedHeight(), 100u);
  FakeVerifier verifier(kSeed, 1);
  for (const v1::CommitCertificate& c : h.certs) {
    ASSERT_TRUE(VerifyCommitCertificate(kChain, 1, verifier, c).ok());
  }
  for (size_t i = 0; i < h.committed.size(); ++i) {
    EXPECT_EQ(h.committed[i].height(), i + 1);
  }
  EXPECT_EQ(h.unpersisted_sends, 0);
}

TEST(ConsensusCore, IdleSingleValidatorProposesEmptyBlocksAtItsPace) {
  Harness h(1, 0);
  h.payload = "";
  h.Start();
  EXPECT_EQ(h.core->counters().proposals_sent, 0u);
  ASSERT_EQ(h.timers.back().kind, TimerKind::kPropose);
  EXPECT_EQ(h.timers.back().delay_ms, h.config.idle_proposal_delay_ms);
  for (int i = 0; i < 4; ++i) {
    const Scheduled t = h.timers.back();
    ASSERT_EQ(t.kind, TimerKind::kPropose);
    h.core->OnTimer(t.kind, t.round);
  }
  EXPECT_EQ(h.core->counters().proposals_sent, 4u);
  EXPECT_GE(h.CommittedHeight(), 2u);
  // Records arriving end the wait at once.
  h.payload = "p-new";
  const uint64_t proposals = h.core->counters().proposals_sent;
  h.core->OnPayloadReady();
  EXPECT_GT(h.core->counters().proposals_sent, proposals);
}

// A lone record must not wait the idle delay: the block after it certifies
// it, and the one after that carries the QC that tells everybody it committed.
TEST(ConsensusCore, RecordsCommitWithoutWaitingTheIdleDelay) {
  Harness h(1, 0);
  h.payload = "";
  h.Start();
  EXPECT_EQ(h.core->counters().proposals_sent, 0u);
  h.payload = "p-lone-record";
  h.payload_once = true;
  h.core->OnPayloadReady();
  // The record's block, an empty child that certifies it, and an empty
  // grandchild whose QC commits it; then the leader idles again.
  EXPECT_EQ(h.core->counters().proposals_sent, 3u);
  ASSERT_GE(h.committed.size(), 1u);
  EXPECT_EQ(h.committed[0].payload(), "p-lone-record");
  ASSERT_EQ(h.timers.back().kind, TimerKind::kPropose);
  EXPECT_EQ(h.timers.back().delay_ms, h.config.idle_proposal_delay_ms);
}

TEST(ConsensusCore, LeaderWaitsTheBatchDelayUnlessTheBatchIsFull) {
  Harness h(1, 0);
  h.config.batch_delay_ms = 5;
  h.payload = "p";
  h.Start();
  // Records are waiting, but the leader gives others the batch delay.
  EXPECT_EQ(h.core->counters().proposals_sent, 0u);
  ASSERT_EQ(h.timers.back().kind, TimerKind::kPropose);
  EXPECT_EQ(h.timers.back().delay_ms, 5u);
  // Records arriving that do not fill a block change nothing.
  h.core->OnPayloadReady();
  EXPECT_EQ(h.core->counters().proposals_sent, 0u);
  // The delay ends: it proposes (and, alone, runs on with a delay per round).
  h.core->OnTimer(TimerKind::kPropose, h.timers.back().round);
  EXPECT_EQ(h.core->counters().proposals_sent, 1u);
  ASSERT_EQ(h.timers.back().kind, TimerKind::kPropose);
  EXPECT_EQ(h.timers.back().delay_ms, 5u);
  // A full batch ends the wait at once.
  h.batch_full = true;
  h.core->OnPayloadReady();
  EXPECT_GT(h.core->counters().proposals_sent, 1u);
}

TEST(ConsensusCore, FourValidatorsAgreeOverAReliableNetwork) {
  std::vector<std::unique_ptr<Harness>> nodes;
  for (ValidatorIndex i = 0; i < 4; ++i) {
    nodes.push_back(std::make_unique<Harness>(4, i));
    nodes.back()->payload = "p-from-" + std::to_string(i);
  }
  for (auto& n : nodes) n->Start();
  struct InFlight {
    ValidatorIndex from, to;
    v1::ConsensusMessage msg;
  };
  std::deque<InFlight> net;
  size_t cursor[4] = {0, 0, 0, 0};
  auto collect = [&] {
    for (ValidatorIndex i = 0; i < 4; ++i) {
      for (; cursor[i] < nodes[i]->sent.size(); ++cursor[i]) {
        const Sent& s = nodes[i]->sent[cursor[i]];
        for (ValidatorIndex j = 0; j < 4; ++j) {
          if (j != i && (!s.to || *s.to == j)) net.push_back({i, j, s.msg});
        }
      }
    }
  };
  collect();
  for (int step = 0; step < 5000 && !net.empty(); ++step) {
    InFlight m = std::move(net.front());
    net.pop_front();
    EXPECT_TRUE(nodes[m.to]->Receive(m.from, m.msg).ok());
    collect();
    bool done = true;
    for (auto& n : nodes) done = done && n->CommittedHeight() >= 20;
    if (done) break;
  }
  FakeVerifier verifier(kSeed, 4);
  for (auto& n : nodes) {
    ASSERT_GE(n->CommittedHeight(), 20u);
    EXPECT_EQ(n->core->counters().rejected_total(), 0u);
    EXPECT_EQ(n->unpersisted_sends, 0);
    for (const v1::CommitCertificate& c : n->certs) {
      EXPECT_TRUE(VerifyCommitCertificate(kChain, 4, verifier, c).ok());
    }
    for (size_t h = 0; h < 20; ++h) {
      EXPECT_EQ(BlockId(kChain, n->committed[h]),
                BlockId(kChain, nodes[0]->committed[h]));
    }
  }
}

}  // namespace
}  // namespace cdl::consensus
