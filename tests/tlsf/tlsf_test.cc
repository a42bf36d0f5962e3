#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <sys/mman.h>

#include <gtest/gtest.h>

#include "alloy/allocator.h"
#include "alloy/fault_injection.h"
#include "alloy/numa.h"
#include "alloy/system.h"
#include "alloy/tlsf.h"
#include "alloy/vm.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/support.h"

namespace {

using alloy_test::ContractSubject;
using alloy_test::ResourceContract;

alloy_tlsf_stats StatsOf(const alloy_tlsf *tlsf) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  return stats;
}

alloy_tlsf *Create(alloy_tlsf_config config) {
  alloy_tlsf *tlsf = nullptr;
  EXPECT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  return tlsf;
}

void Destroy(alloy_resource *resource) {
  alloy_tlsf *tlsf = reinterpret_cast<alloy_tlsf *>(resource);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

ContractSubject Growing() {
  ContractSubject subject;
  subject.name = "tlsf_growing";
  subject.create = [] {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    config.initial_pool_size = 64 << 10;
    return alloy_tlsf_resource(Create(config));
  };
  subject.destroy = Destroy;
  subject.max_size = 1 << 20;
  subject.max_alignment = alloy_vm_page_size();
  return subject;
}

ContractSubject Fixed() {
  ContractSubject subject;
  subject.name = "tlsf_fixed";
  subject.create = [] {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    config.initial_pool_size = 2 << 20;
    config.growth = ALLOY_TLSF_GROW_NONE;
    return alloy_tlsf_resource(Create(config));
  };
  subject.destroy = Destroy;
  subject.max_size = 65536;
  subject.max_alignment = alloy_vm_page_size();
  subject.bounded = true;
  subject.exhaustion_limit = 2 << 20;
  return subject;
}

ContractSubject FromParent() {
  ContractSubject subject;
  subject.name = "tlsf_parent";
  subject.create = [] {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    config.initial_pool_size = 0;
    config.growth = ALLOY_TLSF_GROW_PARENT;
    config.parent = alloy_system_resource();
    config.growth_size = 128 << 10;
    config.max_bytes = 8 << 20;
    return alloy_tlsf_resource(Create(config));
  };
  subject.destroy = Destroy;
  subject.max_size = 1 << 20;
  subject.max_alignment = alloy_vm_page_size();
  subject.bounded = true;
  subject.exhaustion_limit = 8 << 20;
  return subject;
}

INSTANTIATE_TEST_SUITE_P(Tlsf, ResourceContract, ::testing::Values(Growing(), Fixed(), FromParent()),
                         alloy_test::SubjectName);

// An instance, checked and destroyed after each test, with allocation and
// stats helpers.
class TlsfInstance : public ::testing::Test {
 protected:
  void TearDown() override {
    if (tlsf_ == nullptr) return;
    EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
    alloy_tlsf_destroy(tlsf_);
  }
  alloy_block Alloc(size_t size, size_t align = 16) {
    alloy_block block = {nullptr, 0};
    EXPECT_EQ(alloy_tlsf_allocate(tlsf_, size, align, &block), ALLOY_OK) << size;
    return block;
  }
  alloy_tlsf_stats Stats() { return StatsOf(tlsf_); }
  alloy_tlsf *tlsf_ = nullptr;
};

class Tlsf : public TlsfInstance {
 protected:
  void SetUp() override {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    config.initial_pool_size = 256 << 10;
    config.growth = ALLOY_TLSF_GROW_NONE;
    tlsf_ = Create(config);
    ASSERT_NE(tlsf_, nullptr);
  }
};

TEST_F(Tlsf, ReportsExactUsableSizeAndLiveBytes) {
  alloy_block block = Alloc(100);
  EXPECT_GE(block.size, 100u);
  EXPECT_LT(block.size, 100u + 32u);
  std::memset(block.ptr, 0xab, block.size);  // the whole reported size is usable
  EXPECT_EQ(Stats().live_bytes, block.size);
  EXPECT_EQ(Stats().used_blocks, 1u);
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, block), ALLOY_OK);
  EXPECT_EQ(Stats().live_bytes, 0u);
}

TEST_F(Tlsf, FreeCoalescesWithBothNeighbours) {
  const size_t before = Stats().free_blocks;
  alloy_block a = Alloc(1000), b = Alloc(2000), c = Alloc(3000), fence = Alloc(64);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, a), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, c), ALLOY_OK);
  EXPECT_EQ(Stats().free_blocks, before + 2);  // a, c and the pool's tail (before counted it)
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, b), ALLOY_OK);
  EXPECT_EQ(Stats().free_blocks, before + 1) << "a, b and c became one block";
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  // The merged block serves a request as large as the three together.
  alloy_block big = Alloc(a.size + b.size + c.size);
  EXPECT_EQ(big.ptr, a.ptr);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, big), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, fence), ALLOY_OK);
  EXPECT_EQ(Stats().free_blocks, before);
}

// Blocks of one size freed in any order are reused lowest address first
// while they stay resident (the head of a list is the lowest block that
// joined it), so live blocks pack towards the bottom of the pools.
TEST_F(Tlsf, EqualFreeBlocksAreReusedLowestAddressFirst) {
  alloy_block blocks[4], fences[4];
  for (int i = 0; i < 4; ++i) {
    blocks[i] = Alloc(1000);
    fences[i] = Alloc(64);  // keeps the freed blocks apart
  }
  for (int order : {2, 0, 3, 1}) EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, blocks[order]), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  // The lowest block joined last at the head; the higher ones queued behind
  // the head in the order they were freed.
  const int expected[] = {0, 2, 3, 1};
  for (int i : expected) {
    alloy_block again = Alloc(1000);
    EXPECT_EQ(again.ptr, blocks[i].ptr) << "block " << i;
    blocks[i] = again;
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, blocks[i]), ALLOY_OK);
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, fences[i]), ALLOY_OK);
  }
}

