#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/fault_injection.h"
#include "alloy/numa.h"
#include "alloy/numa_replica.h"

namespace {

std::vector<int> LookupTable() {
  std::vector<int> table(5000);
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int>(i * i % 7919);
  return table;
}

TEST(NumaReplica, OneCopyPerNodeWithTheSameContents) {
  std::vector<int> table = LookupTable();
  alloy_numa_replica *replica = nullptr;
  ASSERT_EQ(alloy_numa_replica_create(table.data(), table.size() * sizeof(int), &replica), ALLOY_OK);
  EXPECT_EQ(alloy_numa_replica_count(replica), alloy_numa_node_count());
  EXPECT_EQ(alloy_numa_replica_size(replica), table.size() * sizeof(int));
  if (alloy_numa_replica_count(replica) == 1)
    std::printf("single NUMA node: one copy kept, nothing to replicate\n");
  for (int node = 0; node < alloy_numa_replica_count(replica); ++node) {
    const void *copy = nullptr;
    ASSERT_EQ(alloy_numa_replica_on_node(replica, node, &copy), ALLOY_OK);
    EXPECT_EQ(std::memcmp(copy, table.data(), table.size() * sizeof(int)), 0);
    EXPECT_NE(copy, static_cast<const void *>(table.data()));
  }
  EXPECT_EQ(alloy_numa_replica_destroy(replica), ALLOY_OK);
}

TEST(NumaReplica, LocalCopyLivesOnTheCallersNodeByTheKernelsAccount) {
  std::vector<int> table = LookupTable();
  alloy_numa_replica *replica = nullptr;
  ASSERT_EQ(alloy_numa_replica_create(table.data(), table.size() * sizeof(int), &replica), ALLOY_OK);
  int caller = -1;
  ASSERT_EQ(alloy_numa_current_node(&caller), ALLOY_OK);
  const void *local = alloy_numa_replica_local(replica);
  int placed = -1;
  ASSERT_EQ(alloy_numa_node_of(local, &placed), ALLOY_OK);
  EXPECT_EQ(placed, caller);
  EXPECT_EQ(alloy_numa_replica_destroy(replica), ALLOY_OK);
}

TEST(NumaReplica, BadInputsAndAbsentNodes) {
  int value = 1;
  alloy_numa_replica *replica = nullptr;
  EXPECT_EQ(alloy_numa_replica_create(nullptr, 4, &replica), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_numa_replica_create(&value, 0, &replica), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_numa_replica_create(&value, SIZE_MAX, &replica), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_numa_replica_create(&value, sizeof value, nullptr), ALLOY_E_INVALID_ARGUMENT);
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 1, 1);  // the first copy's reservation fails
  EXPECT_EQ(alloy_numa_replica_create(&value, sizeof value, &replica), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(replica, nullptr);
  ASSERT_EQ(alloy_numa_replica_create(&value, sizeof value, &replica), ALLOY_OK);
  const void *copy = nullptr;
  EXPECT_EQ(alloy_numa_replica_on_node(replica, alloy_numa_node_count(), &copy), ALLOY_E_UNAVAILABLE);
  EXPECT_EQ(alloy_numa_replica_on_node(replica, -1, &copy), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(copy, nullptr);
  EXPECT_EQ(alloy_numa_replica_destroy(replica), ALLOY_OK);
  EXPECT_EQ(alloy_numa_replica_destroy(nullptr), ALLOY_E_INVALID_ARGUMENT);
}

TEST(NumaReplicaDeathTest, CopiesAreReadOnly) {
  int value = 42;
  alloy_numa_replica *replica = nullptr;
  ASSERT_EQ(alloy_numa_replica_create(&value, sizeof value, &replica), ALLOY_OK);
  int *copy = const_cast<int *>(static_cast<const int *>(alloy_numa_replica_local(replica)));
  EXPECT_EQ(*copy, 42);
  EXPECT_DEATH({ *static_cast<volatile int *>(copy) = 7; }, "");
  EXPECT_EQ(alloy_numa_replica_destroy(replica), ALLOY_OK);
}

}  // namespace
