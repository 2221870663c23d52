#include "crypto/sparse_merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <cstdlib>
#include <span>

#include "crypto/hash.h"
#include "crypto/openssl_util.h"
#include "crypto/str_cat.h"

namespace cdl::crypto {
namespace {

using Kind = SmtNode::Kind;

// Domain strings with their NUL terminator: 16 bytes each.
constexpr std::string_view kLeafDomain("cdl/smt-leaf/v1\0", 16);
constexpr std::string_view kNodeDomain("cdl/smt-node/v1\0", 16);

// out = SHA-256(domain || a || b) for a 16-byte domain and 32-byte a, b.
// Hashing dominates every tree operation (up to 256 hashes per changed key),
// so this hashes one stack buffer with a digest fetched once and a context per
// thread, and writes into the caller's buffer (out may alias a or b).
void Hash3Into(std::string_view domain, const char* a, const char* b, char* out) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char buf[16 + 2 * kSmtKeySize];
  std::memcpy(buf, domain.data(), 16);
  std::memcpy(buf + 16, a, kSmtKeySize);
  std::memcpy(buf + 16 + kSmtKeySize, b, kSmtKeySize);
  unsigned int out_len = 0;
  bool ok = md != nullptr && ctx != nullptr && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1 &&
            EVP_DigestUpdate(ctx.get(), buf, sizeof(buf)) == 1 &&
            EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out), &out_len) == 1 && out_len == 32;
  if (!ok) std::abort();  // OpenSSL broken or out of memory: no caller can recover
}

std::string Hash3(std::string_view domain, std::string_view a, std::string_view b) {
  if (a.size() != kSmtKeySize || b.size() != kSmtKeySize) {
    // Not a tree input (the public hash functions take any bytes): hash them as given.
    return Sha256(cdl::StrCat(domain, a, b));
  }
  std::string out(kSmtKeySize, '\0');
  Hash3Into(domain, a.data(), b.data(), out.data());
  return out;
}

// Hashes `h` (a node at depth d, hash in place) up to depth d-1 given its
// sibling, for a key whose bit d-1 says which side `h` is on.
void HashUp(std::string_view key, int d, const char* sibling, char* h) {
  if (SmtKeyBit(key, d - 1)) {
    Hash3Into(kNodeDomain, sibling, h, h);
  } else {
    Hash3Into(kNodeDomain, h, sibling, h);
  }
}

const std::array<std::string, kSmtDepth + 1>& EmptyHashes() {
  static const std::array<std::string, kSmtDepth + 1> table = [] {
    std::array<std::string, kSmtDepth + 1> t;
    t[0] = std::string(kSmtKeySize, '\0');
    for (int h = 1; h <= kSmtDepth; ++h) t[h] = SmtNodeHash(t[h - 1], t[h - 1]);
    return t;
  }();
  return table;
}

void SetBit(std::string& bytes, int index) {
  bytes[index / 8] = static_cast<char>(static_cast<unsigned char>(bytes[index / 8]) | (0x80u >> (index % 8)));
}

// `prefix` with bit `depth` set: the address of the right child.
std::string RightChild(std::string_view prefix, int depth) {
  std::string out(prefix);
  SetBit(out, depth);
  return out;
}

// Whether `key` starts with the first `depth` bits of `prefix`.
bool HasPrefix(std::string_view key, std::string_view prefix, int depth) {
  int full = depth / 8;
  if (key.substr(0, full) != prefix.substr(0, full)) return false;
  if (depth % 8 == 0) return true;
  unsigned mask = 0xffu << (8 - depth % 8) & 0xffu;
  return (static_cast<unsigned char>(key[full]) & mask) == (static_cast<unsigned char>(prefix[full]) & mask);
}

// The hash of the subtree at `depth` holding only (key, value_hash).
std::string LeafHashAt(std::string_view key, std::string_view value_hash, int depth) {
  std::string h = SmtLeafHash(key, value_hash);
  for (int d = kSmtDepth; d > depth; --d) HashUp(key, d, SmtEmptyHash(kSmtDepth - d).data(), h.data());
  return h;
}

