#include "node/consensus/block_tree.h"

#include "gtest/gtest.h"

namespace cdl::consensus {
namespace {

v1::Block MakeBlock(const std::string& parent, uint64_t round,
                    uint64_t height) {
  v1::Block b;
  b.set_parent_id(parent);
  b.set_round(round);
  b.set_height(height);
  return b;
}

BlockTree MakeTree() {
  BlockEntry root;
  root.id = "g";
  return BlockTree(root);
}

TEST(BlockTree, InsertNeedsTheParent) {
  BlockTree tree = MakeTree();
  EXPECT_EQ(tree.Insert("b", MakeBlock("a", 2, 2)), nullptr);
  ASSERT_NE(tree.Insert("a", MakeBlock("g", 1, 1)), nullptr);
  ASSERT_NE(tree.Insert("b", MakeBlock("a", 2, 2)), nullptr);
  EXPECT_EQ(tree.size(), 3u);
}

TEST(BlockTree, PathFromRootIsOldestFirst) {
  BlockTree tree = MakeTree();
  tree.Insert("a", MakeBlock("g", 1, 1));
  tree.Insert("b", MakeBlock("a", 2, 2));
  std::vector<const BlockEntry*> path = tree.PathFromRoot("b");
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[0]->id, "a");
  EXPECT_EQ(path[1]->id, "b");
  EXPECT_TRUE(tree.PathFromRoot("g").empty());
  EXPECT_TRUE(tree.PathFromRoot("nope").empty());
}

TEST(BlockTree, CommitDropsForks) {
  BlockTree tree = MakeTree();
  tree.Insert("a", MakeBlock("g", 1, 1));
  tree.Insert("x", MakeBlock("g", 2, 1));  // fork off the root
  tree.Insert("b", MakeBlock("a", 3, 2));
  tree.Insert("y", MakeBlock("a", 4, 2));  // fork off a
  tree.Insert("c", MakeBlock("b", 5, 3));
  std::vector<BlockEntry> committed = tree.CommitTo("b");
  ASSERT_EQ(committed.size(), 2u);
  EXPECT_EQ(committed[0].id, "a");
  EXPECT_EQ(committed[1].id, "b");
  EXPECT_EQ(tree.root_id(), "b");
  EXPECT_TRUE(tree.Contains("c"));
  EXPECT_FALSE(tree.Contains("x"));
  EXPECT_FALSE(tree.Contains("y"));
  EXPECT_FALSE(tree.Contains("a"));
  EXPECT_EQ(tree.size(), 2u);
}

}  // namespace
}  // namespace cdl::consensus
