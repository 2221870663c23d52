// Genesis files and checkpoints (node/verify/genesis.h).
//
// Input (fuzz_input.h): Chunk genesis JSON, Rest a serialized Checkpoint.
// The JSON goes through TrustedGenesis::FromJson; the checkpoint is verified
// against the fixed genesis (fixture.h; seeds hold real checkpoints of the
// fuzz world, cosigned by its four validators) and against the fuzzed genesis
// when that one is valid.
//
// Properties:
//   - a genesis that loads survives GenesisToJson -> FromJson with the same
//     hash, chain id, validators and quorum;
//   - a checkpoint that verifies has a header of the genesis' chain whose
//     hash is the one its certificate signs, and a certificate of at least a
//     quorum of signatures; it no longer verifies once its header changes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ledger.pb.h"
#include "node/verify/genesis.h"
#include "tests/fuzz/fixture.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using cdl::verify::TrustedGenesis;

void CheckCheckpoint(const TrustedGenesis& genesis, const cdl::v1::Checkpoint& checkpoint) {
  auto header = cdl::verify::VerifyCheckpoint(genesis, checkpoint);
  if (!header.ok()) return;
  FUZZ_CHECK(header->chain_id() == genesis.chain_id(), "checkpoint of another chain");
  FUZZ_CHECK(cdl::verify::BlockHash(checkpoint.header()) == checkpoint.commit().block_hash(),
             "certificate signs the header's hash");
  FUZZ_CHECK(checkpoint.commit().height() == header->height(), "certificate height");
  FUZZ_CHECK(static_cast<size_t>(checkpoint.commit().signatures_size()) >= genesis.quorum(), "quorum");
  cdl::v1::Checkpoint changed = checkpoint;
  changed.set_header(cdl::fuzz::FlipBit(checkpoint.header(), checkpoint.header().size() / 2));
  FUZZ_CHECK(!cdl::verify::VerifyCheckpoint(genesis, changed).ok(), "verifies with a changed header");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cdl::fuzz::FixedGenesis();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cdl::fuzz::FuzzInput in(data, size);
  const std::string json = in.Chunk();
  const std::string checkpoint_bytes = in.Rest();

  auto genesis = TrustedGenesis::FromJson(json);
  if (genesis.ok()) {
    auto again = TrustedGenesis::FromJson(cdl::verify::GenesisToJson(genesis->proto()));
    FUZZ_CHECK(again.ok(), again.status().ToString());
    FUZZ_CHECK(again->Hash() == genesis->Hash(), "genesis hash after a JSON round trip");
    FUZZ_CHECK(again->chain_id() == genesis->chain_id(), "chain id");
    FUZZ_CHECK(again->validator_count() == genesis->validator_count() && again->quorum() == genesis->quorum(),
               "validators");
    for (size_t i = 0; i < genesis->validator_count(); ++i) {
      FUZZ_CHECK(again->validator_key(static_cast<int>(i)) == genesis->validator_key(static_cast<int>(i)),
                 "validator key");
    }
  }

  cdl::v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(checkpoint_bytes)) return 0;
  CheckCheckpoint(cdl::fuzz::FixedGenesis(), checkpoint);
  if (genesis.ok()) CheckCheckpoint(*genesis, checkpoint);
  return 0;
}
