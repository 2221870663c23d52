// Test helpers: a small chain (genesis with one validator and a founding
// regulator) and builders for signed records. Tests only.
#ifndef CDL_NODE_LEDGER_TEST_UTIL_H_
#define CDL_NODE_LEDGER_TEST_UTIL_H_

#include <map>
#include <memory>
#include <string>

#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "node/verify/genesis.h"
#include "node/verify/record.h"

namespace cdl::ledger::testing {

inline cdl::v1::PublicKeyInfo KeyInfo(const cdl::crypto::PublicKey& key) {
  cdl::v1::PublicKeyInfo info;
  info.set_algorithm(std::string(cdl::crypto::AlgorithmName(key.algorithm())));
  info.set_public_key(key.der());
  return info;
}

// A genesis with validator "v1" and founder "reg-cn" (regulator, CN), plus
// signing helpers that track each member's sequence.
class TestChain {
 public:
  TestChain() {
    validator_ = std::make_unique<cdl::crypto::PrivateKey>(Generate());
    cdl::v1::Genesis g;
    g.set_chain_id("test-chain");
    g.set_genesis_time_ms(1'700'000'000'000);
    auto* v = g.add_validators();
    v->set_id("v1");
    *v->mutable_key() = KeyInfo(validator_->public_key());
    v->set_address("127.0.0.1:1");
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
  const cdl::crypto::PrivateKey& validator_key() const { return *validator_; }
  cdl::crypto::PrivateKey TakeValidatorKey() {
    auto pem = validator_->ToPem();
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

  std::unique_ptr<cdl::crypto::PrivateKey> validator_;
  cdl::v1::Genesis genesis_proto_;
  std::map<std::string, std::unique_ptr<cdl::crypto::PrivateKey>> keys_;
  std::map<std::string, uint64_t> sequence_;
};

// A valid PACT v2 footprint with the given id (UUID v4).
inline std::string PactFootprintJson(const std::string& id, const std::string& value = "1.234") {
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

}  // namespace cdl::ledger::testing

#endif  // CDL_NODE_LEDGER_TEST_UTIL_H_
