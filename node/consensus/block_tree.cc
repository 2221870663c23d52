#include "node/consensus/block_tree.h"

#include <algorithm>
#include <utility>

namespace cdl::consensus {

BlockTree::BlockTree(BlockEntry root) : root_id_(root.id) {
  nodes_.emplace(root_id_, std::move(root));
}

BlockEntry* BlockTree::Find(const std::string& id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

const BlockEntry* BlockTree::Find(const std::string& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

BlockEntry* BlockTree::Insert(const std::string& id, const v1::Block& block) {
  if (BlockEntry* existing = Find(id)) return existing;
  if (!nodes_.contains(block.parent_id())) return nullptr;
  BlockEntry entry;
  entry.id = id;
  entry.round = block.round();
  entry.height = block.height();
  entry.timestamp_ms = block.timestamp_ms();
  entry.block = block;
  children_[block.parent_id()].push_back(id);
  return &nodes_.emplace(id, std::move(entry)).first->second;
}

std::vector<const BlockEntry*> BlockTree::PathFromRoot(
    const std::string& id) const {
  std::vector<const BlockEntry*> path;
  const BlockEntry* e = Find(id);
  while (e != nullptr && e->id != root_id_) {
    path.push_back(e);
    e = Find(e->block->parent_id());
  }
  if (e == nullptr) return {};
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<BlockEntry> BlockTree::CommitTo(const std::string& id) {
  std::vector<const BlockEntry*> path = PathFromRoot(id);
  std::vector<BlockEntry> committed;
  if (path.empty()) return committed;
  committed.reserve(path.size());
  for (const BlockEntry* e : path) committed.push_back(*e);

  // Keep the new root and its descendants only.
  std::map<std::string, BlockEntry> kept;
  std::map<std::string, std::vector<std::string>> kept_children;
  std::vector<std::string> stack = {id};
  while (!stack.empty()) {
    std::string cur = std::move(stack.back());
    stack.pop_back();
    auto node = nodes_.find(cur);
    if (node == nodes_.end()) continue;
    kept.emplace(cur, std::move(node->second));
    auto ch = children_.find(cur);
    if (ch != children_.end()) {
      for (const std::string& c : ch->second) stack.push_back(c);
      kept_children.emplace(cur, std::move(ch->second));
    }
  }
  nodes_ = std::move(kept);
  children_ = std::move(kept_children);
  root_id_ = id;
  return committed;
}

}  // namespace cdl::consensus
