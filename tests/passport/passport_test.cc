// Green passports end to end in one process: a real ledger (memory store, 4
// validators signing every block) certifies a PACT footprint, the CLI's
// exporter (cli/passport_export.h) builds a passport from it, and the offline
// verifier (node/verify/passport.h) judges it — untouched, and after every
// kind of tampering and every way the certification can stop counting.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/passport_export.h"
#include "tests/passport/passport_fixture.h"
#include "crypto/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/ledger/test_util.h"
#include "node/verify/passport.h"
#include "node/verify/state_entry.h"

namespace cdl {
namespace {

using cdl::ledger::Ledger;
using cdl::passport_testing::LedgerSource;
using cdl::ledger::testing::RecordTarget;
using cdl::ledger::testing::TestChain;
using cdl::ledger::testing::TestLedger;
using cdl::v1::Passport;
using cdl::verify::PassportVerdict;
using ::testing::HasSubstr;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kYear = 365 * kDay;
constexpr char kStandard[] = "ISO 14067";

// Members: accreditors acc-cn (CN) and acc-eu (EU), certifier cert-cn (CN),
// park park-a (CN) with exporter ent-1, whose PACT footprint cert-cn
// certifies for ISO 14067 under its CN accreditation; acc-cn and acc-eu
// recognise each other's ISO 14067 certificates.
class PassportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Accept({chain_.Register("reg-cn", "acc-cn", cdl::v1::ROLE_ACCREDITOR, "CN"),
            chain_.Register("reg-eu", "acc-eu", cdl::v1::ROLE_ACCREDITOR, "EU"),
            chain_.Register("reg-cn", "cert-cn", cdl::v1::ROLE_CERTIFIER, "CN"),
            chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")});
    Accept({chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a")});
    footprint_ = Accept({chain_.Footprint("ent-1", "3893bb5d-da16-4dc1-9185-11d97476c254")})[0];
    start_ = ledger_.next_time_ms();
    accreditation_ = Accept({chain_.Accreditation("acc-cn", "cert-cn", {kStandard}, {"CN"}, 0, start_ + kYear)})[0];
    certificate_ = Accept({chain_.Certificate("cert-cn", footprint_, kStandard, "CN", 0, start_ + kYear / 2)})[0];
    agreement_ = Accept({chain_.Agreement("acc-cn", "CN", "acc-eu", "EU", {kStandard}, cdl::v1::DIRECTION_MUTUAL, 0,
                                          start_ + kYear, {"acc-eu"})})[0];
  }

  // Commits records in one block; all must be accepted. Returns their ids.
  std::vector<std::string> Accept(const std::vector<std::string>& records) {
    std::vector<std::string> ids;
    for (const auto& r : ledger_.Commit(records)) {
      EXPECT_EQ(r.status(), cdl::v1::RECORD_ACCEPTED) << r.message();
      ids.push_back(r.record_id());
    }
    return ids;
  }

  Passport Export(const std::string& jurisdiction = "EU", const std::string& subject = "") {
    LedgerSource source(ledger_.ledger());
    auto exported = cdl::cli::BuildPassport(source, subject.empty() ? footprint_ : subject, jurisdiction);
    EXPECT_TRUE(exported.ok()) << exported.status();
    EXPECT_THAT(exported->notes, ::testing::IsEmpty());
    return exported.ok() ? exported->passport : Passport();
  }

  PassportVerdict Verify(const std::string& bytes, const std::string& jurisdiction = "", int64_t at = 0) {
    cdl::verify::PassportCheckOptions options;
    options.jurisdiction = jurisdiction;
    options.at_ms = at != 0 ? at : ledger_.next_time_ms();
    options.now_ms = options.at_ms;
    return cdl::verify::VerifyPassport(genesis_, bytes, options);
  }
  PassportVerdict Verify(const Passport& p, const std::string& jurisdiction = "", int64_t at = 0) {
    return Verify(cdl::verify::EncodePassport(p), jurisdiction, at);
  }

  // Index of the record of payload `type` in `p`, or -1.
  static int Find(const Passport& p, const std::string& type) {
    for (int i = 0; i < p.records_size(); ++i) {
      auto rec = cdl::verify::ParseSignedRecord(p.records(i).signed_record());
      if (rec.ok() && rec->type == type) return i;
    }
    return -1;
  }

  TestChain chain_{4};
  TestLedger ledger_{chain_};
  cdl::verify::TrustedGenesis genesis_ = chain_.genesis();
  std::string footprint_, accreditation_, certificate_, agreement_;
  int64_t start_ = 0;
};

std::string AllReasons(const PassportVerdict& v) {
  std::string out;
  for (const auto& r : v.reasons) out += r + "\n";
  return out;
}

// INVALID with a reason containing `text`.
::testing::AssertionResult InvalidBecause(const PassportVerdict& v, const std::string& text) {
  if (v.valid) return ::testing::AssertionFailure() << "VALID";
  for (const auto& r : v.reasons) {
    if (r.find(text) != std::string::npos) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no reason contains \"" << text << "\"; reasons:\n" << AllReasons(v);
}

TEST_F(PassportTest, ExportedPassportIsValidAbroadWithASummaryFromVerifiedRecords) {
  Passport p = Export("EU");
  PassportVerdict v = Verify(p);
  ASSERT_TRUE(v.valid) << AllReasons(v);
  EXPECT_EQ(v.jurisdiction, "EU");
  EXPECT_EQ(v.subject.type, "product_footprint");
  EXPECT_EQ(v.subject.product, "Steel bar 10mm");
  EXPECT_EQ(v.subject.pcf_value, "1.234");
  EXPECT_EQ(v.subject.pcf_unit, "kgCO2e per 1 kilogram");
  EXPECT_EQ(v.subject.organisation, "Exporter Co");
  ASSERT_EQ(v.certificates.size(), 1u);
  const auto& c = v.certificates[0];
  EXPECT_TRUE(c.counts);
  EXPECT_EQ(c.certifier, "cert-cn");
  EXPECT_EQ(c.standard, kStandard);
  EXPECT_EQ(c.assurance, "reasonable");
  EXPECT_EQ(c.status, "active");
  EXPECT_EQ(c.issued_under, "CN");
  EXPECT_THAT(c.recognised_by, HasSubstr("acc-cn (CN) & acc-eu (EU)"));
  EXPECT_EQ(v.checkpoint_height, ledger_.last_header().height());
  // Subject, certificate, accreditation, agreement and the registrations of
  // ent-1, park-a, cert-cn, acc-cn and acc-eu (reg-cn / reg-eu are founders).
  EXPECT_EQ(p.records_size(), 9);
}

TEST_F(PassportTest, DomesticPassportNeedsNoAgreement) {
  Passport p = Export("CN");
  EXPECT_EQ(Find(p, "recognition_agreement"), -1);
  PassportVerdict v = Verify(p);
  ASSERT_TRUE(v.valid) << AllReasons(v);
  EXPECT_EQ(v.certificates[0].recognised_by, "");
  // A passport made for the EU also holds at home, agreement and all.
  PassportVerdict at_home = Verify(Export("EU"), "CN");
  ASSERT_TRUE(at_home.valid) << AllReasons(at_home);
  EXPECT_EQ(at_home.jurisdiction, "CN");
}

TEST_F(PassportTest, EveryFlippedByteIsInvalidNeverACrash) {
  std::string bytes = cdl::verify::EncodePassport(Export());
  ASSERT_TRUE(Verify(bytes).valid);
  // One bit of every byte, a different bit position from byte to byte.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string t = bytes;
    int bit = static_cast<int>(i % 8);
    t[i] = static_cast<char>(t[i] ^ (1 << bit));
    ASSERT_FALSE(Verify(t).valid) << "flipping bit " << bit << " of byte " << i << " went unnoticed";
  }
}

TEST_F(PassportTest, TruncatedExtendedAndForeignFilesAreInvalid) {
  std::string bytes = cdl::verify::EncodePassport(Export());
  for (size_t n : {size_t{0}, size_t{5}, size_t{16}, size_t{17}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_FALSE(Verify(bytes.substr(0, n)).valid) << "truncated to " << n;
  }
  EXPECT_TRUE(InvalidBecause(Verify(bytes + std::string(1, '\0')), "passport file"));
  EXPECT_TRUE(InvalidBecause(Verify(bytes + "x"), "passport file"));
  EXPECT_TRUE(InvalidBecause(Verify("{\"json\": true}"), "not a cdl passport"));
  EXPECT_TRUE(InvalidBecause(Verify(std::string(cdl::verify::kMaxPassportBytes + 1, 'a')), "larger than"));
}

TEST_F(PassportTest, UnknownFieldsAreInvalid) {
  Passport p = Export();
  p.mutable_checkpoint()->GetReflection()->MutableUnknownFields(p.mutable_checkpoint())->AddVarint(99, 1);
  EXPECT_TRUE(InvalidBecause(Verify(p), "unknown field"));
}

TEST_F(PassportTest, DroppedProofsAndRecordsAreInvalid) {
  Passport p = Export();
  Passport no_status = p;
  no_status.mutable_statuses()->RemoveLast();
  EXPECT_TRUE(InvalidBecause(Verify(no_status), "no status proof"));

  Passport no_inclusion = p;
  no_inclusion.mutable_records(0)->clear_inclusion();
  EXPECT_TRUE(InvalidBecause(Verify(no_inclusion), "not on the ledger at the checkpoint"));

  // Without the certifier's registration nobody can check its signature.
  Passport no_registration = p;
  for (int i = 0; i < no_registration.records_size(); ++i) {
    auto rec = cdl::verify::ParseSignedRecord(no_registration.records(i).signed_record());
    if (rec->body.has_member_registration() && rec->body.member_registration().member_id() == "cert-cn") {
      no_registration.mutable_records()->DeleteSubrange(i, 1);
      break;
    }
  }
  EXPECT_TRUE(InvalidBecause(Verify(no_registration), "neither a genesis founder nor registered"));

  Passport no_accreditation = p;
  no_accreditation.mutable_records()->DeleteSubrange(Find(p, "accreditation"), 1);
  PassportVerdict v = Verify(no_accreditation);
  EXPECT_TRUE(InvalidBecause(v, "holds no accreditation"));
}

TEST_F(PassportTest, SwappedOrAddedRecordsAreInvalid) {
  Passport p = Export();
  // The certificate replaced by one of another footprint (on the ledger too).
  std::string other = Accept({chain_.Footprint("ent-1", "1d2c7a0e-7b7c-4a44-9b8e-4b1f4a5c0d11")})[0];
  Accept({chain_.Certificate("cert-cn", other, kStandard, "CN", 0, start_ + kYear / 2)});
  Passport other_passport = Export("EU", other);
  Passport swapped = other_passport;
  *swapped.mutable_records(Find(swapped, "product_footprint")) = p.records(Find(p, "product_footprint"));
  PassportVerdict v = Verify(swapped);
  EXPECT_FALSE(v.valid);

  // A record that does not take part in the chain of trust.
  Passport extra = Export();
  *extra.add_records() = other_passport.records(Find(other_passport, "certificate"));
  EXPECT_TRUE(InvalidBecause(Verify(extra), "not part of this passport's chain of trust"));

  // The same record twice.
  Passport twice = Export();
  *twice.add_records() = twice.records(0);
  EXPECT_TRUE(InvalidBecause(Verify(twice), "appears twice"));

  // Inclusion proofs exchanged between two records.
  Passport exchanged = Export();
  std::swap(*exchanged.mutable_records(0)->mutable_inclusion(), *exchanged.mutable_records(1)->mutable_inclusion());
  EXPECT_TRUE(InvalidBecause(Verify(exchanged), "not on the ledger"));
}

TEST_F(PassportTest, ReSignedContentThatIsNotOnTheLedgerIsInvalid) {
  Passport p = Export();
  int f = Find(p, "product_footprint");
  auto rec = cdl::verify::ParseSignedRecord(p.records(f).signed_record());
  cdl::v1::RecordBody body = rec->body;
  body.mutable_product_footprint()->set_pact_json(
      cdl::ledger::testing::PactFootprintJson("3893bb5d-da16-4dc1-9185-11d97476c254", "0.5"));
  auto resigned = cdl::verify::SignBody(body, chain_.key("ent-1"));
  ASSERT_TRUE(resigned.ok());
  p.mutable_records(f)->set_signed_record(resigned->SerializeAsString());
  EXPECT_TRUE(InvalidBecause(Verify(p), "not on the ledger"));
}

TEST_F(PassportTest, CommitCertificateNeedsAQuorumOfDistinctGenesisValidators) {
  Passport p = Export();
  auto* sigs = p.mutable_checkpoint()->mutable_commit()->mutable_signatures();

  Passport too_few = p;
  too_few.mutable_checkpoint()->mutable_commit()->mutable_signatures()->DeleteSubrange(0, 2);
  EXPECT_TRUE(InvalidBecause(Verify(too_few), "quorum is 3 of 4"));

  Passport repeated = p;
  auto* r = repeated.mutable_checkpoint()->mutable_commit()->mutable_signatures();
  r->DeleteSubrange(1, 3);
  *r->Add() = r->Get(0);
  *r->Add() = r->Get(0);
  EXPECT_TRUE(InvalidBecause(Verify(repeated), "signed more than once"));

  Passport foreign = p;
  auto outsider = TestChain::Generate();
  cdl::v1::BlockHeader header;
  header.ParseFromString(p.checkpoint().header());
  auto sig = cdl::verify::SignCommit(outsider, "v9", "test-chain", header.height(),
                                     cdl::verify::BlockHash(p.checkpoint().header()));
  *foreign.mutable_checkpoint()->mutable_commit()->add_signatures() = *sig;
  EXPECT_TRUE(InvalidBecause(Verify(foreign), "is not a genesis validator"));

  // A real validator's name on a signature it did not make.
  Passport forged = p;
  auto* f = forged.mutable_checkpoint()->mutable_commit()->mutable_signatures(0);
  f->set_signature(sigs->Get(1).signature());
  EXPECT_TRUE(InvalidBecause(Verify(forged), "does not verify"));
}

TEST_F(PassportTest, CheckpointOfAnotherChainIsInvalid) {
  TestChain other_chain(4);
  TestLedger other(other_chain);
  other.Commit({other_chain.Register("reg-cn", "x-park", cdl::v1::ROLE_PARK, "CN")});
  Passport p = Export();
  *p.mutable_checkpoint() = *other.ledger().GetCheckpoint(0);
  PassportVerdict v = Verify(p);
  EXPECT_TRUE(InvalidBecause(v, "checkpoint"));
  // Same chain id and validator names, other keys: no signature verifies.
  EXPECT_TRUE(InvalidBecause(v, "does not verify"));
}

TEST_F(PassportTest, ExpiredAccreditationIsInvalid) {
  Passport p = Export();
  PassportVerdict v = Verify(p, "", start_ + kYear + kDay);
  EXPECT_TRUE(InvalidBecause(v, "accreditation"));
  EXPECT_TRUE(InvalidBecause(v, "expired"));
  // Half a year on only the certificate has run out.
  EXPECT_TRUE(InvalidBecause(Verify(p, "", start_ + kYear / 2 + kDay), "certificate (ISO 14067) expired"));
  EXPECT_TRUE(Verify(p, "", start_ + kYear / 2 - kDay).valid);
}

TEST_F(PassportTest, TerminatedAgreementIsInvalidAbroadButNotAtHome) {
  Accept({chain_.Termination("acc-eu", agreement_, "scheme closed")});
  EXPECT_TRUE(InvalidBecause(Verify(Export("EU")), "terminated"));
  EXPECT_TRUE(Verify(Export("CN")).valid);
}

TEST_F(PassportTest, WrongJurisdictionIsInvalid) {
  Passport p = Export("EU");
  // The agreement links CN and EU only: for US it is not part of any path.
  PassportVerdict v = Verify(p, "US");
  EXPECT_FALSE(v.valid);
  EXPECT_TRUE(InvalidBecause(v, "US"));
  // Exporting for a jurisdiction no agreement reaches says so up front.
  LedgerSource source(ledger_.ledger());
  auto us = cdl::cli::BuildPassport(source, footprint_, "US");
  ASSERT_TRUE(us.ok()) << us.status();
  EXPECT_THAT(us->notes, ::testing::Contains(HasSubstr("no recognition agreement for ISO 14067 links CN and US")));
}

TEST_F(PassportTest, RevokedCertificateIsInvalidWithWhoAndWhy) {
  Accept({chain_.StatusChange("cert-cn", cdl::v1::RecordBody::kRevocation, RecordTarget(certificate_),
                              "site audit found double counting")});
  PassportVerdict v = Verify(Export());
  EXPECT_TRUE(InvalidBecause(v, "certificate revoked at"));
  EXPECT_TRUE(InvalidBecause(v, "by cert-cn: site audit found double counting"));
  // An old passport still says what held at its checkpoint.
}

TEST_F(PassportTest, OlderPassportKeepsItsCheckpointStatusButMaxAgeRejectsIt) {
  Passport before = Export();
  ledger_.Advance(10 * kDay);
  Accept({chain_.StatusChange("cert-cn", cdl::v1::RecordBody::kSuspension, RecordTarget(certificate_), "review")});
  int64_t now = ledger_.next_time_ms();
  EXPECT_TRUE(Verify(before, "", now).valid);
  cdl::verify::PassportCheckOptions options{.jurisdiction = "", .at_ms = now, .now_ms = now, .max_age_ms = kDay};
  EXPECT_TRUE(InvalidBecause(VerifyPassport(genesis_, cdl::verify::EncodePassport(before), options),
                             "older than the accepted maximum age"));
  EXPECT_TRUE(InvalidBecause(Verify(Export(), "", now), "certificate suspended since"));
}

TEST_F(PassportTest, SuspendedAccreditationOrCertifierIsInvalid) {
  Accept({chain_.StatusChange("acc-cn", cdl::v1::RecordBody::kSuspension, RecordTarget(accreditation_), "audit")});
  EXPECT_TRUE(InvalidBecause(Verify(Export()), "accreditation"));
  Accept({chain_.StatusChange("acc-cn", cdl::v1::RecordBody::kReinstatement, RecordTarget(accreditation_), "ok")});
  ASSERT_TRUE(Verify(Export()).valid);
  Accept({chain_.StatusChange("reg-cn", cdl::v1::RecordBody::kSuspension,
                              cdl::ledger::testing::MemberTarget("cert-cn"), "licence review")});
  EXPECT_TRUE(InvalidBecause(Verify(Export()), "certifier \"cert-cn\" is suspended"));
}

TEST_F(PassportTest, SupersededFootprintNoLongerCounts) {
  Accept({chain_.Footprint("ent-1", "7a1f0f57-2a4e-4f0e-8d43-8b1b3c6a9e21", footprint_)});
  EXPECT_TRUE(InvalidBecause(Verify(Export()), "superseded"));
}

TEST_F(PassportTest, StatusProofForAnotherKeyOrHeightIsInvalid) {
  Passport p = Export();
  // The certificate's status proof replaced by the accreditation's.
  std::string cert_key = cdl::verify::RecordStateKey(certificate_);
  std::string acc_key = cdl::verify::RecordStateKey(accreditation_);
  Passport swapped = p;
  int cert_index = -1, acc_index = -1;
  for (int i = 0; i < p.statuses_size(); ++i) {
    if (p.statuses(i).key() == cert_key) cert_index = i;
    if (p.statuses(i).key() == acc_key) acc_index = i;
  }
  ASSERT_GE(cert_index, 0);
  ASSERT_GE(acc_index, 0);
  *swapped.mutable_statuses(cert_index) = p.statuses(acc_index);
  EXPECT_FALSE(Verify(swapped).valid);
  // A proof of a different height.
  Passport height = p;
  height.mutable_statuses(cert_index)->set_height(1);
  EXPECT_TRUE(InvalidBecause(Verify(height), "not the checkpoint's"));
  // An entry changed to ACTIVE from SUSPENDED cannot be proven.
  Accept({chain_.StatusChange("cert-cn", cdl::v1::RecordBody::kSuspension, RecordTarget(certificate_), "review")});
  Passport suspended = Export();
  for (auto& s : *suspended.mutable_statuses()) {
    if (s.key() == cert_key) s.mutable_entry()->set_status(cdl::v1::ENTRY_ACTIVE);
  }
  EXPECT_FALSE(Verify(suspended).valid);
}

TEST_F(PassportTest, ExportRefusesUncertifiedSubjectsAndOtherRecordTypes) {
  std::string other = Accept({chain_.Footprint("ent-1", "1d2c7a0e-7b7c-4a44-9b8e-4b1f4a5c0d11")})[0];
  LedgerSource source(ledger_.ledger());
  auto none = cdl::cli::BuildPassport(source, other, "EU");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("has no certificate"));
  auto wrong = cdl::cli::BuildPassport(source, certificate_, "EU");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdl
