// Input helpers shared by fuzz_merkle_inclusion and fuzz_merkle_consistency:
// proofs read from fuzz input, trees built from it, and edits to a real proof.
#ifndef CDL_TESTS_FUZZ_MERKLE_INPUT_H_
#define CDL_TESTS_FUZZ_MERKLE_INPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/merkle.h"
#include "tests/fuzz/fuzz_input.h"

namespace cdl::fuzz {

// More hashes than any valid proof of a 2^64-leaf tree holds (64 for
// inclusion, 2 * 64 for consistency).
inline constexpr int kMaxFuzzProofHashes = 140;

// U8 count, then that many Chunks.
inline std::vector<std::string> ReadProof(FuzzInput& in) {
  std::vector<std::string> proof(in.U8() % (kMaxFuzzProofHashes + 1));
  for (auto& h : proof) h = in.Chunk();
  return proof;
}

inline void WriteProof(FuzzOutput& out, const std::vector<std::string>& proof) {
  out.U8(static_cast<uint8_t>(proof.size()));
  for (const auto& h : proof) out.Chunk(h);
}

// A tree of 1..512 leaves (U16 size), leaf i = "leaf" || i, so all leaves
// differ.
inline cdl::crypto::MemoryMerkleTree ReadTree(FuzzInput& in) {
  cdl::crypto::MemoryMerkleTree tree;
  const int leaves = in.U16() % 512 + 1;
  for (int i = 0; i < leaves; ++i) tree.AddLeaf("leaf" + std::to_string(i));
  return tree;
}

// U8 count of edits, each U8 hash index, U8 byte position, U8 xor mask
// (position 0xff drops the hash, mask 0 on an out-of-range index appends the
// leaf hash of the position). Returns whether anything changed.
inline bool EditProof(FuzzInput& in, std::vector<std::string>& proof) {
  bool changed = false;
  for (int edits = in.U8() % 8; edits > 0 && !in.empty(); --edits) {
    const uint8_t index = in.U8(), pos = in.U8(), mask = in.U8();
    if (index >= proof.size()) {
      if (mask == 0) {
        proof.push_back(cdl::crypto::LeafHash(std::string(1, static_cast<char>(pos))));
        changed = true;
      }
      continue;
    }
    if (pos == 0xff) {
      proof.erase(proof.begin() + index);
      changed = true;
    } else if (mask != 0 && !proof[index].empty()) {
      proof[index][pos % proof[index].size()] ^= static_cast<char>(mask);
      changed = true;
    }
  }
  return changed;
}

}  // namespace cdl::fuzz

#endif  // CDL_TESTS_FUZZ_MERKLE_INPUT_H_