// A leaf whose hash is not yet known: it is computed once the leaf's final
// depth is (it moves up when its siblings disappear).
SmtNode LazyLeaf(std::string key, std::string value_hash) {
  SmtNode n;
  n.kind = Kind::kLeaf;
  n.leaf_key = std::move(key);
  n.value_hash = std::move(value_hash);
  return n;
}

void Finalize(SmtNode& node, int depth) {
  if (node.kind == Kind::kLeaf && node.hash.empty()) node.hash = LeafHashAt(node.leaf_key, node.value_hash, depth);
}

const std::string& HashOf(const SmtNode& node, int depth) {
  return node.kind == Kind::kEmpty ? SmtEmptyHash(kSmtDepth - depth) : node.hash;
}

// Same content at the same address: nothing to write.
bool Same(const SmtNode& a, const SmtNode& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kEmpty: return true;
    case Kind::kLeaf: return a.leaf_key == b.leaf_key && a.value_hash == b.value_hash;
    case Kind::kBranch: return a.hash == b.hash;
  }
  return false;
}

// Reads a node and checks that it can be where it was found.
absl::StatusOr<SmtNode> ReadNode(const SmtNodeReader& reader, int depth, std::string_view prefix) {
  auto node = reader(depth, prefix);
  if (!node.ok()) return node.status();
  auto corrupt = [&](std::string_view what) {
    return absl::DataLossError(cdl::StrCat("sparse Merkle node at depth ", depth, ": ", what));
  };
  switch (node->kind) {
    case Kind::kEmpty:
      break;
    case Kind::kBranch:
      if (node->hash.size() != kSmtKeySize) return corrupt("hash is not 32 bytes");
      if (depth >= kSmtDepth) return corrupt("branch at the leaf level");
      break;
    case Kind::kLeaf:
      if (node->hash.size() != kSmtKeySize || node->leaf_key.size() != kSmtKeySize ||
          node->value_hash.size() != kSmtKeySize) {
        return corrupt("leaf fields are not 32 bytes");
      }
      if (!HasPrefix(node->leaf_key, prefix, depth)) return corrupt("leaf key is outside its subtree");
      break;
  }
  return node;
}

using Leaves = std::vector<std::pair<std::string, std::string>>;  // sorted (key, value hash)

// Index of the first entry whose key has bit `depth` set; entries are sorted
// and share their first `depth` bits, so those with the bit clear come first.
template <typename T, typename KeyOf>
size_t SplitPoint(std::span<const T> items, int depth, KeyOf key_of) {
  return std::partition_point(items.begin(), items.end(),
                              [&](const T& item) { return !SmtKeyBit(key_of(item), depth); }) -
         items.begin();
}

class Updater {
 public:
  Updater(const SmtNodeReader& reader, const SmtNodeWriter& writer) : reader_(reader), writer_(writer) {}

