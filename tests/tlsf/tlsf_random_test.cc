// Random operation sequences with the integrity walk after every step.
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/system.h"
#include "alloy/tlsf.h"
#include "alloy/vm.h"
#include "tests/support/support.h"

namespace {

struct Live {
  alloy_block block;
  size_t size;
  size_t align;
  uint32_t seed;
};

// Sizes from tiny to a few pages, skewed to the small end; alignments mostly 16.
size_t RandomSize(std::mt19937_64 &rng) {
  switch (rng() % 4) {
    case 0: return rng() % 64;
    case 1: return rng() % 1024;
    case 2: return 256 + rng() % (16 << 10);
    default: return 256 + rng() % (64 << 10);
  }
}

size_t RandomAlign(std::mt19937_64 &rng) {
  if (rng() % 4 != 0) return 16;
  return size_t{1} << (rng() % 13);  // 1 .. 4096
}

void RunSequence(alloy_tlsf *tlsf, uint64_t seed, size_t steps, bool bounded) {
  std::mt19937_64 rng(seed);
  std::vector<Live> live;
  uint32_t next_seed = 1;
  for (size_t step = 0; step < steps; ++step) {
    const unsigned op = rng() % 10;
    if (op < 5 || live.empty()) {
      Live l{{nullptr, 0}, RandomSize(rng), RandomAlign(rng), next_seed++};
      alloy_status status = alloy_tlsf_allocate(tlsf, l.size, l.align, &l.block);
      if (bounded && status == ALLOY_E_CAPACITY) continue;
      ASSERT_EQ(status, ALLOY_OK) << "step " << step;
      ASSERT_TRUE(alloy_ptr_is_aligned(l.block.ptr, l.align));
      alloy_test::Fill(l.block.ptr, l.size, l.seed);
      live.push_back(l);
    } else if (op < 8) {
      size_t i = rng() % live.size();
      ASSERT_TRUE(alloy_test::Check(live[i].block.ptr, live[i].size, live[i].seed)) << "step " << step;
      ASSERT_EQ(alloy_tlsf_deallocate(tlsf, live[i].block), ALLOY_OK);
      live[i] = live.back();
      live.pop_back();
    } else {
      Live &l = live[rng() % live.size()];
      size_t new_size = RandomSize(rng);
      alloy_block out;
      alloy_status status = op == 8 ? alloy_tlsf_reallocate(tlsf, l.block, new_size, l.align, &out)
                                    : alloy_tlsf_resize(tlsf, l.block, new_size, &out);
      if (status == ALLOY_OK) {
        size_t kept = l.size < new_size ? l.size : new_size;
        ASSERT_TRUE(alloy_test::Check(out.ptr, kept, l.seed)) << "step " << step;
        if (op == 9) {
          ASSERT_EQ(out.ptr, l.block.ptr) << "resize moved the block";
        }
        l.block = out;
        l.size = new_size;
        alloy_test::Fill(l.block.ptr, l.size, l.seed);
      } else {
        ASSERT_TRUE(status == ALLOY_E_UNSUPPORTED || (bounded && status == ALLOY_E_CAPACITY))
            << alloy_status_name(status);
        ASSERT_TRUE(alloy_test::Check(l.block.ptr, l.size, l.seed)) << "a failed resize changed the block";
      }
    }
    ASSERT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK) << "after step " << step << " op " << op;
  }
  for (const Live &l : live) {
    ASSERT_TRUE(alloy_test::Check(l.block.ptr, l.size, l.seed));
    ASSERT_EQ(alloy_tlsf_deallocate(tlsf, l.block), ALLOY_OK);
  }
  ASSERT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.live_bytes, 0u);
  EXPECT_EQ(stats.used_blocks, 0u);
  EXPECT_EQ(stats.free_blocks, stats.pool_count) << "each pool is one free block again";
}

// Steps per sequence: shorter under memcheck (Scaled) and ThreadSanitizer,
// which instruments every byte the pattern checks touch.
size_t Steps(size_t n) { return alloy_test::Scaled(alloy_test::kTsan ? n / 5 : n, 100); }

class TlsfRandom : public ::testing::TestWithParam<uint64_t> {};

alloy_tlsf_stats StatsOf(const alloy_tlsf *tlsf) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  return stats;
}

// Trims, checks the heap, and returns the stats after the trim.
alloy_tlsf_stats TrimAndCheck(alloy_tlsf *tlsf) {
  alloy_tlsf_trim(tlsf);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  return StatsOf(tlsf);
}

