#include "tests/fuzz/fixture.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "crypto/hash.h"
#include "node/verify/record.h"

namespace cdl::fuzz {
namespace {

// Generated once with `openssl genpkey`; test keys, never used elsewhere.
constexpr char kEcdsaV1[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghoebuQNJP4Vzc40K
pAV5Tq+1ekIJuvh3Oemao8OdbfihRANCAAT1A4aQ0mUNuc7yfY410/jNyoYE90xz
0amhD7bezwcUX5VE/KMb1wX/Hfpjr5f4bxcL3TmfGZ7Oq0Oc2z3Ua6LR
-----END PRIVATE KEY-----
)";
constexpr char kEcdsaRegEu[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYa5w5bNOZjVw9wpL
hhRQclJrf/O2e73TWr+iyH0w6emhRANCAATjJ2C1T3dpCPLD+VQVGUWmtR3RYggi
Jcpm/wd2IyWqJ6ygnrnS6r1W2n7c3zfnGV6ewFHRPQ0H4zMTMbnrk0m5
-----END PRIVATE KEY-----
)";
constexpr char kSm2V2[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgNJox+tBKuc1VMTkH
H2ERMjebctjIgc0ttaxvi8WGbe+hRANCAATqcNCp5rmzalm8upMfgQilstsWyFUO
M+5xjoZjpl2sz3eyQsiLtJ4mLw/zXQpS1htzvcARbyTFcxIvRn7bqxIV
-----END PRIVATE KEY-----
)";
constexpr char kSm2AccEu[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgLPaqJqdlxFF+ug6q
wwWL7nr3l7G6XT3Qmtec2bb8Ra6hRANCAATWbbPDTUHLVzGljPMyNHuNmFrxKBGi
7Swh6YkplavRetblOdAJOVNpoNLPEDghl2VG2mhfCA69J0VPlhV/cz3s
-----END PRIVATE KEY-----
)";

[[noreturn]] void Die(std::string_view what) {
  std::fprintf(stderr, "fuzz fixture: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

template <typename T>
T Must(absl::StatusOr<T> v, std::string_view what) {
  if (!v.ok()) Die(std::string(what) + ": " + std::string(v.status().message()));
  return *std::move(v);
}

cdl::crypto::PrivateKey MakeKey(std::string_view name) {
  if (name == "v1") return Must(cdl::crypto::PrivateKey::FromPem(kEcdsaV1), "v1 key");
  if (name == "reg-eu") return Must(cdl::crypto::PrivateKey::FromPem(kEcdsaRegEu), "reg-eu key");
  if (name == "v2") return Must(cdl::crypto::PrivateKey::FromPem(kSm2V2), "v2 key");
  if (name == "acc-eu") return Must(cdl::crypto::PrivateKey::FromPem(kSm2AccEu), "acc-eu key");
  std::string seed = cdl::crypto::DomainHash("cdl/fuzz-key/v1", name);
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                                reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (pkey == nullptr) Die("Ed25519 key from seed");
  auto key = cdl::crypto::PrivateKey::FromEvpPkey(pkey);
  EVP_PKEY_free(pkey);
  return Must(std::move(key), "Ed25519 key");
}

cdl::v1::Genesis MakeGenesis() {
  cdl::v1::Genesis g;
  g.set_chain_id(kChainId);
  g.set_genesis_time_ms(kGenesisTimeMs);
  for (int i = 1; i <= kValidators; ++i) {
    std::string id = "v" + std::to_string(i);
    auto* v = g.add_validators();
    v->set_id(id);
    *v->mutable_key() = cdl::verify::PublicKeyInfoOf(FixedKey(id).public_key());
    v->set_address("127.0.0.1:" + std::to_string(7400 + i));
  }
  for (auto [id, jurisdiction] : {std::pair{"reg-cn", "CN"}, std::pair{"reg-eu", "EU"}}) {
    auto* f = g.add_founders();
    f->set_member_id(id);
    f->set_role(cdl::v1::ROLE_REGULATOR);
    f->set_jurisdiction(jurisdiction);
    f->set_name(std::string("Regulator ") + jurisdiction);
    *f->add_keys() = cdl::verify::PublicKeyInfoOf(FixedKey(id).public_key());
  }
  return g;
}

}  // namespace

const cdl::crypto::PrivateKey& FixedKey(std::string_view name) {
  static auto* keys = new std::map<std::string, std::unique_ptr<cdl::crypto::PrivateKey>, std::less<>>();
  auto it = keys->find(name);
  if (it == keys->end()) {
    it = keys->emplace(std::string(name), std::make_unique<cdl::crypto::PrivateKey>(MakeKey(name))).first;
  }
  return *it->second;
}

const cdl::v1::Genesis& FixedGenesisProto() {
  static const auto* genesis = new cdl::v1::Genesis(MakeGenesis());
  return *genesis;
}

const cdl::verify::TrustedGenesis& FixedGenesis() {
  static const auto* genesis =
      new cdl::verify::TrustedGenesis(Must(cdl::verify::TrustedGenesis::FromProto(FixedGenesisProto()), "genesis"));
  return *genesis;
}

cdl::v1::RecordBody RecordBuilder::Body(const std::string& author) {
  cdl::v1::RecordBody body;
  body.set_chain_id(kChainId);
  body.set_author(author);
  body.set_key_id(FixedKey(author).public_key().KeyId());
  body.set_sequence(++sequence_[author]);
  body.set_created_ms(kRecordTimeMs);
  return body;
}

std::string RecordBuilder::Sign(const cdl::v1::RecordBody& body) const { return Sign(body, {}); }

std::string RecordBuilder::Sign(const cdl::v1::RecordBody& body, const std::vector<std::string>& cosigners) const {
  auto record = Must(cdl::verify::SignBody(body, FixedKey(body.author())), "sign");
  for (const auto& m : cosigners) {
    if (auto s = cdl::verify::CoSign(record, m, FixedKey(m)); !s.ok()) Die(std::string(s.message()));
  }
  return record.SerializeAsString();
}

std::string RecordBuilder::Register(const std::string& author, const std::string& id, cdl::v1::Role role,
                                    const std::string& jurisdiction, const std::string& park) {
  cdl::v1::RecordBody body = Body(author);
  auto* m = body.mutable_member_registration();
  m->set_member_id(id);
  m->set_role(role);
  m->set_jurisdiction(jurisdiction);
  m->set_park(park);
  m->set_name("Member " + id);
  *m->add_keys() = cdl::verify::PublicKeyInfoOf(FixedKey(id).public_key());
  return Sign(body);
}

std::string RecordBuilder::Footprint(const std::string& author, const std::string& pact_id, const std::string& value) {
  cdl::v1::RecordBody body = Body(author);
  body.mutable_product_footprint()->set_pact_json(PactFootprintJson(pact_id, value));
  return Sign(body);
}

std::string RecordBuilder::Disclosure(const std::string& author, const std::string& period, const std::string& scope1) {
  cdl::v1::RecordBody body = Body(author);
  auto* d = body.mutable_disclosure();
  d->set_organisation(author);
  d->set_period(period);
  d->set_scope1_tco2e(scope1);
  d->set_scope2_location_tco2e("10.5");
  d->set_scope2_market_tco2e("9.25");
  d->set_scope3_tco2e("120");
  d->set_energy_mwh("1200");
  d->set_renewable_share_pct("42.5");
  d->set_methodology("ISO 14064-1:2018");
  d->add_evidence_hashes(cdl::crypto::Sha256("evidence"));
  return Sign(body);
}

std::string RecordBuilder::Accreditation(const std::string& author, const std::string& certifier,
                                         const std::vector<std::string>& standards, const std::string& jurisdiction,
                                         int64_t valid_until_ms) {
  cdl::v1::RecordBody body = Body(author);
  auto* a = body.mutable_accreditation();
  a->set_certifier(certifier);
  for (const auto& s : standards) a->add_standards(s);
  a->add_jurisdictions(jurisdiction);
  a->set_valid_from_ms(0);
  a->set_valid_until_ms(valid_until_ms);
  return Sign(body);
}

std::string RecordBuilder::Certificate(const std::string& author, const std::string& subject,
                                       const std::string& standard, const std::string& jurisdiction,
                                       int64_t valid_until_ms) {
  cdl::v1::RecordBody body = Body(author);
  auto* c = body.mutable_certificate();
  c->set_subject(subject);
  c->set_standard(standard);
  c->set_assurance(cdl::v1::ASSURANCE_REASONABLE);
  c->set_materiality_pct("5");
  c->set_valid_from_ms(0);
  c->set_valid_until_ms(valid_until_ms);
  c->set_statement_hash(cdl::crypto::Sha256("statement"));
  c->set_conditions("annual surveillance");
  c->set_jurisdiction(jurisdiction);
  return Sign(body);
}

std::string RecordBuilder::Agreement(const std::string& party_a, const std::string& jurisdiction_a,
                                     const std::string& party_b, const std::string& jurisdiction_b,
                                     const std::string& standard, int64_t valid_until_ms) {
  cdl::v1::RecordBody body = Body(party_a);
  auto* r = body.mutable_recognition_agreement();
  r->set_party_a(party_a);
  r->set_jurisdiction_a(jurisdiction_a);
  r->set_party_b(party_b);
  r->set_jurisdiction_b(jurisdiction_b);
  r->add_standards(standard);
  r->set_direction(cdl::v1::DIRECTION_MUTUAL);
  r->set_valid_from_ms(0);
  r->set_valid_until_ms(valid_until_ms);
  return Sign(body, {party_b});
}

std::string PactFootprintJson(const std::string& id, const std::string& value) {
  return R"({"id":")" + id +
         R"(","specVersion":"2.2.0","version":1,"created":"2026-03-01T00:00:00Z","status":"Active",)"
         R"("companyName":"Exporter Co","companyIds":["urn:uuid:51131FB5-42A2-4267-A402-0ECFEFAD1619"],)"
         R"("productDescription":"Steel bar","productIds":["urn:gtin:4712345060507"],"productCategoryCpc":"4121",)"
         R"("productNameCompany":"Steel bar 10mm","comment":"",)"
         R"("pcf":{"declaredUnit":"kilogram","unitaryProductAmount":"1","pCfExcludingBiogenic":")" +
         value +
         R"(",)"
         R"("pCfIncludingBiogenic":")" +
         value + R"(","fossilGhgEmissions":")" + value +
         R"(",)"
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

}  // namespace cdl::fuzz
