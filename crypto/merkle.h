// RFC 6962 / RFC 9162 Merkle trees: hashing, proof generation over stored
// nodes, an append-only builder, and pure proof verification.
//
// Tree shape (RFC 9162 section 2.1.1): leaf = SHA-256(0x00 || leaf_data),
// node = SHA-256(0x01 || left || right), the left subtree of n leaves holds
// the largest power of two strictly below n, the last node is never
// duplicated, and the root of the empty tree is SHA-256("").
//
// Storage model. A "perfect subtree" (level L, index i) is the complete
// subtree of 2^L leaves covering leaves [i * 2^L, (i + 1) * 2^L); level 0 is
// the leaf hashes. Perfect subtrees never change once their last leaf is
// appended, so a ledger can persist them as MerkleAppender emits them and
// serve any historical root or proof from them with O(log n) reads.
//
// All hashes are 32 raw bytes. Functions here are thread-safe as long as the
// NodeReader they are given is.

#ifndef CDL_CRYPTO_MERKLE_H_
#define CDL_CRYPTO_MERKLE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cdl::crypto {

// SHA-256(0x00 || leaf_data).
std::string LeafHash(std::string_view leaf_data);

// SHA-256(0x01 || left || right).
std::string NodeHash(std::string_view left, std::string_view right);

// Root of the empty tree: SHA-256("").
std::string EmptyRoot();

// Returns the hash of the perfect subtree (level, index). Proof generation
// only asks for subtrees entirely within the tree size it was given, so a
// reader backed by nodes emitted by MerkleAppender can always answer. Errors
// are passed through to the caller unchanged; a result that is not 32 bytes
// is reported as DataLoss.
using NodeReader =
    std::function<absl::StatusOr<std::string>(int level, uint64_t index)>;

// Root of the tree made of the first `size` leaves (EmptyRoot() for 0).
// Reads at most log2(size) + 1 nodes.
absl::StatusOr<std::string> RootAt(uint64_t size, const NodeReader& reader);

// Audit path of leaf `index` in the tree of the first `size` leaves, in
// RFC 9162 section 2.1.3.1 order (from the leaf's sibling up to the root's
// child). InvalidArgument if index >= size. O(log size) reads.
absl::StatusOr<std::vector<std::string>> InclusionProof(
    uint64_t index, uint64_t size, const NodeReader& reader);

// Consistency proof between the trees of the first `old_size` and the first
// `new_size` leaves (RFC 9162 section 2.1.4.1). Empty when old_size is 0 or
// equal to new_size. InvalidArgument if old_size > new_size. O(log n) reads.
absl::StatusOr<std::vector<std::string>> ConsistencyProof(
    uint64_t old_size, uint64_t new_size, const NodeReader& reader);

// The right border ("compact range") of a growing tree: one hash per set bit
// of size(), the perfect subtrees covering [0, size()) from largest (left) to
// smallest (right). Enough to append leaves and compute the current root
// without reading storage. Persist size() and border() to restore it.
// Not thread-safe; owned by the single writer of a tree.
class MerkleAppender {
 public:
  // Called for every perfect subtree an append completes, bottom-up,
  // starting with the leaf itself at level 0.
  using EmitFn =
      std::function<void(int level, uint64_t index, const std::string& hash)>;

  // The empty tree.
  MerkleAppender() = default;

  // Restores an appender saved as (size(), border()). InvalidArgument if the
  // border does not have one 32-byte hash per set bit of `size`.
  static absl::StatusOr<MerkleAppender> Restore(
      uint64_t size, std::vector<std::string> border);

  uint64_t size() const { return size_; }
  const std::vector<std::string>& border() const { return border_; }

  // Appends one leaf given its LeafHash (32 bytes; asserted in debug builds)
  // and reports the completed perfect subtrees through `emit` (may be empty).
  void Append(std::string_view leaf_hash, const EmitFn& emit = nullptr);

  // Root of the current tree. O(log size) hashing, no reads.
  std::string Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<std::string> border_;
};

// A whole tree in memory, for tests, tools and small trees. Holds every
// perfect subtree, so memory grows as 2 * 32 bytes per leaf. Not thread-safe.
class MemoryMerkleTree {
 public:
  // Appends a leaf and returns its index.
  uint64_t AddLeaf(std::string_view leaf_data);
  uint64_t AddLeafHash(std::string_view leaf_hash);

  uint64_t size() const { return appender_.size(); }
  std::string Root() const { return appender_.Root(); }

  // As the free functions above, for any size up to size(); sizes beyond
  // size() are InvalidArgument.
  absl::StatusOr<std::string> RootAt(uint64_t size) const;
  absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t index,
                                                          uint64_t size) const;
  absl::StatusOr<std::vector<std::string>> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) const;

  // A reader over this tree's nodes; valid while the tree is alive.
  NodeReader Reader() const;

 private:
  MerkleAppender appender_;
  std::vector<std::vector<std::string>> levels_;  // [level][index]
};

// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves with
// root `root`, following RFC 9162 section 2.1.3.2. OK on success, otherwise
// InvalidArgument saying why (index >= size, wrong proof length, wrong hash
// size, or the proof leads to a different root). Safe on any input.
absl::Status VerifyInclusion(std::string_view leaf_hash, uint64_t index,
                             uint64_t size,
                             const std::vector<std::string>& proof,
                             std::string_view root);

// The root an inclusion proof leads to (RFC 9162 section 2.1.3.2 without the
// final comparison). InvalidArgument for malformed input.
absl::StatusOr<std::string> RootFromInclusionProof(
    std::string_view leaf_hash, uint64_t index, uint64_t size,
    const std::vector<std::string>& proof);

// Verifies that the tree of `new_size` leaves with root `new_root` extends
// the tree of `old_size` leaves with root `old_root`, following RFC 9162
// section 2.1.4.2. Edge cases: equal sizes need equal roots and an empty
// proof; old_size 0 needs old_root == EmptyRoot() and an empty proof.
// InvalidArgument saying why otherwise (sizes inverted, wrong proof length,
// wrong hash size, proof inconsistent with either root). Safe on any input.
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               std::string_view old_root,
                               std::string_view new_root,
                               const std::vector<std::string>& proof);

}  // namespace cdl::crypto

#endif  // CDL_CRYPTO_MERKLE_H_
