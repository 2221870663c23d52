#include "node/ledger/ledger.h"

#include <filesystem>

#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/str_cat.h"
#include "gtest/gtest.h"
#include "node/ledger/test_util.h"
#include "node/storage/store.h"

namespace cdl::ledger {
namespace {

using testing::TestChain;

class LedgerTest : public ::testing::Test {
 protected:
  // Executes and commits one block of `records`; returns the receipts.
  std::vector<cdl::v1::Receipt> Commit(const std::vector<std::string>& records) { return node_.Commit(records); }
  cdl::v1::Receipt CommitOne(const std::string& record) { return node_.CommitOne(record); }

  TestChain chain_;
  testing::TestLedger node_{chain_};
  Ledger* ledger_ = &node_.ledger();
};

TEST_F(LedgerTest, FoundersAreMembersAtGenesis) {
  auto m = ledger_->GetMember("reg-cn");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->registration().role(), cdl::v1::ROLE_REGULATOR);
  EXPECT_EQ(m->last_sequence(), 0u);
  EXPECT_EQ(ledger_->head().height(), 0u);
  EXPECT_TRUE(absl::IsNotFound(ledger_->GetCheckpoint(0).status()));
}

TEST_F(LedgerTest, RegisterParkEnterpriseAndDisclose) {
  auto r1 = CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  EXPECT_EQ(r1.status(), cdl::v1::RECORD_ACCEPTED) << r1.message();
  auto r2 = CommitOne(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  EXPECT_EQ(r2.status(), cdl::v1::RECORD_ACCEPTED) << r2.message();
  auto r3 = CommitOne(chain_.Disclosure("ent-1", "2026", "1500.25"));
  EXPECT_EQ(r3.status(), cdl::v1::RECORD_ACCEPTED) << r3.message();
  EXPECT_EQ(r3.ledger_index(), 2u);
  EXPECT_EQ(ledger_->head().ledger_size(), 3u);
  EXPECT_EQ(ledger_->head().height(), 3u);

  auto page = ledger_->Query({.member = "ent-1"});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 2u);  // its registration and its disclosure
  auto by_period = ledger_->Query({.period = "2026"});
  ASSERT_TRUE(by_period.ok());
  ASSERT_EQ(by_period->entries.size(), 1u);
  EXPECT_EQ(by_period->entries[0].record_id, r3.record_id());
  auto by_park = ledger_->Query({.record_type = "disclosure", .park = "park-a"});
  ASSERT_TRUE(by_park.ok());
  EXPECT_EQ(by_park->entries.size(), 1u);
}

TEST_F(LedgerTest, RejectionsConsumeSequenceAndLeaveNoState) {
  CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  // A park may not register a certifier.
  auto wrong_role = CommitOne(chain_.Register("park-a", "cert-x", cdl::v1::ROLE_CERTIFIER, "CN"));
  EXPECT_EQ(wrong_role.status(), cdl::v1::RECORD_REJECTED);
  EXPECT_EQ(wrong_role.code(), cdl::v1::REJECT_ROLE_NOT_ALLOWED);
  EXPECT_TRUE(absl::IsNotFound(ledger_->GetMember("cert-x").status()));
  EXPECT_EQ(ledger_->GetMember("park-a")->last_sequence(), 1u);
  // The next record of the same author goes through.
  auto ok = CommitOne(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  EXPECT_EQ(ok.status(), cdl::v1::RECORD_ACCEPTED) << ok.message();
  EXPECT_EQ(ledger_->head().ledger_size(), 2u);  // rejected records are not in the tree
}

TEST_F(LedgerTest, RecordsDatedFarAfterTheBlockTimeAreRejected) {
  CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  cdl::v1::RecordBody ahead = chain_.Body("park-a");
  ahead.set_created_ms(node_.next_time_ms() + kMaxCreatedAheadMs + 1000);
  ahead.mutable_disclosure()->set_organisation("park-a");
  ahead.mutable_disclosure()->set_period("2025");
  ahead.mutable_disclosure()->set_scope1_tco2e("1");
  ahead.mutable_disclosure()->set_scope2_location_tco2e("1");
  ahead.mutable_disclosure()->set_methodology("ISO 14064-1:2018");
  auto r = CommitOne(chain_.Sign(ahead));
  EXPECT_EQ(r.code(), cdl::v1::REJECT_INVALID_FIELD) << r.message();
  EXPECT_NE(r.message().find("body.created_ms"), std::string::npos) << r.message();
  EXPECT_EQ(ledger_->GetMember("park-a")->last_sequence(), 1u);  // consumed
  // A few minutes of skew are fine.
  cdl::v1::RecordBody near = ahead;
  near.set_sequence(2);
  near.set_created_ms(node_.next_time_ms() + kMaxCreatedAheadMs - 60'000);
  auto ok = CommitOne(chain_.Sign(near));
  EXPECT_EQ(ok.status(), cdl::v1::RECORD_ACCEPTED) << ok.message();
}

TEST_F(LedgerTest, WrongJurisdictionAndDuplicateMember) {
  auto r = CommitOne(chain_.Register("reg-cn", "park-eu", cdl::v1::ROLE_PARK, "EU"));
  EXPECT_EQ(r.code(), cdl::v1::REJECT_JURISDICTION);
  CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  auto dup = CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  EXPECT_EQ(dup.code(), cdl::v1::REJECT_ALREADY_EXISTS);
}

TEST_F(LedgerTest, SequenceMustBeExactlyNext) {
  CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  chain_.RewindSequence("reg-cn", 0);  // replays sequence 1
  auto replay = CommitOne(chain_.Register("reg-cn", "park-b", cdl::v1::ROLE_PARK, "CN"));
  EXPECT_EQ(replay.code(), cdl::v1::REJECT_BAD_SEQUENCE);
  EXPECT_NE(replay.message().find("expected 2"), std::string::npos) << replay.message();
  EXPECT_EQ(ledger_->GetMember("reg-cn")->last_sequence(), 1u);  // not consumed
}

TEST_F(LedgerTest, SupersedeMarksOldDisclosureAndRefusesSecondSupersede) {
  CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  CommitOne(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  auto first = CommitOne(chain_.Disclosure("ent-1", "2025", "100"));
  auto second = CommitOne(chain_.Disclosure("ent-1", "2025", "110", first.record_id()));
  EXPECT_EQ(second.status(), cdl::v1::RECORD_ACCEPTED) << second.message();
  auto third = CommitOne(chain_.Disclosure("ent-1", "2025", "120", first.record_id()));
  EXPECT_EQ(third.code(), cdl::v1::REJECT_SUPERSEDED);
  auto other_period = CommitOne(chain_.Disclosure("ent-1", "2026", "120", second.record_id()));
  EXPECT_EQ(other_period.code(), cdl::v1::REJECT_INVALID_FIELD);
  auto unknown = CommitOne(chain_.Disclosure("ent-1", "2025", "120", std::string(32, 'x')));
  EXPECT_EQ(unknown.code(), cdl::v1::REJECT_UNKNOWN_REFERENCE);
}

TEST_F(LedgerTest, UnverifiedRecordsAreVerifiedAtExecution) {
  // Records that did not pass our own admission (e.g. from a proposal) get
  // their signatures checked by the rules; a forgery consumes no sequence.
  cdl::v1::SignedRecord forged;
  forged.ParseFromString(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  std::string sig = forged.signatures(0).signature();
  sig[sig.size() / 2] ^= 0x20;
  forged.mutable_signatures(0)->set_signature(sig);
  auto r = CommitOne(forged.SerializeAsString());
  EXPECT_EQ(r.code(), cdl::v1::REJECT_BAD_SIGNATURE) << r.message();
  EXPECT_EQ(ledger_->GetMember("reg-cn")->last_sequence(), 0u);
  EXPECT_TRUE(absl::IsNotFound(ledger_->GetMember("park-a").status()));
}

TEST_F(LedgerTest, RegulatorMayNotDisclose) {
  auto r = CommitOne(chain_.Disclosure("reg-cn", "2026", "1"));
  EXPECT_EQ(r.code(), cdl::v1::REJECT_ROLE_NOT_ALLOWED);
}

TEST_F(LedgerTest, RevokedKeyCannotSign) {
  CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  auto old_key_id = chain_.key("park-a").public_key().KeyId();
  auto new_key = TestChain::Generate(cdl::crypto::Algorithm::kEd25519);
  cdl::v1::RecordBody body = chain_.Body("park-a");
  *body.mutable_key_rotation()->add_add_keys() = testing::KeyInfo(new_key.public_key());
  body.mutable_key_rotation()->set_member_id("park-a");
  body.mutable_key_rotation()->add_revoke_key_ids(old_key_id);
  auto rotated = CommitOne(chain_.Sign(body));
  ASSERT_EQ(rotated.status(), cdl::v1::RECORD_ACCEPTED) << rotated.message();
  // The old key is refused, the new (Ed25519) key works.
  auto stale = CommitOne(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  EXPECT_EQ(stale.code(), cdl::v1::REJECT_KEY_REVOKED);
  EXPECT_EQ(ledger_->GetMember("park-a")->last_sequence(), 1u);  // not consumed
  chain_.RewindSequence("park-a", 1);
  chain_.SetKey("park-a", std::move(new_key));
  auto fresh = CommitOne(chain_.Register("park-a", "ent-2", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  EXPECT_EQ(fresh.status(), cdl::v1::RECORD_ACCEPTED) << fresh.message();
}

TEST_F(LedgerTest, InclusionAndConsistencyProofsVerifyAgainstCheckpoints) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(CommitOne(chain_.Register("reg-cn", "park-" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"))
                      .record_id());
  }
  auto genesis = chain_.genesis();
  for (const auto& id : ids) {
    auto proof = ledger_->GetInclusionProof(id, 0);
    ASSERT_TRUE(proof.ok()) << proof.status();
    auto header = cdl::verify::VerifyCheckpoint(genesis, proof->second);
    ASSERT_TRUE(header.ok()) << header.status();
    EXPECT_TRUE(cdl::verify::VerifyRecordInclusion(*header, proof->first, id).ok());
    EXPECT_FALSE(cdl::verify::VerifyRecordInclusion(*header, proof->first, ids[0] == id ? ids[1] : ids[0]).ok());
  }
  // A proof at an older tree size, against that size's checkpoint.
  auto old = ledger_->GetInclusionProof(ids[1], 3);
  ASSERT_TRUE(old.ok()) << old.status();
  auto old_header = cdl::verify::VerifyCheckpoint(genesis, old->second);
  ASSERT_TRUE(old_header.ok());
  EXPECT_EQ(old_header->ledger_size(), 3u);
  EXPECT_TRUE(cdl::verify::VerifyRecordInclusion(*old_header, old->first, ids[1]).ok());

  auto consistency = ledger_->GetConsistencyProof(3, 0);
  ASSERT_TRUE(consistency.ok()) << consistency.status();
  auto new_header = cdl::verify::VerifyCheckpoint(genesis, consistency->second);
  ASSERT_TRUE(new_header.ok());
  std::vector<std::string> hashes(consistency->first.hashes().begin(), consistency->first.hashes().end());
  EXPECT_TRUE(cdl::crypto::VerifyConsistency(3, 5, old_header->ledger_root(), new_header->ledger_root(), hashes).ok());
}

TEST_F(LedgerTest, QueryPaginates) {
  for (int i = 0; i < 7; ++i) CommitOne(chain_.Register("reg-cn", "p" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = ledger_->Query({.record_type = "member_registration", .page_size = 3, .page_token = token});
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& e : page->entries) seen.push_back(e.record_id);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(pages, 3);
  EXPECT_FALSE(ledger_->Query({.page_token = "zz"}).ok());
}

TEST_F(LedgerTest, RecordAlreadyOnLedgerIsSkippedNotOverwritten) {
  std::string reg = chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN");
  auto first = CommitOne(reg);
  ASSERT_EQ(first.status(), cdl::v1::RECORD_ACCEPTED);
  auto receipts = Commit({reg, chain_.Register("reg-cn", "park-b", cdl::v1::ROLE_PARK, "CN")});
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(ledger_->GetReceipt(first.record_id())->status(), cdl::v1::RECORD_ACCEPTED);
}

TEST_F(LedgerTest, ProductFootprintRules) {
  CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  CommitOne(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  auto footprint = [&](const std::string& author, const std::string& json, const std::string& supersedes = "") {
    cdl::v1::RecordBody body = chain_.Body(author);
    body.mutable_product_footprint()->set_pact_json(json);
    body.mutable_product_footprint()->set_supersedes(supersedes);
    return CommitOne(chain_.Sign(body));
  };
  const std::string id1 = "3893bb5d-da16-4dc1-9185-11d97476c254";
  auto ok = footprint("ent-1", testing::PactFootprintJson(id1, "2.50"));
  ASSERT_EQ(ok.status(), cdl::v1::RECORD_ACCEPTED) << ok.message();
  // The footprint is stored byte for byte: decimal strings stay exact.
  cdl::v1::SignedRecord stored;
  ASSERT_TRUE(stored.ParseFromString(*ledger_->GetRecord(ok.record_id())));
  cdl::v1::RecordBody body;
  ASSERT_TRUE(body.ParseFromString(stored.body()));
  EXPECT_NE(body.product_footprint().pact_json().find("\"pCfExcludingBiogenic\":\"2.50\""), std::string::npos);

  auto duplicate = footprint("ent-1", testing::PactFootprintJson(id1, "2.60"));
  EXPECT_EQ(duplicate.code(), cdl::v1::REJECT_DUPLICATE);
  std::string missing = testing::PactFootprintJson("4893bb5d-da16-4dc1-9185-11d97476c254");
  missing.replace(missing.find("\"declaredUnit\":\"kilogram\","), 26, "");
  auto bad = footprint("ent-1", missing);
  EXPECT_EQ(bad.code(), cdl::v1::REJECT_INVALID_FIELD);
  EXPECT_NE(bad.message().find("declaredUnit"), std::string::npos) << bad.message();
  auto wrong_role = footprint("park-a", testing::PactFootprintJson("5893bb5d-da16-4dc1-9185-11d97476c254"));
  EXPECT_EQ(wrong_role.code(), cdl::v1::REJECT_ROLE_NOT_ALLOWED);
  auto v2 = footprint("ent-1", testing::PactFootprintJson("6893bb5d-da16-4dc1-9185-11d97476c254", "2.40"), ok.record_id());
  EXPECT_EQ(v2.status(), cdl::v1::RECORD_ACCEPTED) << v2.message();
  auto by_period = ledger_->Query({.record_type = "product_footprint", .period = "2025"});
  ASSERT_TRUE(by_period.ok());
  EXPECT_EQ(by_period->entries.size(), 2u);
}

TEST_F(LedgerTest, FindFootprintByPactId) {
  CommitOne(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  CommitOne(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
  const std::string id1 = "3893bb5d-da16-4dc1-9185-11d97476c254";
  auto first = CommitOne(chain_.Footprint("ent-1", id1));
  ASSERT_EQ(first.status(), cdl::v1::RECORD_ACCEPTED) << first.message();
  auto found = ledger_->FindFootprint(id1);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, first.record_id());
  EXPECT_TRUE(absl::IsNotFound(ledger_->FindFootprint("4893bb5d-da16-4dc1-9185-11d97476c254").status()));
  EXPECT_TRUE(absl::IsNotFound(ledger_->FindFootprint("").status()));
  // A rejected duplicate does not move the id to the new record.
  auto duplicate = CommitOne(chain_.Footprint("ent-1", id1));
  EXPECT_EQ(duplicate.code(), cdl::v1::REJECT_DUPLICATE);
  EXPECT_EQ(*ledger_->FindFootprint(id1), first.record_id());
}

// Certificate standard and status queries over a known dataset: four
// certificates of two standards, then a suspension, a revocation, a
// reinstatement and a certificate revoked in the block that issued it.
class CertificateQueryTest : public LedgerTest {
 protected:
  static constexpr int64_t kDay = 86'400'000;

  void SetUp() override {
    for (const auto& r : Commit({chain_.Register("reg-cn", "acc-cn", cdl::v1::ROLE_ACCREDITOR, "CN"),
                                 chain_.Register("reg-cn", "cert-cn", cdl::v1::ROLE_CERTIFIER, "CN"),
                                 chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")})) {
      ASSERT_EQ(r.status(), cdl::v1::RECORD_ACCEPTED) << r.message();
    }
    for (const auto& r : Commit({chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"),
                                 chain_.Register("park-a", "ent-2", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"),
                                 chain_.Accreditation("acc-cn", "cert-cn", {"ISO 14064-3", "ISO 14067"}, {"CN"}, 0,
                                                      node_.next_time_ms() + 1000 * kDay)})) {
      ASSERT_EQ(r.status(), cdl::v1::RECORD_ACCEPTED) << r.message();
    }
    auto d = Commit({chain_.Disclosure("ent-1", "2025", "100"), chain_.Disclosure("ent-2", "2025", "200"),
                     chain_.Disclosure("ent-1", "2024", "90")});
    ASSERT_EQ(d.size(), 3u);
    now_ = node_.next_time_ms();
    auto c = Commit({chain_.Certificate("cert-cn", d[0].record_id(), "ISO 14064-3", "CN", 0, now_ + 365 * kDay),
                     chain_.Certificate("cert-cn", d[1].record_id(), "ISO 14064-3", "CN", 0, now_ + 10 * kDay),
                     chain_.Certificate("cert-cn", d[2].record_id(), "ISO 14067", "CN", 0, now_ + 365 * kDay),
                     chain_.Certificate("cert-cn", d[1].record_id(), "ISO 14067", "CN", 0, now_ + 365 * kDay)});
    ASSERT_EQ(c.size(), 4u);
    for (const auto& r : c) {
      ASSERT_EQ(r.status(), cdl::v1::RECORD_ACCEPTED) << r.message();
      certs_.push_back(r.record_id());
    }
  }

  // Ids of the certificates (c1..c5) a query returns, in order, following
  // every page; each page holds at most `page_size` entries.
  std::vector<std::string> Names(QueryFilter filter, uint32_t page_size = 100, int* pages = nullptr) {
    filter.page_size = page_size;
    std::vector<std::string> out;
    int n = 0;
    for (;;) {
      auto page = ledger_->Query(filter);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) return out;
      ++n;
      EXPECT_LE(page->entries.size(), page_size);
      for (const auto& e : page->entries) {
        std::string name = "?";
        for (size_t i = 0; i < certs_.size(); ++i) {
          if (certs_[i] == e.record_id) name = "c" + std::to_string(i + 1);
        }
        out.push_back(name);
      }
      if (page->next_page_token.empty()) break;
      filter.page_token = page->next_page_token;
    }
    if (pages != nullptr) *pages = n;
    return out;
  }

  cdl::v1::Receipt Change(cdl::v1::RecordBody::PayloadCase kind, int cert) {
    return CommitOne(chain_.StatusChange("cert-cn", kind, testing::RecordTarget(certs_[cert - 1]), "test"));
  }

  int64_t now_ = 0;
  std::vector<std::string> certs_;
};

using Ids = std::vector<std::string>;

TEST_F(CertificateQueryTest, ByStandard) {
  EXPECT_EQ(Names({.standard = "ISO 14064-3"}), (Ids{"c1", "c2"}));
  EXPECT_EQ(Names({.standard = "ISO 14067"}), (Ids{"c3", "c4"}));
  EXPECT_EQ(Names({.standard = "PAS 2050"}), Ids{});
  EXPECT_EQ(Names({.member = "ent-2", .standard = "ISO 14067"}), (Ids{"c4"}));
  EXPECT_EQ(Names({.period = "2024", .standard = "ISO 14067"}), (Ids{"c3"}));
  // Only certificates have a standard.
  EXPECT_EQ(Names({.record_type = "disclosure", .standard = "ISO 14067"}), Ids{});
  EXPECT_EQ(Names({.record_type = "certificate", .standard = "ISO 14067"}), (Ids{"c3", "c4"}));
}

TEST_F(CertificateQueryTest, ByStatusFollowsSuspensionRevocationAndReinstatement) {
  EXPECT_EQ(Names({.certificate_status = "active"}), (Ids{"c1", "c2", "c3", "c4"}));
  ASSERT_EQ(Change(cdl::v1::RecordBody::kSuspension, 1).status(), cdl::v1::RECORD_ACCEPTED);
  ASSERT_EQ(Change(cdl::v1::RecordBody::kRevocation, 3).status(), cdl::v1::RECORD_ACCEPTED);
  EXPECT_EQ(Names({.certificate_status = "active"}), (Ids{"c2", "c4"}));
  EXPECT_EQ(Names({.certificate_status = "suspended"}), (Ids{"c1"}));
  EXPECT_EQ(Names({.certificate_status = "revoked"}), (Ids{"c3"}));
  EXPECT_EQ(Names({.certificate_status = "expired"}), Ids{});
  // 20 days on, c2 (valid 10 days) has expired; suspended c1 stays suspended.
  EXPECT_EQ(Names({.certificate_status = "expired", .as_of_ms = now_ + 20 * kDay}), (Ids{"c2"}));
  EXPECT_EQ(Names({.certificate_status = "active", .as_of_ms = now_ + 20 * kDay}), (Ids{"c4"}));
  EXPECT_EQ(Names({.certificate_status = "suspended", .as_of_ms = now_ + 20 * kDay}), (Ids{"c1"}));

  ASSERT_EQ(Change(cdl::v1::RecordBody::kReinstatement, 1).status(), cdl::v1::RECORD_ACCEPTED);
  EXPECT_EQ(Names({.certificate_status = "active"}), (Ids{"c1", "c2", "c4"}));
  EXPECT_EQ(Names({.certificate_status = "suspended"}), Ids{});
  // Combined with other filters.
  EXPECT_EQ(Names({.member = "ent-2", .certificate_status = "active"}), (Ids{"c2", "c4"}));
  EXPECT_EQ(Names({.standard = "ISO 14067", .certificate_status = "active"}), (Ids{"c4"}));
  EXPECT_EQ(Names({.standard = "ISO 14067", .certificate_status = "revoked"}), (Ids{"c3"}));
  EXPECT_EQ(Names({.park = "park-a", .certificate_status = "revoked"}), (Ids{"c3"}));
}

TEST_F(CertificateQueryTest, CertificateRevokedInTheBlockThatIssuedIt) {
  auto d = CommitOne(chain_.Disclosure("ent-2", "2024", "80"));
  ASSERT_EQ(d.status(), cdl::v1::RECORD_ACCEPTED);
  std::string cert = chain_.Certificate("cert-cn", d.record_id(), "ISO 14064-3", "CN", 0, now_ + 365 * kDay);
  std::string id = cdl::verify::ParseSignedRecord(cert)->id;
  auto r = Commit({cert, chain_.StatusChange("cert-cn", cdl::v1::RecordBody::kRevocation, testing::RecordTarget(id),
                                             "issued in error")});
  ASSERT_EQ(r.size(), 2u);
  ASSERT_EQ(r[1].status(), cdl::v1::RECORD_ACCEPTED) << r[1].message();
  certs_.push_back(id);
  EXPECT_EQ(Names({.certificate_status = "revoked"}), (Ids{"c5"}));
  EXPECT_EQ(Names({.certificate_status = "active"}), (Ids{"c1", "c2", "c3", "c4"}));
  EXPECT_EQ(Names({.standard = "ISO 14064-3"}), (Ids{"c1", "c2", "c5"}));
}

TEST_F(CertificateQueryTest, Paginated) {
  int pages = 0;
  EXPECT_EQ(Names({.certificate_status = "active"}, 1, &pages), (Ids{"c1", "c2", "c3", "c4"}));
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(Names({.standard = "ISO 14064-3"}, 1, &pages), (Ids{"c1", "c2"}));
  EXPECT_EQ(Names({.certificate_status = "active"}, 3, &pages), (Ids{"c1", "c2", "c3", "c4"}));
  EXPECT_EQ(pages, 2);
  // Served by the member index; hits that are not active certificates are skipped.
  EXPECT_EQ(Names({.member = "ent-1", .certificate_status = "active"}, 1), (Ids{"c1", "c3"}));
}

TEST_F(CertificateQueryTest, CertificatesOfASubjectInAcceptanceOrderWhateverTheirStatus) {
  auto c2 = cdl::verify::ParseSignedRecord(*ledger_->GetRecord(certs_[1]));
  ASSERT_TRUE(c2.ok()) << c2.status();
  const std::string subject = c2->body.certificate().subject();
  ASSERT_EQ(Change(cdl::v1::RecordBody::kRevocation, 2).status(), cdl::v1::RECORD_ACCEPTED);
  auto of_d2 = ledger_->CertificatesOf(subject);
  ASSERT_TRUE(of_d2.ok()) << of_d2.status();
  EXPECT_EQ(*of_d2, (Ids{certs_[1], certs_[3]}));  // c2 (revoked) and c4
  auto of_cert = ledger_->CertificatesOf(certs_[0]);  // a certificate has none
  ASSERT_TRUE(of_cert.ok());
  EXPECT_TRUE(of_cert->empty());
  auto unknown = ledger_->CertificatesOf(std::string(32, '\x07'));
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->empty());
}

TEST_F(CertificateQueryTest, UnknownStatusIsInvalidArgument) {
  auto page = ledger_->Query({.certificate_status = "lapsed"});
  EXPECT_TRUE(absl::IsInvalidArgument(page.status())) << page.status();
  EXPECT_NE(page.status().message().find("active, suspended, revoked, expired"), std::string::npos);
}

TEST(LedgerRocksTest, StateSurvivesReopenAndGenesisIsChecked) {
  auto dir = std::filesystem::temp_directory_path() / ("cdl-ledger-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  TestChain chain;
  std::string root;
  {
    auto store = cdl::storage::OpenRocksStore(dir.string(), LedgerColumns());
    ASSERT_TRUE(store.ok()) << store.status();
    auto ledger = Ledger::Open(*std::move(store), chain.genesis());
    ASSERT_TRUE(ledger.ok());
    auto rec = cdl::verify::ParseSignedRecord(chain.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
    auto block = (*ledger)->Prepare({&*rec}, 1'800'000'000'000, 1, "v1");
    ASSERT_TRUE(block.ok());
    cdl::v1::CommitCertificate commit;
    commit.set_height(1);
    commit.set_block_hash(block->hash);
    ASSERT_TRUE((*ledger)->Commit(*std::move(block), commit).ok());
    root = (*ledger)->head().ledger_root();
  }
  {
    auto store = cdl::storage::OpenRocksStore(dir.string(), LedgerColumns());
    ASSERT_TRUE(store.ok());
    auto ledger = Ledger::Open(*std::move(store), chain.genesis());
    ASSERT_TRUE(ledger.ok());
    EXPECT_EQ((*ledger)->head().height(), 1u);
    EXPECT_EQ((*ledger)->head().ledger_root(), root);
    EXPECT_EQ((*ledger)->GetMember("reg-cn")->last_sequence(), 1u);
  }
  {
    TestChain other;
    auto store = cdl::storage::OpenRocksStore(dir.string(), LedgerColumns());
    ASSERT_TRUE(store.ok());
    auto ledger = Ledger::Open(*std::move(store), other.genesis());
    EXPECT_TRUE(absl::IsFailedPrecondition(ledger.status())) << ledger.status();
  }
  std::filesystem::remove_all(dir);
}

// Commit signatures are verified once each, counted when refused, and not
// looked at once the certificate has a quorum.
TEST(LedgerCertificateTest, CommitSignaturesAreVerifiedOnceAndStopAtAQuorum) {
  TestChain chain(4);
  auto ledger = Ledger::Open(cdl::storage::NewMemoryStore(LedgerColumns()), chain.genesis());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  auto rec = cdl::verify::ParseSignedRecord(chain.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(rec.ok());
  auto block = (*ledger)->Prepare({&*rec}, 1'800'000'000'000, 1, "v1");
  ASSERT_TRUE(block.ok()) << block.status();
  const std::string hash = block->hash;
  cdl::v1::CommitCertificate commit;
  commit.set_height(1);
  commit.set_block_hash(hash);
  ASSERT_TRUE((*ledger)->Commit(*std::move(block), commit).ok());
  auto sign = [&](size_t key, const std::string& name) {
    auto sig = cdl::verify::SignCommit(chain.validator_key(key), name, "test-chain", 1, hash);
    EXPECT_TRUE(sig.ok());
    return *sig;
  };
  auto add = [&](std::vector<cdl::v1::CommitSignature> sigs) {
    auto added = (*ledger)->AddCommitSignatures(1, sigs);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : Ledger::SignaturesAdded{};
  };

  // v2's name with v1's key, and a validator the genesis does not have.
  auto r = add({sign(0, "v2"), sign(0, "v9")});
  EXPECT_EQ(r.refused, 2u);
  EXPECT_EQ(r.added, 0u);
  EXPECT_FALSE(r.certified);
  // v1 twice: stored once.
  r = add({sign(0, "v1"), sign(0, "v1")});
  EXPECT_EQ(r.added, 1u);
  EXPECT_EQ(r.refused, 0u);
  r = add({sign(1, "v2"), sign(2, "v3")});
  EXPECT_EQ(r.added, 2u);
  EXPECT_TRUE(r.certified);
  EXPECT_EQ((*ledger)->head().certified_height(), 1u);
  // A quorum is complete: even a forged signature is not looked at.
  cdl::v1::CommitSignature forged = sign(0, "v4");
  r = add({forged});
  EXPECT_TRUE(r.certified);
  EXPECT_EQ(r.added + r.refused, 0u);
  auto stored = (*ledger)->GetBlock(1);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->second.signatures_size(), 3);
}

// A block certified after later blocks were committed gets its own ledger
// size as the certified size, not the head's; the commit certificate alone is
// readable by height and names the stored header's hash.
TEST(LedgerCertificateTest, CertifyingAnOlderBlockTakesItsOwnLedgerSize) {
  TestChain chain(4);
  auto ledger = Ledger::Open(cdl::storage::NewMemoryStore(LedgerColumns()), chain.genesis());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  std::vector<std::string> hashes;
  for (int height = 1; height <= 2; ++height) {
    std::vector<cdl::verify::ParsedRecord> parsed;
    for (int i = 0; i < height; ++i) {
      auto rec = cdl::verify::ParseSignedRecord(
          chain.Register("reg-cn", cdl::StrCat("park-", height, "-", i), cdl::v1::ROLE_PARK, "CN"));
      ASSERT_TRUE(rec.ok()) << rec.status();
      parsed.push_back(*std::move(rec));
    }
    std::vector<const cdl::verify::ParsedRecord*> ptrs;
    for (const auto& p : parsed) ptrs.push_back(&p);
    auto block = (*ledger)->Prepare(ptrs, 1'800'000'000'000 + height, height, "v1");
    ASSERT_TRUE(block.ok()) << block.status();
    hashes.push_back(block->hash);
    cdl::v1::CommitCertificate commit;
    commit.set_height(height);
    commit.set_block_hash(block->hash);
    ASSERT_TRUE((*ledger)->Commit(*std::move(block), commit).ok());
  }
  ASSERT_EQ((*ledger)->head().ledger_size(), 3u);
  for (uint64_t height : {1u, 2u}) {
    auto commit = (*ledger)->GetCommitCertificate(height);
    ASSERT_TRUE(commit.ok()) << commit.status();
    auto block = (*ledger)->GetBlock(height);
    ASSERT_TRUE(block.ok()) << block.status();
    EXPECT_EQ(commit->block_hash(), cdl::verify::BlockHash(block->first.header()));
    EXPECT_EQ(commit->block_hash(), hashes[height - 1]);
  }
  EXPECT_TRUE(absl::IsNotFound((*ledger)->GetCommitCertificate(3).status()));
  EXPECT_TRUE(absl::IsNotFound((*ledger)->GetCommitCertificate(0).status()));

  auto certify = [&](uint64_t height) {
    std::vector<cdl::v1::CommitSignature> sigs;
    for (size_t k = 1; k <= 2; ++k) {  // with the block's own v1 signature: 3 of 4
      auto sig = cdl::verify::SignCommit(chain.validator_key(k), cdl::StrCat("v", k + 1), "test-chain", height,
                                         hashes[height - 1]);
      EXPECT_TRUE(sig.ok());
      sigs.push_back(*sig);
    }
    auto own = cdl::verify::SignCommit(chain.validator_key(0), "v1", "test-chain", height, hashes[height - 1]);
    EXPECT_TRUE(own.ok());
    sigs.push_back(*own);
    auto added = (*ledger)->AddCommitSignatures(height, sigs);
    ASSERT_TRUE(added.ok()) << added.status();
    EXPECT_TRUE(added->certified);
  };
  certify(1);
  EXPECT_EQ((*ledger)->head().certified_height(), 1u);
  EXPECT_EQ((*ledger)->head().certified_ledger_size(), 1u);  // block 1's, not the head's 3
  EXPECT_EQ((*ledger)->CertifiedLedgerSize(), 1u);
  certify(2);
  EXPECT_EQ((*ledger)->head().certified_height(), 2u);
  EXPECT_EQ((*ledger)->head().certified_ledger_size(), 3u);
}

// A data dir written before the certificate standard/status indexes existed
// gets them when the ledger opens it.
TEST(LedgerRocksTest, CertificateIndexesAreBuiltForAnOlderDataDir) {
  auto dir = std::filesystem::temp_directory_path() / ("cdl-ledger-index-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  TestChain chain;
  std::vector<std::string> certs;
  {
    auto store = cdl::storage::OpenRocksStore(dir.string(), LedgerColumns());
    ASSERT_TRUE(store.ok()) << store.status();
    testing::TestLedger node(chain, *std::move(store));
    node.Commit({chain.Register("reg-cn", "acc-cn", cdl::v1::ROLE_ACCREDITOR, "CN"),
                 chain.Register("reg-cn", "cert-cn", cdl::v1::ROLE_CERTIFIER, "CN"),
                 chain.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")});
    const int64_t until = node.next_time_ms() + 1000LL * 86'400'000;
    node.Commit({chain.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"),
                 chain.Accreditation("acc-cn", "cert-cn", {"ISO 14064-3", "ISO 14067"}, {"CN"}, 0, until)});
    auto d = node.CommitOne(chain.Disclosure("ent-1", "2025", "100"));
    for (const auto& r : node.Commit({chain.Certificate("cert-cn", d.record_id(), "ISO 14064-3", "CN", 0, until),
                                      chain.Certificate("cert-cn", d.record_id(), "ISO 14067", "CN", 0, until)})) {
      ASSERT_EQ(r.status(), cdl::v1::RECORD_ACCEPTED) << r.message();
      certs.push_back(r.record_id());
    }
    ASSERT_EQ(node.CommitOne(chain.StatusChange("cert-cn", cdl::v1::RecordBody::kSuspension,
                                                testing::RecordTarget(certs[1]), "test"))
                  .status(),
              cdl::v1::RECORD_ACCEPTED);
    // Make it look like an older version's data dir.
    cdl::storage::Store* raw = node.ledger().store();
    cdl::storage::WriteBatch strip;
    auto it = raw->NewIterator(kIndexColumn);
    for (it->Seek(""); it->Valid(); it->Next()) {
      char tag = it->key()[0];
      if (tag == 'S' || tag == 's' || tag == 'P') strip.Delete(kIndexColumn, it->key());
    }
    ASSERT_FALSE(strip.empty());
    strip.Delete(kMetaColumn, "index_version");
    ASSERT_TRUE(raw->Write(strip, /*sync=*/true).ok());
    auto page = node.ledger().Query({.standard = "ISO 14067"});
    ASSERT_TRUE(page.ok());
    EXPECT_TRUE(page->entries.empty());
  }
  {
    auto store = cdl::storage::OpenRocksStore(dir.string(), LedgerColumns());
    ASSERT_TRUE(store.ok());
    testing::TestLedger node(chain, *std::move(store));
    auto ids = [&](QueryFilter filter) {
      std::vector<std::string> out;
      auto page = node.ledger().Query(filter);
      EXPECT_TRUE(page.ok()) << page.status();
      if (page.ok()) {
        for (const auto& e : page->entries) out.push_back(e.record_id);
      }
      return out;
    };
    EXPECT_EQ(ids({.standard = "ISO 14067"}), std::vector<std::string>{certs[1]});
    EXPECT_EQ(ids({.certificate_status = "active"}), std::vector<std::string>{certs[0]});
    EXPECT_EQ(ids({.certificate_status = "suspended"}), std::vector<std::string>{certs[1]});
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cdl::ledger
