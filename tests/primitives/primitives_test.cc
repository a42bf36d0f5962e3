#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "alloy/align.h"
#include "alloy/bits.h"
#include "alloy/block.h"
#include "alloy/divisor.h"
#include "alloy/fault.h"
#include "alloy/size_class.h"
#include "alloy/status.h"
#include "tests/support/support.h"

namespace {

TEST(Status, EveryStatusHasANameAndAMessage) {
  for (int s = 0; s < ALLOY_STATUS_COUNT; ++s) {
    auto status = static_cast<alloy_status>(s);
    EXPECT_STRNE(alloy_status_name(status), "ALLOY_STATUS_UNKNOWN") << s;
    EXPECT_STRNE(alloy_status_string(status), "unknown status") << s;
  }
  EXPECT_EQ(ALLOY_OK, 0);
  EXPECT_STREQ(alloy_status_name(ALLOY_E_OUT_OF_MEMORY), "ALLOY_E_OUT_OF_MEMORY");
  EXPECT_STREQ(alloy_status_name(static_cast<alloy_status>(999)), "ALLOY_STATUS_UNKNOWN");
  EXPECT_STREQ(alloy_status_name(static_cast<alloy_status>(-1)), "ALLOY_STATUS_UNKNOWN");
}

alloy_status TryChain(alloy_status first) {
  ALLOY_TRY(first);
  return ALLOY_E_CORRUPTION;  // reached only when `first` succeeded
}

TEST(Status, TryPropagatesFailuresOnly) {
  EXPECT_EQ(TryChain(ALLOY_E_CAPACITY), ALLOY_E_CAPACITY);
  EXPECT_EQ(TryChain(ALLOY_OK), ALLOY_E_CORRUPTION);
}

TEST(Bits, Scans) {
  EXPECT_EQ(alloy_bit_scan_reverse(1), 0u);
  EXPECT_EQ(alloy_bit_scan_reverse(0x80), 7u);
  EXPECT_EQ(alloy_bit_scan_reverse(SIZE_MAX), 63u);
  EXPECT_EQ(alloy_bit_scan_forward(0x80), 7u);
  EXPECT_EQ(alloy_bit_scan_forward(SIZE_MAX), 0u);
  EXPECT_EQ(alloy_count_leading_zeros(0), 64u);
  EXPECT_EQ(alloy_count_trailing_zeros(0), 64u);
  EXPECT_EQ(alloy_count_leading_zeros(1), 63u);
  EXPECT_EQ(alloy_popcount(0xF0F0), 8u);
}

TEST(Bits, PowersOfTwo) {
  EXPECT_FALSE(alloy_is_power_of_two(0));
  EXPECT_TRUE(alloy_is_power_of_two(1));
  EXPECT_FALSE(alloy_is_power_of_two(3));
  EXPECT_FALSE(alloy_is_power_of_two(24));
  EXPECT_TRUE(alloy_is_power_of_two(size_t{1} << 63));
  EXPECT_EQ(alloy_log2_floor(4096), 12u);
  EXPECT_EQ(alloy_log2_floor(4097), 12u);
  EXPECT_EQ(alloy_log2_ceil(4097), 13u);
  EXPECT_EQ(alloy_log2_ceil(1), 0u);
  size_t p = 0;
  EXPECT_TRUE(alloy_next_power_of_two(0, &p));
  EXPECT_EQ(p, 1u);
  EXPECT_TRUE(alloy_next_power_of_two(1000, &p));
  EXPECT_EQ(p, 1024u);
  EXPECT_TRUE(alloy_next_power_of_two(size_t{1} << 63, &p));
  EXPECT_EQ(p, size_t{1} << 63);
  p = 5;
  EXPECT_FALSE(alloy_next_power_of_two((size_t{1} << 63) + 1, &p));
  EXPECT_EQ(p, 5u);
}

// Every divisor a block stride can be, against plain division: exact
// quotients on multiples, and above every quotient elsewhere.
TEST(Divisor, ExactQuotientAndAboveEveryQuotientOffBoundary) {
  const uint64_t divisors[] = {1, 2, 3, 7, 8, 16, 24, 48, 56, 64, 80, 96, 112, 144, 4096, 4104, 12288, 65535, 1u << 20};
  for (uint64_t divisor : divisors) {
    const alloy_divisor d = alloy_divisor_make(divisor);
    const uint64_t largest_quotient = UINT64_MAX / divisor;
    for (uint64_t x = 0; x < 4 * divisor + 70000; x += (x < 3 * divisor ? 1 : 13)) {
      const uint64_t q = alloy_divisor_exact_quotient(d, x);
      if (x % divisor == 0) {
        EXPECT_EQ(q, x / divisor) << "divisor " << divisor << ", x " << x;
      } else {
        EXPECT_GT(q, largest_quotient) << "divisor " << divisor << ", x " << x;
      }
    }
    // Offsets below the block area wrap to huge values: never an index.
    EXPECT_GT(alloy_divisor_exact_quotient(d, uint64_t{0} - 16), uint64_t{1} << 32) << divisor;
  }
}

TEST(Align, UpDownAndChecks) {
  EXPECT_EQ(alloy_align_up(0, 16), 0u);
  EXPECT_EQ(alloy_align_up(1, 16), 16u);
  EXPECT_EQ(alloy_align_up(16, 16), 16u);
  EXPECT_EQ(alloy_align_down(31, 16), 16u);
  EXPECT_TRUE(alloy_is_aligned(4096, 4096));
  EXPECT_FALSE(alloy_is_aligned(4095, 4096));
  size_t out = 123;
  EXPECT_FALSE(alloy_align_up_checked(SIZE_MAX, 16, &out));
  EXPECT_FALSE(alloy_align_up_checked(SIZE_MAX - 14, 16, &out));
  EXPECT_EQ(out, 123u) << "a failed check must not write its output";
  EXPECT_TRUE(alloy_align_up_checked(SIZE_MAX - 15, 16, &out));
  EXPECT_EQ(out, SIZE_MAX - 15);
  EXPECT_FALSE(alloy_size_add(SIZE_MAX, 1, &out));
  EXPECT_TRUE(alloy_size_add(1, 2, &out));
  EXPECT_EQ(out, 3u);
  EXPECT_FALSE(alloy_size_mul(SIZE_MAX / 2 + 1, 2, &out));
  EXPECT_TRUE(alloy_size_mul(1000, 1000, &out));
  EXPECT_EQ(out, 1000000u);
}

TEST(Align, RequestCheckRejectsBadAlignmentAndOverflowingSizes) {
  EXPECT_EQ(alloy_request_check(0, 1), ALLOY_OK);
  EXPECT_EQ(alloy_request_check(100, 4096), ALLOY_OK);
  EXPECT_EQ(alloy_request_check(ALLOY_MAX_REQUEST, 8), ALLOY_OK);
  EXPECT_EQ(alloy_request_check(16, 0), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_request_check(16, 3), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_request_check(16, 24), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_request_check(SIZE_MAX, 8), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_request_check(ALLOY_MAX_REQUEST + 1, 8), ALLOY_E_INVALID_ARGUMENT);
}

TEST(Options, DefaultAlignmentIsSixteenOrThirtyTwo) {
  EXPECT_TRUE(ALLOY_DEFAULT_ALIGNMENT == 16 || ALLOY_DEFAULT_ALIGNMENT == 32);
  std::printf("ALLOY_DEFAULT_ALIGNMENT = %d\n", ALLOY_DEFAULT_ALIGNMENT);
}

TEST(Block, RangeContainment) {
  char buffer[64];
  EXPECT_TRUE(alloy_range_contains(buffer, 64, buffer, 64));
  EXPECT_TRUE(alloy_range_contains(buffer, 64, buffer + 10, 54));
  EXPECT_FALSE(alloy_range_contains(buffer, 64, buffer + 10, 55));
  EXPECT_FALSE(alloy_range_contains(buffer + 1, 63, buffer, 1));
  EXPECT_FALSE(alloy_range_contains(buffer, 64, buffer + 10, SIZE_MAX));
  EXPECT_TRUE(alloy_block_is_null(alloy_block_null()));
}

TEST(SizeClass, EverySizeMapsToTheSmallestClassThatFitsIt) {
  for (size_t size = 0; size <= 1 << 16; ++size) {
    size_t cls = alloy_size_class_of(size);
    size_t class_size = alloy_size_class_size(cls);
    ASSERT_GE(class_size, size) << size;
    if (cls > 0) {
      ASSERT_LT(alloy_size_class_size(cls - 1), size == 0 ? 1 : size) << size;
    }
  }
}

TEST(SizeClass, WasteAboveSixtyFourBytesIsAtMostAnEighth) {
  for (size_t size = 65; size <= 1 << 16; ++size) {
    size_t waste = alloy_size_class_size(alloy_size_class_of(size)) - size;
    ASSERT_LE(waste * 8, size) << size;
  }
  EXPECT_EQ(alloy_size_class_size(0), 8u);
  EXPECT_EQ(alloy_size_class_size(7), 64u);
  EXPECT_EQ(alloy_size_class_size(8), 72u);
  EXPECT_EQ(alloy_size_class_size(15), 128u);
  EXPECT_EQ(alloy_size_class_size(16), 144u);
  EXPECT_EQ(alloy_size_class_count(256), 24u);
}

TEST(Fault, DefaultHandlerPrintsTheErrorClassAndAborts) {
  alloy_fault fault = {};
  fault.kind = ALLOY_E_DOUBLE_FREE;
  fault.resource = "pool";
  fault.ptr = reinterpret_cast<void *>(0x1000);
  fault.size = 64;
  fault.expected_size = 64;
  EXPECT_DEATH(alloy_fault_report(&fault), "ALLOY_E_DOUBLE_FREE \\(double free\\) in resource 'pool'");
}

TEST(Fault, InstalledHandlerReceivesTheFaultAndTheCallReturnsItsStatus) {
  alloy_test::FaultRecorder recorder;
  alloy_fault fault = {};
  fault.kind = ALLOY_E_SIZE_MISMATCH;
  fault.resource = "tlsf";
  fault.size = 10;
  fault.expected_size = 12;
  fault.detail = "freed with size 10";
  EXPECT_EQ(alloy_fault_report(&fault), ALLOY_E_SIZE_MISMATCH);
  ASSERT_EQ(recorder.faults().size(), 1u);
  EXPECT_EQ(recorder.count(ALLOY_E_SIZE_MISMATCH), 1u);
  EXPECT_NE(recorder.last_message().find("size 10 (expected 12)"), std::string::npos) << recorder.last_message();
  EXPECT_NE(recorder.last_message().find("freed with size 10"), std::string::npos);
}

}  // namespace
