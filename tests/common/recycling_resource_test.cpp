#include "common/recycling_resource.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

namespace srudp {
namespace {

TEST(RecyclingResource, FreedBlocksAreHandedOutAgain) {
  RecyclingResource resource(8);
  void* a = resource.allocate(48, 8);
  void* b = resource.allocate(48, 8);
  resource.deallocate(a, 48, 8);
  resource.deallocate(b, 48, 8);
  EXPECT_EQ(resource.spare_blocks(), 2u);
  // Last in, first out.
  EXPECT_EQ(resource.allocate(48, 8), b);
  EXPECT_EQ(resource.allocate(48, 8), a);
  EXPECT_EQ(resource.spare_blocks(), 0u);
  resource.deallocate(a, 48, 8);
  resource.deallocate(b, 48, 8);
}

TEST(RecyclingResource, KeepsAtMostMaxSpare) {
  RecyclingResource resource(3);
  std::vector<void*> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(resource.allocate(64, 16));
  for (void* p : blocks) resource.deallocate(p, 64, 16);  // 7 go back to the heap (ASan checks)
  EXPECT_EQ(resource.spare_blocks(), 3u);
}

TEST(RecyclingResource, OtherSizesAndAlignmentsPassThrough) {
  RecyclingResource resource(8);
  void* node = resource.allocate(40, 8);
  resource.deallocate(node, 40, 8);  // fixes the recycled size at 40
  void* big = resource.allocate(400, 8);
  resource.deallocate(big, 400, 8);
  void* aligned = resource.allocate(40, 64);
  resource.deallocate(aligned, 40, 64);
  EXPECT_EQ(resource.spare_blocks(), 1u);  // only the 40-byte, 8-aligned block is kept
  EXPECT_EQ(resource.allocate(40, 8), node);
  resource.deallocate(node, 40, 8);
}

TEST(RecyclingResource, AMapThatGrowsAndShrinksStopsAllocating) {
  RecyclingResource resource(16);
  std::pmr::map<int, int> map(&resource);
  for (int i = 0; i < 10; ++i) map.emplace(i, i);
  std::set<const void*> nodes;
  for (const auto& entry : map) nodes.insert(&entry);
  map.clear();
  EXPECT_EQ(resource.spare_blocks(), 10u);
  // The same nodes come back: no new memory for a map no larger than before.
  for (int i = 100; i < 110; ++i) map.emplace(i, i);
  for (const auto& entry : map) EXPECT_TRUE(nodes.contains(&entry));
  EXPECT_EQ(resource.spare_blocks(), 0u);
}

}  // namespace
}  // namespace srudp
