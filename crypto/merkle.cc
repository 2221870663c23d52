#include "crypto/merkle.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crypto/hash.h"

namespace cdl::crypto {
namespace {

// Largest power of two strictly below n (n >= 2): the size of the left
// subtree of a tree with n leaves.
uint64_t SplitPoint(uint64_t n) {
  return uint64_t{1} << (std::bit_width(n - 1) - 1);
}

absl::StatusOr<std::string> ReadNode(const NodeReader& reader, int level,
                                     uint64_t index) {
  absl::StatusOr<std::string> hash = reader(level, index);
  if (!hash.ok()) return hash.status();
  if (hash->size() != kHashSize) {
    return absl::DataLossError(
        absl::StrCat("Merkle node (level ", level, ", index ", index, ") is ",
                     hash->size(), " bytes; expected ", kHashSize));
  }
  return hash;
}

// Hash of the leaves [begin, end), a subtree of the RFC 9162 tree whose
// `begin` is a multiple of the largest power of two not above end - begin.
// Splits the range into perfect subtrees from largest to smallest (one read
// each) and folds them right to left, as MTH does.
absl::StatusOr<std::string> RangeHash(uint64_t begin, uint64_t end,
                                      const NodeReader& reader) {
  std::vector<std::string> parts;
  while (begin < end) {
    int level = std::bit_width(end - begin) - 1;
    absl::StatusOr<std::string> hash = ReadNode(reader, level, begin >> level);
    if (!hash.ok()) return hash.status();
    parts.push_back(*std::move(hash));
    begin += uint64_t{1} << level;
  }
  std::string root = std::move(parts.back());
  for (size_t i = parts.size() - 1; i-- > 0;) root = NodeHash(parts[i], root);
  return root;
}

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// Number of proof hashes the RFC 9162 verification loops consume, starting
// from (fn, sn), before sn reaches 0. Mirrors the loops below without
// hashing, so lengths can be checked up front with a clear message.
size_t PathLength(uint64_t fn, uint64_t sn) {
  size_t count = 0;
  while (sn != 0) {
    ++count;
    if ((fn & 1) != 0 || fn == sn) {
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    }
    fn >>= 1;
    sn >>= 1;
  }
  return count;
}

absl::Status CheckHashSize(std::string_view hash, absl::string_view what) {
  if (hash.size() != kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", hash.size(), " bytes; expected a ",
                     kHashSize, "-byte SHA-256 hash"));
  }
  return absl::OkStatus();
}

absl::Status CheckProofHashes(const std::vector<std::string>& proof,
                              absl::string_view kind) {
  for (size_t i = 0; i < proof.size(); ++i) {
    absl::Status s =
        CheckHashSize(proof[i], absl::StrCat(kind, " proof hash ", i));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

std::string LeafHash(std::string_view leaf_data) {
  std::string buf;
  buf.reserve(1 + leaf_data.size());
  buf.push_back('\x00');
  buf.append(leaf_data);
  return Sha256(buf);
}

std::string NodeHash(std::string_view left, std::string_view right) {
  std::string buf;
  buf.reserve(1 + left.size() + right.size());
  buf.push_back('\x01');
  buf.append(left);
  buf.append(right);
  return Sha256(buf);
}

std::string EmptyRoot() { return Sha256(""); }

// ---- proofs over stored nodes ----

absl::StatusOr<std::string> RootAt(uint64_t size, const NodeReader& reader) {
  if (size == 0) return EmptyRoot();
  return RangeHash(0, size, reader);
}

absl::StatusOr<std::vector<std::string>> InclusionProof(
    uint64_t index, uint64_t size, const NodeReader& reader) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", index, " is not in a tree of size ", size));
  }
  // Walk down from the root (RFC 9162 PATH), collecting siblings top-down.
  std::vector<std::string> path;
  uint64_t begin = 0;
  uint64_t end = size;
  while (end - begin > 1) {
    uint64_t k = SplitPoint(end - begin);
    absl::StatusOr<std::string> sibling =
        index - begin < k ? RangeHash(begin + k, end, reader)
                          : RangeHash(begin, begin + k, reader);
    if (!sibling.ok()) return sibling.status();
    path.push_back(*std::move(sibling));
    if (index - begin < k) {
      end = begin + k;
    } else {
      begin += k;
    }
  }
  std::reverse(path.begin(), path.end());
  return path;
}

