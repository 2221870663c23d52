// The rules of mutual certification (certification_rules.h): every accepted
// case and every rejection with its reason code, executed through the ledger.
#include "node/ledger/certification_rules.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/ledger/test_util.h"
#include "node/verify/authority.h"
#include "node/verify/state_entry.h"

namespace cdl::ledger {
namespace {

using cdl::v1::Receipt;
using cdl::v1::RecordBody;
using cdl::v1::RejectCode;
using testing::MemberTarget;
using testing::RecordTarget;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kYear = 365 * kDay;
const std::vector<std::string> kStandards = {"ISO 14067", "ISO 14064-3"};

::testing::AssertionResult Accepted(const Receipt& r) {
  if (r.status() == cdl::v1::RECORD_ACCEPTED) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "rejected with " << cdl::v1::RejectCode_Name(r.code()) << ": "
                                       << r.message();
}

// Rejected with `code`, and the message contains `text` (which names the field).
::testing::AssertionResult Rejected(const Receipt& r, RejectCode code, const std::string& text) {
  if (r.status() != cdl::v1::RECORD_REJECTED) return ::testing::AssertionFailure() << "not rejected";
  if (r.code() != code) {
    return ::testing::AssertionFailure() << "code " << cdl::v1::RejectCode_Name(r.code()) << " instead of "
                                         << cdl::v1::RejectCode_Name(code) << ": " << r.message();
  }
  if (r.message().find(text) == std::string::npos) {
    return ::testing::AssertionFailure() << "message \"" << r.message() << "\" does not contain \"" << text << "\"";
  }
  return ::testing::AssertionSuccess();
}

// Members: accreditors acc-cn (CN) and acc-eu (EU), certifiers cert-cn (CN)
// and cert-eu (EU), park park-a (CN) with enterprise ent-1, which has one
// disclosure and one product footprint on the ledger.
class CertificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& r : Commit({chain_.Register("reg-cn", "acc-cn", cdl::v1::ROLE_ACCREDITOR, "CN"),
                                 chain_.Register("reg-eu", "acc-eu", cdl::v1::ROLE_ACCREDITOR, "EU"),
                                 chain_.Register("reg-cn", "cert-cn", cdl::v1::ROLE_CERTIFIER, "CN"),
                                 chain_.Register("reg-eu", "cert-eu", cdl::v1::ROLE_CERTIFIER, "EU"),
                                 chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")})) {
      ASSERT_TRUE(Accepted(r));
    }
    ASSERT_TRUE(Accepted(CommitOne(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"))));
    auto d = CommitOne(chain_.Disclosure("ent-1", "2025", "100"));
    ASSERT_TRUE(Accepted(d));
    disclosure_ = d.record_id();
    auto f = CommitOne(chain_.Footprint("ent-1", "3893bb5d-da16-4dc1-9185-11d97476c254"));
    ASSERT_TRUE(Accepted(f));
    footprint_ = f.record_id();
  }

  std::vector<Receipt> Commit(const std::vector<std::string>& records) { return ledger_.Commit(records); }
  Receipt CommitOne(const std::string& record) { return ledger_.CommitOne(record); }
  int64_t Now() const { return ledger_.next_time_ms(); }

  std::string Accreditation(const std::string& author = "acc-cn", const std::string& certifier = "cert-cn",
                            std::vector<std::string> jurisdictions = {"CN"}, int64_t until = 0) {
    return chain_.Accreditation(author, certifier, kStandards, jurisdictions, 0, until != 0 ? until : Now() + kYear);
  }
  // Accepts an accreditation of cert-cn by acc-cn; returns its id.
  std::string Accredit(int64_t until = 0) {
    auto r = CommitOne(Accreditation("acc-cn", "cert-cn", {"CN"}, until));
    EXPECT_TRUE(Accepted(r));
    return r.record_id();
  }
  std::string Certificate(const std::string& subject, const std::string& author = "cert-cn",
                          const std::string& standard = "ISO 14067", const std::string& jurisdiction = "CN") {
    return chain_.Certificate(author, subject, standard, jurisdiction, 0, Now() + kYear / 2);
  }
  // Accredits cert-cn and certifies the footprint; returns the certificate id.
  std::string Certify() {
    Accredit();
    auto r = CommitOne(Certificate(footprint_));
    EXPECT_TRUE(Accepted(r));
    return r.record_id();
  }
  std::string Agreement(std::vector<std::string> cosigners = {"acc-eu"}, const std::string& party_b = "acc-eu",
                        const std::string& jurisdiction_b = "EU") {
    return chain_.Agreement("acc-cn", "CN", party_b, jurisdiction_b, {"ISO 14067"}, cdl::v1::DIRECTION_MUTUAL, 0,
                            Now() + kYear, cosigners);
  }
  std::string Agree() {
    auto r = CommitOne(Agreement());
    EXPECT_TRUE(Accepted(r));
    return r.record_id();
  }
  std::string Change(const std::string& author, RecordBody::PayloadCase kind, const cdl::v1::Target& target) {
    return chain_.StatusChange(author, kind, target, "test reason");
  }

  // The proven status entry of a record / member / key at the latest block.
  cdl::v1::StateEntry Entry(const std::string& state_key) {
    auto proof = ledger_.ledger().GetStateProof(state_key, 0);
    EXPECT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(proof->first.has_entry());
    return proof->first.entry();
  }
  cdl::v1::EntryStatus RecordStatus(const std::string& id) { return Entry(cdl::verify::RecordStateKey(id)).status(); }

  testing::TestChain chain_;
  testing::TestLedger ledger_{chain_};
  std::string disclosure_;
  std::string footprint_;
};

// --- Accreditation ---------------------------------------------------------

TEST_F(CertificationTest, AccreditationByAccreditorOrRegulator) {
  auto by_accreditor = CommitOne(Accreditation("acc-cn"));
  EXPECT_TRUE(Accepted(by_accreditor));
  auto by_regulator = CommitOne(Accreditation("reg-cn"));
  EXPECT_TRUE(Accepted(by_regulator));
  auto entry = Entry(cdl::verify::RecordStateKey(by_accreditor.record_id()));
  EXPECT_EQ(entry.status(), cdl::v1::ENTRY_ACTIVE);
  EXPECT_EQ(entry.changed_by(), by_accreditor.record_id());
  EXPECT_GT(entry.valid_until_ms(), Now());
}

TEST_F(CertificationTest, AccreditationRejections) {
  EXPECT_TRUE(Rejected(CommitOne(Accreditation("cert-eu", "cert-cn", {"EU"})), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "body.author: a certifier may not accredit"));
  EXPECT_TRUE(Rejected(CommitOne(Accreditation("park-a")), cdl::v1::REJECT_ROLE_NOT_ALLOWED, "body.author"));
  EXPECT_TRUE(Rejected(CommitOne(Accreditation("acc-cn", "nobody")), cdl::v1::REJECT_UNKNOWN_MEMBER,
                       "accreditation.certifier: \"nobody\" is not registered"));
  EXPECT_TRUE(Rejected(CommitOne(Accreditation("acc-cn", "park-a")), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "accreditation.certifier: \"park-a\" is a park, not a certifier"));
  EXPECT_TRUE(Rejected(CommitOne(Accreditation("acc-cn", "cert-cn", {"CN", "EU"})), cdl::v1::REJECT_JURISDICTION,
                       "accreditation.jurisdictions[1]: \"EU\" is outside the author's jurisdiction \"CN\""));
  // A foreign certifier may be accredited, but only for the accreditor's own jurisdiction.
  EXPECT_TRUE(Accepted(CommitOne(Accreditation("acc-cn", "cert-eu", {"CN"}))));
  EXPECT_TRUE(Rejected(CommitOne(Accreditation("acc-cn", "cert-cn", {"CN"}, Now())), cdl::v1::REJECT_INVALID_FIELD,
                       "accreditation.valid_until_ms"));
  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kSuspension, MemberTarget("cert-cn")))));
  EXPECT_TRUE(Rejected(CommitOne(Accreditation()), cdl::v1::REJECT_MEMBER_INACTIVE,
                       "accreditation.certifier: \"cert-cn\" is not active"));
}

