// Record decoding and rule execution. Input: a serialized SignedRecord, as a
// client submits it or a leader proposes it.
//
// Every input goes through ParseSignedRecord and CheckStateless. A record that
// parses is executed by Ledger::Prepare on the fuzz world's ledger (world.h,
// memory store; Prepare changes nothing, so every input sees the same state),
// once as given and once with the signatures of world members replaced by
// valid ones, so mutated bodies get past the signature check into the rules.
//
// Properties:
//   - a record that parses re-serializes to bytes that parse to the same id,
//     type and CheckStateless verdict; re-encoding the body keeps the type
//     and verdict too;
//   - Prepare never fails for a parsed record, and yields exactly one receipt
//     for it; the ledger grows by one leaf iff the record was accepted.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "ledger.pb.h"
#include "node/verify/record.h"
#include "tests/fuzz/fixture.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/world.h"

namespace {

using cdl::fuzz::TheWorld;
using cdl::verify::ParsedRecord;

const std::set<std::string, std::less<>>& WorldMembers() {
  static const auto* members =
      new std::set<std::string, std::less<>>{"reg-cn", "reg-eu", "acc-cn", "acc-eu", "cert-cn", "park-a", "ent-1"};
  return *members;
}

void Execute(const ParsedRecord& rec) {
  cdl::fuzz::World& world = TheWorld();
  const cdl::v1::LedgerHead head = world.ledger->head();
  auto block = world.ledger->Prepare({&rec}, world.next_time_ms, 1, "v1");
  FUZZ_CHECK(block.ok(), block.status().ToString());
  FUZZ_CHECK(block->block.receipts_size() == 1, "one receipt per record");
  const cdl::v1::Receipt& receipt = block->block.receipts(0);
  FUZZ_CHECK(receipt.record_id() == rec.id, "receipt names the record");
  FUZZ_CHECK(block->header.record_count() == 1, "header counts the record");
  const bool accepted = receipt.status() == cdl::v1::RECORD_ACCEPTED;
  FUZZ_CHECK(block->header.ledger_size() == head.ledger_size() + (accepted ? 1 : 0),
             "ledger grows by the accepted records only");
  FUZZ_CHECK(accepted || receipt.status() == cdl::v1::RECORD_REJECTED, "executed records are decided");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  TheWorld();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto rec = cdl::verify::ParseSignedRecord(bytes);
  if (!rec.ok()) return 0;
  const absl::Status stateless = cdl::verify::CheckStateless(*rec, cdl::fuzz::kChainId);

  // Re-serialization keeps the body bytes, hence the id.
  auto again = cdl::verify::ParseSignedRecord(rec->signed_record.SerializeAsString());
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(again->id == rec->id, "id after re-serialization");
  FUZZ_CHECK(again->type == rec->type, "type after re-serialization");
  FUZZ_CHECK(cdl::verify::CheckStateless(*again, cdl::fuzz::kChainId).ok() == stateless.ok(),
             "verdict after re-serialization");
  // Re-encoding the body may change the id, but not what the record says.
  cdl::v1::SignedRecord reencoded = rec->signed_record;
  reencoded.set_body(rec->body.SerializeAsString());
  auto decoded = cdl::verify::ParseSignedRecord(reencoded.SerializeAsString());
  FUZZ_CHECK(decoded.ok(), decoded.status().ToString());
  FUZZ_CHECK(decoded->type == rec->type, "type after re-encoding the body");
  FUZZ_CHECK(cdl::verify::CheckStateless(*decoded, cdl::fuzz::kChainId).ok() == stateless.ok(),
             "verdict after re-encoding the body");

  Execute(*rec);

  bool resigned = false;
  for (auto& sig : *rec->signed_record.mutable_signatures()) {
    if (WorldMembers().count(sig.member()) == 0) continue;
    auto s = cdl::verify::SignRecordId(cdl::fuzz::FixedKey(sig.member()), rec->id);
    FUZZ_CHECK(s.ok(), s.status().ToString());
    if (*s != sig.signature()) resigned = true;
    sig.set_signature(*s);
  }
  if (resigned) Execute(*rec);
  return 0;
}
