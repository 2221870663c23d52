// passport-bench: how long offline verification of one green passport takes
// (target < 5 ms), next to a peer measured in the same run: verifying just the
// signatures the passport carries (records and commit certificate) with the
// same keys, i.e. the cryptographic floor of any verifier of this format.
//
// The passport is real: a 4-validator in-process ledger certifies a PACT
// footprint (CN certifier accredited in CN, CN-EU mutual recognition) and the
// CLI's exporter builds the EU passport from it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "node/ledger/test_util.h"
#include "node/verify/passport.h"
#include "tests/passport/passport_fixture.h"

namespace {

using Clock = std::chrono::steady_clock;
using cdl::ledger::testing::TestChain;
using cdl::ledger::testing::TestLedger;

constexpr int64_t kYear = 365LL * 86'400'000;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Stats {
  double mean, p50, p99;
};
Stats Summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  return {sum / v.size(), v[v.size() / 2], v[v.size() * 99 / 100]};
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 500;
  if (iterations < 10) iterations = 10;
  TestChain chain(4);
  TestLedger ledger(chain);
  ledger.Commit({chain.Register("reg-cn", "acc-cn", cdl::v1::ROLE_ACCREDITOR, "CN"),
                 chain.Register("reg-eu", "acc-eu", cdl::v1::ROLE_ACCREDITOR, "EU"),
                 chain.Register("reg-cn", "cert-cn", cdl::v1::ROLE_CERTIFIER, "CN"),
                 chain.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")});
  ledger.Commit({chain.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a")});
  std::string footprint =
      ledger.CommitOne(chain.Footprint("ent-1", "3893bb5d-da16-4dc1-9185-11d97476c254")).record_id();
  int64_t start = ledger.next_time_ms();
  ledger.Commit({chain.Accreditation("acc-cn", "cert-cn", {"ISO 14067"}, {"CN"}, 0, start + kYear)});
  ledger.Commit({chain.Certificate("cert-cn", footprint, "ISO 14067", "CN", 0, start + kYear)});
  ledger.Commit({chain.Agreement("acc-cn", "CN", "acc-eu", "EU", {"ISO 14067"}, cdl::v1::DIRECTION_MUTUAL, 0,
                                 start + kYear, {"acc-eu"})});

  cdl::passport_testing::LedgerSource source(ledger.ledger());
  auto exported = cdl::cli::BuildPassport(source, footprint, "EU");
  if (!exported.ok()) {
    std::fprintf(stderr, "export failed: %s\n", std::string(exported.status().message()).c_str());
    return 1;
  }
  std::string bytes = cdl::verify::EncodePassport(exported->passport);
  cdl::verify::TrustedGenesis genesis = chain.genesis();
  cdl::verify::PassportCheckOptions options{.jurisdiction = "EU", .at_ms = start, .now_ms = start};

  // The signatures in the passport, with the keys that verify them.
  struct Check {
    cdl::crypto::PublicKey key;
    std::string message;
    std::string signature;
  };
  std::vector<Check> checks;
  for (const auto& r : exported->passport.records()) {
    auto rec = cdl::verify::ParseSignedRecord(r.signed_record());
    for (const auto& sig : rec->signed_record.signatures()) {
      checks.push_back({chain.key(sig.member()).public_key(), rec->id, sig.signature()});
    }
  }
  cdl::v1::BlockHeader header;
  header.ParseFromString(exported->passport.checkpoint().header());
  std::string commit_message = cdl::verify::CommitMessage(genesis.chain_id(), header.height(),
                                                          cdl::verify::BlockHash(exported->passport.checkpoint().header()));
  const auto& commit = exported->passport.checkpoint().commit();
  for (int i = 0; i < commit.signatures_size(); ++i) {
    checks.push_back({chain.validator_key(i).public_key(), commit_message, commit.signatures(i).signature()});
  }
  size_t record_signatures = checks.size() - commit.signatures_size();

  // A fresh verifier process: no key parsed yet.
  cdl::crypto::ClearPublicKeyCache();
  auto cold_start = Clock::now();
  bool cold_valid = cdl::verify::VerifyPassport(genesis, bytes, options).valid;
  double cold_ms = Millis(Clock::now() - cold_start);
  if (!cold_valid) {
    std::fprintf(stderr, "passport unexpectedly INVALID\n");
    return 1;
  }

  std::vector<double> verify_ms, floor_ms;
  for (int i = 0; i < iterations; ++i) {
    auto t0 = Clock::now();
    auto verdict = cdl::verify::VerifyPassport(genesis, bytes, options);
    auto t1 = Clock::now();
    if (!verdict.valid) {
      std::fprintf(stderr, "passport unexpectedly INVALID: %s\n", verdict.reasons.front().c_str());
      return 1;
    }
    bool all = true;
    for (size_t c = 0; c < checks.size(); ++c) {
      std::string_view domain = c < record_signatures ? cdl::verify::kSignatureDomain : cdl::verify::kCommitDomain;
      all = all && cdl::crypto::VerifyDomain(checks[c].key, domain, checks[c].message, checks[c].signature).ok();
    }
    auto t2 = Clock::now();
    if (!all) {
      std::fprintf(stderr, "a signature did not verify in the peer loop\n");
      return 1;
    }
    verify_ms.push_back(Millis(t1 - t0));
    floor_ms.push_back(Millis(t2 - t1));
  }
  Stats v = Summarise(verify_ms);
  Stats f = Summarise(floor_ms);
  std::printf("== passport verification (%d runs, one core) ==\n", iterations);
  std::printf("passport: %zu bytes, %d records, %d status proofs, %zu signatures (%zu record, %d commit)\n",
              bytes.size(), exported->passport.records_size(), exported->passport.statuses_size(), checks.size(),
              record_signatures, commit.signatures_size());
  std::printf("cdl passport verify (library):   mean %.3f ms  p50 %.3f ms  p99 %.3f ms   target < 5 ms: %s\n", v.mean,
              v.p50, v.p99, v.p99 < 5.0 ? "met" : "NOT met");
  std::printf("first verification, cold key cache: %.3f ms   target < 5 ms: %s\n", cold_ms,
              cold_ms < 5.0 ? "met" : "NOT met");
  std::printf("peer: its signatures alone:      mean %.3f ms  p50 %.3f ms  p99 %.3f ms\n", f.mean, f.p50, f.p99);
  std::printf("ratio full verification / signature floor: %.2fx\n", v.p50 / f.p50);
  return 0;
}