TEST_F(Tlsf, ResizeGrowsIntoAFreeNeighbourAndShrinksInPlace) {
  alloy_block a = Alloc(1000);
  alloy_block b = Alloc(4000);
  alloy_block fence = Alloc(16);
  alloy_test::Fill(a.ptr, 1000, 3);
  alloy_block out = {nullptr, 0};
  EXPECT_EQ(alloy_tlsf_resize(tlsf_, a, 3000, &out), ALLOY_E_UNSUPPORTED) << "b is in the way";
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, b), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_resize(tlsf_, a, 3000, &out), ALLOY_OK);
  EXPECT_EQ(out.ptr, a.ptr);
  EXPECT_GE(out.size, 3000u);
  EXPECT_TRUE(alloy_test::Check(out.ptr, 1000, 3));
  std::memset(out.ptr, 1, out.size);
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  alloy_block shrunk;
  ASSERT_EQ(alloy_tlsf_resize(tlsf_, out, 100, &shrunk), ALLOY_OK);
  EXPECT_EQ(shrunk.ptr, a.ptr);
  EXPECT_LT(shrunk.size, 200u);
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  // The tail went back and is served again, right after the shrunk block.
  alloy_block tail = Alloc(3000);
  EXPECT_GT(tail.ptr, shrunk.ptr);
  EXPECT_LT(static_cast<char *>(tail.ptr), static_cast<char *>(shrunk.ptr) + 5200);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, tail), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, shrunk), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, fence), ALLOY_OK);
}

TEST_F(Tlsf, ReallocateMovesWhenItCannotGrowInPlace) {
  alloy_block a = Alloc(500);
  alloy_block fence = Alloc(500);
  alloy_test::Fill(a.ptr, 500, 9);
  alloy_block moved;
  ASSERT_EQ(alloy_tlsf_reallocate(tlsf_, a, 5000, 16, &moved), ALLOY_OK);
  EXPECT_NE(moved.ptr, a.ptr);
  EXPECT_TRUE(alloy_test::Check(moved.ptr, 500, 9));
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  EXPECT_EQ(Stats().used_blocks, 2u);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, moved), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, fence), ALLOY_OK);
}

TEST_F(Tlsf, EveryAlignmentUpToAPage) {
  std::vector<alloy_block> blocks;
  for (size_t align = 1; align <= alloy_vm_page_size(); align *= 2) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{24}, size_t{300}, size_t{5000}}) {
      alloy_block block = Alloc(size, align);
      ASSERT_NE(block.ptr, nullptr);
      EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, align)) << align;
      blocks.push_back(block);
      ASSERT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
    }
  }
  for (const alloy_block &block : blocks) EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, block), ALLOY_OK);
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_tlsf_allocate(tlsf_, 64, 2 * alloy_vm_page_size(), &block), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(block.ptr, nullptr);
}

TEST_F(Tlsf, ExhaustionIsCapacityAndNothingIsLost) {
  std::vector<alloy_block> blocks;
  alloy_block block;
  alloy_status status;
  while ((status = alloy_tlsf_allocate(tlsf_, 10000, 16, &block)) == ALLOY_OK) blocks.push_back(block);
  EXPECT_EQ(status, ALLOY_E_CAPACITY);
  EXPECT_GE(blocks.size(), 20u);
  EXPECT_EQ(Stats().failures, 1u);
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  for (const alloy_block &b : blocks) EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, b), ALLOY_OK);
  EXPECT_EQ(Stats().free_blocks, 1u) << "everything coalesced back into one block";
}

TEST_F(Tlsf, MisuseIsReported) {
  alloy_test::FaultRecorder faults;
  alloy_block block = Alloc(64);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, alloy_block_make(block.ptr, block.size + 64)), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, block), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, block), ALLOY_E_DOUBLE_FREE);
  int on_stack[8];
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, alloy_block_make(on_stack, sizeof on_stack)), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_SIZE_MISMATCH), 1u);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
  EXPECT_NE(faults.last_message().find("tlsf"), std::string::npos) << faults.last_message();
  EXPECT_FALSE(alloy_tlsf_owns(tlsf_, on_stack));
}

TEST_F(Tlsf, CheckFindsACorruptedHeader) {
  alloy_block a = Alloc(256);
  alloy_block b = Alloc(256);
  ASSERT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  // An overrun of a that reaches b's header (the word before b's payload).
  size_t *header = reinterpret_cast<size_t *>(static_cast<char *>(b.ptr) - sizeof(size_t));
  const size_t saved = *header;
  *header = 7;
  {
    alloy_test::FaultRecorder faults;
    EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_E_CORRUPTION);
    ASSERT_EQ(faults.count(ALLOY_E_CORRUPTION), 1u);
    EXPECT_NE(faults.faults()[0].detail, nullptr);
  }
  *header = saved;
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, a), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, b), ALLOY_OK);
}

TEST_F(Tlsf, WalkVisitsEveryBlockInOrder) {
  alloy_block a = Alloc(100), b = Alloc(200);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, a), ALLOY_OK);
  struct Seen {
    size_t used = 0, free = 0;
    char *last = nullptr;
    bool ordered = true;
  } seen;
  alloy_tlsf_walk(
      tlsf_,
      [](void *ptr, size_t, bool used, void *context) {
        auto *s = static_cast<Seen *>(context);
        s->ordered &= static_cast<char *>(ptr) > s->last;
        s->last = static_cast<char *>(ptr);
        (used ? s->used : s->free)++;
        return true;
      },
      &seen);
  EXPECT_EQ(seen.used, 1u);
  EXPECT_EQ(seen.free, 2u);
  EXPECT_TRUE(seen.ordered);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, b), ALLOY_OK);
}

