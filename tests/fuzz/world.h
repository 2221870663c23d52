// The fuzz targets' ledger: the fixed genesis (fixture.h) on a memory store,
// with a small certification world committed in a few blocks, each cosigned
// by all four validators:
//   acc-cn (accreditor, CN), acc-eu (accreditor, EU), cert-cn (certifier, CN),
//   park-a (park, CN) and its enterprise ent-1;
//   ent-1's PACT footprint and 2026 disclosure, both certified by cert-cn for
//   ISO 14067 / ISO 14064-3 under acc-cn's accreditation;
//   a mutual ISO 14067 recognition agreement between acc-cn and acc-eu.
// Built once per process; deterministic apart from the ECDSA/SM2 commit
// signatures' random nonces. Fuzzing and tools only.
#ifndef CDL_TESTS_FUZZ_WORLD_H_
#define CDL_TESTS_FUZZ_WORLD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ledger.pb.h"
#include "node/ledger/ledger.h"
#include "tests/fuzz/fixture.h"

namespace cdl::fuzz {

struct World {
  std::unique_ptr<cdl::ledger::Ledger> ledger;
  // Continues every author's sequence after the committed records.
  RecordBuilder records;
  // Block time of the next block.
  int64_t next_time_ms = kFirstBlockMs;
  // Record ids (32 raw bytes).
  std::string footprint, disclosure, accreditation, footprint_certificate, disclosure_certificate, agreement;
};

// The world, built on first use. Aborts if building it fails (a bug here).
World& TheWorld();

// Executes `records` as the next block and commits it with a certificate of
// all validators. Returns the receipts.
std::vector<cdl::v1::Receipt> CommitBlock(World& world, const std::vector<std::string>& records);

}  // namespace cdl::fuzz

#endif  // CDL_TESTS_FUZZ_WORLD_H_
