// Four validators in one process, wired by an in-memory peer network that
// can drop a node: the real consensus core, ledger and admission, no TLS.
#include <future>
#include <thread>

#include "crypto/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/consensus/encoding.h"
#include "node/net/bft_test_cluster.h"

namespace cdl::net {
namespace {

using cdl::ledger::testing::KeyInfo;
using cdl::ledger::testing::TestChain;

using BftNodeTest = testing::BftClusterTest;

TEST_F(BftNodeTest, FourValidatorsAgreeAndCertifyCheckpoints) {
  // Each record goes to a different node; the leader gets it by gossip.
  auto r1 = Submit(*nodes_[1], chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->status(), cdl::v1::RECORD_ACCEPTED) << r1->message();
  // A receipt comes from the node that was asked; node 2 must have applied
  // the park's registration before it admits the park's own record.
  ASSERT_TRUE(Converged({0, 1, 2, 3}, 1));
  auto r2 = Submit(*nodes_[2], chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->status(), cdl::v1::RECORD_ACCEPTED) << r2->message();
  // A receipt comes from the node that was asked; the others apply the same
  // block moments later.
  ASSERT_TRUE(Converged({0, 1, 2, 3}, 2));
  for (int i = 0; i < 20; ++i) {
    auto r = Submit(*nodes_[i % 4], chain_.Disclosure("ent-1", "2026", std::to_string(100 + i)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), cdl::v1::RECORD_ACCEPTED) << r->message();
  }
  ASSERT_TRUE(Converged({0, 1, 2, 3}, 22));
  // The checkpoint is cosigned by a quorum of distinct validators and proves
  // the record offline against the genesis alone.
  auto proof = nodes_[3]->ledger().GetInclusionProof(r2->record_id(), 0);
  ASSERT_TRUE(proof.ok()) << proof.status();
  auto header = cdl::verify::VerifyCheckpoint(*genesis_, proof->second);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_GE(proof->second.commit().signatures_size(), 3);
  EXPECT_TRUE(cdl::verify::VerifyRecordInclusion(*header, proof->first, r2->record_id()).ok());
}

TEST_F(BftNodeTest, CommitsWithOneValidatorCutOffAndItCatchesUp) {
  network_.Cut(3, true);
  auto r1 = Submit(*nodes_[0], chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->status(), cdl::v1::RECORD_ACCEPTED);
  for (int i = 0; i < 10; ++i) {
    auto r = Submit(*nodes_[i % 3], chain_.Register("reg-cn", "p" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), cdl::v1::RECORD_ACCEPTED);
  }
  ASSERT_TRUE(Converged({0, 1, 2}, 11));
  EXPECT_LT(nodes_[3]->ledger().head().ledger_size(), 11u);
  network_.Cut(3, false);
  // More traffic lets the healed node learn the chain and sync.
  auto r = Submit(*nodes_[1], chain_.Register("reg-cn", "late", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(Converged({0, 1, 2, 3}, 12));
}

// Validator 3 equivocates once as leader: besides its real proposal every
// other validator also gets a second one for the same round (another block,
// signed with its key). Each honest validator reports it as an Evidence
// record; the ledger keeps exactly one, on every node.
TEST_F(BftNodeTest, EquivocatingLeaderEndsUpAsOneEvidenceRecordEverywhere) {
  namespace cv1 = cdl::consensus::v1;
  auto conflicting = std::make_shared<std::optional<cdl::peer::v1::PeerMessage>>();
  auto equivocated_round = std::make_shared<std::atomic<uint64_t>>(0);
  network_.SetTamper([this, conflicting, equivocated_round](uint32_t from, uint32_t,
                                                             const cdl::peer::v1::PeerMessage& msg)
                         -> std::vector<cdl::peer::v1::PeerMessage> {
    if (from != 3 || !msg.has_consensus() || !msg.consensus().has_proposal()) return {};
    const cv1::Proposal& real = msg.consensus().proposal();
    if (!conflicting->has_value()) {
      if (equivocated_round->load() != 0) return {};
      cv1::Proposal fake = real;
      fake.mutable_block()->set_timestamp_ms(real.block().timestamp_ms() + 1);
      std::string id = cdl::consensus::BlockId(genesis_->chain_id(), fake.block());
      auto sig = cdl::crypto::SignDomain(keys_[3], cdl::consensus::kProposalDomain,
                                         cdl::consensus::ProposalMessage(genesis_->chain_id(), fake.block().round(), id));
      if (!sig.ok()) return {};
      fake.set_signature(*sig);
      cdl::peer::v1::PeerMessage out;
      *out.mutable_consensus()->mutable_proposal() = fake;
      *conflicting = out;
      equivocated_round->store(real.block().round());
    }
    if ((*conflicting)->consensus().proposal().block().round() != real.block().round()) return {};
    return {**conflicting};
  });
  // Traffic until validator 3 has led a round.
  auto r = Submit(*nodes_[0], chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(r.ok()) << r.status();
  for (int i = 0; i < 40 && equivocated_round->load() == 0; ++i) {
    auto more = Submit(*nodes_[i % 4], chain_.Register("reg-cn", "p" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"));
    ASSERT_TRUE(more.ok()) << more.status();
  }
  ASSERT_NE(equivocated_round->load(), 0u);

  auto evidence_on = [&](int node) {
    auto page = nodes_[node]->ledger().Query({.member = "v3", .record_type = "evidence"});
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->entries : std::vector<cdl::ledger::QueryEntry>{};
  };
  bool all = false;
  for (int attempt = 0; attempt < 200 && !all; ++attempt) {
    all = true;
    for (int i = 0; i < 4; ++i) all &= !evidence_on(i).empty();
    if (!all) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(all) << "evidence did not reach every ledger";
  // Let the other reports commit too: they are rejected as duplicates.
  auto last = Submit(*nodes_[1], chain_.Register("reg-cn", "late", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_TRUE(Converged({0, 1, 2, 3}, 1));
  std::string record_id;
  for (int i = 0; i < 4; ++i) {
    auto entries = evidence_on(i);
    ASSERT_EQ(entries.size(), 1u) << "node " << i;
    EXPECT_EQ(entries[0].state.subject_member(), "v3");
    EXPECT_NE(entries[0].state.author(), "v3");
    if (i == 0) record_id = entries[0].record_id;
    EXPECT_EQ(entries[0].record_id, record_id);
  }
  auto bytes = nodes_[2]->ledger().GetRecord(record_id);
  ASSERT_TRUE(bytes.ok());
  auto parsed = cdl::verify::ParseSignedRecord(*bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->body.evidence().validator(), "v3");
  cv1::EvidenceMessage a;
  ASSERT_TRUE(a.ParseFromString(parsed->body.evidence().message_a()));
  EXPECT_EQ(a.proposal().round(), equivocated_round->load());
  // The two other reports were committed as REJECT_DUPLICATE receipts.
  auto duplicates = [&] {
    int n = 0;
    for (uint64_t h = 1; h <= nodes_[0]->ledger().head().height(); ++h) {
      auto block = nodes_[0]->ledger().GetBlock(h);
      if (!block.ok()) continue;
      for (const auto& receipt : block->first.receipts()) n += receipt.code() == cdl::v1::REJECT_DUPLICATE;
    }
    return n;
  };
  for (int attempt = 0; attempt < 100 && duplicates() < 2; ++attempt) absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(duplicates(), 2);
  EXPECT_EQ(evidence_on(0).size(), 1u);
  // A replay of the stored record is refused at admission, as for any record.
  auto replay = Submit(*nodes_[1], *bytes);
  EXPECT_TRUE(absl::IsAlreadyExists(replay.status())) << replay.status();
  // Only genesis validators author evidence, with their genesis key.
  cdl::v1::RecordBody by_member = chain_.Body("reg-cn");
  *by_member.mutable_evidence() = parsed->body.evidence();
  auto refused = Submit(*nodes_[0], chain_.Sign(by_member));
  EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
  cdl::v1::RecordBody wrong_key = parsed->body;
  wrong_key.set_author("v0");
  wrong_key.set_key_id(keys_[1].public_key().KeyId());
  auto signed_wrong = cdl::verify::SignBody(wrong_key, keys_[1]);
  ASSERT_TRUE(signed_wrong.ok());
  refused = Submit(*nodes_[0], signed_wrong->SerializeAsString());
  EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("genesis key"));
  // Every honest validator saw it.
  for (int i = 0; i < 3; ++i) EXPECT_GE(nodes_[i]->bft_stats().equivocations, 1u) << "node " << i;
  network_.SetTamper(nullptr);
}

}  // namespace
}  // namespace cdl::net