TEST(TlsfPools, CallerPoolsAreAddedAndRemovedWhenEmpty) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 0;
  config.growth = ALLOY_TLSF_GROW_NONE;
  alloy_tlsf *tlsf = Create(config);
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_tlsf_allocate(tlsf, 64, 16, &block), ALLOY_E_CAPACITY) << "no pool yet";
  std::vector<unsigned char> first(64 << 10), second(64 << 10);
  ASSERT_EQ(alloy_tlsf_add_pool(tlsf, first.data() + 3, first.size() - 3), ALLOY_OK);  // misaligned on purpose
  ASSERT_EQ(alloy_tlsf_add_pool(tlsf, second.data(), second.size()), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_add_pool(tlsf, first.data() + 1000, 4096), ALLOY_E_INVALID_ARGUMENT) << "overlap";
  EXPECT_EQ(alloy_tlsf_add_pool(tlsf, first.data(), 16), ALLOY_E_INVALID_ARGUMENT) << "too small";
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.pool_count, 2u);
  // Fill both pools.
  std::vector<alloy_block> blocks;
  while (alloy_tlsf_allocate(tlsf, 1000, 16, &block) == ALLOY_OK) blocks.push_back(block);
  EXPECT_GE(blocks.size(), 100u);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_remove_pool(tlsf, first.data() + 3), ALLOY_E_UNSUPPORTED) << "still holds blocks";
  int other;
  EXPECT_EQ(alloy_tlsf_remove_pool(tlsf, &other), ALLOY_E_NOT_OWNED);
  for (const alloy_block &b : blocks)
    if (b.ptr >= static_cast<void *>(first.data()) && b.ptr < static_cast<void *>(first.data() + first.size())) {
      EXPECT_EQ(alloy_tlsf_deallocate(tlsf, b), ALLOY_OK);
    }
  EXPECT_EQ(alloy_tlsf_remove_pool(tlsf, first.data() + 3), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.pool_count, 1u);
  std::memset(first.data(), 0, first.size());  // the memory is the caller's again
  for (const alloy_block &b : blocks)
    if (alloy_tlsf_owns(tlsf, b.ptr)) {
      EXPECT_EQ(alloy_tlsf_deallocate(tlsf, b), ALLOY_OK);
    }
  EXPECT_EQ(alloy_tlsf_remove_pool(tlsf, second.data()), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

TEST(TlsfPools, GrowsFromThePlatformAndGivesEmptyPoolsBack) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 64 << 10;
  config.growth_size = 256 << 10;
  config.spare_bytes = 0;  // no spare: back at once
  alloy_tlsf *tlsf = Create(config);
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  const size_t pool_bytes_at_start = stats.pool_bytes;
  std::vector<alloy_block> blocks;
  for (int i = 0; i < 200; ++i) {
    alloy_block block;
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 8000, 16, &block), ALLOY_OK);
    blocks.push_back(block);
  }
  alloy_block large;
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 3 << 20, 16, &large), ALLOY_OK) << "larger than growth_size";
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_GT(stats.pool_count, 5u);
  EXPECT_GE(stats.held_bytes, stats.live_bytes);
  for (const alloy_block &b : blocks) EXPECT_EQ(alloy_tlsf_deallocate(tlsf, b), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, large), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.pool_count, 1u) << "grown pools went back once empty";
  EXPECT_EQ(stats.pool_bytes, pool_bytes_at_start);
  alloy_tlsf_destroy(tlsf);
}

// Spare pools: a big block needs a grown pool of its own (it does not fit
// one growth step next to anything else), so freeing it empties that pool.
class TlsfSpare : public TlsfInstance {
 protected:
  static constexpr size_t kGrowth = 256 << 10;
  static constexpr size_t kBig = 250 << 10;

  void Make(size_t spare_bytes, uint64_t spare_decay, bool keep = false) {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    config.initial_pool_size = 0;
    config.growth_size = kGrowth;
    config.spare_bytes = spare_bytes;
    config.spare_decay = spare_decay;
    config.keep_empty_pools = keep;
    tlsf_ = Create(config);
    ASSERT_NE(tlsf_, nullptr);
  }
  // A big block in a pool grown for it; *pool_bytes: what that pool holds.
  alloy_block AllocBig(size_t *pool_bytes = nullptr) {
    const alloy_tlsf_stats before = Stats();
    alloy_block block = Alloc(kBig);
    const alloy_tlsf_stats after = Stats();
    EXPECT_EQ(after.pools_grown, before.pools_grown + 1) << "the big block got a pool of its own";
    if (pool_bytes != nullptr) *pool_bytes = after.pool_bytes - before.pool_bytes;
    return block;
  }
  void Free(alloy_block block) {
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, block), ALLOY_OK);
    EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  }
  // `count` small blocks in one pool that stays in use (its first block is kept).
  std::vector<alloy_block> Smalls(size_t count) {
    std::vector<alloy_block> blocks;
    for (size_t i = 0; i <= count; ++i) blocks.push_back(Alloc(1000));
    keeper_ = blocks.back();
    blocks.pop_back();
    return blocks;
  }
  alloy_block keeper_ = {nullptr, 0};
};

TEST_F(TlsfSpare, AnEmptyPoolIsKeptAndReusedWithoutGrowing) {
  Make(1 << 20, 0);
  size_t pool_bytes;
  alloy_block block = AllocBig(&pool_bytes);
  const size_t held_in_pools = Stats().pool_bytes;
  Free(block);
  alloy_tlsf_stats stats = Stats();
  EXPECT_EQ(stats.pool_count, 1u) << "the empty pool stayed";
  EXPECT_EQ(stats.spare_bytes, pool_bytes);
  EXPECT_EQ(stats.pools_released, 0u);
  EXPECT_EQ(stats.pool_bytes, held_in_pools);
  EXPECT_EQ(stats.free_blocks, 1u) << "its one free block is on the lists";

  alloy_block again = Alloc(kBig);
  EXPECT_EQ(again.ptr, block.ptr) << "the spare served the request";
  stats = Stats();
  EXPECT_EQ(stats.pools_grown, 1u) << "no new pool was mapped";
  EXPECT_EQ(stats.spare_bytes, 0u) << "a pool in use is no spare";
  Free(again);
}

TEST_F(TlsfSpare, PoolsPastTheSpareBudgetGoBackAtOnce) {
  Make(400 << 10, 0);  // room for one big block's pool, not two
  const size_t control_bytes = Stats().pool_bytes;
  size_t pool_bytes;
  alloy_block a = AllocBig(&pool_bytes), b = AllocBig(), c = AllocBig();
  ASSERT_LE(pool_bytes, size_t{400} << 10);
  Free(a);
  EXPECT_EQ(Stats().spare_bytes, pool_bytes);
  Free(b);
  alloy_tlsf_stats stats = Stats();
  EXPECT_EQ(stats.spare_bytes, pool_bytes) << "the second empty pool did not fit the budget";
  EXPECT_EQ(stats.pools_released, 1u);
  EXPECT_EQ(stats.pool_count, 2u);
  Free(c);
  stats = Stats();
  EXPECT_EQ(stats.pools_released, 2u);
  EXPECT_EQ(stats.pool_count, 1u);
  EXPECT_EQ(stats.pool_bytes, control_bytes + pool_bytes) << "only the spare and the control block are held";
}