  // The new node at (depth, prefix), given the node stored there now and the
  // updates (sorted, all below this address). Writes everything below it
  // that changed; the caller writes the node itself.
  absl::StatusOr<SmtNode> Rebuild(int depth, const std::string& prefix, SmtNode current,
                                  std::span<const SmtUpdate> updates) {
    if (updates.empty()) return current;
    if (current.kind != Kind::kBranch) {
      // At most one leaf lives here and nothing is stored below.
      Leaves leaves;
      bool existing_seen = current.kind != Kind::kLeaf;
      for (const SmtUpdate& u : updates) {
        if (!existing_seen && current.leaf_key <= u.key) {
          existing_seen = true;
          if (current.leaf_key != u.key) leaves.emplace_back(current.leaf_key, current.value_hash);
        }
        if (u.value_hash.has_value()) leaves.emplace_back(u.key, *u.value_hash);
      }
      if (!existing_seen) leaves.emplace_back(current.leaf_key, current.value_hash);
      auto built = Build(depth, prefix, leaves);
      if (!built.ok()) return built.status();
      // An unchanged leaf keeps its stored hash.
      if (Same(*built, current)) return current;
      return built;
    }
    std::string right_prefix = RightChild(prefix, depth);
    auto left_old = ReadNode(reader_, depth + 1, prefix);
    if (!left_old.ok()) return left_old.status();
    auto right_old = ReadNode(reader_, depth + 1, right_prefix);
    if (!right_old.ok()) return right_old.status();
    size_t split = SplitPoint(updates, depth, [](const SmtUpdate& u) -> const std::string& { return u.key; });
    auto left = Rebuild(depth + 1, prefix, *left_old, updates.subspan(0, split));
    if (!left.ok()) return left.status();
    auto right = Rebuild(depth + 1, right_prefix, *right_old, updates.subspan(split));
    if (!right.ok()) return right.status();

    SmtNode& l = *left;
    SmtNode& r = *right;
    bool collapse = (l.kind == Kind::kEmpty && r.kind != Kind::kBranch) ||
                    (r.kind == Kind::kEmpty && l.kind != Kind::kBranch);
    if (collapse) {
      // At most one leaf remains: it moves up here and nothing stays below.
      if (left_old->kind != Kind::kEmpty) writer_(depth + 1, prefix, SmtNode{});
      if (right_old->kind != Kind::kEmpty) writer_(depth + 1, right_prefix, SmtNode{});
      SmtNode& survivor = l.kind == Kind::kLeaf ? l : r;
      if (survivor.kind == Kind::kEmpty) return SmtNode{};
      return LazyLeaf(std::move(survivor.leaf_key), std::move(survivor.value_hash));
    }
    Finalize(l, depth + 1);
    Finalize(r, depth + 1);
    if (!Same(l, *left_old)) writer_(depth + 1, prefix, l);
    if (!Same(r, *right_old)) writer_(depth + 1, right_prefix, r);
    SmtNode branch;
    branch.kind = Kind::kBranch;
    branch.hash = SmtNodeHash(HashOf(l, depth + 1), HashOf(r, depth + 1));
    return branch;
  }

  // A subtree at (depth, prefix) holding exactly `leaves`, where nothing is
  // stored below yet. Writes its nodes below this address.
  absl::StatusOr<SmtNode> Build(int depth, const std::string& prefix, std::span<const Leaves::value_type> leaves) {
    if (leaves.empty()) return SmtNode{};
    if (leaves.size() == 1) return LazyLeaf(leaves[0].first, leaves[0].second);
    if (depth >= kSmtDepth) return absl::InternalError("two leaves in one slot");  // keys are distinct
    std::string right_prefix = RightChild(prefix, depth);
    size_t split = SplitPoint(leaves, depth, [](const auto& leaf) -> const std::string& { return leaf.first; });
    auto l = Build(depth + 1, prefix, leaves.subspan(0, split));
    if (!l.ok()) return l.status();
    auto r = Build(depth + 1, right_prefix, leaves.subspan(split));
    if (!r.ok()) return r.status();
    Finalize(*l, depth + 1);
    Finalize(*r, depth + 1);
    if (l->kind != Kind::kEmpty) writer_(depth + 1, prefix, *l);
    if (r->kind != Kind::kEmpty) writer_(depth + 1, right_prefix, *r);
    SmtNode branch;
    branch.kind = Kind::kBranch;
    branch.hash = SmtNodeHash(HashOf(*l, depth + 1), HashOf(*r, depth + 1));
    return branch;
  }

 private:
  const SmtNodeReader& reader_;
  const SmtNodeWriter& writer_;
};

const std::string& ZeroPrefix() {
  static const std::string zero(kSmtKeySize, '\0');
  return zero;
}

bool BitmapBit(std::string_view bitmap, int index) { return SmtKeyBit(bitmap, index); }

}  // namespace

std::string SmtLeafHash(std::string_view key, std::string_view value_hash) {
  return Hash3(kLeafDomain, key, value_hash);
}

std::string SmtNodeHash(std::string_view left, std::string_view right) {
  return Hash3(kNodeDomain, left, right);
}

