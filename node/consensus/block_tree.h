// The tree of verified, not yet committed blocks, rooted at the last committed
// block. Internal to cdl_consensus (used by core.cc and its tests).
//
// Every block in the tree descends from the root; a block enters only once its
// parent is in the tree. Committing moves the root forward and drops every
// fork that does not descend from the new root. Not thread-safe.

#ifndef CDL_NODE_CONSENSUS_BLOCK_TREE_H_
#define CDL_NODE_CONSENSUS_BLOCK_TREE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "consensus.pb.h"

namespace cdl::consensus {

struct BlockEntry {
  std::string id;
  uint64_t round = 0;
  uint64_t height = 0;
  int64_t timestamp_ms = 0;
  // Empty for a root that is only known by its CommittedHead.
  std::optional<v1::Block> block;
  // The TC the block's proposal came with, if any (needed to vote for it).
  std::optional<v1::TimeoutCert> tc;
  // Received as a signed proposal (not only through block sync).
  bool proposed = false;
  // Payload is known good, or waiting for the embedder to fetch records.
  bool payload_valid = false;
  bool payload_unavailable = false;
  // This validator refused to vote for it (bad time or payload); not retried.
  bool vote_refused = false;
};

class BlockTree {
 public:
  explicit BlockTree(BlockEntry root);

  const BlockEntry& root() const { return nodes_.at(root_id_); }
  const std::string& root_id() const { return root_id_; }

  BlockEntry* Find(const std::string& id);
  const BlockEntry* Find(const std::string& id) const;
  bool Contains(const std::string& id) const { return nodes_.contains(id); }

  // Adds a block whose parent is in the tree. Returns the entry, or null if
  // the parent is unknown. Adding a present id returns the existing entry.
  BlockEntry* Insert(const std::string& id, const v1::Block& block);

  // Blocks from just above the root up to and including `id`, oldest first.
  // Empty if `id` is the root or not in the tree.
  std::vector<const BlockEntry*> PathFromRoot(const std::string& id) const;

  // Makes `id` (in the tree, above the root) the new root. Returns the newly
  // committed entries, oldest first, and drops blocks not descending from it.
  std::vector<BlockEntry> CommitTo(const std::string& id);

  size_t size() const { return nodes_.size(); }

 private:
  std::string root_id_;
  std::map<std::string, BlockEntry> nodes_;
  std::map<std::string, std::vector<std::string>> children_;
};

}  // namespace cdl::consensus

#endif  // CDL_NODE_CONSENSUS_BLOCK_TREE_H_