TEST_F(TlsfSpare, AnUnusedSpareGoesBackAfterTheDecay) {
  Make(1 << 20, 8);
  std::vector<alloy_block> small = Smalls(12);
  size_t pool_bytes;
  alloy_block big = AllocBig(&pool_bytes);
  Free(big);
  ASSERT_EQ(Stats().spare_bytes, pool_bytes);
  for (size_t i = 0; i < 7; ++i) Free(small[i]);
  EXPECT_EQ(Stats().spare_bytes, pool_bytes) << "7 frees: not decayed yet";
  Free(small[7]);
  alloy_tlsf_stats stats = Stats();
  EXPECT_EQ(stats.spare_bytes, 0u) << "8 frees without reuse: decayed";
  EXPECT_EQ(stats.pools_released, 1u);
  EXPECT_EQ(stats.pool_count, 1u);
  for (size_t i = 8; i < small.size(); ++i) Free(small[i]);
  Free(keeper_);
  EXPECT_GT(Stats().spare_bytes, 0u) << "the last pool emptied became the spare";
}

TEST_F(TlsfSpare, ReuseRestartsTheDecay) {
  Make(1 << 20, 4);
  std::vector<alloy_block> small = Smalls(12);
  alloy_block big = AllocBig();
  Free(big);
  for (size_t i = 0; i < 3; ++i) Free(small[i]);
  big = Alloc(kBig);  // the spare, in use again
  EXPECT_EQ(Stats().spare_bytes, 0u);
  Free(big);  // spare again: 4 frees from here
  for (size_t i = 3; i < 6; ++i) Free(small[i]);
  EXPECT_GT(Stats().spare_bytes, 0u) << "3 frees since it became spare again";
  Free(small[6]);
  EXPECT_EQ(Stats().spare_bytes, 0u);
  EXPECT_EQ(Stats().pools_grown, 2u);
  for (size_t i = 7; i < small.size(); ++i) Free(small[i]);
  Free(keeper_);
}

TEST_F(TlsfSpare, TrimAndDestroyGiveSparesBack) {
  Make(1 << 20, 0);
  size_t a_bytes, b_bytes;
  alloy_block a = AllocBig(&a_bytes), b = AllocBig(&b_bytes);
  Free(a);
  Free(b);
  ASSERT_EQ(Stats().spare_bytes, a_bytes + b_bytes);
  EXPECT_GE(alloy_tlsf_trim(tlsf_), a_bytes + b_bytes);
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  alloy_tlsf_stats stats = Stats();
  EXPECT_EQ(stats.spare_bytes, 0u);
  EXPECT_EQ(stats.pool_count, 0u);
  EXPECT_EQ(stats.pools_released, 2u);
  // A spare still there at destroy goes with the instance (the leak checks
  // of the asan and valgrind configs would see it otherwise).
  Free(Alloc(kBig));
  EXPECT_GT(Stats().spare_bytes, 0u);
}

TEST_F(TlsfSpare, KeepEmptyPoolsKeepsEveryPoolForGood) {
  Make(0, 1, true);  // budget and decay do not apply
  alloy_block a = AllocBig(), b = AllocBig(), c = AllocBig();
  const size_t pool_bytes = Stats().pool_bytes;
  Free(a);
  Free(b);
  Free(c);
  for (int i = 0; i < 4; ++i) Free(Alloc(1000));
  alloy_tlsf_stats stats = Stats();
  EXPECT_EQ(stats.pool_count, 3u);
  EXPECT_EQ(stats.pools_released, 0u);
  EXPECT_EQ(stats.pool_bytes, pool_bytes);
}

TEST_F(TlsfSpare, SparesGoBackWhenMaxBytesWouldRefuseGrowth) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 0;
  config.growth_size = kGrowth;
  config.max_bytes = 700 << 10;
  config.spare_bytes = 1 << 20;
  tlsf_ = Create(config);
  ASSERT_NE(tlsf_, nullptr);
  alloy_block big = AllocBig();
  Free(big);
  ASSERT_GT(Stats().spare_bytes, 0u);
  // Too big for the spare, and the spare plus a pool for it exceed the cap.
  alloy_block larger = Alloc(500 << 10);
  EXPECT_NE(larger.ptr, nullptr) << "the spare made room under the cap";
  alloy_tlsf_stats stats = Stats();
  EXPECT_EQ(stats.spare_bytes, 0u);
  EXPECT_EQ(stats.pools_released, 1u);
  EXPECT_LE(stats.pool_bytes, config.max_bytes);
  alloy_block out;
  EXPECT_EQ(alloy_tlsf_allocate(tlsf_, 600 << 10, 16, &out), ALLOY_E_CAPACITY) << "the cap still holds";
  Free(larger);
}

TEST_F(TlsfSpare, SparesGoBackWhenThePlatformRefusesAPool) {
  Make(1 << 20, 0);
  Free(AllocBig());
  ASSERT_GT(Stats().spare_bytes, 0u);
  alloy_block block = {nullptr, 0};
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  ASSERT_EQ(alloy_tlsf_allocate(tlsf_, 500 << 10, 16, &block), ALLOY_OK) << "retried after the spare went back";
  alloy_platform_fail_reset();
  EXPECT_EQ(Stats().spare_bytes, 0u);
  EXPECT_EQ(Stats().pools_released, 1u);
  Free(block);  // its pool is the spare now
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 2);
  EXPECT_EQ(alloy_tlsf_allocate(tlsf_, 600 << 10, 16, &block), ALLOY_E_OUT_OF_MEMORY) << "refused twice";
  alloy_platform_fail_reset();
  EXPECT_EQ(Stats().spare_bytes, 0u);
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
}

