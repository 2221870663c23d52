// Test helpers: a small chain (genesis with one validator and two founding
// regulators), builders for signed records, and a ledger that commits one
// block per call. Tests only.
#ifndef CDL_NODE_LEDGER_TEST_UTIL_H_
#define CDL_NODE_LEDGER_TEST_UTIL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "node/ledger/ledger.h"
#include "node/storage/store.h"
#include "node/verify/genesis.h"
#include "node/verify/record.h"

namespace cdl::ledger::testing {

inline cdl::v1::PublicKeyInfo KeyInfo(const cdl::crypto::PublicKey& key) {
  return cdl::verify::PublicKeyInfoOf(key);
}

inline std::string PactFootprintJson(const std::string& id, const std::string& value = "1.234");

inline cdl::v1::Target RecordTarget(const std::string& record_id) {
  cdl::v1::Target t;
  t.set_record_id(record_id);
  return t;
}
inline cdl::v1::Target MemberTarget(const std::string& member, const std::string& key_id = "") {
  cdl::v1::Target t;
  t.set_member(member);
  t.set_key_id(key_id);
  return t;
}

// A genesis with validators "v1".."vN" (one by default) and founders "reg-cn" (regulator, CN) and
// "reg-eu" (regulator, EU), plus
// signing helpers that track each member's sequence.
class TestChain {
 public:
  // `validators` validators "v1".."vN" (every block is signed by all).
  explicit TestChain(int validators = 1) {
    cdl::v1::Genesis g;
    g.set_chain_id("test-chain");
    g.set_genesis_time_ms(1'700'000'000'000);
    for (int i = 1; i <= validators; ++i) {
      validators_.push_back(std::make_unique<cdl::crypto::PrivateKey>(Generate()));
      auto* v = g.add_validators();
      v->set_id("v" + std::to_string(i));
      *v->mutable_key() = KeyInfo(validators_.back()->public_key());
      v->set_address("127.0.0.1:" + std::to_string(i));
    }
    AddFounder(g, "reg-cn", cdl::v1::ROLE_REGULATOR, "CN");
    AddFounder(g, "reg-eu", cdl::v1::ROLE_REGULATOR, "EU");
    genesis_proto_ = g;
  }

  static cdl::crypto::PrivateKey Generate(
      cdl::crypto::Algorithm algorithm = cdl::crypto::Algorithm::kEcdsaP256Sha256) {
    auto key = cdl::crypto::PrivateKey::Generate(algorithm);
    EXPECT_TRUE(key.ok());
    return *std::move(key);
  }

  cdl::verify::TrustedGenesis genesis() const {
    auto g = cdl::verify::TrustedGenesis::FromProto(genesis_proto_);
    EXPECT_TRUE(g.ok()) << g.status();
    return *std::move(g);
  }
  const cdl::v1::Genesis& genesis_proto() const { return genesis_proto_; }
  const cdl::crypto::PrivateKey& validator_key(size_t index = 0) const { return *validators_[index]; }
  size_t validator_count() const { return validators_.size(); }
  cdl::crypto::PrivateKey TakeValidatorKey() {
    auto pem = validators_[0]->ToPem();
    auto copy = cdl::crypto::PrivateKey::FromPem(pem);
    return *std::move(copy);
  }

  const cdl::crypto::PrivateKey& key(const std::string& member) { return *keys_.at(member); }
  void SetKey(const std::string& member, cdl::crypto::PrivateKey key) {
    keys_[member] = std::make_unique<cdl::crypto::PrivateKey>(std::move(key));
  }

  // A body from `author` with the next sequence and the author's key.
  cdl::v1::RecordBody Body(const std::string& author) {
    cdl::v1::RecordBody body;
    body.set_chain_id("test-chain");
    body.set_author(author);
    body.set_key_id(key(author).public_key().KeyId());
    body.set_sequence(++sequence_[author]);
    body.set_created_ms(1'700'000'000'000);
    return body;
  }
  void RewindSequence(const std::string& author, uint64_t seq) { sequence_[author] = seq; }