// --- Certificate -----------------------------------------------------------

TEST_F(CertificationTest, CertificateOfFootprintAndDisclosure) {
  Accredit();
  auto c1 = CommitOne(Certificate(footprint_));
  EXPECT_TRUE(Accepted(c1));
  auto c2 = CommitOne(Certificate(disclosure_, "cert-cn", "ISO 14064-3"));
  EXPECT_TRUE(Accepted(c2));
  EXPECT_EQ(RecordStatus(c1.record_id()), cdl::v1::ENTRY_ACTIVE);
  // Indexed under the certified enterprise.
  auto page = ledger_.ledger().Query({.member = "ent-1", .record_type = "certificate"});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->entries.size(), 2u);
}

TEST_F(CertificationTest, AccreditationEarlierInTheSameBlockCounts) {
  auto receipts = Commit({Accreditation(), Certificate(footprint_)});
  ASSERT_EQ(receipts.size(), 2u);
  EXPECT_TRUE(Accepted(receipts[0]));
  EXPECT_TRUE(Accepted(receipts[1]));
}

TEST_F(CertificationTest, CertificateRejections) {
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_)), cdl::v1::REJECT_NOT_ACCREDITED,
                       "certificate.standard: cert-cn holds no accreditation for ISO 14067 in CN"));
  std::string accreditation = Accredit();
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_, "acc-cn")), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "body.author: a accreditor may not issue certificates"));
  EXPECT_TRUE(Rejected(CommitOne(Certificate(std::string(32, 'x'))), cdl::v1::REJECT_UNKNOWN_REFERENCE,
                       "certificate.subject: no accepted record"));
  EXPECT_TRUE(Rejected(CommitOne(Certificate(accreditation)), cdl::v1::REJECT_INVALID_FIELD,
                       "is a accreditation, not a disclosure or product footprint"));
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_, "cert-cn", "PAS 2050")), cdl::v1::REJECT_NOT_ACCREDITED,
                       "cert-cn holds no accreditation for PAS 2050 in CN"));
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_, "cert-cn", "ISO 14067", "EU")), cdl::v1::REJECT_JURISDICTION,
                       "certificate.jurisdiction: \"EU\" is not the jurisdiction \"CN\" of the subject's organisation"));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Certificate("cert-cn", footprint_, "ISO 14067", "CN", 0, Now())),
                       cdl::v1::REJECT_INVALID_FIELD, "certificate.valid_until_ms"));
  // A certifier accredited in CN by CN may not certify in CN when the accreditation is for another certifier.
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_, "cert-eu")), cdl::v1::REJECT_NOT_ACCREDITED,
                       "cert-eu holds no accreditation"));
}

TEST_F(CertificationTest, CertificateNeedsAnAccreditationInForceAtBlockTime) {
  std::string accreditation = Accredit(Now() + 5 * kDay);
  EXPECT_TRUE(Accepted(CommitOne(Certificate(footprint_))));
  ledger_.Advance(6 * kDay);
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_)), cdl::v1::REJECT_NOT_ACCREDITED,
                       "accreditation of cert-cn for ISO 14067 in CN expired at"));
  // Renewal by its issuer revives it (a new end of validity).
  EXPECT_TRUE(Accepted(CommitOne(chain_.Renewal("acc-cn", accreditation, Now() + kYear))));
  EXPECT_TRUE(Accepted(CommitOne(Certificate(footprint_))));
  // Not yet valid.
  auto future = CommitOne(chain_.Accreditation("acc-cn", "cert-eu", kStandards, {"CN"}, Now() + kYear, Now() + 2 * kYear));
  ASSERT_TRUE(Accepted(future));
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_, "cert-eu")), cdl::v1::REJECT_NOT_ACCREDITED,
                       "not valid before"));
}

TEST_F(CertificationTest, SuspendedAccreditationStopsCertification) {
  std::string accreditation = Accredit();
  ASSERT_TRUE(Accepted(CommitOne(Change("acc-cn", RecordBody::kSuspension, RecordTarget(accreditation)))));
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_)), cdl::v1::REJECT_NOT_ACCREDITED,
                       "accreditation of cert-cn for ISO 14067 suspended since"));
  // The regulator of CN lifts it; certification works again.
  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kReinstatement, RecordTarget(accreditation)))));
  EXPECT_TRUE(Accepted(CommitOne(Certificate(footprint_))));
  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kRevocation, RecordTarget(accreditation)))));
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_)), cdl::v1::REJECT_NOT_ACCREDITED, "revoked at"));
}