TEST_F(TlsfSpare, BadInputIsStillReportedWithSpares) {
  Make(1 << 20, 0);
  alloy_block block = AllocBig();
  Free(block);
  const size_t spare = Stats().spare_bytes;
  ASSERT_GT(spare, 0u);
  alloy_test::FaultRecorder faults;
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, block), ALLOY_E_DOUBLE_FREE) << "the spare's block is free";
  int on_stack[8];
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf_, alloy_block_make(on_stack, sizeof on_stack)), ALLOY_E_NOT_OWNED);
  alloy_block out;
  EXPECT_EQ(alloy_tlsf_allocate(tlsf_, 16, 3, &out), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  EXPECT_EQ(Stats().spare_bytes, spare) << "the spare is untouched";
}

TEST(TlsfPurge, TrimGivesFreePagesBackAndTheyAreReusable) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 4 << 20;
  config.growth = ALLOY_TLSF_GROW_NONE;
  alloy_tlsf *tlsf = Create(config);
  std::vector<alloy_block> blocks;
  for (int i = 0; i < 100; ++i) {
    alloy_block block;
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 30000, 16, &block), ALLOY_OK);
    std::memset(block.ptr, 0xee, block.size);
    blocks.push_back(block);
  }
  alloy_tlsf_stats before, after;
  alloy_tlsf_get_stats(tlsf, &before);
  for (size_t i = 0; i < blocks.size(); i += 2) EXPECT_EQ(alloy_tlsf_deallocate(tlsf, blocks[i]), ALLOY_OK);
  const size_t trimmed = alloy_tlsf_trim(tlsf);
  EXPECT_GE(trimmed, 50u * 24 * 1024) << "each 30 KB hole holds at least six whole pages";
  EXPECT_EQ(alloy_tlsf_trim(tlsf), 0u) << "nothing left to purge";
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_get_stats(tlsf, &after);
  EXPECT_EQ(after.pool_bytes, before.pool_bytes);
  EXPECT_LE(after.held_bytes, before.held_bytes - trimmed + 1);
  // Purged memory is served again and behaves like any other.
  for (size_t i = 0; i < blocks.size(); i += 2) {
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 20000, 16, &blocks[i]), ALLOY_OK);
    alloy_test::Fill(blocks[i].ptr, 20000, static_cast<uint32_t>(i));
    ASSERT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i % 2 == 0) {
      EXPECT_TRUE(alloy_test::Check(blocks[i].ptr, 20000, static_cast<uint32_t>(i)));
    }
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf, blocks[i]), ALLOY_OK);
  }
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

TEST(TlsfPurge, ThresholdPurgesLargeFreeBlocksAtOnce) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 1 << 20;
  config.growth = ALLOY_TLSF_GROW_NONE;
  config.purge_threshold = 64 << 10;
  alloy_tlsf *tlsf = Create(config);
  alloy_block small, large, fence;
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 8000, 16, &small), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 200000, 16, &large), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 64, 16, &fence), ALLOY_OK);
  std::memset(small.ptr, 1, small.size);
  std::memset(large.ptr, 1, large.size);
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  const size_t purged_before = stats.purged_bytes;
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, small), ALLOY_OK);
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.purged_bytes, purged_before) << "8000 B is below the threshold";
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, large), ALLOY_OK);
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_GE(stats.purged_bytes, purged_before + 190000) << "the merged hole was purged";
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, fence), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

TEST(TlsfPurge, DirtyLimitPurgesTheOldestFreePagesAndKeepsTheNewest) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 8 << 20;
  config.growth = ALLOY_TLSF_GROW_NONE;
  config.dirty_limit = 64 << 10;
  alloy_tlsf *tlsf = Create(config);
  // 60 blocks of 30000 B, each followed by a small fence so that no two
  // freed blocks merge: every free adds one hole of six or seven whole pages.
  std::vector<alloy_block> blocks, fences;
  for (int i = 0; i < 60; ++i) {
    alloy_block block, fence;
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 30000, 16, &block), ALLOY_OK);
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 64, 16, &fence), ALLOY_OK);
    std::memset(block.ptr, 0xee, block.size);
    blocks.push_back(block);
    fences.push_back(fence);
  }
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  const size_t purged_at_start = stats.purged_bytes;  // the untouched tail of the pool
  EXPECT_EQ(stats.dirty_bytes, 0u);
  EXPECT_EQ(stats.purge_calls, 0u);
  for (size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_EQ(alloy_tlsf_deallocate(tlsf, blocks[i]), ALLOY_OK);
    alloy_tlsf_get_stats(tlsf, &stats);
    ASSERT_LE(stats.dirty_bytes, config.dirty_limit) << "after free " << i;
    ASSERT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  }
  EXPECT_GE(stats.dirty_bytes, 24u << 10) << "the newest holes stay resident for reuse";
  EXPECT_GE(stats.purge_calls, 50u) << "the older holes were purged one call each";
  EXPECT_GE(stats.purged_bytes, purged_at_start + 50u * (24 << 10));
  EXPECT_EQ(stats.held_bytes, stats.pool_bytes - stats.purged_bytes);
  // Purged and resident holes are served again and behave like any other.
  for (size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 30000, 16, &blocks[i]), ALLOY_OK);
    alloy_test::Fill(blocks[i].ptr, 30000, static_cast<uint32_t>(i));
  }
  ASSERT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.dirty_bytes, 0u) << "every hole is in use again";
  for (size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_TRUE(alloy_test::Check(blocks[i].ptr, 30000, static_cast<uint32_t>(i)));
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf, blocks[i]), ALLOY_OK);
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf, fences[i]), ALLOY_OK);
  }
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

