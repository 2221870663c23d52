// The peer API's bad-input catalogue: every class of bad message one
// validator can send another, fed into a real validator of a 4-validator
// in-process cluster, with the reason it must be refused for. The validator
// is cut off from the others meanwhile, so its ledger must not change at all;
// once healed it catches up and keeps committing (no stall, no crash).
#include <map>
#include <string>

#include "crypto/str_cat.h"
#include "node/consensus/encoding.h"
#include "node/consensus/key_signer.h"
#include "node/net/bft_test_cluster.h"

namespace cdl::net {
namespace {

namespace cv1 = cdl::consensus::v1;
using cdl::peer::v1::PeerMessage;
using testing::BftClusterTest;

class PeerBadInputTest : public BftClusterTest {
 protected:
  std::string Sign(int validator, std::string_view domain, const std::string& message) {
    auto key = cdl::crypto::PrivateKey::FromPem(keys_[validator].ToPem());
    EXPECT_TRUE(key.ok());
    auto sig = cdl::consensus::KeySigner(*std::move(key)).Sign(domain, message);
    EXPECT_TRUE(sig.ok());
    return *sig;
  }
  // A well-formed proposal for `round` (led by round % 4) at a height above
  // anything committed, whose QC (for a block nobody saw) carries no votes.
  PeerMessage Proposal(uint64_t round, uint32_t author, const std::string& signed_chain, bool sign = true) {
    PeerMessage m;
    cv1::Proposal* p = m.mutable_consensus()->mutable_proposal();
    cv1::Block* b = p->mutable_block();
    b->set_round(round);
    b->set_height(1000);
    b->set_parent_id(std::string(32, 'q'));
    b->mutable_qc()->set_block_id(std::string(32, 'q'));
    b->mutable_qc()->set_round(round - 1);
    b->mutable_qc()->set_height(999);
    b->set_author(author);
    b->set_timestamp_ms(absl::ToUnixMillis(absl::Now()));
    std::string id = cdl::consensus::BlockId(signed_chain, *b);
    p->set_signature(sign ? Sign(author, cdl::consensus::kProposalDomain,
                                 cdl::consensus::ProposalMessage(signed_chain, round, id))
                          : std::string(64, 'x'));
    return m;
  }
  PeerMessage Vote(uint64_t round, uint32_t voter) {
    PeerMessage m;
    cv1::Vote* v = m.mutable_consensus()->mutable_vote();
    v->set_block_id(std::string(32, 'b'));
    v->set_round(round);
    v->set_height(1000);
    v->set_parent_id(std::string(32, 'q'));
    v->set_parent_round(round - 2);  // not a 2-chain vote: no commit signature
    v->set_voter(voter);
    v->set_signature(Sign(voter, cdl::consensus::kVoteDomain, cdl::consensus::VoteMessage(genesis_->chain_id(), *v)));
    return m;
  }
  PeerMessage CheckpointVote(const std::string& validator, int signer, uint64_t height, const std::string& hash) {
    PeerMessage m;
    auto* v = m.mutable_checkpoint_vote();
    v->set_height(height);
    v->set_block_hash(hash);
    v->set_validator(validator);
    v->set_signature(Sign(signer, cdl::verify::kCommitDomain,
                          cdl::verify::CommitMessage(genesis_->chain_id(), height, hash)));
    return m;
  }
  uint64_t Rejected(const std::string& reason) {
    auto stats = nodes_[0]->bft_stats();
    auto it = stats.rejected_by_reason.find(reason);
    return it == stats.rejected_by_reason.end() ? 0 : it->second;
  }
};

TEST_F(PeerBadInputTest, EveryBadPeerMessageIsRefusedForItsReasonAndChangesNothing) {
  auto first = Submit(*nodes_[1], chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(Converged({0, 1, 2, 3}, 1));
  // Some idle rounds later (so that round 3 is long gone), cut validator 0 off.
  for (int i = 0; i < 400 && nodes_[0]->bft_stats().current_round < 20; ++i) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_GE(nodes_[0]->bft_stats().current_round, 20u);
  network_.Cut(0, true);
  const cdl::v1::LedgerHead before = nodes_[0]->ledger().head();
  // A round a little ahead that validator 1 leads (leaders rotate each round).
  uint64_t round = nodes_[0]->bft_stats().current_round + 2;
  while (round % 4 != 1) ++round;
  const uint32_t leader = 1, other = 2;
  // Votes go to the next round's leader: validator 0 collects rounds 3, 7, ...
  const std::string chain = genesis_->chain_id();

  PeerMessage unsupported;
  unsupported.mutable_block_request();
  PeerMessage gossip_garbage;
  gossip_garbage.mutable_records()->add_signed_records("not a record");
  PeerMessage gossip_forged;
  {
    // A real record with its signature replaced (it takes reg-cn's next
    // sequence in chain_, so reg-cn submits nothing after it).
    std::string bytes = chain_.Register("reg-cn", "park-forged", cdl::v1::ROLE_PARK, "CN");
    cdl::v1::SignedRecord rec;
    ASSERT_TRUE(rec.ParseFromString(bytes));
    ASSERT_GT(rec.signatures_size(), 0);
    auto* sig = rec.mutable_signatures(0);
    sig->set_signature(std::string(sig->signature().size(), '\x01'));
    gossip_forged.mutable_records()->add_signed_records(rec.SerializeAsString());
  }
  PeerMessage far_vote = Vote(round + 1000002, 2);  // (round + 1000002 + 1) % 4 == 0
  PeerMessage stale_vote = Vote(3, 2);
  PeerMessage empty_consensus;
  empty_consensus.mutable_consensus();

  struct Row {
    std::string what;
    uint32_t from;
    PeerMessage msg;
    std::string reason;  // in BftStats::rejected_by_reason; "refused" = NodeStats::refused
  };
  const std::vector<Row> rows = {
      {"message of no kind", 1, PeerMessage(), "no_payload"},
      {"message kind this version does not serve", 1, unsupported, "unsupported_kind"},
      {"consensus message from outside the validator set", 7, Proposal(round, leader, chain), "unknown_sender"},
      {"empty consensus message", 1, empty_consensus, "malformed"},
      {"proposal by a validator that does not lead the round", other, Proposal(round, other, chain), "wrong_leader"},
      {"proposal with a forged signature", leader, Proposal(round, leader, chain, false), "bad_signature"},
      {"proposal signed for another chain", leader, Proposal(round, leader, "another-chain"), "bad_signature"},
      {"proposal whose QC has no quorum", leader, Proposal(round, leader, chain), "invalid_qc"},
      {"vote a million rounds ahead", 1, far_vote, "far_future_round"},
      {"vote for a long-gone round", 1, stale_vote, "stale_round"},
      {"checkpoint vote in another validator's name", 1, CheckpointVote("v2", 1, 1, std::string(32, 'h')),
       "checkpoint_vote_not_from_sender"},
      {"checkpoint vote with a signature by another key", 1, CheckpointVote("v1", 2, 1, std::string(32, 'h')),
       "checkpoint_vote_bad_signature"},
      {"gossiped bytes that are no record", 1, gossip_garbage, "refused"},
      {"gossiped record with a forged signature", 1, gossip_forged, "refused"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    const uint64_t refused_before = nodes_[0]->stats().refused;
    const uint64_t before_count = row.reason == "refused" ? refused_before : Rejected(row.reason);
    nodes_[0]->OnPeerMessage(row.from, row.msg);
    bool seen = false;
    for (int i = 0; i < 200 && !seen; ++i) {
      const uint64_t now = row.reason == "refused" ? nodes_[0]->stats().refused : Rejected(row.reason);
      seen = now == before_count + 1;
      if (!seen) absl::SleepFor(absl::Milliseconds(10));
    }
    std::string got;
    for (const auto& [k, v] : nodes_[0]->bft_stats().rejected_by_reason) got += cdl::StrCat(k, "=", v, " ");
    EXPECT_TRUE(seen) << "expected one more \"" << row.reason << "\"; rejected: " << got;
  }
  // A checkpoint vote for a header other than the one we executed is never certified.
  const uint64_t mismatches = nodes_[0]->bft_stats().checkpoint_mismatches;
  nodes_[0]->OnPeerMessage(1, CheckpointVote("v1", 1, before.height(), std::string(32, 'h')));
  for (int i = 0; i < 200 && nodes_[0]->bft_stats().checkpoint_mismatches == mismatches; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(nodes_[0]->bft_stats().checkpoint_mismatches, mismatches + 1);

  // Nothing changed on the validator that got them.
  const cdl::v1::LedgerHead after = nodes_[0]->ledger().head();
  EXPECT_EQ(after.height(), before.height());
  EXPECT_EQ(after.ledger_size(), before.ledger_size());
  EXPECT_EQ(after.ledger_root(), before.ledger_root());
  EXPECT_EQ(after.certified_height(), before.certified_height());
  EXPECT_TRUE(nodes_[0]->bft_stats().equivocations == 0);

  // Healed, it catches up and keeps committing with the others.
  network_.Cut(0, false);
  auto next = Submit(*nodes_[0], chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->status(), cdl::v1::RECORD_ACCEPTED) << next->message();
  EXPECT_TRUE(Converged({0, 1, 2, 3}, 2));
}

}  // namespace
}  // namespace cdl::net
