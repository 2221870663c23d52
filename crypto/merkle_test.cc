#include "crypto/merkle.h"

#include <bit>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdl::crypto {
namespace {

using ::testing::HasSubstr;

std::string H(std::string_view hex) {
  absl::StatusOr<std::string> bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  return bytes.value_or("");
}

std::vector<std::string> Hs(std::initializer_list<std::string_view> hexes) {
  std::vector<std::string> out;
  for (std::string_view h : hexes) out.push_back(H(h));
  return out;
}

// ---- Published test vectors ----
// From the Certificate Transparency reference implementation
// (google/certificate-transparency cpp/merkletree/merkle_tree_test.cc) and
// transparency-dev/merkle (testonly/constants.go, proof/verify_test.go).
// Leaf indices there are 1-based in the C++ file; here they are 0-based.

std::vector<std::string> CtLeaves() {
  return {H(""),
          H("00"),
          H("10"),
          H("2021"),
          H("3031"),
          H("40414243"),
          H("5051525354555657"),
          H("606162636465666768696a6b6c6d6e6f")};
}

// Roots of the trees of the first 1..8 leaves.
const char* const kCtRoots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

std::string CtRoot(uint64_t size) { return H(kCtRoots[size - 1]); }

// Every perfect subtree of the 8-leaf tree, [level][index].
std::vector<std::vector<std::string>> CtNodes() {
  return {
      Hs({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
          "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
          "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
          "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
          "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"}),
      Hs({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"}),
      Hs({"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}),
      Hs({"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"}),
  };
}

struct InclusionVector {
  uint64_t index;
  uint64_t size;
  std::vector<std::string> proof;
};

std::vector<InclusionVector> CtInclusionVectors() {
  return {
      {0, 1, {}},
      {0, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
           "4"})},
      {5, 8,
       Hs({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
           "7"})},
      {2, 3,
       Hs({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c12"
           "5"})},
      {1, 5,
       Hs({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
           "b"})},
  };
}

struct ConsistencyVector {
  uint64_t old_size;
  uint64_t new_size;
  std::vector<std::string> proof;
};

std::vector<ConsistencyVector> CtConsistencyVectors() {
  return {
      {1, 1, {}},
      {1, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
           "4"})},
      {6, 8,
       Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
           "7"})},
      {2, 5,
       Hs({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
           "b"})},
      {6, 7,
       Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
           "7"})},
  };
}

MemoryMerkleTree CtTree() {
  MemoryMerkleTree tree;
  for (const std::string& leaf : CtLeaves()) tree.AddLeaf(leaf);
  return tree;
}

// ---- Reference implementation: the RFC 9162 recursive definitions ----

