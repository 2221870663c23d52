// Consensus message handling: fuzzed messages, timers and restarts fed into
// validator 0's pure consensus core (node/consensus/core.h) in a 4-validator
// network, the way node/net hands it what peers send (proposals, votes,
// timeouts, sync info, and block sync requests and responses).
//
// Input (fuzz_input.h): U8 flags, then operations until the input ends (at
// most 256), each a U8 code mod 9:
//   0-4  message: U8 sender (mod 4), Chunk serialized ConsensusMessage;
//   5    timer: U8 kind (mod 3), U64 round;
//   6    OnPayloadAvailable for the last block whose payload was unavailable;
//   7    OnPayloadReady;
//   8    restart the core from its stores.
// With flag bit 0 set, every signature in a message that names validator 1, 2
// or 3 is replaced by that validator's valid (fake) signature: the fuzzer then
// plays three colluding validators, enough to form certificates, so it gets
// past signature checks into the protocol. Validator 0's own signatures are
// never forged. Payloads starting with 'X' are invalid, 'U' unavailable.
// Seeds are traces of what validator 0 received in an honest 4-node run.
//
// Properties: everything ConsensusNode (consensus_node.h) checks on what the
// core emits and delivers: no double vote or proposal, persist before send,
// deliveries form one certified chain; and the core never halts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "consensus.pb.h"
#include "node/consensus/encoding.h"
#include "node/consensus/testing/fake_crypto.h"
#include "tests/fuzz/consensus_node.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace v1 = cdl::consensus::v1;
using cdl::consensus::testing::FakeSecret;
using cdl::consensus::testing::FakeSignature;
using cdl::fuzz::kConsensusChainId;

constexpr int kMaxOps = 256;

// The fuzzer may sign as validators 1..3, never as 0 (the core under test).
bool Forgeable(uint32_t validator) { return validator >= 1 && validator < cdl::fuzz::kConsensusValidators; }

std::string Sign(uint32_t validator, std::string_view domain, std::string_view message) {
  return FakeSignature(FakeSecret(cdl::fuzz::kFakeCryptoSeed, validator), domain, message);
}

void ResignQc(v1::QuorumCert& qc) {
  const bool commits = qc.round() > 0 && qc.height() > 1 && qc.parent_round() + 1 == qc.round();
  const std::string vote_msg = cdl::consensus::VoteMessage(kConsensusChainId, qc.block_id(), qc.round(), qc.height(),
                                                           qc.parent_id(), qc.parent_round());
  for (auto& v : *qc.mutable_votes()) {
    if (!Forgeable(v.voter())) continue;
    v.set_signature(Sign(v.voter(), cdl::consensus::kVoteDomain, vote_msg));
    v.set_commit_signature(commits
                               ? Sign(v.voter(), cdl::consensus::kCommitDomain,
                                      cdl::consensus::CommitMessage(kConsensusChainId, qc.height() - 1, qc.parent_id()))
                               : "");
  }
}

void ResignTc(v1::TimeoutCert& tc) {
  for (auto& t : *tc.mutable_timeouts()) {
    if (!Forgeable(t.sender())) continue;
    t.set_signature(Sign(t.sender(), cdl::consensus::kTimeoutDomain,
                         cdl::consensus::TimeoutMessage(kConsensusChainId, tc.round(), t.high_qc_round())));
  }
}

void Resign(v1::ConsensusMessage& msg) {
  if (msg.has_proposal()) {
    v1::Proposal& p = *msg.mutable_proposal();
    if (p.has_block()) ResignQc(*p.mutable_block()->mutable_qc());
    if (p.has_tc()) ResignTc(*p.mutable_tc());
    if (p.has_block() && Forgeable(p.block().author())) {
      const std::string id = cdl::consensus::BlockId(kConsensusChainId, p.block());
      p.set_signature(Sign(p.block().author(), cdl::consensus::kProposalDomain,
                           cdl::consensus::ProposalMessage(kConsensusChainId, p.block().round(), id)));
    }
  } else if (msg.has_vote()) {
    v1::Vote& v = *msg.mutable_vote();
    if (Forgeable(v.voter())) {
      v.set_signature(Sign(v.voter(), cdl::consensus::kVoteDomain, cdl::consensus::VoteMessage(kConsensusChainId, v)));
      const bool commits = v.round() > 0 && v.height() > 1 && v.parent_round() + 1 == v.round();
      v.set_commit_signature(commits
                                 ? Sign(v.voter(), cdl::consensus::kCommitDomain,
                                        cdl::consensus::CommitMessage(kConsensusChainId, v.height() - 1, v.parent_id()))
                                 : "");
    }
  } else if (msg.has_timeout()) {
    v1::TimeoutMsg& t = *msg.mutable_timeout();
    if (t.has_high_qc()) ResignQc(*t.mutable_high_qc());
    if (t.has_last_round_tc()) ResignTc(*t.mutable_last_round_tc());
    if (Forgeable(t.sender())) {
      t.set_signature(Sign(t.sender(), cdl::consensus::kTimeoutDomain,
                           cdl::consensus::TimeoutMessage(kConsensusChainId, t.round(), t.high_qc().round())));
    }
  } else if (msg.has_sync_info()) {
    if (msg.sync_info().has_highest_qc()) ResignQc(*msg.mutable_sync_info()->mutable_highest_qc());
    if (msg.sync_info().has_highest_tc()) ResignTc(*msg.mutable_sync_info()->mutable_highest_tc());
  } else if (msg.has_sync_response()) {
    for (auto& b : *msg.mutable_sync_response()->mutable_blocks()) ResignQc(*b.mutable_qc());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cdl::fuzz::FuzzInput in(data, size);
  const bool resign = (in.U8() & 1) != 0;
  cdl::fuzz::ConsensusNode node(0);
  for (int ops = 0; ops < kMaxOps && !in.empty(); ++ops) {
    const uint8_t op = in.U8() % 9;
    if (op <= 4) {
      const uint32_t from = in.U8() % cdl::fuzz::kConsensusValidators;
      v1::ConsensusMessage msg;
      if (!msg.ParseFromString(in.Chunk())) continue;
      if (resign) Resign(msg);
      (void)node.core().OnMessage(from, msg);
    } else if (op == 5) {
      const auto kind = static_cast<cdl::consensus::TimerKind>(in.U8() % 3);
      node.core().OnTimer(kind, in.U64());
    } else if (op == 6) {
      node.core().OnPayloadAvailable(node.last_unavailable());
    } else if (op == 7) {
      node.core().OnPayloadReady();
    } else {
      node.Restart();
    }
    node.CheckHead();
    node.TakeOutbox();
    node.TakeTimers();
    node.Tick();
  }
  // CDL_FUZZ_VERBOSE=1 (when running single inputs) shows how far an input got.
  static const bool verbose = std::getenv("CDL_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "fuzz_consensus: round %llu, committed height %llu, %llu inputs rejected\n",
                 static_cast<unsigned long long>(node.core().current_round()),
                 static_cast<unsigned long long>(node.delivered_height()),
                 static_cast<unsigned long long>(node.core().counters().rejected_total()));
  }
  return 0;
}
