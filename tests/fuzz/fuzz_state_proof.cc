// State proofs (node/verify/state_entry.h) and sparse Merkle proofs
// (crypto/sparse_merkle.h) with fuzzed proofs.
//
// Input (fuzz_input.h), by the first byte mod 3:
//   0  state proof: Chunk state_root, Chunk expected key, Rest a serialized
//      StateProof (seeds: real proofs of the fuzz world's ledger);
//   1  raw sparse Merkle proof: Chunk key, U8 has value, Chunk value hash,
//      Chunk bitmap, U16 sibling count, that many Chunks, Chunk root;
//   2  real map: U8 key count, each key a Chunk (padded or cut to 32 bytes),
//      then Chunk the key to prove and U8 the index of a key to delete.
//
// Properties:
//   - a proof that verifies for one root never verifies for another;
//   - it proves one thing: an inclusion proof does not verify for another
//     value, for no value or (being bound to its key) for another key; an
//     absence proof does not verify for a value;
//   - SmtVerify succeeds exactly when SmtRootFromProof yields the root;
//   - real proofs verify (inclusion and absence), and a deleted key's old
//     inclusion proof no longer verifies against the new root.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/sparse_merkle.h"
#include "node/verify/state_entry.h"
#include "state.pb.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using cdl::crypto::SmtProof;
using cdl::crypto::SmtVerify;
using cdl::fuzz::FlipBit;

std::string Key32(std::string bytes) {
  bytes.resize(cdl::crypto::kSmtKeySize, '\0');
  return bytes;
}

void CheckStateProof(cdl::fuzz::FuzzInput& in) {
  const std::string root = in.Chunk();
  const std::string key = in.Chunk();
  cdl::v1::StateProof proof;
  if (!proof.ParseFromString(in.Rest())) return;
  if (!cdl::verify::VerifyStateProof(root, key, proof).ok()) return;
  FUZZ_CHECK(!cdl::verify::VerifyStateProof(FlipBit(root, key.size()), key, proof).ok(), "verifies for another root");
  cdl::v1::StateProof other = proof;
  if (proof.has_entry()) {
    other.clear_entry();
    FUZZ_CHECK(!cdl::verify::VerifyStateProof(root, key, other).ok(), "inclusion proof proves absence");
    other = proof;
    other.mutable_entry()->set_valid_until_ms(proof.entry().valid_until_ms() ^ 1);
    FUZZ_CHECK(!cdl::verify::VerifyStateProof(root, key, other).ok(), "verifies for another entry");
    other = proof;
    other.set_key(FlipBit(key, root.size()));
    FUZZ_CHECK(!cdl::verify::VerifyStateProof(root, other.key(), other).ok(), "verifies for another key");
  } else {
    other.mutable_entry()->set_status(cdl::v1::ENTRY_ACTIVE);
    FUZZ_CHECK(!cdl::verify::VerifyStateProof(root, key, other).ok(), "absence proof proves an entry");
  }
}

void CheckSmtProof(const std::string& key, const std::optional<std::string>& value, const SmtProof& proof,
                   const std::string& root) {
  auto computed = cdl::crypto::SmtRootFromProof(key, value, proof);
  const bool verified = SmtVerify(root, key, value, proof).ok();
  FUZZ_CHECK(verified == (computed.ok() && *computed == root), "SmtVerify agrees with SmtRootFromProof");
  if (!computed.ok()) return;
  FUZZ_CHECK(SmtVerify(*computed, key, value, proof).ok(), "verifies for the root it leads to");
  FUZZ_CHECK(!SmtVerify(FlipBit(*computed, key.size()), key, value, proof).ok(), "verifies for another root");
  if (value.has_value()) {
    FUZZ_CHECK(!SmtVerify(*computed, key, FlipBit(*value, 7), proof).ok(), "verifies for another value");
    FUZZ_CHECK(!SmtVerify(*computed, key, std::nullopt, proof).ok(), "inclusion proof proves absence");
    FUZZ_CHECK(!SmtVerify(*computed, FlipBit(key, 31), value, proof).ok(), "verifies for another key");
  } else {
    FUZZ_CHECK(!SmtVerify(*computed, key, cdl::crypto::Sha256(key), proof).ok(), "absence proof proves a value");
  }
}

void CheckRawProof(cdl::fuzz::FuzzInput& in) {
  const std::string key = in.Chunk();
  const bool has_value = in.Bool();
  const std::string value = in.Chunk();
  SmtProof proof;
  proof.bitmap = in.Chunk();
  proof.siblings.resize(in.U16() % 300);
  for (auto& s : proof.siblings) s = in.Chunk();
  const std::string root = in.Chunk();
  CheckSmtProof(key, has_value ? std::optional<std::string>(value) : std::nullopt, proof, root);
}

void CheckRealMap(cdl::fuzz::FuzzInput& in) {
  cdl::crypto::MemorySparseMerkleTree tree;
  std::vector<cdl::crypto::SmtUpdate> updates;
  std::set<std::string> seen;
  for (int n = in.U8() % 64; n > 0; --n) {
    std::string key = Key32(in.Chunk());
    if (!seen.insert(key).second) continue;
    updates.push_back({key, cdl::crypto::Sha256(key)});
  }
  std::vector<std::string> keys(seen.begin(), seen.end());
  auto root = tree.Apply(std::move(updates));
  FUZZ_CHECK(root.ok(), root.status().ToString());

  const std::string key = Key32(in.Chunk());
  auto lookup = tree.Prove(key);
  FUZZ_CHECK(lookup.ok(), lookup.status().ToString());
  FUZZ_CHECK(lookup->value_hash.has_value() == (seen.count(key) == 1), "lookup finds exactly the keys set");
  FUZZ_CHECK(SmtVerify(*root, key, lookup->value_hash, lookup->proof).ok(), "real proof verifies");
  CheckSmtProof(key, lookup->value_hash, lookup->proof, *root);

  if (keys.empty()) return;
  const std::string& gone = keys[in.U8() % keys.size()];
  auto before = tree.Prove(gone);
  FUZZ_CHECK(before.ok() && before->value_hash.has_value(), "a key that was set is found");
  FUZZ_CHECK(tree.Delete(gone).ok(), "delete");
  FUZZ_CHECK(tree.Root() != *root, "deleting a key changes the root");
  FUZZ_CHECK(!SmtVerify(tree.Root(), gone, before->value_hash, before->proof).ok(),
             "a deleted key's old proof verifies");
  auto after = tree.Prove(gone);
  FUZZ_CHECK(after.ok() && !after->value_hash.has_value(), "a deleted key is gone");
  FUZZ_CHECK(SmtVerify(tree.Root(), gone, std::nullopt, after->proof).ok(), "absence proof verifies");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cdl::fuzz::FuzzInput in(data, size);
  switch (in.U8() % 3) {
    case 0:
      CheckStateProof(in);
      break;
    case 1:
      CheckRawProof(in);
      break;
    default:
      CheckRealMap(in);
      break;
  }
  return 0;
}
