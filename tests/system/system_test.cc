#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/allocator.h"
#include "alloy/fault_injection.h"
#include "alloy/system.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/support.h"

namespace {

using alloy_test::ContractSubject;
using alloy_test::ResourceContract;

ContractSubject SystemSubject() {
  ContractSubject subject;
  subject.name = "system";
  subject.create = [] { return alloy_system_resource(); };
  subject.destroy = [](alloy_resource *) {};
  subject.max_size = 1 << 20;
  subject.max_alignment = 1 << 16;
  return subject;
}

INSTANTIATE_TEST_SUITE_P(System, ResourceContract, ::testing::Values(SystemSubject()), alloy_test::SubjectName);

TEST(System, ReportsUsableSizeAndIsThreadSafe) {
  alloy_allocator a = alloy_allocator_of(alloy_system_resource());
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a, 100, 16, &block), ALLOY_OK);
  EXPECT_GE(block.size, 100u);
  std::memset(block.ptr, 0, block.size);  // the whole reported size is usable
  EXPECT_EQ(alloy_free(a, block, 16), ALLOY_OK);
  alloy_resource_info info;
  alloy_resource_get_info(alloy_system_resource(), &info);
  EXPECT_STREQ(info.name, "system");
  EXPECT_EQ(info.thread_safety, ALLOY_THREAD_SAFE);
}

TEST(System, OutOfMemoryFromTheHeapIsAStatus) {
  alloy_allocator a = alloy_allocator_of(alloy_system_resource());
  alloy_block block = {nullptr, 0};
  alloy_platform_fail_next(ALLOY_PLATFORM_HEAP, 0, 1);
  EXPECT_EQ(alloy_alloc(a, 64, 8, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(block.ptr, nullptr);
  ASSERT_EQ(alloy_alloc(a, 64, 8, &block), ALLOY_OK);
  alloy_test::Fill(block.ptr, 64, 1);
  alloy_platform_fail_next(ALLOY_PLATFORM_HEAP, 0, 1);
  EXPECT_EQ(alloy_reallocate(a, &block, 1 << 20, 8), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_TRUE(alloy_test::Check(block.ptr, 64, 1)) << "the failed reallocate kept the block";
  EXPECT_EQ(alloy_free(a, block, 8), ALLOY_OK);
}

TEST(System, FreeFromAnotherThread) {
  alloy_allocator a = alloy_allocator_of(alloy_system_resource());
  std::vector<alloy_block> blocks(1000);
  for (auto &b : blocks) ASSERT_EQ(alloy_alloc(a, 48, 16, &b), ALLOY_OK);
  std::thread([&] {
    for (auto &b : blocks) EXPECT_EQ(alloy_free(a, b, 16), ALLOY_OK);
  }).join();
}

}  // namespace