  std::string Sign(const cdl::v1::RecordBody& body) {
    auto signed_record = cdl::verify::SignBody(body, key(body.author()));
    EXPECT_TRUE(signed_record.ok()) << signed_record.status();
    return signed_record->SerializeAsString();
  }

  // A member registration by `author` of a new member with a fresh key.
  std::string Register(const std::string& author, const std::string& id, cdl::v1::Role role,
                       const std::string& jurisdiction, const std::string& park = "") {
    SetKey(id, Generate());
    cdl::v1::RecordBody body = Body(author);
    auto* m = body.mutable_member_registration();
    m->set_member_id(id);
    m->set_role(role);
    m->set_jurisdiction(jurisdiction);
    m->set_park(park);
    m->set_name(id);
    *m->add_keys() = KeyInfo(key(id).public_key());
    return Sign(body);
  }

  std::string Accreditation(const std::string& author, const std::string& certifier,
                            const std::vector<std::string>& standards, const std::vector<std::string>& jurisdictions,
                            int64_t valid_from_ms, int64_t valid_until_ms) {
    cdl::v1::RecordBody body = Body(author);
    auto* a = body.mutable_accreditation();
    a->set_certifier(certifier);
    for (const auto& s : standards) a->add_standards(s);
    for (const auto& j : jurisdictions) a->add_jurisdictions(j);
    a->set_valid_from_ms(valid_from_ms);
    a->set_valid_until_ms(valid_until_ms);
    return Sign(body);
  }

  std::string Certificate(const std::string& author, const std::string& subject, const std::string& standard,
                          const std::string& jurisdiction, int64_t valid_from_ms, int64_t valid_until_ms) {
    cdl::v1::RecordBody body = Body(author);
    auto* c = body.mutable_certificate();
    c->set_subject(subject);
    c->set_standard(standard);
    c->set_assurance(cdl::v1::ASSURANCE_REASONABLE);
    c->set_materiality_pct("5");
    c->set_valid_from_ms(valid_from_ms);
    c->set_valid_until_ms(valid_until_ms);
    c->set_statement_hash(std::string(32, '\x5a'));
    c->set_jurisdiction(jurisdiction);
    return Sign(body);
  }

  // A recognition agreement by `party_a`, co-signed by each of `cosigners`
  // (normally just party_b).
  std::string Agreement(const std::string& party_a, const std::string& jurisdiction_a, const std::string& party_b,
                        const std::string& jurisdiction_b, const std::vector<std::string>& standards,
                        cdl::v1::Direction direction, int64_t valid_from_ms, int64_t valid_until_ms,
                        const std::vector<std::string>& cosigners) {
    cdl::v1::RecordBody body = Body(party_a);
    auto* r = body.mutable_recognition_agreement();
    r->set_party_a(party_a);
    r->set_jurisdiction_a(jurisdiction_a);
    r->set_party_b(party_b);
    r->set_jurisdiction_b(jurisdiction_b);
    for (const auto& s : standards) r->add_standards(s);
    r->set_direction(direction);
    r->set_valid_from_ms(valid_from_ms);
    r->set_valid_until_ms(valid_until_ms);
    auto signed_record = cdl::verify::SignBody(body, key(party_a));
    EXPECT_TRUE(signed_record.ok()) << signed_record.status();
    for (const auto& m : cosigners) EXPECT_TRUE(cdl::verify::CoSign(*signed_record, m, key(m)).ok());
    return signed_record->SerializeAsString();
  }

