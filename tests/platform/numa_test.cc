#include <cstring>

#include <gtest/gtest.h>

#include "alloy/numa.h"
#include "alloy/vm.h"

namespace {

TEST(Numa, TopologyIsReported) {
  EXPECT_GE(alloy_numa_node_count(), 1);
  int node = -1;
  ASSERT_EQ(alloy_numa_current_node(&node), ALLOY_OK);
  EXPECT_GE(node, 0);
  EXPECT_LT(node, alloy_numa_node_count());
  std::printf("NUMA %s, %d node(s), this thread on node %d\n",
              alloy_numa_available() ? "available" : "not available", alloy_numa_node_count(), node);
}

TEST(Numa, BoundPagesLandOnTheChosenNodeByTheKernelsOwnAccount) {
  const size_t page = alloy_vm_page_size();
  int node = -1;
  ASSERT_EQ(alloy_numa_current_node(&node), ALLOY_OK);
  void *base = nullptr;
  ASSERT_EQ(alloy_vm_reserve(4 * page, page, &base), ALLOY_OK);
  ASSERT_EQ(alloy_numa_bind(base, 4 * page, node), ALLOY_OK);
  ASSERT_EQ(alloy_vm_commit(base, 4 * page), ALLOY_OK);
  std::memset(base, 1, 4 * page);
  for (size_t i = 0; i < 4; ++i) {
    int placed = -1;
    ASSERT_EQ(alloy_numa_node_of(static_cast<char *>(base) + i * page, &placed), ALLOY_OK);
    EXPECT_EQ(placed, node);
  }
  EXPECT_EQ(alloy_vm_release(base, 4 * page), ALLOY_OK);
}

TEST(Numa, NodeThatDoesNotExistIsAClearStatus) {
  const size_t page = alloy_vm_page_size();
  void *base = nullptr;
  ASSERT_EQ(alloy_vm_map(page, page, &base), ALLOY_OK);
  EXPECT_EQ(alloy_numa_bind(base, page, alloy_numa_node_count()), ALLOY_E_UNAVAILABLE);
  EXPECT_EQ(alloy_numa_bind(base, page, 4096), ALLOY_E_UNAVAILABLE);
  EXPECT_EQ(alloy_numa_bind(base, page, -1), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_numa_bind(static_cast<char *>(base) + 1, page, 0), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_numa_bind(nullptr, page, 0), ALLOY_E_INVALID_ARGUMENT);
  int node = 0;
  EXPECT_EQ(alloy_numa_node_of(nullptr, &node), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_numa_current_node(nullptr), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_release(base, page), ALLOY_OK);
}

}  // namespace