const std::string& SmtEmptyHash(int height) { return EmptyHashes()[height]; }

const std::string& SmtEmptyRoot() { return EmptyHashes()[kSmtDepth]; }

bool SmtKeyBit(std::string_view key, int index) {
  return (static_cast<unsigned char>(key[index / 8]) >> (7 - index % 8)) & 1u;
}

absl::StatusOr<std::string> SmtApply(std::vector<SmtUpdate> updates, const SmtNodeReader& reader,
                                     const SmtNodeWriter& writer) {
  for (size_t i = 0; i < updates.size(); ++i) {
    if (updates[i].key.size() != kSmtKeySize) {
      return absl::InvalidArgumentError(cdl::StrCat("updates[", i, "].key: must be 32 bytes"));
    }
    if (updates[i].value_hash.has_value() && updates[i].value_hash->size() != kSmtKeySize) {
      return absl::InvalidArgumentError(cdl::StrCat("updates[", i, "].value_hash: must be 32 bytes"));
    }
  }
  std::sort(updates.begin(), updates.end(), [](const SmtUpdate& a, const SmtUpdate& b) { return a.key < b.key; });
  for (size_t i = 1; i < updates.size(); ++i) {
    if (updates[i].key == updates[i - 1].key) {
      return absl::InvalidArgumentError("updates: a key appears more than once");
    }
  }
  auto root = ReadNode(reader, 0, ZeroPrefix());
  if (!root.ok()) return root.status();
  Updater updater(reader, writer);
  auto next = updater.Rebuild(0, ZeroPrefix(), *root, updates);
  if (!next.ok()) return next.status();
  Finalize(*next, 0);
  if (!Same(*next, *root)) writer(0, ZeroPrefix(), *next);
  return HashOf(*next, 0);
}

absl::StatusOr<std::string> SmtRoot(const SmtNodeReader& reader) {
  auto root = ReadNode(reader, 0, ZeroPrefix());
  if (!root.ok()) return root.status();
  return HashOf(*root, 0);
}

absl::StatusOr<SmtLookup> SmtProve(std::string_view key, const SmtNodeReader& reader) {
  if (key.size() != kSmtKeySize) return absl::InvalidArgumentError("key: must be 32 bytes");
  SmtLookup out;
  out.proof.bitmap.assign(kSmtKeySize, '\0');
  std::string prefix = ZeroPrefix();
  auto node = ReadNode(reader, 0, prefix);
  if (!node.ok()) return node.status();
  for (int depth = 0;; ++depth) {
    switch (node->kind) {
      case Kind::kEmpty:
        return out;
      case Kind::kLeaf: {
        if (node->leaf_key == key) {
          out.value_hash = node->value_hash;
          return out;
        }
        // Another key is alone in this subtree: where the two paths part, its
        // subtree is the sibling of ours, and every other sibling is empty.
        int j = depth;
        while (SmtKeyBit(key, j) == SmtKeyBit(node->leaf_key, j)) ++j;  // keys differ, so j < 256
        SetBit(out.proof.bitmap, j);
        out.proof.siblings.push_back(LeafHashAt(node->leaf_key, node->value_hash, j + 1));
        return out;
      }
      case Kind::kBranch: {
        std::string right_prefix = RightChild(prefix, depth);
        auto left = ReadNode(reader, depth + 1, prefix);
        if (!left.ok()) return left.status();
        auto right = ReadNode(reader, depth + 1, right_prefix);
        if (!right.ok()) return right.status();
        bool go_right = SmtKeyBit(key, depth);
        const SmtNode& other = go_right ? *left : *right;
        if (other.kind != Kind::kEmpty) {
          SetBit(out.proof.bitmap, depth);
          out.proof.siblings.push_back(other.hash);
        }
        if (go_right) prefix = std::move(right_prefix);
        node = go_right ? std::move(right) : std::move(left);
        break;
      }
    }
  }
}

