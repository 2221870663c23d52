#include "crypto/sparse_merkle.h"

#include <map>
#include <random>
#include <set>

#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace cdl::crypto {
namespace {

// The root by the definition alone: every level of all 256, no storage.
std::string ReferenceRoot(int depth, const std::vector<std::pair<std::string, std::string>>& leaves) {
  if (leaves.empty()) return SmtEmptyHash(kSmtDepth - depth);
  if (depth == kSmtDepth) return SmtLeafHash(leaves[0].first, leaves[0].second);
  std::vector<std::pair<std::string, std::string>> left, right;
  for (const auto& leaf : leaves) (SmtKeyBit(leaf.first, depth) ? right : left).push_back(leaf);
  return SmtNodeHash(ReferenceRoot(depth + 1, left), ReferenceRoot(depth + 1, right));
}

std::string ReferenceRoot(const std::map<std::string, std::string>& map) {
  return ReferenceRoot(0, std::vector<std::pair<std::string, std::string>>(map.begin(), map.end()));
}

class Random {
 public:
  explicit Random(uint64_t seed) : rng_(seed) {}
  std::string Bytes(size_t n) {
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(rng_() & 0xff);
    return out;
  }
  uint64_t Below(uint64_t n) { return rng_() % n; }
  // Random keys, and keys that share long prefixes with earlier ones (down to
  // differing in the last bit only) so deep branches get exercised.
  std::string Key(const std::vector<std::string>& earlier) {
    if (earlier.empty() || Below(3) != 0) return Bytes(32);
    std::string key = earlier[Below(earlier.size())];
    int bit = 200 + static_cast<int>(Below(56));
    key[bit / 8] = static_cast<char>(static_cast<unsigned char>(key[bit / 8]) ^ (0x80u >> (bit % 8)));
    return key;
  }

 private:
  std::mt19937_64 rng_;
};

std::string ValueHash(int i) { return Sha256("value " + std::to_string(i)); }

TEST(SparseMerkleTest, EmptyHashesFollowTheDefinition) {
  EXPECT_EQ(SmtEmptyHash(0), std::string(32, '\0'));
  for (int h = 1; h <= kSmtDepth; ++h) {
    EXPECT_EQ(SmtEmptyHash(h), SmtNodeHash(SmtEmptyHash(h - 1), SmtEmptyHash(h - 1)));
  }
  EXPECT_EQ(SmtEmptyRoot(), SmtEmptyHash(256));
  // Leaf and node hashes are domain-separated from each other.
  std::string a(32, 'a'), b(32, 'b');
  EXPECT_NE(SmtLeafHash(a, b), SmtNodeHash(a, b));
  EXPECT_EQ(SmtLeafHash(a, b), DomainHash("cdl/smt-leaf/v1", a + b));
  EXPECT_EQ(SmtNodeHash(a, b), DomainHash("cdl/smt-node/v1", a + b));
}

TEST(SparseMerkleTest, EmptyMapProvesAbsence) {
  MemorySparseMerkleTree tree;
  EXPECT_EQ(tree.Root(), SmtEmptyRoot());
  std::string key(32, '\x42');
  auto lookup = tree.Prove(key);
  ASSERT_TRUE(lookup.ok());
  EXPECT_FALSE(lookup->value_hash.has_value());
  EXPECT_TRUE(lookup->proof.siblings.empty());
  EXPECT_TRUE(SmtVerify(tree.Root(), key, std::nullopt, lookup->proof).ok());
  EXPECT_FALSE(SmtVerify(tree.Root(), key, ValueHash(1), lookup->proof).ok());
}

TEST(SparseMerkleTest, SingleLeafAndItsNeighbours) {
  MemorySparseMerkleTree tree;
  std::string key(32, '\0');
  ASSERT_TRUE(tree.Set(key, ValueHash(1)).ok());
  EXPECT_EQ(tree.Root(), ReferenceRoot({{key, ValueHash(1)}}));
  EXPECT_EQ(tree.nodes().size(), 1u);  // the root, as a leaf
  // A key differing only in the last bit: the deepest possible split.
  std::string twin = key;
  twin[31] = 1;
  auto absent = tree.Prove(twin);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->value_hash.has_value());
  EXPECT_EQ(absent->proof.siblings.size(), 1u);
  EXPECT_TRUE(SmtVerify(tree.Root(), twin, std::nullopt, absent->proof).ok());
  ASSERT_TRUE(tree.Set(twin, ValueHash(2)).ok());
  EXPECT_EQ(tree.Root(), ReferenceRoot({{key, ValueHash(1)}, {twin, ValueHash(2)}}));
  auto both = tree.Prove(twin);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->value_hash, ValueHash(2));
  EXPECT_TRUE(SmtVerify(tree.Root(), twin, ValueHash(2), both->proof).ok());
  ASSERT_TRUE(tree.Delete(key).ok());
  ASSERT_TRUE(tree.Delete(twin).ok());
  EXPECT_EQ(tree.Root(), SmtEmptyRoot());
  EXPECT_TRUE(tree.nodes().empty());
}

