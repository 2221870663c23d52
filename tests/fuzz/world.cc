#include "tests/fuzz/world.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "node/ledger/state_view.h"
#include "node/storage/store.h"
#include "node/verify/record.h"

namespace cdl::fuzz {
namespace {

[[noreturn]] void Die(std::string_view what) {
  std::fprintf(stderr, "fuzz world: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

// Commits `records`; every one must be accepted. Returns their ids.
std::vector<std::string> Accept(World& world, const std::vector<std::string>& records) {
  std::vector<std::string> ids;
  for (const auto& r : CommitBlock(world, records)) {
    if (r.status() != cdl::v1::RECORD_ACCEPTED) Die("setup record not accepted: " + r.message());
    ids.push_back(r.record_id());
  }
  return ids;
}

World* Build() {
  auto* world = new World;
  auto ledger = cdl::ledger::Ledger::Open(cdl::storage::NewMemoryStore(cdl::ledger::LedgerColumns()), FixedGenesis());
  if (!ledger.ok()) Die(std::string(ledger.status().message()));
  world->ledger = *std::move(ledger);

  RecordBuilder& b = world->records;
  Accept(*world, {b.Register("reg-cn", "acc-cn", cdl::v1::ROLE_ACCREDITOR, "CN"),
                  b.Register("reg-eu", "acc-eu", cdl::v1::ROLE_ACCREDITOR, "EU"),
                  b.Register("reg-cn", "cert-cn", cdl::v1::ROLE_CERTIFIER, "CN"),
                  b.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")});
  Accept(*world, {b.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a")});
  auto subjects = Accept(
      *world, {b.Footprint("ent-1", "3893bb5d-da16-4dc1-9185-11d97476c254"), b.Disclosure("ent-1", "2026", "1234.5")});
  world->footprint = subjects[0];
  world->disclosure = subjects[1];
  const int64_t until = world->next_time_ms + kYearMs;
  world->accreditation =
      Accept(*world, {b.Accreditation("acc-cn", "cert-cn", {"ISO 14067", "ISO 14064-3"}, "CN", until)})[0];
  auto certificates = Accept(*world, {b.Certificate("cert-cn", world->footprint, "ISO 14067", "CN", until),
                                      b.Certificate("cert-cn", world->disclosure, "ISO 14064-3", "CN", until)});
  world->footprint_certificate = certificates[0];
  world->disclosure_certificate = certificates[1];
  world->agreement = Accept(*world, {b.Agreement("acc-cn", "CN", "acc-eu", "EU", "ISO 14067", until)})[0];
  return world;
}

}  // namespace

World& TheWorld() {
  static World* world = Build();
  return *world;
}

std::vector<cdl::v1::Receipt> CommitBlock(World& world, const std::vector<std::string>& records) {
  std::vector<cdl::verify::ParsedRecord> parsed;
  for (const auto& r : records) {
    auto p = cdl::verify::ParseSignedRecord(r);
    if (!p.ok()) Die(std::string(p.status().message()));
    parsed.push_back(*std::move(p));
  }
  std::vector<const cdl::verify::ParsedRecord*> ptrs;
  for (const auto& p : parsed) ptrs.push_back(&p);
  const int64_t time_ms = world.next_time_ms;
  world.next_time_ms += 1000;
  auto block = world.ledger->Prepare(ptrs, time_ms, 1, "v1");
  if (!block.ok()) Die(std::string(block.status().message()));
  cdl::v1::CommitCertificate commit;
  commit.set_height(block->header.height());
  commit.set_block_hash(block->hash);
  for (int v = 1; v <= kValidators; ++v) {
    std::string id = "v" + std::to_string(v);
    auto sig = cdl::verify::SignCommit(FixedKey(id), id, kChainId, block->header.height(), block->hash);
    if (!sig.ok()) Die(std::string(sig.status().message()));
    *commit.add_signatures() = *sig;
  }
  std::vector<cdl::v1::Receipt> receipts(block->block.receipts().begin(), block->block.receipts().end());
  if (auto s = world.ledger->Commit(*std::move(block), commit); !s.ok()) Die(std::string(s.message()));
  return receipts;
}

}  // namespace cdl::fuzz
