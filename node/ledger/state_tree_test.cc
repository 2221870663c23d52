// The authenticated state map: state_root in every header, proofs at the
// latest and at historic heights, determinism across nodes.
#include "node/ledger/state_tree.h"

#include <unistd.h>

#include <filesystem>

#include "crypto/sparse_merkle.h"
#include "gtest/gtest.h"
#include "node/ledger/ledger.h"
#include "node/ledger/test_util.h"
#include "node/verify/state_entry.h"

namespace cdl::ledger {
namespace {

using cdl::v1::RecordBody;
using testing::MemberTarget;
using testing::RecordTarget;
using testing::TestChain;
using testing::TestLedger;

constexpr int64_t kYear = 365LL * 86'400'000;

// The state root computed from scratch from the member and record states in
// the store: what the incremental, versioned tree must agree with.
std::string RebuildRoot(cdl::storage::Store* store) {
  cdl::crypto::MemorySparseMerkleTree tree;
  std::vector<cdl::crypto::SmtUpdate> updates;
  auto members = store->Scan(kMembersColumn, "", "");
  EXPECT_TRUE(members.ok());
  for (const auto& [id, raw] : *members) {
    cdl::v1::MemberState m;
    EXPECT_TRUE(m.ParseFromString(raw));
    updates.push_back({cdl::verify::MemberStateKey(id), cdl::verify::StateEntryHash(MemberEntry(m))});
    for (const auto& k : m.keys()) {
      updates.push_back({cdl::verify::KeyStateKey(id, k.key_id()), cdl::verify::StateEntryHash(KeyEntry(k))});
    }
  }
  auto states = store->Scan(kStatesColumn, "", "");
  EXPECT_TRUE(states.ok());
  for (const auto& [id, raw] : *states) {
    cdl::v1::RecordState st;
    EXPECT_TRUE(st.ParseFromString(raw));
    if (!HasStateEntry(st.record_type())) continue;
    updates.push_back({cdl::verify::RecordStateKey(id), cdl::verify::StateEntryHash(RecordEntry(st))});
  }
  EXPECT_TRUE(tree.Apply(updates).ok());
  return tree.Root();
}

// A scripted history touching every kind of entry: registrations, an
// accreditation, a certificate, an agreement, status changes, key rotation.
std::vector<std::vector<std::string>> Script(TestChain& chain, int64_t start_ms) {
  std::vector<std::vector<std::string>> blocks;
  int64_t until = start_ms + kYear;
  blocks.push_back({chain.Register("reg-cn", "acc-cn", cdl::v1::ROLE_ACCREDITOR, "CN"),
                    chain.Register("reg-eu", "acc-eu", cdl::v1::ROLE_ACCREDITOR, "EU"),
                    chain.Register("reg-cn", "cert-cn", cdl::v1::ROLE_CERTIFIER, "CN"),
                    chain.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")});
  blocks.push_back({chain.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"),
                    chain.Accreditation("acc-cn", "cert-cn", {"ISO 14067"}, {"CN"}, 0, until)});
  std::string footprint = chain.Footprint("ent-1", "3893bb5d-da16-4dc1-9185-11d97476c254");
  std::string footprint_id = cdl::verify::ParseSignedRecord(footprint)->id;
  blocks.push_back({footprint});
  std::string certificate = chain.Certificate("cert-cn", footprint_id, "ISO 14067", "CN", 0, until);
  std::string certificate_id = cdl::verify::ParseSignedRecord(certificate)->id;
  std::string agreement = chain.Agreement("acc-cn", "CN", "acc-eu", "EU", {"ISO 14067"}, cdl::v1::DIRECTION_MUTUAL, 0,
                                          until, {"acc-eu"});
  blocks.push_back({certificate, agreement});
  blocks.push_back({chain.StatusChange("cert-cn", RecordBody::kSuspension, RecordTarget(certificate_id), "audit")});
  blocks.push_back({chain.Disclosure("ent-1", "2025", "12")});  // changes no status
  blocks.push_back({chain.StatusChange("reg-cn", RecordBody::kRevocation, RecordTarget(certificate_id), "fraud"),
                    chain.StatusChange("reg-cn", RecordBody::kSuspension, MemberTarget("park-a"), "inspection")});
  blocks.push_back({chain.Footprint("ent-1", "4893bb5d-da16-4dc1-9185-11d97476c254", footprint_id)});
  return blocks;
}

TEST(StateTreeTest, GenesisStateHoldsTheFounders) {
  TestChain chain;
  TestLedger node(chain);
  std::string root = node.ledger().head().state_root();
  EXPECT_EQ(root.size(), 32u);
  EXPECT_NE(root, cdl::crypto::SmtEmptyRoot());
  EXPECT_EQ(root, RebuildRoot(node.ledger().store()));
  // No checkpoint yet, so no proof.
  EXPECT_TRUE(absl::IsNotFound(node.ledger().GetStateProof(cdl::verify::MemberStateKey("reg-cn"), 0).status()));
}

TEST(StateTreeTest, EveryHeaderCarriesTheRootOfItsBlock) {
  TestChain chain;
  TestLedger node(chain);
  std::string previous = node.ledger().head().state_root();
  auto script = Script(chain, node.next_time_ms());
  for (size_t i = 0; i < script.size(); ++i) {
    SCOPED_TRACE(i);
    for (const auto& r : node.Commit(script[i])) ASSERT_EQ(r.status(), cdl::v1::RECORD_ACCEPTED) << r.message();
    const std::string& root = node.last_header().state_root();
    EXPECT_EQ(root, node.ledger().head().state_root());
    EXPECT_EQ(root, RebuildRoot(node.ledger().store()));
    EXPECT_EQ(*StateRootAt(node.ledger().store(), node.last_header().height()), root);
    // A footprint (block 2) or a disclosure (block 5) changes no status
    // entry; every other block of the script does.
    if (i == 2 || i == 5) {
      EXPECT_EQ(root, previous);
    } else {
      EXPECT_NE(root, previous);
    }
    previous = root;
  }
}

TEST(StateTreeTest, TwoNodesExecutingTheSameBlocksAgree) {
  TestChain chain;
  TestLedger a(chain);
  TestLedger b(chain);
  for (const auto& records : Script(chain, a.next_time_ms())) {
    auto ra = a.Commit(records);
    auto rb = b.Commit(records);
    ASSERT_EQ(ra.size(), rb.size());
    EXPECT_EQ(a.last_header().state_root(), b.last_header().state_root());
    EXPECT_EQ(a.last_header().SerializeAsString(), b.last_header().SerializeAsString());
  }
  // A status change on one node only: the roots part.
  auto suspend = chain.StatusChange("reg-cn", RecordBody::kSuspension, MemberTarget("cert-cn"), "x");
  ASSERT_EQ(a.CommitOne(suspend).status(), cdl::v1::RECORD_ACCEPTED);
  ASSERT_EQ(b.CommitOne(chain.Disclosure("ent-1", "2026", "1")).status(), cdl::v1::RECORD_ACCEPTED);
  EXPECT_NE(a.last_header().state_root(), b.last_header().state_root());
}

TEST(StateTreeTest, ProofsAtLatestAndHistoricHeightsVerifyAgainstCheckpoints) {
  TestChain chain;
  TestLedger node(chain);
  auto script = Script(chain, node.next_time_ms());
  for (size_t i = 0; i < 4; ++i) node.Commit(script[i]);  // up to the certificate
  uint64_t issued_at = node.last_header().height();
  std::string certificate_id = cdl::verify::ParseSignedRecord(script[3][0])->id;
  for (size_t i = 4; i < script.size(); ++i) node.Commit(script[i]);  // suspended, then revoked
  auto genesis = chain.genesis();
  std::string key = cdl::verify::RecordStateKey(certificate_id);

  auto check = [&](uint64_t height) {
    auto proof = node.ledger().GetStateProof(key, height);
    EXPECT_TRUE(proof.ok()) << proof.status();
    auto header = cdl::verify::VerifyCheckpoint(genesis, proof->second);
    EXPECT_TRUE(header.ok()) << header.status();
    EXPECT_EQ(proof->first.height(), header->height());
    EXPECT_TRUE(cdl::verify::VerifyStateProof(header->state_root(), key, proof->first).ok());
    return proof->first.entry();
  };
  cdl::v1::StateEntry latest = check(0);
  EXPECT_EQ(latest.status(), cdl::v1::ENTRY_REVOKED);
  EXPECT_EQ(latest.reason_hash(), cdl::verify::ReasonHash("fraud"));
  EXPECT_FALSE(latest.subject_superseded_by().empty());  // the footprint was superseded last
  cdl::v1::StateEntry then = check(issued_at);
  EXPECT_EQ(then.status(), cdl::v1::ENTRY_ACTIVE);
  EXPECT_EQ(then.changed_by(), certificate_id);
  EXPECT_EQ(check(issued_at + 1).status(), cdl::v1::ENTRY_SUSPENDED);

  // Absence: a record that is not on the ledger, and one that has no status.
  for (const std::string& absent : {cdl::verify::RecordStateKey(std::string(32, 'z')),
                                    cdl::verify::MemberStateKey("nobody")}) {
    auto proof = node.ledger().GetStateProof(absent, 0);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_FALSE(proof->first.has_entry());
    auto header = cdl::verify::VerifyCheckpoint(genesis, proof->second);
    ASSERT_TRUE(header.ok());
    EXPECT_TRUE(cdl::verify::VerifyStateProof(header->state_root(), absent, proof->first).ok());
  }
  // The member did not exist at height 1: its entry is absent there, present later.
  auto early = node.ledger().GetStateProof(cdl::verify::MemberStateKey("ent-1"), 1);
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->first.has_entry());
  auto late = node.ledger().GetStateProof(cdl::verify::MemberStateKey("park-a"), 0);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->first.entry().status(), cdl::v1::ENTRY_SUSPENDED);
  // A proof does not carry over to another height's root.
  auto at_issue = node.ledger().GetStateProof(key, issued_at);
  EXPECT_FALSE(cdl::verify::VerifyStateProof(node.ledger().head().state_root(), key, at_issue->first).ok());

  EXPECT_TRUE(absl::IsInvalidArgument(node.ledger().GetStateProof("short", 0).status()));
  EXPECT_TRUE(absl::IsNotFound(node.ledger().GetStateProof(key, 1000).status()));
}

TEST(StateTreeTest, KeyEntriesFollowRotationsAndProveKeyStatus) {
  TestChain chain;
  TestLedger node(chain);
  node.Commit({chain.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")});
  std::string old_key = chain.key("park-a").public_key().KeyId();
  auto new_key = TestChain::Generate(cdl::crypto::Algorithm::kEd25519);
  std::string new_key_id = new_key.public_key().KeyId();
  cdl::v1::RecordBody body = chain.Body("park-a");
  body.mutable_key_rotation()->set_member_id("park-a");
  *body.mutable_key_rotation()->add_add_keys() = testing::KeyInfo(new_key.public_key());
  body.mutable_key_rotation()->add_revoke_key_ids(old_key);
  auto rotation = node.CommitOne(chain.Sign(body));
  ASSERT_EQ(rotation.status(), cdl::v1::RECORD_ACCEPTED) << rotation.message();
  auto old_proof = node.ledger().GetStateProof(cdl::verify::KeyStateKey("park-a", old_key), 0);
  ASSERT_TRUE(old_proof.ok());
  EXPECT_EQ(old_proof->first.entry().status(), cdl::v1::ENTRY_REVOKED);
  EXPECT_EQ(old_proof->first.entry().changed_by(), rotation.record_id());
  auto new_proof = node.ledger().GetStateProof(cdl::verify::KeyStateKey("park-a", new_key_id), 0);
  ASSERT_TRUE(new_proof.ok());
  EXPECT_EQ(new_proof->first.entry().status(), cdl::v1::ENTRY_ACTIVE);
  EXPECT_EQ(node.ledger().head().state_root(), RebuildRoot(node.ledger().store()));
}

TEST(StateTreeTest, StateSurvivesReopenOnRocksDb) {
  auto dir = std::filesystem::temp_directory_path() / ("cdl-state-tree-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  TestChain chain;
  auto script = Script(chain, 1'700'000'101'000);
  std::string root;
  int64_t start = 1'700'000'100'000;
  {
    auto store = cdl::storage::OpenRocksStore(dir.string(), LedgerColumns());
    ASSERT_TRUE(store.ok()) << store.status();
    TestLedger node(chain, *std::move(store), start);
    for (size_t i = 0; i < 5; ++i) node.Commit(script[i]);
    root = node.ledger().head().state_root();
    start = node.next_time_ms();
  }
  {
    auto store = cdl::storage::OpenRocksStore(dir.string(), LedgerColumns());
    ASSERT_TRUE(store.ok()) << store.status();
    TestLedger node(chain, *std::move(store), start);
    EXPECT_EQ(node.ledger().head().state_root(), root);
    for (size_t i = 5; i < script.size(); ++i) {
      for (const auto& r : node.Commit(script[i])) EXPECT_EQ(r.status(), cdl::v1::RECORD_ACCEPTED) << r.message();
    }
    EXPECT_EQ(node.ledger().head().state_root(), RebuildRoot(node.ledger().store()));
    auto proof = node.ledger().GetStateProof(cdl::verify::MemberStateKey("park-a"), 0);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(proof->first.entry().status(), cdl::v1::ENTRY_SUSPENDED);
  }
  std::filesystem::remove_all(dir);
}

TEST(StateTreeTest, DataDirWithoutStateRootIsRefused) {
  // A head written by a version without the state map.
  TestChain chain;
  auto fresh = cdl::storage::NewMemoryStore(LedgerColumns());
  cdl::v1::LedgerHead head;
  head.set_genesis_hash(chain.genesis().Hash());
  cdl::storage::WriteBatch batch;
  batch.Put(kMetaColumn, "head", head.SerializeAsString());
  ASSERT_TRUE(fresh->Write(batch, true).ok());
  auto ledger = Ledger::Open(std::move(fresh), chain.genesis());
  EXPECT_TRUE(absl::IsFailedPrecondition(ledger.status())) << ledger.status();
}

}  // namespace
}  // namespace cdl::ledger