// Locked pages cannot be purged (madvise fails): the blocks leave the dirty
// list, stay resident and are counted as held, and everything stays usable.
TEST(TlsfPurge, AFailedPurgeLeavesTheBlockResidentAndOffTheDirtyList) {
  const size_t bytes = 512 << 10;
  void *memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  // Sanitizer runtimes turn mlock into a no-op: probe that a purge really fails.
  if (mlock(memory, bytes) != 0 || madvise(memory, 4096, MADV_DONTNEED) == 0) {
    munlock(memory, bytes);
    munmap(memory, bytes);
    GTEST_SKIP() << "cannot make a purge fail here (memory cannot be locked)";
  }
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 0;
  config.growth = ALLOY_TLSF_GROW_NONE;
  config.dirty_limit = 16 << 10;
  alloy_tlsf *tlsf = Create(config);
  ASSERT_EQ(alloy_tlsf_add_pool(tlsf, memory, bytes), ALLOY_OK);
  std::vector<alloy_block> blocks, fences;
  for (int i = 0; i < 8; ++i) {
    alloy_block block, fence;
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 30000, 16, &block), ALLOY_OK);
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 64, 16, &fence), ALLOY_OK);
    blocks.push_back(block);
    fences.push_back(fence);
  }
  for (const alloy_block &b : blocks) {
    ASSERT_EQ(alloy_tlsf_deallocate(tlsf, b), ALLOY_OK);
    ASSERT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  }
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_GT(stats.purge_calls, 0u);
  EXPECT_EQ(stats.purged_bytes, 0u) << "no purge succeeded";
  EXPECT_EQ(stats.held_bytes, stats.pool_bytes);
  EXPECT_GE(stats.dirty_bytes, 8u * (24 << 10)) << "the pages are still resident";
  EXPECT_EQ(alloy_tlsf_trim(tlsf), 0u);
  for (size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 30000, 16, &blocks[i]), ALLOY_OK);
    alloy_test::Fill(blocks[i].ptr, 30000, static_cast<uint32_t>(i));
  }
  ASSERT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  for (size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_TRUE(alloy_test::Check(blocks[i].ptr, 30000, static_cast<uint32_t>(i)));
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf, blocks[i]), ALLOY_OK);
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf, fences[i]), ALLOY_OK);
  }
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
  munlock(memory, bytes);
  munmap(memory, bytes);
}

// The default purges nothing: free makes no system call, however long a
// hole stays unused.
TEST(TlsfPurge, TheDefaultMakesNoPurgeCalls) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 1 << 20;
  config.growth = ALLOY_TLSF_GROW_NONE;
  alloy_tlsf *tlsf = Create(config);
  alloy_block a, b, fence;
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 100000, 16, &a), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 64, 16, &fence), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 100000, 16, &b), ALLOY_OK);
  std::memset(a.ptr, 1, a.size);
  std::memset(b.ptr, 1, b.size);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, a), ALLOY_OK);
  for (int i = 0; i < 10000; ++i) {  // many frees while the hole waits
    alloy_block small;
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 64, 16, &small), ALLOY_OK);
    ASSERT_EQ(alloy_tlsf_deallocate(tlsf, small), ALLOY_OK);
  }
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.purge_calls, 0u);
  EXPECT_GE(stats.dirty_bytes, 90000u) << "the hole's pages are resident and could be purged";
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, b), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, fence), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

// config.dirty_age: a free block's pages are purged once it has stayed free
// and unused for more than that many frees, and not a free earlier; a block
// reused in time is never purged.
TEST(TlsfPurge, DirtyAgePurgesPagesUnusedForThatManyFrees) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 2 << 20;
  config.growth = ALLOY_TLSF_GROW_NONE;
  config.dirty_limit = 0;
  config.dirty_age = 40;
  alloy_tlsf *tlsf = Create(config);
  alloy_block hole, fence;
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 100000, 16, &hole), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 64, 16, &fence), ALLOY_OK);
  // Small blocks to free one by one, every other one kept so none merge.
  std::vector<alloy_block> small(6 * config.dirty_age);
  for (alloy_block &block : small) ASSERT_EQ(alloy_tlsf_allocate(tlsf, 64, 16, &block), ALLOY_OK);
  size_t next_small = 0;
  auto free_small = [&] {
    ASSERT_EQ(alloy_tlsf_deallocate(tlsf, small[next_small]), ALLOY_OK);
    next_small += 2;
  };
  std::memset(hole.ptr, 0xab, hole.size);
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  const size_t purged_at_start = stats.purged_bytes;  // the untouched tail of the pool

  // Freed and taken back before its age: never purged.
  ASSERT_EQ(alloy_tlsf_deallocate(tlsf, hole), ALLOY_OK);
  for (uint64_t i = 0; i < config.dirty_age / 2; ++i) free_small();
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 100000, 16, &hole), ALLOY_OK);
  for (uint64_t i = 0; i < config.dirty_age; ++i) free_small();
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.purge_calls, 0u) << "the block was reused before its age";
  std::memset(hole.ptr, 0xcd, hole.size);

  // Left free: resident for dirty_age more frees, purged at the next one.
  ASSERT_EQ(alloy_tlsf_deallocate(tlsf, hole), ALLOY_OK);
  for (uint64_t i = 0; i < config.dirty_age; ++i) free_small();
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.purge_calls, 0u) << "not older than the age yet";
  EXPECT_GE(stats.dirty_bytes, 90000u);
  free_small();
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.purge_calls, 1u) << "one call for the aged block";
  EXPECT_EQ(stats.dirty_bytes, 0u);
  EXPECT_GE(stats.purged_bytes, purged_at_start + 90000);
  EXPECT_EQ(stats.held_bytes, stats.pool_bytes - stats.purged_bytes);
  ASSERT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);

  // The purged pages serve the next request like any others.
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 100000, 16, &hole), ALLOY_OK);
  alloy_test::Fill(hole.ptr, 100000, 7);
  EXPECT_TRUE(alloy_test::Check(hole.ptr, 100000, 7));
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, hole), ALLOY_OK);
  for (size_t i = 1; i < small.size(); i += 2) EXPECT_EQ(alloy_tlsf_deallocate(tlsf, small[i]), ALLOY_OK);
  for (; next_small < small.size(); next_small += 2) EXPECT_EQ(alloy_tlsf_deallocate(tlsf, small[next_small]), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, fence), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

