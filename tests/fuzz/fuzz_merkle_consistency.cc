// RFC 6962 consistency proof verification (crypto/merkle.h) with fuzzed
// proofs.
//
// Input (fuzz_input.h), by the low bit of the first byte:
//   0  raw:  U64 old size, U64 new size, Chunk old root, Chunk new root,
//            proof (merkle_input.h), Chunk other old root, Chunk other new root;
//   1  tree: a real tree (ReadTree), U64 old size, U64 new size, then edits
//            applied to the real proof between them (EditProof).
//
// Properties:
//   - a proof that verifies for (old root, new root) never verifies when
//     either root is replaced by another one (except the new root when the
//     old tree is empty: the empty tree is consistent with every tree);
//   - an unedited real proof verifies against the tree's roots.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "crypto/merkle.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/merkle_input.h"

namespace {

using cdl::crypto::VerifyConsistency;
using cdl::fuzz::FlipBit;

void CheckProof(uint64_t old_size, uint64_t new_size, const std::string& old_root, const std::string& new_root,
                const std::vector<std::string>& proof, const std::string& other_old, const std::string& other_new) {
  if (!VerifyConsistency(old_size, new_size, old_root, new_root, proof).ok()) return;
  FUZZ_CHECK(!VerifyConsistency(old_size, new_size, FlipBit(old_root, new_size), new_root, proof).ok(),
             "verifies for a changed old root");
  if (other_old != old_root) {
    FUZZ_CHECK(!VerifyConsistency(old_size, new_size, other_old, new_root, proof).ok(),
               "verifies for another old root");
  }
  if (old_size == 0) return;
  FUZZ_CHECK(!VerifyConsistency(old_size, new_size, old_root, FlipBit(new_root, old_size), proof).ok(),
             "verifies for a changed new root");
  if (other_new != new_root) {
    FUZZ_CHECK(!VerifyConsistency(old_size, new_size, old_root, other_new, proof).ok(),
               "verifies for another new root");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cdl::fuzz::FuzzInput in(data, size);
  if ((in.U8() & 1) == 0) {
    const uint64_t old_size = in.U64();
    const uint64_t new_size = in.U64();
    const std::string old_root = in.Chunk();
    const std::string new_root = in.Chunk();
    const std::vector<std::string> proof = cdl::fuzz::ReadProof(in);
    const std::string other_old = in.Chunk();
    const std::string other_new = in.Chunk();
    CheckProof(old_size, new_size, old_root, new_root, proof, other_old, other_new);
    return 0;
  }
  cdl::crypto::MemoryMerkleTree tree = cdl::fuzz::ReadTree(in);
  const uint64_t new_size = in.U64() % tree.size() + 1;
  const uint64_t old_size = in.U64() % (new_size + 1);
  auto proof = tree.ConsistencyProof(old_size, new_size);
  FUZZ_CHECK(proof.ok(), proof.status().ToString());
  auto old_root = tree.RootAt(old_size);
  auto new_root = tree.RootAt(new_size);
  FUZZ_CHECK(old_root.ok() && new_root.ok(), "roots of a real tree");
  auto path = *proof;
  if (!cdl::fuzz::EditProof(in, path)) {
    FUZZ_CHECK(VerifyConsistency(old_size, new_size, *old_root, *new_root, path).ok(), "real proof verifies");
  }
  CheckProof(old_size, new_size, *old_root, *new_root, path, tree.Root(), tree.Root());
  return 0;
}