  // Suspension, revocation or reinstatement (by payload field number:
  // RecordBody::kSuspension, kRevocation, kReinstatement).
  std::string StatusChange(const std::string& author, cdl::v1::RecordBody::PayloadCase kind,
                           const cdl::v1::Target& target, const std::string& reason) {
    cdl::v1::RecordBody body = Body(author);
    cdl::v1::Target* t = kind == cdl::v1::RecordBody::kSuspension   ? body.mutable_suspension()->mutable_target()
                         : kind == cdl::v1::RecordBody::kRevocation ? body.mutable_revocation()->mutable_target()
                                                                    : body.mutable_reinstatement()->mutable_target();
    *t = target;
    if (kind == cdl::v1::RecordBody::kSuspension) body.mutable_suspension()->set_reason(reason);
    if (kind == cdl::v1::RecordBody::kRevocation) body.mutable_revocation()->set_reason(reason);
    if (kind == cdl::v1::RecordBody::kReinstatement) body.mutable_reinstatement()->set_reason(reason);
    return Sign(body);
  }

  std::string Termination(const std::string& author, const std::string& agreement, const std::string& reason) {
    cdl::v1::RecordBody body = Body(author);
    body.mutable_termination()->set_agreement(agreement);
    body.mutable_termination()->set_reason(reason);
    return Sign(body);
  }

  std::string Renewal(const std::string& author, const std::string& target, int64_t valid_until_ms) {
    cdl::v1::RecordBody body = Body(author);
    body.mutable_renewal()->set_target(target);
    body.mutable_renewal()->set_valid_until_ms(valid_until_ms);
    return Sign(body);
  }

  std::string Footprint(const std::string& author, const std::string& pact_id, const std::string& supersedes = "") {
    cdl::v1::RecordBody body = Body(author);
    body.mutable_product_footprint()->set_pact_json(PactFootprintJson(pact_id));
    body.mutable_product_footprint()->set_supersedes(supersedes);
    return Sign(body);
  }

  std::string Disclosure(const std::string& author, const std::string& period, const std::string& scope1,
                         const std::string& supersedes = "") {
    cdl::v1::RecordBody body = Body(author);
    auto* d = body.mutable_disclosure();
    d->set_organisation(author);
    d->set_period(period);
    d->set_scope1_tco2e(scope1);
    d->set_scope2_location_tco2e("10.5");
    d->set_energy_mwh("1200");
    d->set_renewable_share_pct("42.5");
    d->set_methodology("ISO 14064-1:2018");
    d->set_supersedes(supersedes);
    return Sign(body);
  }

 private:
  void AddFounder(cdl::v1::Genesis& g, const std::string& id, cdl::v1::Role role, const std::string& j) {
    SetKey(id, Generate());
    auto* f = g.add_founders();
    f->set_member_id(id);
    f->set_role(role);
    f->set_jurisdiction(j);
    *f->add_keys() = KeyInfo(key(id).public_key());
  }

