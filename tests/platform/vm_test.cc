#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

#include "alloy/align.h"
#include "alloy/fault_injection.h"
#include "alloy/vm.h"

namespace {

const size_t kPage = alloy_vm_page_size();

TEST(Vm, PageSizeIsAPowerOfTwo) {
  EXPECT_TRUE(alloy_is_power_of_two(kPage));
  EXPECT_GE(kPage, 4096u);
}

TEST(Vm, ReserveCommitUseDecommitRelease) {
  void *base = nullptr;
  ASSERT_EQ(alloy_vm_reserve(16 * kPage, 0, &base), ALLOY_E_INVALID_ARGUMENT) << "alignment 0 is not a power of two";
  ASSERT_EQ(alloy_vm_reserve(16 * kPage, 1, &base), ALLOY_OK);
  ASSERT_TRUE(alloy_ptr_is_aligned(base, kPage));
  char *bytes = static_cast<char *>(base);
  ASSERT_EQ(alloy_vm_commit(bytes, 4 * kPage), ALLOY_OK);
  for (size_t i = 0; i < 4 * kPage; ++i) ASSERT_EQ(bytes[i], 0) << "fresh commit is zero";
  std::memset(bytes, 0xAB, 4 * kPage);
  ASSERT_EQ(alloy_vm_decommit(bytes, 4 * kPage), ALLOY_OK);
  ASSERT_EQ(alloy_vm_commit(bytes, 4 * kPage), ALLOY_OK);
  EXPECT_EQ(bytes[0], 0) << "decommitted pages come back zero";
  EXPECT_EQ(bytes[4 * kPage - 1], 0);
  EXPECT_EQ(alloy_vm_release(base, 16 * kPage), ALLOY_OK);
}

TEST(Vm, ReserveHonoursLargeAlignment) {
  for (size_t align : {size_t{1} << 16, size_t{1} << 21, size_t{1} << 22}) {
    void *base = nullptr;
    ASSERT_EQ(alloy_vm_reserve(3 * kPage, align, &base), ALLOY_OK);
    EXPECT_TRUE(alloy_ptr_is_aligned(base, align)) << align;
    EXPECT_EQ(alloy_vm_release(base, 3 * kPage), ALLOY_OK);
  }
}

TEST(Vm, PurgeDropsContentsButKeepsPagesUsable) {
  void *base = nullptr;
  ASSERT_EQ(alloy_vm_map(kPage * 4, kPage, &base), ALLOY_OK);
  std::memset(base, 7, kPage * 4);
  char *second = static_cast<char *>(base) + kPage;
  ASSERT_EQ(alloy_vm_purge(second, kPage * 2), ALLOY_OK);
  EXPECT_EQ(static_cast<char *>(base)[kPage - 1], 7) << "pages before the range keep their contents";
  EXPECT_EQ(second[0], 0) << "purged pages read as zero";
  EXPECT_EQ(second[2 * kPage - 1], 0);
  EXPECT_EQ(second[2 * kPage], 7) << "pages after the range keep their contents";
  second[5] = 1;  // and are still writable
  EXPECT_EQ(alloy_vm_purge(second + 1, kPage), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_purge(second, 0), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_release(base, kPage * 4), ALLOY_OK);
}

TEST(Vm, MapIsCommittedAndWritable) {
  void *base = nullptr;
  ASSERT_EQ(alloy_vm_map(kPage * 2 + 1, kPage, &base), ALLOY_OK);
  std::memset(base, 1, kPage * 3);  // size was rounded up to pages
  EXPECT_EQ(alloy_vm_release(base, kPage * 2 + 1), ALLOY_OK);
}

TEST(Vm, BadArgumentsAreRejectedWithoutTouchingTheMapping) {
  void *base = nullptr;
  EXPECT_EQ(alloy_vm_reserve(0, kPage, &base), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_reserve(kPage, 3, &base), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_reserve(SIZE_MAX, kPage, &base), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_reserve(SIZE_MAX - 2 * kPage, 1 << 21, &base), ALLOY_E_INVALID_ARGUMENT);
  ASSERT_EQ(alloy_vm_reserve(4 * kPage, kPage, &base), ALLOY_OK);
  char *bytes = static_cast<char *>(base);
  EXPECT_EQ(alloy_vm_commit(bytes + 1, kPage), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_commit(bytes, kPage + 1), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_commit(nullptr, kPage), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_commit(bytes, 0), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_decommit(bytes + 8, kPage), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_protect(bytes, kPage, static_cast<alloy_vm_access>(42)), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_release(bytes + 8, kPage), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_vm_release(base, 4 * kPage), ALLOY_OK);
}

TEST(Vm, HugeReservationTheOsRefusesIsOutOfMemory) {
  void *base = nullptr;
  // 2^62 bytes is above any x86-64 or AArch64 user address space.
  EXPECT_EQ(alloy_vm_reserve(size_t{1} << 62, kPage, &base), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(base, nullptr);
}

TEST(Vm, InjectedFailuresHitTheChosenCallOnly) {
  void *base = nullptr;
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 1, 1);
  ASSERT_EQ(alloy_vm_reserve(kPage, kPage, &base), ALLOY_OK) << "skip = 1 lets the first call through";
  void *second = nullptr;
  EXPECT_EQ(alloy_vm_reserve(kPage, kPage, &second), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(second, nullptr);
  ASSERT_EQ(alloy_vm_reserve(kPage, kPage, &second), ALLOY_OK) << "count = 1 fails only once";
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 2);
  EXPECT_EQ(alloy_vm_commit(base, kPage), ALLOY_E_OUT_OF_MEMORY);
  alloy_platform_fail_reset();
  EXPECT_EQ(alloy_vm_commit(base, kPage), ALLOY_OK);
  EXPECT_EQ(alloy_vm_release(base, kPage), ALLOY_OK);
  EXPECT_EQ(alloy_vm_release(second, kPage), ALLOY_OK);
}

TEST(VmDeathTest, GuardPageTurnsAnOverrunIntoAFault) {
  void *base = nullptr;
  ASSERT_EQ(alloy_vm_map(2 * kPage, kPage, &base), ALLOY_OK);
  char *bytes = static_cast<char *>(base);
  ASSERT_EQ(alloy_vm_guard(bytes + kPage, kPage), ALLOY_OK);
  bytes[kPage - 1] = 1;  // last byte before the guard is fine
  EXPECT_DEATH({ static_cast<volatile char *>(bytes)[kPage] = 1; }, "");
  EXPECT_EQ(alloy_vm_release(base, 2 * kPage), ALLOY_OK);
}

TEST(VmDeathTest, UncommittedReservationFaults) {
  void *base = nullptr;
  ASSERT_EQ(alloy_vm_reserve(kPage, kPage, &base), ALLOY_OK);
  EXPECT_DEATH({ static_cast<volatile char *>(base)[0] = 1; }, "");
  EXPECT_EQ(alloy_vm_release(base, kPage), ALLOY_OK);
}

TEST(Vm, ProtectReadOnlyThenWritable) {
  void *base = nullptr;
  ASSERT_EQ(alloy_vm_map(kPage, kPage, &base), ALLOY_OK);
  ASSERT_EQ(alloy_vm_protect(base, kPage, ALLOY_VM_READ), ALLOY_OK);
  EXPECT_EQ(static_cast<volatile char *>(base)[0], 0);
  ASSERT_EQ(alloy_vm_protect(base, kPage, ALLOY_VM_READ_WRITE), ALLOY_OK);
  static_cast<char *>(base)[0] = 5;
  alloy_vm_prefault(base, kPage);
  EXPECT_EQ(static_cast<char *>(base)[0], 5) << "prefault must not change contents";
  EXPECT_EQ(alloy_vm_release(base, kPage), ALLOY_OK);
}

}  // namespace