absl::StatusOr<std::string> SmtRootFromProof(std::string_view key, const std::optional<std::string>& value_hash,
                                             const SmtProof& proof) {
  if (key.size() != kSmtKeySize) return absl::InvalidArgumentError("state proof: key is not 32 bytes");
  if (value_hash.has_value() && value_hash->size() != kSmtKeySize) {
    return absl::InvalidArgumentError("state proof: value hash is not 32 bytes");
  }
  if (proof.bitmap.size() != kSmtKeySize) return absl::InvalidArgumentError("state proof: bitmap is not 32 bytes");
  size_t flagged = 0;
  for (unsigned char b : proof.bitmap) flagged += std::popcount(b);
  if (flagged != proof.siblings.size()) {
    return absl::InvalidArgumentError(cdl::StrCat("state proof: bitmap flags ", flagged, " siblings but ",
                                                  proof.siblings.size(), " are given"));
  }
  // Walk from the slot up to the root; while `empty` holds, the running hash
  // is the empty hash of the current height and needs no hashing.
  bool empty = !value_hash.has_value();
  std::string h = empty ? std::string() : SmtLeafHash(key, *value_hash);
  size_t next = proof.siblings.size();
  for (int d = kSmtDepth; d >= 1; --d) {
    const std::string& default_sibling = SmtEmptyHash(kSmtDepth - d);
    if (!BitmapBit(proof.bitmap, d - 1)) {
      if (!empty) HashUp(key, d, default_sibling.data(), h.data());
      continue;
    }
    const std::string& sibling = proof.siblings[--next];
    if (sibling.size() != kSmtKeySize) {
      return absl::InvalidArgumentError(cdl::StrCat("state proof: sibling at depth ", d, " is not 32 bytes"));
    }
    if (sibling == default_sibling) {
      return absl::InvalidArgumentError(cdl::StrCat("state proof: sibling at depth ", d,
                                                    " is flagged but empty (non-canonical proof)"));
    }
    if (empty) {
      h = SmtEmptyHash(kSmtDepth - d);
      empty = false;
    }
    HashUp(key, d, sibling.data(), h.data());
  }
  return empty ? SmtEmptyRoot() : h;
}

absl::Status SmtVerify(std::string_view root, std::string_view key, const std::optional<std::string>& value_hash,
                       const SmtProof& proof) {
  auto computed = SmtRootFromProof(key, value_hash, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return absl::InvalidArgumentError(value_hash.has_value()
                                          ? "state proof: the entry and proof lead to a different state root"
                                          : "state proof: the absence proof leads to a different state root");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemorySparseMerkleTree::Apply(std::vector<SmtUpdate> updates) {
  std::vector<std::pair<std::pair<int, std::string>, SmtNode>> writes;
  auto root = SmtApply(std::move(updates), Reader(), [&](int depth, std::string_view prefix, const SmtNode& node) {
    writes.push_back({{depth, std::string(prefix)}, node});
  });
  if (!root.ok()) return root.status();
  for (auto& [address, node] : writes) {
    if (node.kind == Kind::kEmpty) {
      nodes_.erase(address);
    } else {
      nodes_[address] = std::move(node);
    }
  }
  root_ = *root;
  return root_;
}

absl::Status MemorySparseMerkleTree::Set(std::string_view key, std::string_view value_hash) {
  return Apply({SmtUpdate{std::string(key), std::string(value_hash)}}).status();
}

absl::Status MemorySparseMerkleTree::Delete(std::string_view key) {
  return Apply({SmtUpdate{std::string(key), std::nullopt}}).status();
}

absl::StatusOr<SmtLookup> MemorySparseMerkleTree::Prove(std::string_view key) const {
  return SmtProve(key, Reader());
}

SmtNodeReader MemorySparseMerkleTree::Reader() const {
  return [this](int depth, std::string_view prefix) -> absl::StatusOr<SmtNode> {
    auto it = nodes_.find({depth, std::string(prefix)});
    if (it == nodes_.end()) return SmtNode{};
    return it->second;
  };
}

}  // namespace cdl::crypto