  std::vector<std::unique_ptr<cdl::crypto::PrivateKey>> validators_;
  cdl::v1::Genesis genesis_proto_;
  std::map<std::string, std::unique_ptr<cdl::crypto::PrivateKey>> keys_;
  std::map<std::string, uint64_t> sequence_;
};

// A valid PACT v2 footprint with the given id (UUID v4).
inline std::string PactFootprintJson(const std::string& id, const std::string& value) {
  return R"({"id":")" + id + R"(","specVersion":"2.2.0","version":1,"created":"2026-03-01T00:00:00Z","status":"Active",)"
         R"("companyName":"Exporter Co","companyIds":["urn:uuid:51131FB5-42A2-4267-A402-0ECFEFAD1619"],)"
         R"("productDescription":"Steel bar","productIds":["urn:gtin:4712345060507"],"productCategoryCpc":"4121",)"
         R"("productNameCompany":"Steel bar 10mm","comment":"",)"
         R"("pcf":{"declaredUnit":"kilogram","unitaryProductAmount":"1","pCfExcludingBiogenic":")" + value + R"(",)"
         R"("pCfIncludingBiogenic":")" + value + R"(","fossilGhgEmissions":")" + value + R"(",)"
         R"("fossilCarbonContent":"0","biogenicCarbonContent":"0","characterizationFactors":"AR6",)"
         R"("ipccCharacterizationFactorsSources":["AR6"],"crossSectoralStandardsUsed":["ISO Standard 14067"],)"
         R"("productOrSectorSpecificRules":[],"boundaryProcessesDescription":"cradle to gate",)"
         R"("referencePeriodStart":"2025-01-01T00:00:00Z","referencePeriodEnd":"2026-01-01T00:00:00Z",)"
         R"("geographyCountry":"CN","exemptedEmissionsPercent":0,"exemptedEmissionsDescription":"",)"
         R"("packagingEmissionsIncluded":false,"biogenicCarbonWithdrawal":"0",)"
         R"("dLucGhgEmissions":"0","landManagementGhgEmissions":"0","otherBiogenicGhgEmissions":"0",)"
         R"("biogenicAccountingMethodology":"ISO","primaryDataShare":50,"dqi":{"coveragePercent":80,)"
         R"("technologicalDQR":2,"temporalDQR":2,"geographicalDQR":2,"completenessDQR":2,"reliabilityDQR":2}}})";
}

// A ledger (memory store unless given one) on a TestChain's genesis that
// executes and commits one block per call, signed by the chain's validator.
// Block times start at start_ms and advance by 1 s per block.
class TestLedger {
 public:
  explicit TestLedger(TestChain& chain, std::unique_ptr<cdl::storage::Store> store = nullptr,
                      int64_t start_ms = 1'700'000'100'000)
      : chain_(chain), time_ms_(start_ms) {
    if (store == nullptr) store = cdl::storage::NewMemoryStore(LedgerColumns());
    auto ledger = Ledger::Open(std::move(store), chain.genesis());
    EXPECT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
  }

  Ledger& ledger() { return *ledger_; }
  // Block time of the next block.
  int64_t next_time_ms() const { return time_ms_ + 1000; }
  void Advance(int64_t ms) { time_ms_ += ms; }

  std::vector<cdl::v1::Receipt> Commit(const std::vector<std::string>& records) {
    std::vector<cdl::verify::ParsedRecord> parsed;
    for (const auto& r : records) {
      auto p = cdl::verify::ParseSignedRecord(r);
      EXPECT_TRUE(p.ok()) << p.status();
      if (p.ok()) parsed.push_back(*std::move(p));
    }
    std::vector<const cdl::verify::ParsedRecord*> ptrs;
    for (const auto& p : parsed) ptrs.push_back(&p);
    time_ms_ += 1000;
    auto block = ledger_->Prepare(ptrs, time_ms_, 1, "v1");
    EXPECT_TRUE(block.ok()) << block.status();
    if (!block.ok()) return {};
    cdl::v1::CommitCertificate commit;
    commit.set_height(block->header.height());
    commit.set_block_hash(block->hash);
    for (size_t v = 0; v < chain_.validator_count(); ++v) {
      auto sig = cdl::verify::SignCommit(chain_.validator_key(v), "v" + std::to_string(v + 1), "test-chain",
                                         block->header.height(), block->hash);
      EXPECT_TRUE(sig.ok()) << sig.status();
      *commit.add_signatures() = *sig;
    }
    std::vector<cdl::v1::Receipt> receipts(block->block.receipts().begin(), block->block.receipts().end());
    last_header_ = block->header;
    auto committed = ledger_->Commit(*std::move(block), commit);
    EXPECT_TRUE(committed.ok()) << committed;
    return receipts;
  }

  cdl::v1::Receipt CommitOne(const std::string& record) {
    auto receipts = Commit({record});
    return receipts.empty() ? cdl::v1::Receipt() : receipts[0];
  }

  const cdl::v1::BlockHeader& last_header() const { return last_header_; }

 private:
  TestChain& chain_;
  std::unique_ptr<Ledger> ledger_;
  int64_t time_ms_;
  cdl::v1::BlockHeader last_header_;
};

}  // namespace cdl::ledger::testing

#endif  // CDL_NODE_LEDGER_TEST_UTIL_H_