TEST_F(CertificationTest, SupersededSubjectDoesNotPassItsCertificateOn) {
  std::string certificate = Certify();
  auto v2 = CommitOne(chain_.Footprint("ent-1", "4893bb5d-da16-4dc1-9185-11d97476c254", footprint_));
  ASSERT_TRUE(Accepted(v2));
  // The old certificate now says its subject was superseded, and no longer counts.
  auto entry = Entry(cdl::verify::RecordStateKey(certificate));
  EXPECT_EQ(entry.subject_superseded_by(), v2.record_id());
  cdl::v1::SignedRecord stored;
  ASSERT_TRUE(stored.ParseFromString(*ledger_.ledger().GetRecord(certificate)));
  cdl::v1::RecordBody body;
  ASSERT_TRUE(body.ParseFromString(stored.body()));
  auto valid = cdl::verify::CheckCertificate(body.certificate(), entry, Now());
  EXPECT_FALSE(valid.ok());
  EXPECT_NE(valid.message().find("was superseded by"), std::string_view::npos) << valid;
  // The superseded version cannot be certified or renewed; the new one can be certified.
  EXPECT_TRUE(Rejected(CommitOne(Certificate(footprint_)), cdl::v1::REJECT_SUPERSEDED,
                       "certificate.subject: record"));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Renewal("cert-cn", certificate, Now() + kYear)), cdl::v1::REJECT_SUPERSEDED,
                       "renewal.target: the subject of certificate"));
  EXPECT_TRUE(Accepted(CommitOne(Certificate(v2.record_id()))));
  // The same holds for disclosures.
  auto dc = CommitOne(Certificate(disclosure_, "cert-cn", "ISO 14064-3"));
  ASSERT_TRUE(Accepted(dc));
  ASSERT_TRUE(Accepted(CommitOne(chain_.Disclosure("ent-1", "2025", "101", disclosure_))));
  EXPECT_FALSE(Entry(cdl::verify::RecordStateKey(dc.record_id())).subject_superseded_by().empty());
}

// --- RecognitionAgreement --------------------------------------------------

TEST_F(CertificationTest, AgreementSignedByBothParties) {
  auto r = CommitOne(Agreement());
  ASSERT_TRUE(Accepted(r));
  EXPECT_EQ(RecordStatus(r.record_id()), cdl::v1::ENTRY_ACTIVE);
  // Regulators may be parties too.
  EXPECT_TRUE(Accepted(CommitOne(chain_.Agreement("reg-cn", "CN", "reg-eu", "EU", {"ISO 14064-3"},
                                                  cdl::v1::DIRECTION_A_RECOGNISES_B, 0, Now() + kYear,
                                                  {"reg-eu"}))));
}

TEST_F(CertificationTest, AgreementRejections) {
  EXPECT_TRUE(Rejected(CommitOne(Agreement({})), cdl::v1::REJECT_MISSING_SIGNATURE,
                       "signed_record.signatures: party_b \"acc-eu\" has not signed"));
  EXPECT_TRUE(Rejected(CommitOne(Agreement({"reg-eu"})), cdl::v1::REJECT_MISSING_SIGNATURE,
                       "signed_record.signatures[1]: is by \"reg-eu\", not by party_b \"acc-eu\""));
  EXPECT_TRUE(Rejected(CommitOne(Agreement({"acc-eu", "reg-eu"})), cdl::v1::REJECT_INVALID_FIELD,
                       "exactly two signatures"));
  EXPECT_TRUE(Rejected(CommitOne(Agreement({"cert-eu"}, "cert-eu")), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "recognition_agreement.party_b: \"cert-eu\" is a certifier"));
  EXPECT_TRUE(Rejected(CommitOne(Agreement({"acc-eu"}, "acc-eu", "US")), cdl::v1::REJECT_JURISDICTION,
                       "recognition_agreement.party_b: \"acc-eu\" is of jurisdiction \"EU\", not \"US\""));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Agreement("acc-cn", "JP", "acc-eu", "EU", {"ISO 14067"},
                                                  cdl::v1::DIRECTION_MUTUAL, 0, Now() + kYear, {"acc-eu"})),
                       cdl::v1::REJECT_JURISDICTION, "recognition_agreement.party_a"));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Agreement("cert-cn", "CN", "acc-eu", "EU", {"ISO 14067"},
                                                  cdl::v1::DIRECTION_MUTUAL, 0, Now() + kYear, {"acc-eu"})),
                       cdl::v1::REJECT_ROLE_NOT_ALLOWED, "recognition_agreement.party_a: \"cert-cn\" is a certifier"));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Agreement("acc-cn", "CN", "acc-eu", "EU", {"ISO 14067"},
                                                  cdl::v1::DIRECTION_MUTUAL, 0, Now(), {"acc-eu"})),
                       cdl::v1::REJECT_INVALID_FIELD, "recognition_agreement.valid_until_ms"));
  // party_a must be the author.
  cdl::v1::RecordBody body = chain_.Body("acc-cn");
  auto* r = body.mutable_recognition_agreement();
  r->set_party_a("reg-cn");
  r->set_jurisdiction_a("CN");
  r->set_party_b("acc-eu");
  r->set_jurisdiction_b("EU");
  r->add_standards("ISO 14067");
  r->set_direction(cdl::v1::DIRECTION_MUTUAL);
  r->set_valid_until_ms(Now() + kYear);
  auto signed_record = cdl::verify::SignBody(body, chain_.key("acc-cn"));
  ASSERT_TRUE(cdl::verify::CoSign(*signed_record, "acc-eu", chain_.key("acc-eu")).ok());
  EXPECT_TRUE(Rejected(CommitOne(signed_record->SerializeAsString()), cdl::v1::REJECT_INVALID_FIELD,
                       "recognition_agreement.party_a: \"reg-cn\" must be the author"));
}