uint64_t Split(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

std::string RefRoot(const std::vector<std::string>& leaves, uint64_t begin,
                    uint64_t end) {
  uint64_t n = end - begin;
  if (n == 0) return Sha256("");
  if (n == 1) return LeafHash(leaves[begin]);
  uint64_t k = Split(n);
  return NodeHash(RefRoot(leaves, begin, begin + k),
                  RefRoot(leaves, begin + k, end));
}

std::vector<std::string> RefPath(const std::vector<std::string>& leaves,
                                 uint64_t m, uint64_t begin, uint64_t end) {
  uint64_t n = end - begin;
  if (n <= 1) return {};
  uint64_t k = Split(n);
  std::vector<std::string> path;
  if (m < k) {
    path = RefPath(leaves, m, begin, begin + k);
    path.push_back(RefRoot(leaves, begin + k, end));
  } else {
    path = RefPath(leaves, m - k, begin + k, end);
    path.push_back(RefRoot(leaves, begin, begin + k));
  }
  return path;
}

std::vector<std::string> RefSubproof(const std::vector<std::string>& leaves,
                                     uint64_t m, uint64_t begin, uint64_t end,
                                     bool b) {
  uint64_t n = end - begin;
  if (m == n) {
    if (b) return {};
    return {RefRoot(leaves, begin, end)};
  }
  uint64_t k = Split(n);
  std::vector<std::string> proof;
  if (m <= k) {
    proof = RefSubproof(leaves, m, begin, begin + k, b);
    proof.push_back(RefRoot(leaves, begin + k, end));
  } else {
    proof = RefSubproof(leaves, m - k, begin + k, end, false);
    proof.push_back(RefRoot(leaves, begin, begin + k));
  }
  return proof;
}

std::vector<std::string> NumberedLeaves(int n) {
  std::vector<std::string> leaves;
  for (int i = 0; i < n; ++i) leaves.push_back("leaf " + std::to_string(i));
  return leaves;
}

std::vector<std::string> Without(std::vector<std::string> v, size_t i) {
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
  return v;
}

std::vector<std::string> Flipped(std::vector<std::string> v, size_t i) {
  v[i][0] ^= 0x08;
  return v;
}

// ---- hashing ----

TEST(MerkleHashTest, Rfc6962Prefixes) {
  EXPECT_EQ(HexEncode(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(LeafHash("abc"), Sha256(std::string("\0abc", 4)));
  EXPECT_EQ(NodeHash("l", "r"), Sha256("\x01lr"));
  EXPECT_EQ(HexEncode(LeafHash("")), kCtRoots[0]);
}

// ---- published vectors ----

TEST(MerkleVectorsTest, RootsForSizes1To8) {
  MemoryMerkleTree tree;
  EXPECT_EQ(tree.Root(), EmptyRoot());
  std::vector<std::string> leaves = CtLeaves();
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(tree.AddLeaf(leaves[i]), i);
    EXPECT_EQ(HexEncode(tree.Root()), kCtRoots[i]) << "size " << i + 1;
    for (size_t j = 0; j <= i; ++j) {
      absl::StatusOr<std::string> at = tree.RootAt(j + 1);
      ASSERT_TRUE(at.ok());
      EXPECT_EQ(HexEncode(*at), kCtRoots[j]);
    }
    absl::StatusOr<std::string> empty = tree.RootAt(0);
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(*empty, EmptyRoot());
    EXPECT_EQ(tree.RootAt(i + 2).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(MerkleVectorsTest, AppenderEmitsEveryPublishedNodeAndBorder) {
  std::vector<std::vector<std::string>> nodes = CtNodes();
  // Border (compact range) after each size, from transparency-dev CompactTrees.
  const std::vector<std::vector<std::pair<int, int>>> kBorders = {
      {{0, 0}},         {{1, 0}},         {{1, 0}, {0, 2}},         {{2, 0}},
      {{2, 0}, {0, 4}}, {{2, 0}, {1, 2}}, {{2, 0}, {1, 2}, {0, 6}}, {{3, 0}}};
  MerkleAppender appender;
  int emitted = 0;
  std::vector<std::string> leaves = CtLeaves();
  for (size_t i = 0; i < leaves.size(); ++i) {
    appender.Append(LeafHash(leaves[i]), [&](int level, uint64_t index,
                                             const std::string& hash) {
      ASSERT_LT(static_cast<size_t>(level), nodes.size());
      ASSERT_LT(index, nodes[level].size());
      EXPECT_EQ(hash, nodes[level][index]) << level << "," << index;
      ++emitted;
    });
    EXPECT_EQ(appender.size(), i + 1);
    std::vector<std::string> want;
    for (auto [level, index] : kBorders[i]) want.push_back(nodes[level][index]);
    EXPECT_EQ(appender.border(), want) << "size " << i + 1;
    EXPECT_EQ(appender.Root(), CtRoot(i + 1));
  }
  EXPECT_EQ(emitted, 8 + 4 + 2 + 1);
}

TEST(MerkleVectorsTest, InclusionProofs) {
  MemoryMerkleTree tree = CtTree();
  std::vector<std::string> leaves = CtLeaves();
  for (const InclusionVector& v : CtInclusionVectors()) {
    absl::StatusOr<std::vector<std::string>> proof =
        tree.InclusionProof(v.index, v.size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, v.proof) << v.index << "/" << v.size;
    EXPECT_TRUE(VerifyInclusion(LeafHash(leaves[v.index]), v.index, v.size,
                                v.proof, CtRoot(v.size))
                    .ok());
  }
}

TEST(MerkleVectorsTest, ConsistencyProofs) {
  MemoryMerkleTree tree = CtTree();
  for (const ConsistencyVector& v : CtConsistencyVectors()) {
    absl::StatusOr<std::vector<std::string>> proof =
        tree.ConsistencyProof(v.old_size, v.new_size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, v.proof) << v.old_size << "->" << v.new_size;
    EXPECT_TRUE(VerifyConsistency(v.old_size, v.new_size, CtRoot(v.old_size),
                                  CtRoot(v.new_size), v.proof)
                    .ok());
  }
}

// Probes from transparency-dev/merkle corruptInclusionProof.
TEST(MerkleVectorsTest, CorruptedInclusionProofsFail) {
  std::vector<std::string> leaves = CtLeaves();
  const std::string some_hash =
      H("abacaba000000000000000000000000000000000000000000060061e00123456");
  for (const InclusionVector& v : CtInclusionVectors()) {
    const std::string leaf = LeafHash(leaves[v.index]);
    const std::string root = CtRoot(v.size);
    auto fails = [&](uint64_t index, uint64_t size,
                     const std::vector<std::string>& proof, std::string_view r,
                     std::string_view l) {
      return !VerifyInclusion(l, index, size, proof, r).ok();
    };
    EXPECT_TRUE(fails(v.index - 1, v.size, v.proof, root, leaf));
    EXPECT_TRUE(fails(v.index + 1, v.size, v.proof, root, leaf));
    EXPECT_TRUE(fails(v.index ^ 2, v.size, v.proof, root, leaf));
    EXPECT_TRUE(fails(v.index, v.size * 2, v.proof, root, leaf));
    EXPECT_TRUE(fails(v.index, v.size / 2, v.proof, root, leaf));
    EXPECT_TRUE(fails(v.index, v.size, v.proof, root, "WrongLeaf"));
    EXPECT_TRUE(fails(v.index, v.size, v.proof, EmptyRoot(), leaf));
    EXPECT_TRUE(fails(v.index, v.size, v.proof, some_hash, leaf));
    std::vector<std::string> p = v.proof;
    p.push_back("");
    EXPECT_TRUE(fails(v.index, v.size, p, root, leaf));
    p.back() = root;
    EXPECT_TRUE(fails(v.index, v.size, p, root, leaf));
    p = v.proof;
    p.insert(p.begin(), "");
    EXPECT_TRUE(fails(v.index, v.size, p, root, leaf));
    p[0] = root;
    EXPECT_TRUE(fails(v.index, v.size, p, root, leaf));
    for (size_t i = 0; i < v.proof.size(); ++i) {
      EXPECT_TRUE(fails(v.index, v.size, Flipped(v.proof, i), root, leaf));
      EXPECT_TRUE(fails(v.index, v.size, Without(v.proof, i), root, leaf));
    }
  }
}

// Probes from transparency-dev/merkle corruptConsistencyProof.
TEST(MerkleVectorsTest, CorruptedConsistencyProofsFail) {
  for (const ConsistencyVector& v : CtConsistencyVectors()) {
    if (v.proof.empty()) continue;
    const std::string r1 = CtRoot(v.old_size);
    const std::string r2 = CtRoot(v.new_size);
    auto fails = [](uint64_t s1, uint64_t s2, std::string_view a,
                    std::string_view b, const std::vector<std::string>& p) {
      return !VerifyConsistency(s1, s2, a, b, p).ok();
    };
    uint64_t s1 = v.old_size;
    uint64_t s2 = v.new_size;
    EXPECT_TRUE(fails(s1 - 1, s2, r1, r2, v.proof));
    EXPECT_TRUE(fails(s1 + 1, s2, r1, r2, v.proof));
    EXPECT_TRUE(fails(s1 ^ 2, s2, r1, r2, v.proof));
    EXPECT_TRUE(fails(s1, s2 * 2, r1, r2, v.proof));
    EXPECT_TRUE(fails(s1, s2 / 2, r1, r2, v.proof));
    EXPECT_TRUE(fails(s1, s2, "WrongRoot", r2, v.proof));
    EXPECT_TRUE(fails(s1, s2, r1, "WrongRoot", v.proof));
    EXPECT_TRUE(fails(s1, s2, r2, r1, v.proof));
    EXPECT_TRUE(fails(s1, s2, r1, r2, {}));
    for (const std::string& extra : {std::string(), r1, r2}) {
      std::vector<std::string> p = v.proof;
      p.push_back(extra);
      EXPECT_TRUE(fails(s1, s2, r1, r2, p));
      p = v.proof;
      p.insert(p.begin(), extra);
      EXPECT_TRUE(fails(s1, s2, r1, r2, p));
    }
    std::vector<std::string> p = v.proof;
    p.insert(p.begin(), v.proof[0]);
    EXPECT_TRUE(fails(s1, s2, r1, r2, p));
    for (size_t i = 0; i < v.proof.size(); ++i) {
      EXPECT_TRUE(fails(s1, s2, r1, r2, Flipped(v.proof, i)));
      EXPECT_TRUE(fails(s1, s2, r1, r2, Without(v.proof, i)));
    }
  }
}

// ---- exhaustive checks against the reference definitions ----

constexpr int kMaxSize = 70;

TEST(MerkleExhaustiveTest, RootsAndInclusionProofsForEverySizeAndIndex) {
  std::vector<std::string> leaves = NumberedLeaves(kMaxSize);
  MemoryMerkleTree tree;
  for (const std::string& leaf : leaves) tree.AddLeaf(leaf);
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    const std::string root = RefRoot(leaves, 0, size);
    absl::StatusOr<std::string> got_root = tree.RootAt(size);
    ASSERT_TRUE(got_root.ok());
    ASSERT_EQ(*got_root, root) << size;
    const std::string other_root = RefRoot(leaves, 0, size - 1);
    for (uint64_t index = 0; index < size; ++index) {
      SCOPED_TRACE(testing::Message() << "index " << index << " size " << size);
      absl::StatusOr<std::vector<std::string>> proof =
          tree.InclusionProof(index, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_EQ(*proof, RefPath(leaves, index, 0, size));
      const std::string leaf = LeafHash(leaves[index]);
      ASSERT_TRUE(VerifyInclusion(leaf, index, size, *proof, root).ok());
      absl::StatusOr<std::string> computed =
          RootFromInclusionProof(leaf, index, size, *proof);
      ASSERT_TRUE(computed.ok());
      EXPECT_EQ(*computed, root);

      // A different root, leaf, index or size, or any tampered element,
      // must fail.
      EXPECT_FALSE(VerifyInclusion(leaf, index, size, *proof, other_root).ok());
      EXPECT_FALSE(
          VerifyInclusion(LeafHash("x"), index, size, *proof, root).ok());
      for (uint64_t wrong = 0; wrong < size; ++wrong) {
        if (wrong == index) continue;
        EXPECT_FALSE(VerifyInclusion(leaf, wrong, size, *proof, root).ok());
      }
      // (A proof may also fit a nearby size with the same path shape, e.g.
      // leaf 0 of 3 and of 4; doubling the size always changes the shape.)
      EXPECT_FALSE(VerifyInclusion(leaf, index, size * 2, *proof, root).ok());
      for (size_t i = 0; i < proof->size(); ++i) {
        EXPECT_FALSE(
            VerifyInclusion(leaf, index, size, Flipped(*proof, i), root).ok());
      }
    }
  }
}

TEST(MerkleExhaustiveTest, ConsistencyProofsForEveryPairOfSizes) {
  std::vector<std::string> leaves = NumberedLeaves(kMaxSize);
  MemoryMerkleTree tree;
  for (const std::string& leaf : leaves) tree.AddLeaf(leaf);
  for (uint64_t new_size = 1; new_size <= kMaxSize; ++new_size) {
    const std::string new_root = RefRoot(leaves, 0, new_size);
    for (uint64_t old_size = 0; old_size <= new_size; ++old_size) {
      SCOPED_TRACE(testing::Message() << old_size << " -> " << new_size);
      const std::string old_root = RefRoot(leaves, 0, old_size);
      absl::StatusOr<std::vector<std::string>> proof =
          tree.ConsistencyProof(old_size, new_size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      if (old_size == 0 || old_size == new_size) {
        EXPECT_TRUE(proof->empty());
      } else {
        ASSERT_EQ(*proof, RefSubproof(leaves, old_size, 0, new_size, true));
      }
      ASSERT_TRUE(
          VerifyConsistency(old_size, new_size, old_root, new_root, *proof)
              .ok());
      if (old_size == 0 || old_size == new_size) continue;

      // Wrong roots, wrong sizes, tampered, truncated or extended proofs.
      EXPECT_FALSE(
          VerifyConsistency(old_size, new_size, new_root, old_root, *proof)
              .ok());
      EXPECT_FALSE(VerifyConsistency(old_size, new_size, old_root,
                                     RefRoot(leaves, 0, new_size - 1), *proof)
                       .ok());
      EXPECT_FALSE(
          VerifyConsistency(old_size, new_size, LeafHash("x"), new_root, *proof)
              .ok());
      for (uint64_t wrong = 1; wrong < new_size; ++wrong) {
        if (wrong == old_size) continue;
        EXPECT_FALSE(
            VerifyConsistency(wrong, new_size, old_root, new_root, *proof)
                .ok());
      }
      EXPECT_FALSE(
          VerifyConsistency(old_size, new_size * 2, old_root, new_root, *proof)
              .ok());
      for (size_t i = 0; i < proof->size(); ++i) {
        EXPECT_FALSE(VerifyConsistency(old_size, new_size, old_root, new_root,
                                       Flipped(*proof, i))
                         .ok());
        EXPECT_FALSE(VerifyConsistency(old_size, new_size, old_root, new_root,
                                       Without(*proof, i))
                         .ok());
      }
      std::vector<std::string> longer = *proof;
      longer.push_back(new_root);
      EXPECT_FALSE(
          VerifyConsistency(old_size, new_size, old_root, new_root, longer)
              .ok());
    }
  }
}

// ---- storage-backed use: MerkleAppender + NodeReader ----

using NodeMap = std::map<std::pair<int, uint64_t>, std::string>;

NodeReader MapReader(const NodeMap& nodes) {
  return [&nodes](int level, uint64_t index) -> absl::StatusOr<std::string> {
    auto it = nodes.find({level, index});
    if (it == nodes.end()) {
      return absl::NotFoundError(absl::StrCat("no node ", level, "/", index));
    }
    return it->second;
  };
}

TEST(MerkleAppenderTest, PersistedNodesServeTheSameRootsAndProofs) {
  std::vector<std::string> leaves = NumberedLeaves(kMaxSize);
  MemoryMerkleTree tree;
  NodeMap nodes;
  MerkleAppender appender;
  auto persist = [&nodes](int level, uint64_t index, const std::string& h) {
    EXPECT_TRUE(nodes.emplace(std::make_pair(level, index), h).second)
        << "node emitted twice: " << level << "/" << index;
  };
  for (size_t n = 0; n < leaves.size(); ++n) {
    tree.AddLeaf(leaves[n]);
    // Restart from the persisted border now and then, as a node would.
    if (n % 7 == 3) {
      absl::StatusOr<MerkleAppender> restored =
          MerkleAppender::Restore(appender.size(), appender.border());
      ASSERT_TRUE(restored.ok()) << restored.status();
      appender = *std::move(restored);
    }
    appender.Append(LeafHash(leaves[n]), persist);
    const uint64_t size = n + 1;
    ASSERT_EQ(appender.Root(), tree.Root());
    NodeReader reader = MapReader(nodes);
    absl::StatusOr<std::string> root = RootAt(size, reader);
    ASSERT_TRUE(root.ok()) << root.status();
    ASSERT_EQ(*root, tree.Root());
    for (uint64_t i = 0; i < size; ++i) {
      absl::StatusOr<std::vector<std::string>> a =
          InclusionProof(i, size, reader);
      ASSERT_TRUE(a.ok()) << a.status();
      ASSERT_EQ(*a, *tree.InclusionProof(i, size));
    }
    for (uint64_t old_size = 0; old_size <= size; ++old_size) {
      absl::StatusOr<std::vector<std::string>> c =
          ConsistencyProof(old_size, size, reader);
      ASSERT_TRUE(c.ok()) << c.status();
      ASSERT_EQ(*c, *tree.ConsistencyProof(old_size, size));
    }
  }
  // 2n - popcount(n) perfect subtrees in a tree of n leaves.
  EXPECT_EQ(
      nodes.size(),
      2 * leaves.size() - static_cast<size_t>(std::popcount(leaves.size())));
}

TEST(MerkleAppenderTest, RestoreRejectsBadBorders) {
  std::string h(32, 'h');
  EXPECT_TRUE(MerkleAppender::Restore(0, {}).ok());
  EXPECT_TRUE(MerkleAppender::Restore(5, {h, h}).ok());
  absl::StatusOr<MerkleAppender> wrong_count = MerkleAppender::Restore(5, {h});
  EXPECT_EQ(wrong_count.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_count.status().message(), HasSubstr("2 hashes"));
  EXPECT_FALSE(MerkleAppender::Restore(1, {"short"}).ok());
  EXPECT_FALSE(MerkleAppender::Restore(0, {h}).ok());
}

// A reader over a huge virtual tree: fake but deterministic node hashes, and
// a count of reads. Checks that proofs need O(log n) reads and never ask for
// a node outside the requested tree.
TEST(MerkleAppenderTest, ProofsOnHugeTreesReadLogarithmicallyManyNodes) {
  const uint64_t size = (uint64_t{1} << 40) + 123456789;
  int reads = 0;
  bool out_of_range = false;
  uint64_t limit = size;
  NodeReader reader = [&](int level,
                          uint64_t index) -> absl::StatusOr<std::string> {
    ++reads;
    if (level < 0 || level > 63 || ((index + 1) << level) > limit) {
      out_of_range = true;
    }
    return Sha256(absl::StrCat(level, "/", index));
  };
  ASSERT_TRUE(RootAt(size, reader).ok());
  EXPECT_LE(reads, 64);
  for (uint64_t index : {uint64_t{0}, size / 3, size - 1}) {
    reads = 0;
    ASSERT_TRUE(InclusionProof(index, size, reader).ok());
    EXPECT_LE(reads, 2 * 64) << index;
  }
  limit = size;  // Consistency proofs read nodes of the new tree only.
  for (uint64_t old_size : {uint64_t{1}, size / 2 + 7, size - 1}) {
    reads = 0;
    ASSERT_TRUE(ConsistencyProof(old_size, size, reader).ok());
    EXPECT_LE(reads, 2 * 64) << old_size;
  }
  EXPECT_FALSE(out_of_range);
}

TEST(MerkleAppenderTest, ReaderErrorsAndBadNodesAreReported) {
  NodeReader failing = [](int, uint64_t) -> absl::StatusOr<std::string> {
    return absl::UnavailableError("disk on fire");
  };
  EXPECT_EQ(RootAt(3, failing).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(InclusionProof(0, 3, failing).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ConsistencyProof(1, 3, failing).status().code(),
            absl::StatusCode::kUnavailable);
  NodeReader short_hashes = [](int, uint64_t) -> absl::StatusOr<std::string> {
    return std::string("short");
  };
  EXPECT_EQ(RootAt(3, short_hashes).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(MerkleProofArgsTest, GenerationRejectsBadSizes) {
  MemoryMerkleTree tree = CtTree();
  NodeReader reader = tree.Reader();
  EXPECT_EQ(InclusionProof(8, 8, reader).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(0, 0, reader).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(5, 4, reader).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tree.InclusionProof(0, 9).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tree.ConsistencyProof(1, 9).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- verification edge cases and hostile input ----

TEST(MerkleVerifyTest, InclusionEdgeCases) {
  const std::string h = LeafHash("data");
  // A one-leaf tree: root == leaf hash, empty proof.
  EXPECT_TRUE(VerifyInclusion(h, 0, 1, {}, h).ok());
  EXPECT_FALSE(VerifyInclusion(h, 0, 1, {}, "").ok());
  EXPECT_FALSE(VerifyInclusion("", 0, 1, {}, h).ok());
  EXPECT_FALSE(VerifyInclusion("", 0, 1, {}, "").ok());

  absl::Status empty_tree = VerifyInclusion(h, 0, 0, {}, EmptyRoot());
  EXPECT_EQ(empty_tree.code(), absl::StatusCode::kInvalidArgument);
  absl::Status beyond = VerifyInclusion(h, 2, 1, {}, h);
  EXPECT_THAT(beyond.message(), HasSubstr("not in a tree of size 1"));

  MemoryMerkleTree tree = CtTree();
  std::vector<std::string> proof = *tree.InclusionProof(3, 8);
  absl::Status wrong_len = VerifyInclusion(LeafHash(CtLeaves()[3]), 3, 8,
                                           Without(proof, 0), CtRoot(8));
  EXPECT_THAT(wrong_len.message(), HasSubstr("must have 3 hashes, got 2"));
  std::vector<std::string> short_element = proof;
  short_element[1].pop_back();
  absl::Status bad_element =
      VerifyInclusion(LeafHash(CtLeaves()[3]), 3, 8, short_element, CtRoot(8));
  EXPECT_THAT(bad_element.message(), HasSubstr("proof hash 1 is 31 bytes"));
}

TEST(MerkleVerifyTest, ConsistencyEdgeCases) {
  const std::string a = CtRoot(1);
  const std::string b = CtRoot(2);
  // Equal sizes: same root and empty proof.
  EXPECT_TRUE(VerifyConsistency(1, 1, a, a, {}).ok());
  absl::Status fork = VerifyConsistency(1, 1, a, b, {});
  EXPECT_THAT(fork.message(), HasSubstr("forked"));
  EXPECT_FALSE(VerifyConsistency(1, 1, a, a, {a}).ok());
  EXPECT_TRUE(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}).ok());
  // From the empty tree: anything, with an empty proof and the empty root.
  EXPECT_TRUE(VerifyConsistency(0, 2, EmptyRoot(), b, {}).ok());
  EXPECT_FALSE(VerifyConsistency(0, 2, a, b, {}).ok());
  EXPECT_FALSE(VerifyConsistency(0, 2, EmptyRoot(), b, {a}).ok());
  // Time travel.
  absl::Status inverted = VerifyConsistency(2, 1, b, a, {});
  EXPECT_EQ(inverted.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(inverted.message(), HasSubstr("larger than new tree size"));
  // Proof required when sizes differ.
  EXPECT_FALSE(VerifyConsistency(1, 2, a, b, {}).ok());
  // Roots must be hashes.
  EXPECT_FALSE(VerifyConsistency(1, 2, "x", b, {LeafHash(CtLeaves()[1])}).ok());
  EXPECT_TRUE(VerifyConsistency(1, 2, a, b, {LeafHash(CtLeaves()[1])}).ok());
}

TEST(MerkleVerifyTest, HostileSizesAndProofsNeverCrash) {
  const uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const std::string h = LeafHash("x");
  std::vector<std::string> junk(64, h);
  for (uint64_t size :
       {kMax, kMax - 1, uint64_t{1} << 63, (uint64_t{1} << 63) + 1}) {
    for (uint64_t index : {uint64_t{0}, size / 2, size - 1, size}) {
      for (size_t len : {size_t{0}, size_t{1}, size_t{63}, size_t{64}}) {
        std::vector<std::string> proof(junk.begin(), junk.begin() + len);
        EXPECT_FALSE(VerifyInclusion(h, index, size, proof, h).ok());
        EXPECT_EQ(VerifyConsistency(index, size, h, h, proof).ok(),
                  index == size && len == 0);
      }
    }
  }
  std::vector<std::string> huge(100000, h);
  EXPECT_FALSE(VerifyInclusion(h, 5, 10, huge, h).ok());
  EXPECT_FALSE(VerifyConsistency(5, 10, h, h, huge).ok());
  std::vector<std::string> ragged = {"", std::string(1000, 'a'), h};
  EXPECT_FALSE(VerifyInclusion(h, 5, 8, ragged, h).ok());
  EXPECT_FALSE(VerifyConsistency(5, 8, h, h, ragged).ok());
}

}  // namespace
}  // namespace cdl::crypto