// Random batches of inserts, updates and deletes against a plain map, with
// the root recomputed from the definition after every batch.
TEST(SparseMerkleTest, RandomUpdatesMatchReferenceAndProofsVerify) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    Random rnd(seed);
    MemorySparseMerkleTree tree;
    std::map<std::string, std::string> model;
    std::vector<std::string> keys;
    int counter = 0;
    for (int round = 0; round < 25; ++round) {
      std::vector<SmtUpdate> batch;
      std::set<std::string> in_batch;
      size_t n = 1 + rnd.Below(round % 5 == 0 ? 40 : 6);
      for (size_t i = 0; i < n; ++i) {
        std::string key;
        uint64_t op = rnd.Below(10);
        if (op < 5 || keys.empty()) {
          key = rnd.Key(keys);  // insert (or update if it exists)
          keys.push_back(key);
        } else {
          key = keys[rnd.Below(keys.size())];  // update or delete an earlier key
        }
        if (!in_batch.insert(key).second) continue;
        if (op >= 8) {
          batch.push_back({key, std::nullopt});
          model.erase(key);
        } else {
          std::string v = ValueHash(++counter);
          batch.push_back({key, v});
          model[key] = v;
        }
      }
      auto root = tree.Apply(batch);
      ASSERT_TRUE(root.ok()) << root.status();
      ASSERT_EQ(*root, ReferenceRoot(model));
      ASSERT_EQ(*SmtRoot(tree.Reader()), *root);

      // The storage is canonical: the same map built in one batch stores the
      // same nodes.
      MemorySparseMerkleTree fresh;
      std::vector<SmtUpdate> all;
      for (const auto& [k, v] : model) all.push_back({k, v});
      ASSERT_TRUE(fresh.Apply(all).ok());
      ASSERT_EQ(fresh.nodes(), tree.nodes());

      for (int probe = 0; probe < 8 && !keys.empty(); ++probe) {
        const std::string& key = probe % 2 == 0 ? keys[rnd.Below(keys.size())] : rnd.Key(keys);
        auto lookup = tree.Prove(key);
        ASSERT_TRUE(lookup.ok());
        auto it = model.find(key);
        std::optional<std::string> expected;
        if (it != model.end()) expected = it->second;
        ASSERT_EQ(lookup->value_hash, expected);
        EXPECT_TRUE(SmtVerify(*root, key, expected, lookup->proof).ok());
        // Another value, presence instead of absence, another key, another root: all fail.
        EXPECT_FALSE(SmtVerify(*root, key, ValueHash(-1), lookup->proof).ok());
        if (expected.has_value()) {
          EXPECT_FALSE(SmtVerify(*root, key, std::nullopt, lookup->proof).ok());
        }
        // A proof never shows anything false about another key. (An absence
        // proof that reaches an empty subtree does prove every key below it
        // absent, and rightly so.)
        std::string other_key = key;
        other_key[rnd.Below(32)] ^= 0x01;
        bool verifies = SmtVerify(*root, other_key, expected, lookup->proof).ok();
        if (expected.has_value()) {
          EXPECT_FALSE(verifies);
        } else if (verifies) {
          EXPECT_EQ(model.count(other_key), 0u);
        }
        EXPECT_FALSE(SmtVerify(Sha256("another root"), key, expected, lookup->proof).ok());
      }
    }
  }
}