TEST_F(CertificationTest, CoSignatureIsVerifiedAtExecution) {
  cdl::v1::SignedRecord forged;
  ASSERT_TRUE(forged.ParseFromString(Agreement()));
  std::string sig = forged.signatures(1).signature();
  sig[sig.size() / 2] ^= 0x20;
  forged.mutable_signatures(1)->set_signature(sig);
  EXPECT_TRUE(Rejected(CommitOne(forged.SerializeAsString()), cdl::v1::REJECT_BAD_SIGNATURE,
                       "signed_record.signatures[1]"));
}

TEST_F(CertificationTest, OtherRecordsStillCarryOnlyTheAuthorsSignature) {
  cdl::v1::SignedRecord cosigned;
  ASSERT_TRUE(cosigned.ParseFromString(Accreditation()));
  ASSERT_TRUE(cdl::verify::CoSign(cosigned, "reg-cn", chain_.key("reg-cn")).ok());
  EXPECT_TRUE(Rejected(CommitOne(cosigned.SerializeAsString()), cdl::v1::REJECT_INVALID_FIELD,
                       "a accreditation carries only its author's signature"));
}

// --- Suspension, revocation, reinstatement of records ------------------------

TEST_F(CertificationTest, CertificateSuspendReinstateRevoke) {
  std::string c = Certify();
  auto target = RecordTarget(c);
  EXPECT_TRUE(Accepted(CommitOne(Change("cert-cn", RecordBody::kSuspension, target))));
  EXPECT_EQ(RecordStatus(c), cdl::v1::ENTRY_SUSPENDED);
  EXPECT_EQ(Entry(cdl::verify::RecordStateKey(c)).reason_hash(), cdl::verify::ReasonHash("test reason"));
  EXPECT_TRUE(Rejected(CommitOne(Change("cert-cn", RecordBody::kSuspension, target)), cdl::v1::REJECT_INVALID_STATE,
                       "suspension.target.record_id: certificate"));
  EXPECT_TRUE(Accepted(CommitOne(Change("cert-cn", RecordBody::kReinstatement, target))));
  EXPECT_EQ(RecordStatus(c), cdl::v1::ENTRY_ACTIVE);
  EXPECT_TRUE(Rejected(CommitOne(Change("cert-cn", RecordBody::kReinstatement, target)), cdl::v1::REJECT_INVALID_STATE,
                       "is active, not suspended"));
  // A regulator of the certificate's jurisdiction may revoke; revocation is final.
  EXPECT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kRevocation, target))));
  EXPECT_EQ(RecordStatus(c), cdl::v1::ENTRY_REVOKED);
  EXPECT_TRUE(Rejected(CommitOne(Change("cert-cn", RecordBody::kReinstatement, target)), cdl::v1::REJECT_INVALID_STATE,
                       "revocation is final"));
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kRevocation, target)), cdl::v1::REJECT_INVALID_STATE,
                       "is already revoked"));
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kSuspension, target)), cdl::v1::REJECT_INVALID_STATE,
                       "only an active one can be suspended"));
}

TEST_F(CertificationTest, OnlyTheCertifierOrItsRegulatorActsOnACertificate) {
  std::string c = Certify();
  auto target = RecordTarget(c);
  for (const std::string author : {"cert-eu", "reg-eu", "acc-cn", "ent-1"}) {
    EXPECT_TRUE(Rejected(CommitOne(Change(author, RecordBody::kSuspension, target)), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                         "may not suspend certificate"))
        << author;
  }
  // A regulator's suspension is lifted by a regulator only.
  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kSuspension, target))));
  EXPECT_TRUE(Rejected(CommitOne(Change("cert-cn", RecordBody::kReinstatement, target)),
                       cdl::v1::REJECT_ROLE_NOT_ALLOWED, "was suspended by regulator \"reg-cn\""));
  EXPECT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kReinstatement, target))));
}