absl::StatusOr<std::vector<std::string>> ConsistencyProof(
    uint64_t old_size, uint64_t new_size, const NodeReader& reader) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("old tree size ", old_size,
                     " is larger than new tree size ", new_size));
  }
  std::vector<std::string> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  // RFC 9162 SUBPROOF(m, D[begin:end], b), unrolled; m = old_size - begin.
  uint64_t begin = 0;
  uint64_t end = new_size;
  bool whole_old_tree = true;  // b: the old root is the current subtree.
  while (true) {
    uint64_t n = end - begin;
    uint64_t m = old_size - begin;
    if (m == n) {
      if (!whole_old_tree) {
        absl::StatusOr<std::string> h = RangeHash(begin, end, reader);
        if (!h.ok()) return h.status();
        proof.push_back(*std::move(h));
      }
      break;
    }
    uint64_t k = SplitPoint(n);
    if (m <= k) {
      absl::StatusOr<std::string> right = RangeHash(begin + k, end, reader);
      if (!right.ok()) return right.status();
      proof.push_back(*std::move(right));
      end = begin + k;
    } else {
      absl::StatusOr<std::string> left = RangeHash(begin, begin + k, reader);
      if (!left.ok()) return left.status();
      proof.push_back(*std::move(left));
      begin += k;
      whole_old_tree = false;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

// ---- MerkleAppender ----

absl::StatusOr<MerkleAppender> MerkleAppender::Restore(
    uint64_t size, std::vector<std::string> border) {
  if (border.size() != static_cast<size_t>(std::popcount(size))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Merkle border for tree size ", size, " must have ",
        std::popcount(size), " hashes (one per set bit), got ", border.size()));
  }
  for (size_t i = 0; i < border.size(); ++i) {
    absl::Status s =
        CheckHashSize(border[i], absl::StrCat("Merkle border hash ", i));
    if (!s.ok()) return s;
  }
  MerkleAppender appender;
  appender.size_ = size;
  appender.border_ = std::move(border);
  return appender;
}

void MerkleAppender::Append(std::string_view leaf_hash, const EmitFn& emit) {
  assert(leaf_hash.size() == kHashSize);
  std::string hash(leaf_hash);
  int level = 0;
  uint64_t index = size_;
  if (emit) emit(level, index, hash);
  // Each trailing 1 bit of the old size is a perfect subtree that the new
  // node completes into a subtree one level up.
  while ((index & 1) != 0) {
    hash = NodeHash(border_.back(), hash);
    border_.pop_back();
    ++level;
    index >>= 1;
    if (emit) emit(level, index, hash);
  }
  border_.push_back(std::move(hash));
  ++size_;
}

std::string MerkleAppender::Root() const {
  if (border_.empty()) return EmptyRoot();
  std::string root = border_.back();
  for (size_t i = border_.size() - 1; i-- > 0;)
    root = NodeHash(border_[i], root);
  return root;
}

// ---- MemoryMerkleTree ----

uint64_t MemoryMerkleTree::AddLeaf(std::string_view leaf_data) {
  return AddLeafHash(LeafHash(leaf_data));
}

uint64_t MemoryMerkleTree::AddLeafHash(std::string_view leaf_hash) {
  uint64_t index = appender_.size();
  appender_.Append(leaf_hash,
                   [this](int level, uint64_t i, const std::string& hash) {
                     if (levels_.size() <= static_cast<size_t>(level)) {
                       levels_.resize(level + 1);
                     }
                     assert(levels_[level].size() == i);
                     levels_[level].push_back(hash);
                   });
  return index;
}

NodeReader MemoryMerkleTree::Reader() const {
  return [this](int level, uint64_t index) -> absl::StatusOr<std::string> {
    if (level < 0 || static_cast<size_t>(level) >= levels_.size() ||
        index >= levels_[level].size()) {
      return absl::NotFoundError(
          absl::StrCat("no Merkle node at level ", level, ", index ", index));
    }
    return levels_[level][index];
  };
}

absl::StatusOr<std::string> MemoryMerkleTree::RootAt(uint64_t size) const {
  if (size > this->size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree size ", size, " is beyond the current size ", this->size()));
  }
  return crypto::RootAt(size, Reader());
}

absl::StatusOr<std::vector<std::string>> MemoryMerkleTree::InclusionProof(
    uint64_t index, uint64_t size) const {
  if (size > this->size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree size ", size, " is beyond the current size ", this->size()));
  }
  return crypto::InclusionProof(index, size, Reader());
}

