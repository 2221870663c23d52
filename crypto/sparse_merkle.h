// A sparse Merkle tree over 256-bit keys: hashing, batched root updates over
// stored nodes, proof generation and pure proof verification (inclusion and
// absence).
//
// Tree shape. The tree has 2^256 leaf slots, one per 32-byte key; the path of
// a key from the root (depth 0) to its slot (depth 256) follows the key's bits,
// most significant bit of byte 0 first (0 = left). A slot holds either nothing
// or the 32-byte hash of a value:
//   leaf     = SHA-256("cdl/smt-leaf/v1" || 0x00 || key || value_hash)
//   node     = SHA-256("cdl/smt-node/v1" || 0x00 || left || right)
//   empty(0) = 32 zero bytes (an empty slot)
//   empty(h) = node(empty(h-1), empty(h-1))  (an empty subtree of height h)
// The root of the empty map is empty(256). The key is inside the leaf hash, so
// a proof for one key can never be replayed for another.
//
// Storage model. Nodes are addressed by (depth, prefix). One is stored for the
// root and for every child of a node whose subtree holds >= 2 leaves:
//   - kBranch (the subtree holds >= 2 leaves): its hash;
//   - kLeaf   (the subtree holds exactly 1 leaf): that leaf's key, value hash
//             and the hash of the whole subtree (the leaf hashed up through
//             empty siblings to this depth);
//   - nothing (the subtree is empty).
// Nothing is stored below a kLeaf node. Readers walk from the root, so an
// absent node always means an empty subtree. For keys that are hashes (spread
// uniformly) that is about 3n nodes for n keys; keys sharing a long prefix add
// one node per shared bit. The storage behind a reader and
// writer is the caller's (e.g. a versioned key-value column).
//
// Proofs. A proof of a key lists the siblings of its path at depths 1..256;
// empty siblings are left out and flagged in a 256-bit bitmap, so a proof in a
// map of n keys holds about log2(n) hashes. The same proof shows a value
// (inclusion) or no value (absence) for the key.
//
// All functions are deterministic and thread-safe as long as the reader and
// writer given to them are.

#ifndef CDL_CRYPTO_SPARSE_MERKLE_H_
#define CDL_CRYPTO_SPARSE_MERKLE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cdl::crypto {

inline constexpr int kSmtDepth = 256;       // key bits = tree depth
inline constexpr size_t kSmtKeySize = 32;   // bytes of a key, a value hash and every node hash

// SHA-256("cdl/smt-leaf/v1" || 0x00 || key || value_hash). (The tree only
// hashes 32-byte inputs; other lengths are hashed as given.)
std::string SmtLeafHash(std::string_view key, std::string_view value_hash);
// SHA-256("cdl/smt-node/v1" || 0x00 || left || right).
std::string SmtNodeHash(std::string_view left, std::string_view right);
// Hash of an empty subtree of `height` (0 = one empty slot, 256 = the empty
// map). Precomputed; `height` must be in [0, 256].
const std::string& SmtEmptyHash(int height);
// Root of the empty map: SmtEmptyHash(256).
const std::string& SmtEmptyRoot();

// Bit `index` (0 = most significant bit of byte 0) of a 32-byte key.
bool SmtKeyBit(std::string_view key, int index);

// A stored node (see "Storage model" above).
struct SmtNode {
  enum class Kind { kEmpty, kLeaf, kBranch };
  Kind kind = Kind::kEmpty;
  std::string hash;        // hash of the subtree rooted here (kLeaf, kBranch)
  std::string leaf_key;    // kLeaf: the only key in this subtree
  std::string value_hash;  // kLeaf: its value hash

  bool operator==(const SmtNode&) const = default;
};

// Address of a node: its depth in [0, 256] and a 32-byte prefix holding the
// first `depth` bits of every key below it (all other bits zero).
// Returns the node stored there, or a kEmpty node if none is. Errors are
// passed through unchanged.
using SmtNodeReader =
    std::function<absl::StatusOr<SmtNode>(int depth, std::string_view prefix)>;
// Stores `node` at (depth, prefix); a kEmpty node means: delete what is there.
using SmtNodeWriter =
    std::function<void(int depth, std::string_view prefix, const SmtNode& node)>;

// One change to the map: set key to value_hash, or delete it (nullopt).
struct SmtUpdate {
  std::string key;                        // 32 bytes
  std::optional<std::string> value_hash;  // 32 bytes; nullopt = delete
};

// Applies `updates` (any order; each key at most once) to the map stored
// behind `reader`, reports every node to store or delete through `writer`, and
// returns the new root. Each stored node is read at most once and nothing that
// did not change is written; the root is written at (0, zero prefix). Cost:
// O(k log n) reads and writes and at most 256 hashes per changed key.
// InvalidArgument for a malformed key or value hash or a repeated key;
// DataLoss if the stored nodes are inconsistent; reader errors unchanged.
absl::StatusOr<std::string> SmtApply(std::vector<SmtUpdate> updates,
                                     const SmtNodeReader& reader,
                                     const SmtNodeWriter& writer);

// Root of the map stored behind `reader` (SmtEmptyRoot() when it is empty).
absl::StatusOr<std::string> SmtRoot(const SmtNodeReader& reader);

struct SmtProof {
  std::string bitmap;                 // 32 bytes; bit d set = sibling at depth d+1 is not empty
  std::vector<std::string> siblings;  // the non-empty siblings, by increasing depth
};

// The value hash stored under `key` (nullopt when there is none) and a proof
// of it. O(log n) reads; at most 256 hashes.
struct SmtLookup {
  std::optional<std::string> value_hash;
  SmtProof proof;
};
absl::StatusOr<SmtLookup> SmtProve(std::string_view key,
                                   const SmtNodeReader& reader);

// The root that `proof` leads to for `key` holding `value_hash` (nullopt =
// no value). Refuses (InvalidArgument, saying why) a key or value hash that is
// not 32 bytes, a bitmap that is not 32 bytes, a sibling count that differs
// from the bitmap's, a sibling that is not 32 bytes, or a flagged sibling that
// is the empty hash of its height (so every proof has one encoding). Safe on
// any input.
absl::StatusOr<std::string> SmtRootFromProof(
    std::string_view key, const std::optional<std::string>& value_hash,
    const SmtProof& proof);

// Verifies that in the map with root `root`, `key` holds `value_hash`
// (inclusion) or nothing when `value_hash` is nullopt (absence). OK on
// success, InvalidArgument saying why otherwise.
absl::Status SmtVerify(std::string_view root, std::string_view key,
                       const std::optional<std::string>& value_hash,
                       const SmtProof& proof);

// A whole map with its nodes in memory: for tests, tools and small maps.
// Not thread-safe.
class MemorySparseMerkleTree {
 public:
  // As SmtApply on this tree's nodes; the tree is unchanged on error.
  absl::StatusOr<std::string> Apply(std::vector<SmtUpdate> updates);
  absl::Status Set(std::string_view key, std::string_view value_hash);
  absl::Status Delete(std::string_view key);

  const std::string& Root() const { return root_; }
  absl::StatusOr<SmtLookup> Prove(std::string_view key) const;
  // The stored nodes by (depth, prefix): the storage model above, for tests.
  const std::map<std::pair<int, std::string>, SmtNode>& nodes() const { return nodes_; }

  SmtNodeReader Reader() const;

 private:
  std::map<std::pair<int, std::string>, SmtNode> nodes_;
  std::string root_ = SmtEmptyRoot();
};

}  // namespace cdl::crypto

#endif  // CDL_CRYPTO_SPARSE_MERKLE_H_