TEST_F(CertificationTest, AccreditationStatusByIssuerOrRegulator) {
  std::string a = Accredit();
  auto target = RecordTarget(a);
  EXPECT_TRUE(Rejected(CommitOne(Change("acc-eu", RecordBody::kSuspension, target)), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "may not suspend accreditation"));
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-eu", RecordBody::kRevocation, target)), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "may not revoke accreditation"));
  EXPECT_TRUE(Rejected(CommitOne(Change("cert-cn", RecordBody::kSuspension, target)),
                       cdl::v1::REJECT_ROLE_NOT_ALLOWED, "body.author"));
  EXPECT_TRUE(Accepted(CommitOne(Change("acc-cn", RecordBody::kSuspension, target))));
  EXPECT_TRUE(Accepted(CommitOne(Change("acc-cn", RecordBody::kReinstatement, target))));
  EXPECT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kRevocation, target))));
  EXPECT_EQ(RecordStatus(a), cdl::v1::ENTRY_REVOKED);
}

TEST_F(CertificationTest, AgreementStatusByEitherParty) {
  std::string a = Agree();
  auto target = RecordTarget(a);
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kSuspension, target)), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "party \"acc-cn\" or \"acc-eu\" may"));
  EXPECT_TRUE(Accepted(CommitOne(Change("acc-eu", RecordBody::kSuspension, target))));
  EXPECT_EQ(RecordStatus(a), cdl::v1::ENTRY_SUSPENDED);
  EXPECT_TRUE(Accepted(CommitOne(Change("acc-cn", RecordBody::kReinstatement, target))));
  EXPECT_TRUE(Accepted(CommitOne(Change("acc-cn", RecordBody::kRevocation, target))));
  EXPECT_EQ(RecordStatus(a), cdl::v1::ENTRY_REVOKED);
}

TEST_F(CertificationTest, StatusTargetsMustHaveAStatus) {
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kSuspension, RecordTarget(disclosure_))),
                       cdl::v1::REJECT_INVALID_FIELD, "suspension.target.record_id: record"));
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kRevocation, RecordTarget(std::string(32, 'q')))),
                       cdl::v1::REJECT_UNKNOWN_REFERENCE, "revocation.target.record_id: no accepted record"));
}

// --- Members and keys --------------------------------------------------------

TEST_F(CertificationTest, MemberSuspensionByItsRegulator) {
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-eu", RecordBody::kSuspension, MemberTarget("cert-cn"))),
                       cdl::v1::REJECT_ROLE_NOT_ALLOWED, "only a regulator of CN may suspend member \"cert-cn\""));
  EXPECT_TRUE(Rejected(CommitOne(Change("acc-cn", RecordBody::kSuspension, MemberTarget("cert-cn"))),
                       cdl::v1::REJECT_ROLE_NOT_ALLOWED, "only a regulator of CN"));
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kSuspension, MemberTarget("reg-cn"))),
                       cdl::v1::REJECT_INVALID_FIELD, "a regulator may not suspend itself"));
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kSuspension, MemberTarget("ghost"))),
                       cdl::v1::REJECT_UNKNOWN_MEMBER, "suspension.target.member: \"ghost\" is not registered"));

  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kSuspension, MemberTarget("ent-1")))));
  EXPECT_EQ(Entry(cdl::verify::MemberStateKey("ent-1")).status(), cdl::v1::ENTRY_SUSPENDED);
  // A suspended member cannot sign; its sequence is not consumed.
  uint64_t seq = ledger_.ledger().GetMember("ent-1")->last_sequence();
  EXPECT_TRUE(Rejected(CommitOne(chain_.Disclosure("ent-1", "2026", "1")), cdl::v1::REJECT_MEMBER_INACTIVE,
                       "member \"ent-1\" is suspended"));
  chain_.RewindSequence("ent-1", seq);
  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kReinstatement, MemberTarget("ent-1")))));
  // (A different record: the refused one keeps its receipt and is never executed again.)
  EXPECT_TRUE(Accepted(CommitOne(chain_.Disclosure("ent-1", "2026", "2"))));
  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kRevocation, MemberTarget("ent-1")))));
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kReinstatement, MemberTarget("ent-1"))),
                       cdl::v1::REJECT_INVALID_STATE, "revocation is final"));
  EXPECT_EQ(Entry(cdl::verify::MemberStateKey("ent-1")).status(), cdl::v1::ENTRY_REVOKED);
}