// config.growth_divisor: each grown pool is at least the bytes held / the
// divisor, so a heap that keeps growing maps a few large pools rather than
// many small ones, and never past max_bytes.
TEST(TlsfPools, GrowthByAShareOfTheHeldBytes) {
  for (size_t divisor : {size_t{0}, size_t{4}}) {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    config.initial_pool_size = 0;
    config.growth_size = 64 << 10;
    config.growth_divisor = divisor;
    config.max_bytes = 12 << 20;
    alloy_tlsf *tlsf = Create(config);
    std::vector<alloy_block> blocks;
    alloy_block block;
    while (alloy_tlsf_allocate(tlsf, 32 << 10, 16, &block) == ALLOY_OK) blocks.push_back(block);
    alloy_tlsf_stats stats;
    alloy_tlsf_get_stats(tlsf, &stats);
    EXPECT_LE(stats.pool_bytes, config.max_bytes) << "divisor " << divisor;
    EXPECT_GE(blocks.size(), 190u) << "the cap, not the divisor, ended the growth";
    if (divisor == 0) {
      EXPECT_GE(stats.pool_count, 150u) << "64 KiB pools, each holding one block";
    } else {
      EXPECT_LE(stats.pool_count, 30u) << "pools grew by a quarter of the held bytes";
    }
    EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
    for (const alloy_block &b : blocks) EXPECT_EQ(alloy_tlsf_deallocate(tlsf, b), ALLOY_OK);
    alloy_tlsf_destroy(tlsf);
  }
}

// Requests up to growth_size / 8 keep growth_size pools whatever the divisor.
TEST(TlsfPools, SmallRequestsGrowByGrowthSizeOnly) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 0;
  config.growth_size = 64 << 10;
  config.growth_divisor = 4;
  alloy_tlsf *tlsf = Create(config);
  std::vector<alloy_block> blocks(2000);
  for (alloy_block &block : blocks) ASSERT_EQ(alloy_tlsf_allocate(tlsf, 2000, 16, &block), ALLOY_OK);
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_GE(stats.pool_count, (2000u * 2016u) / (64u << 10)) << "64 KiB pools only";
  EXPECT_LE(stats.pool_bytes, (stats.pool_count + 1) * (64u << 10) + alloy_tlsf_control_size() + 4096);
  for (const alloy_block &b : blocks) EXPECT_EQ(alloy_tlsf_deallocate(tlsf, b), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

TEST(TlsfPools, OwnershipHoldsBeyondTheIndexedPools) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 0;
  config.growth_size = 16 << 10;
  config.growth_divisor = 0;  // one 16 KiB pool per block
  config.spare_bytes = 0;  // emptied pools go back, so left-out pools move into the index
  alloy_tlsf *tlsf = Create(config);
  std::vector<alloy_block> blocks;
  for (int i = 0; i < 100; ++i) {
    alloy_block block;
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 12 << 10, 16, &block), ALLOY_OK);
    blocks.push_back(block);
  }
  ASSERT_EQ(StatsOf(tlsf).pool_count, 100u) << "one pool per block";
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  int on_stack[4];
  EXPECT_FALSE(alloy_tlsf_owns(tlsf, on_stack));
  for (const alloy_block &b : blocks) {
    EXPECT_TRUE(alloy_tlsf_owns(tlsf, b.ptr));
    EXPECT_TRUE(alloy_tlsf_owns(tlsf, static_cast<char *>(b.ptr) + b.size - 1));
  }
  // Free the first-grown pools (the indexed ones) and some late ones.
  for (size_t i = 0; i < blocks.size(); i += i < 64 ? 1 : 3) {
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf, blocks[i]), ALLOY_OK);
    EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK) << "after freeing block " << i;
    EXPECT_FALSE(alloy_tlsf_owns(tlsf, blocks[i].ptr)) << "its pool went back";
    blocks[i].ptr = nullptr;
  }
  for (const alloy_block &b : blocks)
    if (b.ptr != nullptr) {
      EXPECT_TRUE(alloy_tlsf_owns(tlsf, b.ptr));
      EXPECT_EQ(alloy_tlsf_deallocate(tlsf, b), ALLOY_OK);
    }
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  EXPECT_EQ(StatsOf(tlsf).pool_count, 0u);
  alloy_tlsf_destroy(tlsf);
}

TEST(TlsfPools, MaxBytesCapsGrowth) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 0;
  config.growth_size = 64 << 10;
  config.max_bytes = 512 << 10;
  alloy_tlsf *tlsf = Create(config);
  std::vector<alloy_block> blocks;
  alloy_block block;
  alloy_status status;
  while ((status = alloy_tlsf_allocate(tlsf, 4000, 16, &block)) == ALLOY_OK) blocks.push_back(block);
  EXPECT_EQ(status, ALLOY_E_CAPACITY);
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_LE(stats.held_bytes, config.max_bytes);
  EXPECT_GT(stats.held_bytes, config.max_bytes / 2);
  for (const alloy_block &b : blocks) EXPECT_EQ(alloy_tlsf_deallocate(tlsf, b), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

TEST(TlsfPools, PlatformRefusalsAreStatuses) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  alloy_tlsf *tlsf = nullptr;
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(tlsf, nullptr);
  config.initial_pool_size = 16 << 10;
  config.growth_size = 64 << 10;
  tlsf = Create(config);
  alloy_block kept;
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 8000, 16, &kept), ALLOY_OK);
  alloy_test::Fill(kept.ptr, 8000, 5);
  alloy_block block = {nullptr, 0};
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_tlsf_allocate(tlsf, 32000, 16, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(block.ptr, nullptr);
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_tlsf_reallocate(tlsf, kept, 60000, 16, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_TRUE(alloy_test::Check(kept.ptr, 8000, 5));
  alloy_platform_fail_reset();
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 32000, 16, &block), ALLOY_OK) << "recovers";
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, block), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_deallocate(tlsf, kept), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

TEST(TlsfPools, BadConfigs) {
  alloy_tlsf *tlsf = nullptr;
  alloy_tlsf_config config = alloy_tlsf_config_default();
  EXPECT_EQ(alloy_tlsf_create(nullptr, &tlsf), ALLOY_E_INVALID_ARGUMENT);
  config.growth = ALLOY_TLSF_GROW_PARENT;
  EXPECT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_E_INVALID_ARGUMENT) << "parent growth without parent";
  config = alloy_tlsf_config_default();
  config.numa_node = -7;
  EXPECT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_E_INVALID_ARGUMENT);
  config.numa_node = alloy_numa_node_count();
  EXPECT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_E_UNAVAILABLE) << "a node this machine does not have";
  config = alloy_tlsf_config_default();
  config.max_bytes = 4096;
  EXPECT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_E_INVALID_ARGUMENT) << "initial pool above max_bytes";
  EXPECT_EQ(tlsf, nullptr);
}