TEST_P(TlsfRandom, GrowingFromThePlatform) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 128 << 10;
  config.growth_size = 256 << 10;
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  RunSequence(tlsf, GetParam(), Steps(2000), false);
  alloy_tlsf_destroy(tlsf);
}

TEST_P(TlsfRandom, FixedPoolUnderPressure) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 512 << 10;
  config.growth = ALLOY_TLSF_GROW_NONE;
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  RunSequence(tlsf, GetParam() * 7 + 1, Steps(2000), true);
  alloy_tlsf_destroy(tlsf);
}

TEST_P(TlsfRandom, GrowingFromAParentWithKeptPools) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 0;
  config.growth = ALLOY_TLSF_GROW_PARENT;
  config.parent = alloy_system_resource();
  config.growth_size = 100 << 10;
  config.keep_empty_pools = true;
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  RunSequence(tlsf, GetParam() * 13 + 5, Steps(2000), false);
  alloy_tlsf_destroy(tlsf);
}

TEST_P(TlsfRandom, PurgingFreeBlocksAndTrimming) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 256 << 10;
  config.growth_size = 256 << 10;
  config.purge_threshold = 16 << 10;
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  RunSequence(tlsf, GetParam() * 31 + 3, Steps(1000), false);
  alloy_tlsf_trim(tlsf);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  RunSequence(tlsf, GetParam() * 37 + 9, Steps(1000), false);
  alloy_tlsf_destroy(tlsf);
}

TEST_P(TlsfRandom, PurgingTheOldestFreePagesPastADirtyLimit) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 256 << 10;
  config.growth_size = 256 << 10;
  config.dirty_limit = GetParam() % 2 ? 16 << 10 : 96 << 10;
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  RunSequence(tlsf, GetParam() * 41 + 7, Steps(1000), false);
  EXPECT_GT(StatsOf(tlsf).purge_calls, 0u) << "the limit was crossed and purged";
  EXPECT_EQ(TrimAndCheck(tlsf).dirty_bytes, 0u) << "trim purged every dirty page";
  RunSequence(tlsf, GetParam() * 43 + 11, Steps(1000), false);
  alloy_tlsf_destroy(tlsf);
}

// Free pages purged for their age, alone or under a dirty limit too, with
// spares decaying: the check after every step covers the age order.
TEST_P(TlsfRandom, PurgingFreePagesPastTheirAge) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 256 << 10;
  config.growth_size = 128 << 10;
  config.dirty_age = 1 + Steps(1500) / 100 * GetParam();  // a few percent of the steps
  config.dirty_limit = GetParam() % 2 ? 0 : 64 << 10;
  config.spare_decay = 64;
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  RunSequence(tlsf, GetParam() * 61 + 5, Steps(1500), false);
  EXPECT_GT(StatsOf(tlsf).purge_calls, 0u) << "free pages outlived the age and were purged";
  EXPECT_EQ(TrimAndCheck(tlsf).dirty_bytes, 0u);
  RunSequence(tlsf, GetParam() * 67 + 3, Steps(500), false);
  alloy_tlsf_destroy(tlsf);
}

TEST_P(TlsfRandom, DirtyLimitTogetherWithThresholdAndKeptPools) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 128 << 10;
  config.growth_size = 128 << 10;
  config.keep_empty_pools = true;
  config.purge_threshold = 32 << 10;
  config.dirty_limit = 24 << 10;
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  RunSequence(tlsf, GetParam() * 47 + 13, Steps(1500), false);
  alloy_tlsf_destroy(tlsf);
}

TEST_P(TlsfRandom, SparePoolsDecayingUnderADirtyLimit) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 0;
  config.growth_size = 96 << 10;
  config.spare_bytes = GetParam() % 2 ? 200 << 10 : 1 << 20;
  config.spare_decay = GetParam() * 4;
  config.dirty_limit = GetParam() % 2 ? 0 : 48 << 10;
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  RunSequence(tlsf, GetParam() * 53 + 17, Steps(1500), false);
  EXPECT_GT(StatsOf(tlsf).pools_released, 0u) << "spares past the limit or the decay went back";
  const alloy_tlsf_stats stats = TrimAndCheck(tlsf);
  EXPECT_EQ(stats.spare_bytes, 0u) << "trim gave every spare back";
  EXPECT_EQ(stats.pool_count, 0u) << "every pool was grown, and all were empty spares";
  RunSequence(tlsf, GetParam() * 59 + 19, Steps(500), false);
  alloy_tlsf_destroy(tlsf);
}

INSTANTIATE_TEST_SUITE_P(Seeds, TlsfRandom, ::testing::Values(1, 2, 3, 4));

}  // namespace
