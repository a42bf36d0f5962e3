#include <cstdio>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "alloy/align.h"
#include "alloy/fault_injection.h"
#include "alloy/huge_pages.h"
#include "alloy/vm.h"
#include "tests/support/explicit_huge_pages.h"

namespace {

using alloy_test::ExplicitHugePages;

const size_t kHuge = alloy_huge_page_size();

TEST(HugePages, SizeAndModeAreDiscovered) {
  EXPECT_TRUE(alloy_is_power_of_two(kHuge));
  EXPECT_GT(kHuge, alloy_vm_page_size());
  alloy_thp_mode mode = alloy_thp_current_mode();
  EXPECT_TRUE(mode >= ALLOY_THP_UNSUPPORTED && mode <= ALLOY_THP_ALWAYS);
}

TEST(HugePages, NormalPagesAlwaysWork) {
  alloy_huge_mapping mapping = {};
  ASSERT_EQ(alloy_huge_pages_map_kind(1, ALLOY_PAGES_NORMAL, &mapping), ALLOY_OK);
  EXPECT_EQ(mapping.kind, ALLOY_PAGES_NORMAL);
  EXPECT_EQ(mapping.size, kHuge);
  EXPECT_TRUE(alloy_ptr_is_aligned(mapping.base, kHuge));
  std::memset(mapping.base, 1, mapping.size);
  EXPECT_EQ(alloy_huge_pages_unmap(&mapping), ALLOY_OK);
}

TEST(HugePages, TransparentWhenTheKernelAllowsIt) {
  alloy_thp_mode mode = alloy_thp_current_mode();
  alloy_huge_mapping mapping = {};
  alloy_status status = alloy_huge_pages_map_kind(2 * kHuge, ALLOY_PAGES_TRANSPARENT_HUGE, &mapping);
  if (mode == ALLOY_THP_NEVER || mode == ALLOY_THP_UNSUPPORTED || !alloy_huge_pages_enabled()) {
    EXPECT_EQ(status, ALLOY_E_UNAVAILABLE);
    GTEST_SKIP() << "transparent huge pages are off on this machine or in this build";
  }
  ASSERT_EQ(status, ALLOY_OK);
  EXPECT_EQ(mapping.kind, ALLOY_PAGES_TRANSPARENT_HUGE);
  EXPECT_TRUE(alloy_ptr_is_aligned(mapping.base, kHuge));
  std::memset(mapping.base, 1, mapping.size);
  // What the kernel says backs the range (AnonHugePages in smaps): whole huge
  // pages, at least one of them, since the range was advised and touched.
  size_t backed = alloy_huge_pages_thp_backed_bytes(mapping.base, mapping.size);
  std::printf("THP backing after touch: %zu of %zu bytes\n", backed, mapping.size);
  EXPECT_GE(backed, kHuge) << "the kernel backed none of an advised, touched range with huge pages";
  EXPECT_LE(backed, mapping.size);
  EXPECT_EQ(backed % kHuge, 0u);
  // A range of normal pages next to it reports none.
  alloy_huge_mapping normal = {};
  ASSERT_EQ(alloy_huge_pages_map_kind(kHuge, ALLOY_PAGES_NORMAL, &normal), ALLOY_OK);
  std::memset(normal.base, 1, normal.size);
  if (mode != ALLOY_THP_ALWAYS) {
    EXPECT_EQ(alloy_huge_pages_thp_backed_bytes(normal.base, normal.size), 0u);
  }
  EXPECT_EQ(alloy_huge_pages_unmap(&normal), ALLOY_OK);
  EXPECT_EQ(alloy_huge_pages_unmap(&mapping), ALLOY_OK);
}

TEST_F(ExplicitHugePages, UsedWhenReservedElseUnavailable) {
  alloy_huge_mapping mapping = {};
  alloy_status status = alloy_huge_pages_map_kind(kHuge, ALLOY_PAGES_EXPLICIT_HUGE, &mapping);
  if (!alloy_huge_pages_enabled()) {
    EXPECT_EQ(status, ALLOY_E_UNAVAILABLE);
    GTEST_SKIP() << "huge pages are turned off in this build";
  }
  if (alloy_huge_pages_free() == 0 && status != ALLOY_OK) {
    EXPECT_EQ(status, ALLOY_E_UNAVAILABLE);
    GTEST_SKIP() << "no explicit huge pages reserved (needs root to reserve them)";
  }
  ASSERT_EQ(status, ALLOY_OK);
  EXPECT_EQ(mapping.kind, ALLOY_PAGES_EXPLICIT_HUGE);
  std::memset(mapping.base, 7, mapping.size);
  EXPECT_EQ(alloy_huge_pages_unmap(&mapping), ALLOY_OK);
}

TEST(HugePages, DegradingMapReportsWhatItGot) {
  alloy_huge_mapping mapping = {};
  ASSERT_EQ(alloy_huge_pages_map(kHuge, ALLOY_PAGES_EXPLICIT_HUGE, &mapping), ALLOY_OK);
  std::printf("best available: %s\n", alloy_page_kind_name(mapping.kind));
  if (alloy_huge_pages_free() == 0) {
    EXPECT_NE(mapping.kind, ALLOY_PAGES_EXPLICIT_HUGE);
  }
  if (!alloy_huge_pages_enabled()) {
    EXPECT_EQ(mapping.kind, ALLOY_PAGES_NORMAL);
  }
  std::memset(mapping.base, 1, mapping.size);
  EXPECT_EQ(alloy_huge_pages_unmap(&mapping), ALLOY_OK);
}

TEST(HugePages, BadInputsAndRefusals) {
  alloy_huge_mapping mapping = {};
  EXPECT_EQ(alloy_huge_pages_map(0, ALLOY_PAGES_NORMAL, &mapping), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_huge_pages_map(SIZE_MAX, ALLOY_PAGES_NORMAL, &mapping), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_huge_pages_map(kHuge, static_cast<alloy_page_kind>(9), &mapping), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_huge_pages_map(kHuge, ALLOY_PAGES_NORMAL, nullptr), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_huge_pages_unmap(nullptr), ALLOY_E_INVALID_ARGUMENT);
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 3);
  EXPECT_EQ(alloy_huge_pages_map(kHuge, ALLOY_PAGES_TRANSPARENT_HUGE, &mapping), ALLOY_E_OUT_OF_MEMORY);
  alloy_platform_fail_reset();
  EXPECT_STREQ(alloy_page_kind_name(ALLOY_PAGES_TRANSPARENT_HUGE), "transparent huge pages");
}

}  // namespace