TEST_F(CertificationTest, KeySuspensionAndRevocation) {
  std::string key_id = chain_.key("ent-1").public_key().KeyId();
  auto key = MemberTarget("ent-1", key_id);
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kSuspension, MemberTarget("ent-1", std::string(32, 'k')))),
                       cdl::v1::REJECT_UNKNOWN_KEY, "suspension.target.key_id"));
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-eu", RecordBody::kSuspension, key)), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "or its keys"));
  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kSuspension, key))));
  EXPECT_EQ(Entry(cdl::verify::KeyStateKey("ent-1", key_id)).status(), cdl::v1::ENTRY_SUSPENDED);
  uint64_t seq = ledger_.ledger().GetMember("ent-1")->last_sequence();
  EXPECT_TRUE(Rejected(CommitOne(chain_.Disclosure("ent-1", "2026", "1")), cdl::v1::REJECT_KEY_REVOKED,
                       "is suspended"));
  chain_.RewindSequence("ent-1", seq);
  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kReinstatement, key))));
  EXPECT_TRUE(Accepted(CommitOne(chain_.Disclosure("ent-1", "2026", "2"))));
  ASSERT_TRUE(Accepted(CommitOne(Change("reg-cn", RecordBody::kRevocation, key))));
  auto entry = Entry(cdl::verify::KeyStateKey("ent-1", key_id));
  EXPECT_EQ(entry.status(), cdl::v1::ENTRY_REVOKED);
  EXPECT_EQ(ledger_.ledger().GetMember("ent-1")->keys(0).revoked_ms(), entry.changed_ms());
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kReinstatement, key)), cdl::v1::REJECT_INVALID_STATE,
                       "revocation is final"));
  EXPECT_TRUE(Rejected(CommitOne(Change("reg-cn", RecordBody::kRevocation,
                                        MemberTarget("reg-cn", chain_.key("reg-cn").public_key().KeyId()))),
                       cdl::v1::REJECT_INVALID_FIELD, "its own keys"));
}

// --- Termination -------------------------------------------------------------

TEST_F(CertificationTest, TerminationByEitherParty) {
  std::string a = Agree();
  EXPECT_TRUE(Rejected(CommitOne(chain_.Termination("reg-cn", a, "no longer")), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "body.author: \"reg-cn\" is not a party of the agreement"));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Termination("acc-cn", disclosure_, "x")), cdl::v1::REJECT_INVALID_FIELD,
                       "termination.agreement: record"));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Termination("acc-cn", std::string(32, 'q'), "x")),
                       cdl::v1::REJECT_UNKNOWN_REFERENCE, "termination.agreement: no accepted record"));
  ASSERT_TRUE(Accepted(CommitOne(Change("acc-cn", RecordBody::kSuspension, RecordTarget(a)))));
  EXPECT_TRUE(Accepted(CommitOne(chain_.Termination("acc-eu", a, "no longer"))));
  EXPECT_EQ(RecordStatus(a), cdl::v1::ENTRY_TERMINATED);
  EXPECT_TRUE(Rejected(CommitOne(chain_.Termination("acc-cn", a, "again")), cdl::v1::REJECT_INVALID_STATE,
                       "already terminated"));
  EXPECT_TRUE(Rejected(CommitOne(Change("acc-cn", RecordBody::kReinstatement, RecordTarget(a))),
                       cdl::v1::REJECT_INVALID_STATE, "is terminated, not suspended"));
  EXPECT_TRUE(Rejected(CommitOne(Change("acc-cn", RecordBody::kRevocation, RecordTarget(a))),
                       cdl::v1::REJECT_INVALID_STATE, "is already terminated"));
}

// --- Renewal -----------------------------------------------------------------