TEST(SparseMerkleTest, BatchEqualsOneByOneAndOrderDoesNotMatter) {
  Random rnd(99);
  std::vector<SmtUpdate> updates;
  std::vector<std::string> keys;
  for (int i = 0; i < 64; ++i) {
    std::string key = rnd.Key(keys);
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    keys.push_back(key);
    updates.push_back({key, ValueHash(i)});
  }
  MemorySparseMerkleTree batch, single, reversed;
  ASSERT_TRUE(batch.Apply(updates).ok());
  for (const auto& u : updates) ASSERT_TRUE(single.Set(u.key, *u.value_hash).ok());
  std::reverse(updates.begin(), updates.end());
  ASSERT_TRUE(reversed.Apply(updates).ok());
  EXPECT_EQ(batch.Root(), single.Root());
  EXPECT_EQ(batch.Root(), reversed.Root());
  EXPECT_EQ(batch.nodes(), single.nodes());
}

TEST(SparseMerkleTest, UnchangedValuesWriteNothing) {
  MemorySparseMerkleTree tree;
  std::vector<SmtUpdate> updates;
  for (int i = 0; i < 20; ++i) updates.push_back({Sha256("k" + std::to_string(i)), ValueHash(i)});
  ASSERT_TRUE(tree.Apply(updates).ok());
  int writes = 0;
  auto root = SmtApply({updates[3], updates[7], {Sha256("never stored"), std::nullopt}}, tree.Reader(),
                       [&](int, std::string_view, const SmtNode&) { ++writes; });
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, tree.Root());
  EXPECT_EQ(writes, 0);
}

TEST(SparseMerkleTest, RejectsMalformedUpdates) {
  MemorySparseMerkleTree tree;
  std::string key = Sha256("k");
  EXPECT_FALSE(tree.Apply({{"short", ValueHash(1)}}).ok());
  EXPECT_FALSE(tree.Apply({{key, std::string("short")}}).ok());
  EXPECT_FALSE(tree.Apply({{key, ValueHash(1)}, {key, ValueHash(2)}}).ok());
  EXPECT_EQ(tree.Root(), SmtEmptyRoot());  // unchanged
  EXPECT_FALSE(tree.Prove("short").ok());
}

TEST(SparseMerkleTest, CorruptStorageIsDataLossNotACrash) {
  SmtNode bad_leaf;
  bad_leaf.kind = SmtNode::Kind::kLeaf;
  bad_leaf.leaf_key = std::string(32, '\xff');  // not under the left child's prefix
  bad_leaf.value_hash = ValueHash(1);
  bad_leaf.hash = ValueHash(2);
  SmtNodeReader reader = [&](int depth, std::string_view prefix) -> absl::StatusOr<SmtNode> {
    if (depth == 0) return SmtNode{SmtNode::Kind::kBranch, ValueHash(3), "", ""};
    if (depth == 1 && prefix[0] == 0) return bad_leaf;
    return SmtNode{SmtNode::Kind::kBranch, "short", "", ""};
  };
  EXPECT_TRUE(absl::IsDataLoss(SmtProve(std::string(32, '\0'), reader).status()));
  EXPECT_TRUE(absl::IsDataLoss(
      SmtApply({{std::string(32, '\0'), ValueHash(1)}}, reader, [](int, std::string_view, const SmtNode&) {})
          .status()));
}