TEST(TlsfPools, CreateInPlaceUsesOnlyCallerMemory) {
  std::vector<unsigned char> memory(alloy_tlsf_control_size() + (32 << 10));
  alloy_tlsf *tlsf = nullptr;
  EXPECT_EQ(alloy_tlsf_create_in_place(memory.data(), 100, &tlsf), ALLOY_E_INVALID_ARGUMENT);
  ASSERT_EQ(alloy_tlsf_create_in_place(memory.data(), memory.size(), &tlsf), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 1000, 64, &block), ALLOY_OK);
  EXPECT_GE(static_cast<unsigned char *>(block.ptr), memory.data());
  EXPECT_LT(static_cast<unsigned char *>(block.ptr), memory.data() + memory.size());
  EXPECT_EQ(alloy_tlsf_allocate(tlsf, 64 << 10, 16, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

// The pools go on the node asked for; the kernel's own page-node query says where.
TEST(TlsfNuma, PoolsAreBoundToTheNode) {
  int local = -1;
  ASSERT_EQ(alloy_numa_current_node(&local), ALLOY_OK);
  for (int node : {ALLOY_TLSF_NUMA_LOCAL, 0}) {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    config.numa_node = node;
    config.initial_pool_size = 64 << 10;
    config.growth_size = 256 << 10;
    alloy_tlsf *tlsf = Create(config);
    alloy_block small, grown;
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 1000, 16, &small), ALLOY_OK);
    ASSERT_EQ(alloy_tlsf_allocate(tlsf, 200 << 10, 16, &grown), ALLOY_OK);  // forces a grown pool
    std::memset(small.ptr, 1, small.size);
    std::memset(grown.ptr, 1, grown.size);
    const int expected = node == ALLOY_TLSF_NUMA_LOCAL ? local : node;
    for (void *ptr : {small.ptr, grown.ptr}) {
      int placed = -1;
      ASSERT_EQ(alloy_numa_node_of(ptr, &placed), ALLOY_OK);
      EXPECT_EQ(placed, expected);
    }
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf, grown), ALLOY_OK);
    EXPECT_EQ(alloy_tlsf_deallocate(tlsf, small), ALLOY_OK);
    alloy_tlsf_destroy(tlsf);
  }
}

TEST(TlsfTools, UseAfterFreeIsReportedByAsan) {
  if (!alloy_test::kAsan) GTEST_SKIP() << "needs the asan config";
  alloy_tlsf_config config = alloy_tlsf_config_default();
  alloy_tlsf *tlsf = Create(config);
  alloy_block block;
  ASSERT_EQ(alloy_tlsf_allocate(tlsf, 256, 16, &block), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_deallocate(tlsf, block), ALLOY_OK);
  volatile char *p = static_cast<char *>(block.ptr) + 64;
  EXPECT_DEATH(*p = 1, "use-after-poison");
  alloy_tlsf_destroy(tlsf);
}

TEST(TlsfTools, UseAfterFreeIsReportedByMemcheck) {
  if (!alloy_test::UnderValgrind()) GTEST_SKIP() << "needs the valgrind config";
  EXPECT_EXIT(
      {
        alloy_tlsf_config config = alloy_tlsf_config_default();
        alloy_tlsf *tlsf = nullptr;
        if (alloy_tlsf_create(&config, &tlsf) != ALLOY_OK) std::exit(1);
        alloy_block block;
        if (alloy_tlsf_allocate(tlsf, 256, 16, &block) != ALLOY_OK) std::exit(1);
        ALLOY_IGNORE_STATUS(alloy_tlsf_deallocate(tlsf, block));
        static_cast<volatile char *>(block.ptr)[64] = 1;
        std::exit(0);
      },
      ::testing::ExitedWithCode(97), "");
}

// A purged hole is free memory like any other: touching it is reported.
// Blocks of 100000 B with fences between, all freed past a 16 KiB dirty
// limit: the first one's pages are purged by the time the last is freed.
void *PurgedHole(alloy_tlsf **out) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.dirty_limit = 16 << 10;
  alloy_tlsf *tlsf = nullptr;
  if (alloy_tlsf_create(&config, &tlsf) != ALLOY_OK) return nullptr;
  alloy_block blocks[4], fences[4];
  for (int i = 0; i < 4; ++i) {
    if (alloy_tlsf_allocate(tlsf, 100000, 16, &blocks[i]) != ALLOY_OK) return nullptr;
    if (alloy_tlsf_allocate(tlsf, 64, 16, &fences[i]) != ALLOY_OK) return nullptr;
    std::memset(blocks[i].ptr, 1, blocks[i].size);
  }
  for (const alloy_block &b : blocks) ALLOY_IGNORE_STATUS(alloy_tlsf_deallocate(tlsf, b));
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  if (stats.purge_calls == 0) return nullptr;
  *out = tlsf;
  return static_cast<char *>(blocks[0].ptr) + 50000;
}

TEST(TlsfTools, TouchingAPurgedHoleIsReportedByAsan) {
  if (!alloy_test::kAsan) GTEST_SKIP() << "needs the asan config";
  alloy_tlsf *tlsf = nullptr;
  volatile char *p = static_cast<volatile char *>(PurgedHole(&tlsf));
  ASSERT_NE(p, nullptr);
  EXPECT_DEATH(*p = 1, "use-after-poison");
  EXPECT_EQ(alloy_tlsf_check(tlsf), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

TEST(TlsfTools, TouchingAPurgedHoleIsReportedByMemcheck) {
  if (!alloy_test::UnderValgrind()) GTEST_SKIP() << "needs the valgrind config";
  EXPECT_EXIT(
      {
        alloy_tlsf *tlsf = nullptr;
        volatile char *p = static_cast<volatile char *>(PurgedHole(&tlsf));
        if (p == nullptr) std::exit(1);
        *p = 1;
        std::exit(0);
      },
      ::testing::ExitedWithCode(97), "");
}

}  // namespace