TEST_F(CertificationTest, RenewalExtendsValidity) {
  std::string a = Accredit(Now() + kYear);
  int64_t old_end = Entry(cdl::verify::RecordStateKey(a)).valid_until_ms();
  EXPECT_TRUE(Rejected(CommitOne(chain_.Renewal("reg-cn", a, old_end + kYear)), cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                       "only the issuer \"acc-cn\" may renew"));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Renewal("acc-cn", a, old_end)), cdl::v1::REJECT_INVALID_FIELD,
                       "renewal.valid_until_ms"));
  auto renewal = CommitOne(chain_.Renewal("acc-cn", a, old_end + kYear));
  ASSERT_TRUE(Accepted(renewal));
  auto entry = Entry(cdl::verify::RecordStateKey(a));
  EXPECT_EQ(entry.valid_until_ms(), old_end + kYear);
  EXPECT_EQ(entry.changed_by(), renewal.record_id());

  auto c = CommitOne(Certificate(footprint_));
  ASSERT_TRUE(Accepted(c));
  int64_t cert_end = Entry(cdl::verify::RecordStateKey(c.record_id())).valid_until_ms();
  EXPECT_TRUE(Rejected(CommitOne(chain_.Renewal("cert-eu", c.record_id(), cert_end + kDay)),
                       cdl::v1::REJECT_ROLE_NOT_ALLOWED, "only the certifier \"cert-cn\""));
  EXPECT_TRUE(Accepted(CommitOne(chain_.Renewal("cert-cn", c.record_id(), cert_end + kDay))));
  EXPECT_EQ(Entry(cdl::verify::RecordStateKey(c.record_id())).valid_until_ms(), cert_end + kDay);

  EXPECT_TRUE(Rejected(CommitOne(chain_.Renewal("ent-1", disclosure_, Now() + kYear)), cdl::v1::REJECT_INVALID_FIELD,
                       "only accreditations and certificates are renewed"));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Renewal("acc-cn", std::string(32, 'q'), Now() + kYear)),
                       cdl::v1::REJECT_UNKNOWN_REFERENCE, "renewal.target"));
  ASSERT_TRUE(Accepted(CommitOne(Change("acc-cn", RecordBody::kSuspension, RecordTarget(a)))));
  EXPECT_TRUE(Rejected(CommitOne(chain_.Renewal("acc-cn", a, old_end + 2 * kYear)), cdl::v1::REJECT_INVALID_STATE,
                       "is suspended; only an active one is renewed"));
  // A certificate renews only while its certifier is accredited.
  EXPECT_TRUE(Rejected(CommitOne(chain_.Renewal("cert-cn", c.record_id(), cert_end + 2 * kDay)),
                       cdl::v1::REJECT_NOT_ACCREDITED, "renewal.target: accreditation of cert-cn"));
}

// --- Deterministic state -------------------------------------------------------

TEST_F(CertificationTest, TheMutualRecognitionStoryIsProvable) {
  // CN certificate, CN-EU agreement: an EU verifier's view through the shared predicates.
  std::string accreditation = Accredit();
  auto c = CommitOne(Certificate(footprint_));
  ASSERT_TRUE(Accepted(c));
  std::string agreement = Agree();
  auto load = [&](const std::string& id) {
    cdl::v1::SignedRecord s;
    EXPECT_TRUE(s.ParseFromString(*ledger_.ledger().GetRecord(id)));
    cdl::v1::RecordBody b;
    EXPECT_TRUE(b.ParseFromString(s.body()));
    return b;
  };
  auto acc_body = load(accreditation);
  auto cert_body = load(c.record_id());
  auto agr_body = load(agreement);
  auto acc_entry = Entry(cdl::verify::RecordStateKey(accreditation));
  auto cert_entry = Entry(cdl::verify::RecordStateKey(c.record_id()));
  auto agr_entry = Entry(cdl::verify::RecordStateKey(agreement));
  int64_t t = Now();
  cdl::verify::AccreditationRef acc{&acc_body.accreditation(), &acc_entry};
  cdl::verify::AgreementRef agr{&agr_body.recognition_agreement(), &agr_entry};
  EXPECT_TRUE(cdl::verify::CheckAccredited({&acc, 1}, "cert-cn", "ISO 14067", "CN", t).ok());
  EXPECT_TRUE(cdl::verify::CheckCertificate(cert_body.certificate(), cert_entry, t).ok());
  EXPECT_TRUE(cdl::verify::CheckRecognised({&agr, 1}, "CN", "EU", "ISO 14067", t).ok());
  // Terminated: the EU no longer recognises it.
  ASSERT_TRUE(Accepted(CommitOne(chain_.Termination("acc-eu", agreement, "ended"))));
  agr_entry = Entry(cdl::verify::RecordStateKey(agreement));
  auto s = cdl::verify::CheckRecognised({&agr, 1}, "CN", "EU", "ISO 14067", t);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("terminated at"), std::string_view::npos) << s;
}

}  // namespace
}  // namespace cdl::ledger