absl::StatusOr<std::vector<std::string>> MemoryMerkleTree::ConsistencyProof(
    uint64_t old_size, uint64_t new_size) const {
  if (new_size > size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree size ", new_size, " is beyond the current size ", size()));
  }
  return crypto::ConsistencyProof(old_size, new_size, Reader());
}

// ---- verification (RFC 9162 section 2.1.3.2 and 2.1.4.2) ----

absl::StatusOr<std::string> RootFromInclusionProof(
    std::string_view leaf_hash, uint64_t index, uint64_t size,
    const std::vector<std::string>& proof) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", index, " is not in a tree of size ", size));
  }
  absl::Status s = CheckHashSize(leaf_hash, "leaf hash");
  if (!s.ok()) return s;
  size_t want = PathLength(index, size - 1);
  if (proof.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof for leaf ", index, " in a tree of size ",
                     size, " must have ", want, " hashes, got ", proof.size()));
  }
  s = CheckProofHashes(proof, "inclusion");
  if (!s.ok()) return s;

  uint64_t fn = index;
  uint64_t sn = size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) {
      return absl::InvalidArgumentError("inclusion proof is too long");
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError("inclusion proof is too short");
  }
  return r;
}

absl::Status VerifyInclusion(std::string_view leaf_hash, uint64_t index,
                             uint64_t size,
                             const std::vector<std::string>& proof,
                             std::string_view root) {
  absl::Status s = CheckHashSize(root, "root hash");
  if (!s.ok()) return s;
  absl::StatusOr<std::string> computed =
      RootFromInclusionProof(leaf_hash, index, size, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return absl::InvalidArgumentError(absl::StrCat(
        "inclusion proof does not lead to the given root: leaf ", index,
        " is not proven to be in this tree of size ", size));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               std::string_view old_root,
                               std::string_view new_root,
                               const std::vector<std::string>& proof) {
  absl::Status s = CheckHashSize(old_root, "old root hash");
  if (s.ok()) s = CheckHashSize(new_root, "new root hash");
  if (!s.ok()) return s;
  if (old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "old tree size ", old_size, " is larger than new tree size ", new_size,
        "; a log never shrinks"));
  }
  if (old_size == new_size) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "consistency proof between equal tree sizes must be empty, got ",
          proof.size(), " hashes"));
    }
    if (old_root != new_root) {
      return absl::InvalidArgumentError(
          absl::StrCat("different roots for the same tree size ", old_size,
                       ": the log has forked"));
    }
    return absl::OkStatus();
  }
  if (old_size == 0) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "consistency proof from the empty tree must be empty, got ",
          proof.size(), " hashes"));
    }
    if (old_root != EmptyRoot()) {
      return absl::InvalidArgumentError(
          "old root of an empty tree must be SHA-256 of the empty string");
    }
    return absl::OkStatus();
  }

  // 0 < old_size < new_size. Step 2: a power-of-two old tree is itself a
  // node of the new tree, so its root seeds the path instead of proof[0].
  const bool seed_is_old_root = IsPowerOfTwo(old_size);
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  // Step 4.
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  size_t want = PathLength(fn, sn) + (seed_is_old_root ? 0 : 1);
  if (proof.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "consistency proof from tree size ", old_size, " to ", new_size,
        " must have ", want, " hashes, got ", proof.size()));
  }
  s = CheckProofHashes(proof, "consistency");
  if (!s.ok()) return s;

  // Step 5.
  std::string fr(seed_is_old_root ? std::string(old_root) : proof[0]);
  std::string sr = fr;
  // Step 6.
  for (size_t i = seed_is_old_root ? 0 : 1; i < proof.size(); ++i) {
    const std::string& c = proof[i];
    if (sn == 0) {
      return absl::InvalidArgumentError("consistency proof is too long");
    }
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) {
    return absl::InvalidArgumentError("consistency proof is too short");
  }
  if (fr != old_root) {
    return absl::InvalidArgumentError(absl::StrCat(
        "consistency proof does not match the old root of tree size ",
        old_size));
  }
  if (sr != new_root) {
    return absl::InvalidArgumentError(absl::StrCat(
        "consistency proof does not match the new root of tree size ",
        new_size));
  }
  return absl::OkStatus();
}

}  // namespace cdl::crypto
