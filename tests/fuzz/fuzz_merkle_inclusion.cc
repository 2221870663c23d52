// RFC 6962 inclusion proof verification (crypto/merkle.h) with fuzzed proofs.
//
// Input (fuzz_input.h), by the low bit of the first byte:
//   0  raw:  Chunk leaf hash, U64 index, U64 size, proof (merkle_input.h),
//            Chunk root, Chunk other root;
//   1  tree: a real tree (ReadTree), U64 index, U64 size, then edits applied
//            to the real proof of that leaf (EditProof).
//
// Properties:
//   - VerifyInclusion succeeds exactly when RootFromInclusionProof yields the
//     root it is given;
//   - a proof that verifies for one root never verifies for another;
//   - an unedited real proof verifies against the tree's root at that size.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "crypto/merkle.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/merkle_input.h"

namespace {

using cdl::fuzz::FlipBit;

void CheckProof(const std::string& leaf, uint64_t index, uint64_t size, const std::vector<std::string>& proof,
                const std::string& root, const std::string& other_root) {
  const bool verified = cdl::crypto::VerifyInclusion(leaf, index, size, proof, root).ok();
  auto computed = cdl::crypto::RootFromInclusionProof(leaf, index, size, proof);
  FUZZ_CHECK(verified == (computed.ok() && *computed == root), "VerifyInclusion agrees with RootFromInclusionProof");
  if (!verified) return;
  FUZZ_CHECK(!cdl::crypto::VerifyInclusion(leaf, index, size, proof, FlipBit(root, index)).ok(),
             "verifies for a changed root");
  if (other_root != root) {
    FUZZ_CHECK(!cdl::crypto::VerifyInclusion(leaf, index, size, proof, other_root).ok(), "verifies for another root");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cdl::fuzz::FuzzInput in(data, size);
  if ((in.U8() & 1) == 0) {
    const std::string leaf = in.Chunk();
    const uint64_t index = in.U64();
    const uint64_t tree_size = in.U64();
    const std::vector<std::string> proof = cdl::fuzz::ReadProof(in);
    const std::string root = in.Chunk();
    const std::string other_root = in.Chunk();
    CheckProof(leaf, index, tree_size, proof, root, other_root);
    return 0;
  }
  cdl::crypto::MemoryMerkleTree tree = cdl::fuzz::ReadTree(in);
  const uint64_t tree_size = in.U64() % tree.size() + 1;
  const uint64_t index = in.U64() % tree_size;
  auto proof = tree.InclusionProof(index, tree_size);
  FUZZ_CHECK(proof.ok(), proof.status().ToString());
  auto root = tree.RootAt(tree_size);
  FUZZ_CHECK(root.ok(), root.status().ToString());
  const std::string leaf = cdl::crypto::LeafHash("leaf" + std::to_string(index));
  auto path = *proof;
  const bool edited = cdl::fuzz::EditProof(in, path);
  if (!edited) {
    FUZZ_CHECK(cdl::crypto::VerifyInclusion(leaf, index, tree_size, path, *root).ok(), "real proof verifies");
  }
  CheckProof(leaf, index, tree_size, path, *root, tree.Root());
  return 0;
}