TEST(SparseMerkleTest, TamperedProofsFailWithoutCrashing) {
  Random rnd(7);
  MemorySparseMerkleTree tree;
  std::vector<std::string> keys;
  std::vector<SmtUpdate> updates;
  for (int i = 0; i < 200; ++i) {
    std::string key = rnd.Key(keys);
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    keys.push_back(key);
    updates.push_back({key, ValueHash(i)});
  }
  ASSERT_TRUE(tree.Apply(updates).ok());
  for (int which = 0; which < 2; ++which) {
    std::string key = which == 0 ? updates[5].key : Sha256("absent");
    auto lookup = tree.Prove(key);
    ASSERT_TRUE(lookup.ok());
    const std::optional<std::string> value = lookup->value_hash;
    ASSERT_TRUE(SmtVerify(tree.Root(), key, value, lookup->proof).ok());
    ASSERT_FALSE(lookup->proof.siblings.empty());
    // Every single-bit flip of the bitmap and of every sibling.
    for (size_t byte = 0; byte < 32; ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        SmtProof p = lookup->proof;
        p.bitmap[byte] ^= static_cast<char>(1 << bit);
        EXPECT_FALSE(SmtVerify(tree.Root(), key, value, p).ok());
      }
    }
    for (size_t s = 0; s < lookup->proof.siblings.size(); ++s) {
      for (size_t byte = 0; byte < 32; byte += 7) {
        SmtProof p = lookup->proof;
        p.siblings[s][byte] ^= 0x10;
        EXPECT_FALSE(SmtVerify(tree.Root(), key, value, p).ok());
      }
    }
    SmtProof dropped = lookup->proof;
    dropped.siblings.pop_back();
    EXPECT_FALSE(SmtVerify(tree.Root(), key, value, dropped).ok());
    SmtProof extra = lookup->proof;
    extra.siblings.push_back(ValueHash(0));
    EXPECT_FALSE(SmtVerify(tree.Root(), key, value, extra).ok());
    SmtProof short_sibling = lookup->proof;
    short_sibling.siblings[0].resize(31);
    EXPECT_FALSE(SmtVerify(tree.Root(), key, value, short_sibling).ok());
    SmtProof short_bitmap = lookup->proof;
    short_bitmap.bitmap.resize(31);
    EXPECT_FALSE(SmtVerify(tree.Root(), key, value, short_bitmap).ok());
    SmtProof empty_proof;
    EXPECT_FALSE(SmtVerify(tree.Root(), key, value, empty_proof).ok());
    // Flagging an empty sibling explicitly is refused even though the root
    // would match: a proof has one encoding.
    SmtProof padded = lookup->proof;
    int depth = 255;
    while (SmtKeyBit(padded.bitmap, depth)) --depth;
    padded.bitmap[depth / 8] |= static_cast<char>(0x80u >> (depth % 8));
    size_t before = 0;
    for (int d = 0; d < depth; ++d) before += SmtKeyBit(padded.bitmap, d);
    padded.siblings.insert(padded.siblings.begin() + before, SmtEmptyHash(kSmtDepth - depth - 1));
    auto status = SmtVerify(tree.Root(), key, value, padded);
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find("non-canonical"), std::string_view::npos) << status;
  }
  // Random garbage never crashes.
  for (int i = 0; i < 200; ++i) {
    SmtProof p;
    p.bitmap = rnd.Bytes(rnd.Below(3) == 0 ? rnd.Below(40) : 32);
    size_t n = rnd.Below(12);
    for (size_t j = 0; j < n; ++j) p.siblings.push_back(rnd.Bytes(rnd.Below(4) == 0 ? rnd.Below(40) : 32));
    EXPECT_FALSE(SmtVerify(tree.Root(), rnd.Bytes(32), std::nullopt, p).ok());
  }
}

TEST(SparseMerkleTest, ProofSizeIsLogarithmic) {
  MemorySparseMerkleTree tree;
  std::vector<SmtUpdate> updates;
  for (int i = 0; i < 4096; ++i) updates.push_back({Sha256("key " + std::to_string(i)), ValueHash(i)});
  ASSERT_TRUE(tree.Apply(updates).ok());
  size_t longest = 0;
  for (int i = 0; i < 4096; i += 97) {
    auto lookup = tree.Prove(updates[i].key);
    ASSERT_TRUE(lookup.ok());
    longest = std::max(longest, lookup->proof.siblings.size());
    EXPECT_TRUE(SmtVerify(tree.Root(), updates[i].key, updates[i].value_hash, lookup->proof).ok());
  }
  EXPECT_LE(longest, 40u);  // log2(4096) = 12, plus the usual random-key slack
  EXPECT_LE(tree.nodes().size(), 3 * updates.size());
}

}  // namespace
}  // namespace cdl::crypto
