// TLSF virtual mode (alloy_tlsf_virtual_*): random traces against a shadow
// model of non-overlapping live ranges, a range mapped PROT_NONE that must
// never be touched, every bad input, and check / walk / stats agreeing; its
// resource face over mapped memory runs the resource contract.
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/resource.h"
#include "alloy/system.h"
#include "alloy/tlsf.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/support.h"

namespace {

using alloy_test::ResourceContract;

constexpr size_t kMiB = size_t{1} << 20;

alloy_tlsf_virtual *Create(size_t range_bytes, uintptr_t base = 0, alloy_resource *metadata = nullptr,
                           size_t max_metadata_bytes = 0) {
  alloy_tlsf_virtual_config config = {};
  config.base = base;
  config.range_bytes = range_bytes;
  config.metadata = metadata;
  config.max_metadata_bytes = max_metadata_bytes;
  alloy_tlsf_virtual *v = nullptr;
  EXPECT_EQ(alloy_tlsf_virtual_create(&config, &v), ALLOY_OK);
  return v;
}

alloy_tlsf_virtual_stats Stats(const alloy_tlsf_virtual *v) {
  alloy_tlsf_virtual_stats stats;
  alloy_tlsf_virtual_get_stats(v, &stats);
  return stats;
}

struct WalkedBlock {
  size_t offset, size;
  bool used;
};

std::vector<WalkedBlock> Walk(const alloy_tlsf_virtual *v) {
  std::vector<WalkedBlock> blocks;
  alloy_tlsf_virtual_walk(
      v,
      [](size_t offset, size_t size, bool used, void *context) {
        static_cast<std::vector<WalkedBlock> *>(context)->push_back({offset, size, used});
        return true;
      },
      &blocks);
  return blocks;
}

// The live blocks as the caller sees them: offset -> (size asked, usable).
struct Live {
  size_t asked, usable;
};
using Shadow = std::map<size_t, Live>;

// The instance agrees with the shadow: check passes, the walk tiles the
// range with exactly the shadow's used blocks and no two free neighbours,
// and the stats count the same.
void ExpectAgrees(const alloy_tlsf_virtual *v, const Shadow &shadow, size_t range) {
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  const std::vector<WalkedBlock> blocks = Walk(v);
  size_t at = 0, live = 0, used = 0, free_blocks = 0, largest = 0;
  bool prev_free = false;
  for (const WalkedBlock &b : blocks) {
    ASSERT_EQ(b.offset, at);
    at += b.size;
    if (b.used) {
      auto it = shadow.find(b.offset);
      ASSERT_NE(it, shadow.end()) << "a used block the caller does not hold at " << b.offset;
      ASSERT_EQ(it->second.usable, b.size);
      live += b.size;
      ++used;
    } else {
      ASSERT_FALSE(prev_free) << "two free neighbours at " << b.offset;
      ++free_blocks;
      if (b.size > largest) largest = b.size;
    }
    prev_free = !b.used;
  }
  ASSERT_EQ(at, range);
  ASSERT_EQ(used, shadow.size());
  const alloy_tlsf_virtual_stats stats = Stats(v);
  EXPECT_EQ(stats.live_bytes, live);
  EXPECT_EQ(stats.used_blocks, used);
  EXPECT_EQ(stats.free_blocks, free_blocks);
  EXPECT_EQ(stats.largest_free_block, largest);
  EXPECT_EQ(stats.free_bytes, range - live);
  EXPECT_EQ(stats.range_bytes, range);
  // Bounded metadata: a record per block at most 2 * used + 1 blocks, spares
  // from at most the peak; chunks double, so at most twice that again.
  EXPECT_LE(blocks.size(), 2 * used + 1);
}

// Runs `steps` random allocations and frees against the shadow, checking the
// placement of every block (inside the range, aligned, overlapping no live
// one) and the whole instance every `check_every` steps.
void RandomTrace(alloy_tlsf_virtual *v, size_t range, uintptr_t base, uint32_t seed, size_t steps,
                 size_t check_every) {
  std::mt19937_64 rng(seed);
  Shadow shadow;
  size_t failures = 0;
  for (size_t step = 0; step < steps; ++step) {
    const bool allocate = shadow.empty() || rng() % 100 < 55;
    if (allocate) {
      const size_t size = rng() % 8 == 0 ? rng() % 16 : size_t{16} << (rng() % 14);
      const size_t asked = size == 0 ? 0 : size - rng() % (size / 2 + 1);
      const size_t align = rng() % 4 == 0 ? size_t{1} << (rng() % 21) : 1;
      size_t offset = 0, usable = 0;
      const alloy_status status = alloy_tlsf_virtual_allocate(v, asked, align, &offset, &usable);
      if (status != ALLOY_OK) {
        ASSERT_EQ(status, ALLOY_E_OUT_OF_MEMORY);
        ++failures;
        continue;
      }
      ASSERT_GE(usable, asked);
      ASSERT_EQ(usable % 16, 0u);
      ASSERT_LT(usable, asked + 16 + (asked == 0 ? 16 : 0));
      ASSERT_EQ((base + offset) % align, 0u) << "align " << align;
      ASSERT_LE(offset + usable, range);
      auto next = shadow.lower_bound(offset);
      if (next != shadow.end()) {
        ASSERT_LE(offset + usable, next->first) << "overlaps the next live block";
      }
      if (next != shadow.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + prev->second.usable, offset) << "overlaps the previous live block";
      }
      shadow[offset] = {asked, usable};
    } else {
      auto it = shadow.begin();
      std::advance(it, static_cast<long>(rng() % shadow.size()));
      // Either size the contract allows: the one asked for or the one given.
      const size_t size = rng() % 2 ? it->second.asked : it->second.usable;
      ASSERT_EQ(alloy_tlsf_virtual_free(v, it->first, size), ALLOY_OK);
      shadow.erase(it);
    }
    if (step % check_every == 0) {
      ASSERT_NO_FATAL_FAILURE(ExpectAgrees(v, shadow, range));
    }
  }
  ASSERT_NO_FATAL_FAILURE(ExpectAgrees(v, shadow, range));
  const alloy_tlsf_virtual_stats stats = Stats(v);
  EXPECT_EQ(stats.failures, failures);
  for (auto &entry : shadow) ASSERT_EQ(alloy_tlsf_virtual_free(v, entry.first, entry.second.asked), ALLOY_OK);
  shadow.clear();
  ASSERT_NO_FATAL_FAILURE(ExpectAgrees(v, shadow, range));
  EXPECT_EQ(Stats(v).free_blocks, 1u) << "everything merged back into one block";
}

TEST(TlsfVirtual, RandomTracesMatchTheShadowModel) {
  const size_t steps = alloy_test::Scaled(20000, 2000);
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    const size_t range = (seed == 3 ? 4 : 64) * kMiB;  // seed 3 runs out of room often
    alloy_tlsf_virtual *v = Create(range);
    ASSERT_NE(v, nullptr);
    ASSERT_NO_FATAL_FAILURE(RandomTrace(v, range, 0, seed, steps, 97));
    alloy_tlsf_virtual_destroy(v);
  }
}

TEST(TlsfVirtual, ARangeMappedWithoutAccessIsNeverTouched) {
  const size_t range = 64 * kMiB;
  void *memory = mmap(nullptr, range, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  const uintptr_t base = reinterpret_cast<uintptr_t>(memory);
  alloy_tlsf_virtual *v = Create(range, base);
  ASSERT_NE(v, nullptr);
  // Any read or write of the range faults (SIGSEGV ends the test).
  ASSERT_NO_FATAL_FAILURE(RandomTrace(v, range, base, 7, alloy_test::Scaled(20000, 2000), 211));
  // The resource face hands out addresses in the range, also untouched.
  alloy_resource *resource = alloy_tlsf_virtual_resource(v);
  ASSERT_NE(resource, nullptr);
  std::vector<alloy_block> blocks;
  for (size_t i = 0; i < 1000; ++i) {
    alloy_block block;
    ASSERT_EQ(alloy_resource_allocate(resource, 64 + i * 48, i % 3 == 0 ? 4096 : 16, &block), ALLOY_OK);
    ASSERT_GE(reinterpret_cast<uintptr_t>(block.ptr), base);
    ASSERT_LE(reinterpret_cast<uintptr_t>(block.ptr) + block.size, base + range);
    ASSERT_TRUE(alloy_resource_owns(resource, block));
    blocks.push_back(block);
  }
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  for (const alloy_block &block : blocks) ASSERT_EQ(alloy_resource_deallocate(resource, block, 16), ALLOY_OK);
  EXPECT_EQ(Stats(v).used_blocks, 0u);
  alloy_resource_info info;
  alloy_resource_get_info(resource, &info);
  EXPECT_STREQ(info.name, "tlsf_virtual");
  EXPECT_EQ(info.stats.live_bytes, 0u);
  EXPECT_EQ(info.stats.committed_bytes, Stats(v).metadata_bytes) << "no used block: an empty prefix";
  alloy_tlsf_virtual_destroy(v);
  ASSERT_EQ(munmap(memory, range), 0);
}

TEST(TlsfVirtual, AnOffsetRangeHasNoResourceFace) {
  alloy_tlsf_virtual *v = Create(kMiB);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(alloy_tlsf_virtual_resource(v), nullptr);
  EXPECT_TRUE(alloy_tlsf_virtual_owns(v, 0));
  EXPECT_TRUE(alloy_tlsf_virtual_owns(v, kMiB - 1));
  EXPECT_FALSE(alloy_tlsf_virtual_owns(v, kMiB));
  alloy_tlsf_virtual_destroy(v);
}

TEST(TlsfVirtual, BadConfigsAreRefused) {
  alloy_tlsf_virtual *v = nullptr;
  alloy_tlsf_virtual_config config = {};
  EXPECT_EQ(alloy_tlsf_virtual_create(nullptr, &v), ALLOY_E_INVALID_ARGUMENT);
  config.range_bytes = 15;
  EXPECT_EQ(alloy_tlsf_virtual_create(&config, &v), ALLOY_E_INVALID_ARGUMENT) << "below one granule";
  config.range_bytes = ALLOY_TLSF_VIRTUAL_RANGE_MAX + 16;
  EXPECT_EQ(alloy_tlsf_virtual_create(&config, &v), ALLOY_E_INVALID_ARGUMENT) << "above the largest block";
  config.range_bytes = kMiB;
  config.base = 0x1008;
  EXPECT_EQ(alloy_tlsf_virtual_create(&config, &v), ALLOY_E_INVALID_ARGUMENT) << "misaligned base";
  config.base = UINTPTR_MAX - 4095;
  EXPECT_EQ(alloy_tlsf_virtual_create(&config, &v), ALLOY_E_INVALID_ARGUMENT) << "wraps the address space";
  config.base = 0;
  config.max_metadata_bytes = 64;
  EXPECT_EQ(alloy_tlsf_virtual_create(&config, &v), ALLOY_E_CAPACITY) << "the instance alone is over the cap";
  EXPECT_EQ(v, nullptr);
  // The range is rounded down to 16.
  config.max_metadata_bytes = 0;
  config.range_bytes = 1000;
  ASSERT_EQ(alloy_tlsf_virtual_create(&config, &v), ALLOY_OK);
  EXPECT_EQ(Stats(v).range_bytes, 992u);
  alloy_tlsf_virtual_destroy(v);
}

TEST(TlsfVirtual, RequestsGetClearStatuses) {
  const size_t range = 16 * kMiB;
  alloy_tlsf_virtual *v = Create(range);
  ASSERT_NE(v, nullptr);
  size_t offset = 1, usable = 0;
  // Zero size: a block like any other, freed like any other.
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 0, 1, &offset, &usable), ALLOY_OK);
  EXPECT_EQ(usable, 16u);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, offset, 0), ALLOY_OK);
  // Huge sizes.
  EXPECT_EQ(alloy_tlsf_virtual_allocate(v, range + 1, 1, &offset, &usable), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_tlsf_virtual_allocate(v, SIZE_MAX, 1, &offset, &usable), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_tlsf_virtual_allocate(v, SIZE_MAX - 8, 16, &offset, &usable), ALLOY_E_INVALID_ARGUMENT);
  // Alignments: not a power of two, zero.
  EXPECT_EQ(alloy_tlsf_virtual_allocate(v, 64, 48, &offset, &usable), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_tlsf_virtual_allocate(v, 64, 0, &offset, &usable), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(Stats(v).failures, 5u);
  // Alignment above a page is legal: any power of two up to the range.
  size_t small;
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 100, 1, &small, &usable), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 100, 2 * kMiB, &offset, &usable), ALLOY_OK);
  EXPECT_EQ(offset % (2 * kMiB), 0u);
  EXPECT_EQ(offset, 2 * kMiB) << "the first 2 MiB boundary after the small block";
  size_t second;
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 4096, 8 * kMiB, &second, &usable), ALLOY_OK);
  EXPECT_EQ(second, 8 * kMiB);
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, offset, 100), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, second, 4096), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, small, 100), ALLOY_OK);
  // The whole range at an alignment of the range: offset 0, even though the
  // search that reserves size + align could not find it.
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, range, range, &offset, &usable), ALLOY_OK);
  EXPECT_EQ(offset, 0u);
  EXPECT_EQ(usable, range);
  // Exhaustion.
  EXPECT_EQ(alloy_tlsf_virtual_allocate(v, 16, 1, &second, &usable), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, 0, range), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  alloy_tlsf_virtual_destroy(v);
}

TEST(TlsfVirtual, ExhaustionLeavesEverythingIntact) {
  const size_t range = kMiB;
  alloy_tlsf_virtual *v = Create(range);
  ASSERT_NE(v, nullptr);
  std::vector<size_t> offsets;
  size_t offset, usable;
  while (alloy_tlsf_virtual_allocate(v, 4096, 1, &offset, &usable) == ALLOY_OK) offsets.push_back(offset);
  EXPECT_EQ(offsets.size(), range / 4096) << "no header: the range holds exactly range / size blocks";
  EXPECT_EQ(Stats(v).free_bytes, 0u);
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  // Free every other block: 4 KiB holes, so 8 KiB cannot be had.
  for (size_t i = 0; i < offsets.size(); i += 2) ASSERT_EQ(alloy_tlsf_virtual_free(v, offsets[i], 4096), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_virtual_allocate(v, 8192, 1, &offset, &usable), ALLOY_E_OUT_OF_MEMORY);
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 4096, 1, &offset, &usable), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  alloy_tlsf_virtual_destroy(v);
}

TEST(TlsfVirtual, BadFreesAreReportedByKind) {
  alloy_test::FaultRecorder faults;
  const size_t range = kMiB;
  alloy_tlsf_virtual *v = Create(range);
  ASSERT_NE(v, nullptr);
  size_t a, b, c, usable;
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 1000, 1, &a, &usable), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 1000, 1, &b, &usable), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 1000, 1, &c, &usable), ALLOY_OK);
  // Foreign: outside the range, and inside it where nothing was handed out.
  EXPECT_EQ(alloy_tlsf_virtual_free(v, range, 16), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, SIZE_MAX - 15, 16), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, range / 2, 16), ALLOY_E_NOT_OWNED);
  // Inside a used block.
  EXPECT_EQ(alloy_tlsf_virtual_free(v, b + 16, 16), ALLOY_E_INTERIOR_POINTER);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, b + 3, 16), ALLOY_E_INTERIOR_POINTER);
  // Wrong sizes: larger than the block, or rounding to a smaller one.
  EXPECT_EQ(alloy_tlsf_virtual_free(v, b, 1024), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, b, 900), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, b, SIZE_MAX), ALLOY_E_SIZE_MISMATCH);
  // Double free: b stays a block of its own between used a and c.
  EXPECT_EQ(alloy_tlsf_virtual_free(v, b, 1000), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, b, 1000), ALLOY_E_DOUBLE_FREE);
  // Once c merged into free b its offset is free space, not a block.
  EXPECT_EQ(alloy_tlsf_virtual_free(v, c, 1000), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, c, 1000), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 4u);
  EXPECT_EQ(faults.count(ALLOY_E_INTERIOR_POINTER), 2u);
  EXPECT_EQ(faults.count(ALLOY_E_SIZE_MISMATCH), 3u);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_NE(faults.last_message().find("tlsf_virtual"), std::string::npos) << faults.last_message();
  // None of it changed the instance.
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  EXPECT_EQ(Stats(v).used_blocks, 1u);
  EXPECT_EQ(Stats(v).live_bytes, 1008u);
  EXPECT_EQ(alloy_tlsf_virtual_free(v, a, 1008), ALLOY_OK);
  alloy_tlsf_virtual_destroy(v);
}

TEST(TlsfVirtual, TheResourceFaceReportsForeignPointers) {
  alloy_test::FaultRecorder faults;
  alignas(16) static char backing[4096];
  alloy_tlsf_virtual *v = Create(sizeof backing, reinterpret_cast<uintptr_t>(backing));
  ASSERT_NE(v, nullptr);
  alloy_resource *resource = alloy_tlsf_virtual_resource(v);
  int on_stack[4];
  const alloy_block foreign = alloy_block_make(on_stack, sizeof on_stack);
  EXPECT_FALSE(alloy_resource_owns(resource, foreign));
  EXPECT_EQ(alloy_resource_deallocate(resource, foreign, 16), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(alloy_resource_deallocate(resource, alloy_block_make(nullptr, 0), 16), ALLOY_OK);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
  alloy_tlsf_virtual_destroy(v);
}

// A resource that counts what it hands out and can be told to refuse.
struct CountingResource {
  alloy_resource resource;
  size_t outstanding = 0;
  bool refuse = false;
};

alloy_status CountingAllocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  auto *counting = reinterpret_cast<CountingResource *>(self);
  if (counting->refuse) return ALLOY_E_OUT_OF_MEMORY;
  ALLOY_TRY(alloy_resource_allocate(alloy_system_resource(), size, align, out));
  out->size = size;  // what deallocate will be told, so the count balances
  counting->outstanding += size;
  return ALLOY_OK;
}

alloy_status CountingDeallocate(alloy_resource *self, alloy_block block, size_t align) {
  auto *counting = reinterpret_cast<CountingResource *>(self);
  counting->outstanding -= block.size;
  return alloy_resource_deallocate(alloy_system_resource(), block, align);
}

void CountingInfo(const alloy_resource *, alloy_resource_info *info) { info->thread_safety = ALLOY_THREAD_UNSAFE; }

const alloy_resource_ops kCountingOps = [] {
  alloy_resource_ops ops = {};
  ops.struct_size = sizeof ops;
  ops.name = "counting";
  ops.allocate = CountingAllocate;
  ops.deallocate = CountingDeallocate;
  ops.get_info = CountingInfo;
  return ops;
}();

TEST(TlsfVirtual, MetadataComesFromTheNamedResourceAndIsCapped) {
  CountingResource counting;
  counting.resource.ops = &kCountingOps;
  alloy_tlsf_virtual *v = Create(64 * kMiB, 0, &counting.resource, 64 * 1024);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(counting.outstanding, Stats(v).metadata_bytes) << "all metadata from the resource";
  EXPECT_GT(counting.outstanding, 0u);
  // Blocks until the metadata cap stops them: a record per block.
  std::vector<size_t> offsets;
  size_t offset, usable;
  alloy_status status;
  while ((status = alloy_tlsf_virtual_allocate(v, 64, 1, &offset, &usable)) == ALLOY_OK) offsets.push_back(offset);
  EXPECT_EQ(status, ALLOY_E_CAPACITY);
  EXPECT_LE(Stats(v).metadata_bytes, 64u * 1024);
  EXPECT_EQ(counting.outstanding, Stats(v).metadata_bytes);
  EXPECT_GT(offsets.size(), 200u) << "the instance, records and map share 64 KiB";
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  // Freed records are reused: the same number of blocks fits again.
  const size_t held = Stats(v).metadata_bytes;
  for (size_t o : offsets) ASSERT_EQ(alloy_tlsf_virtual_free(v, o, 64), ALLOY_OK);
  for (size_t i = 0; i < offsets.size(); ++i)
    ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 64, 1, &offsets[i], &usable), ALLOY_OK);
  EXPECT_EQ(Stats(v).metadata_bytes, held);
  // A source that refuses: its status, nothing changed.
  counting.refuse = true;
  const alloy_tlsf_virtual_stats before = Stats(v);
  while ((status = alloy_tlsf_virtual_allocate(v, 64, 1, &offset, &usable)) == ALLOY_OK) offsets.push_back(offset);
  EXPECT_TRUE(status == ALLOY_E_CAPACITY || status == ALLOY_E_OUT_OF_MEMORY) << alloy_status_name(status);
  EXPECT_EQ(Stats(v).metadata_bytes, before.metadata_bytes);
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  alloy_tlsf_virtual_destroy(v);
  EXPECT_EQ(counting.outstanding, 0u) << "destroy gives every piece back";
  counting.refuse = true;
  alloy_tlsf_virtual_config config = {};
  config.range_bytes = kMiB;
  config.metadata = &counting.resource;
  EXPECT_EQ(alloy_tlsf_virtual_create(&config, &v), ALLOY_E_OUT_OF_MEMORY);
}

// The checker must catch broken metadata, or every "check passes" above
// would prove nothing. The metadata comes from a resource this test owns:
// the record of a block with a size no other word holds is found there and
// its size word changed.
TEST(TlsfVirtual, CheckFindsACorruptedRecord) {
  struct Recording {
    alloy_resource resource;
    std::vector<alloy_block> blocks;
  };
  static const alloy_resource_ops ops = [] {
    alloy_resource_ops o = {};
    o.struct_size = sizeof o;
    o.name = "recording";
    o.allocate = [](alloy_resource *self, size_t size, size_t align, alloy_block *out) {
      ALLOY_TRY(alloy_resource_allocate(alloy_system_resource(), size, align, out));
      out->size = size;
      std::memset(out->ptr, 0, size);  // the scan below reads every word, also those never written
      reinterpret_cast<Recording *>(self)->blocks.push_back(*out);
      return ALLOY_OK;
    };
    o.deallocate = [](alloy_resource *, alloy_block block, size_t align) {
      return alloy_resource_deallocate(alloy_system_resource(), block, align);
    };
    o.get_info = CountingInfo;
    return o;
  }();
  Recording recording;
  recording.resource.ops = &ops;
  alloy_tlsf_virtual *v = Create(kMiB, 0, &recording.resource);
  ASSERT_NE(v, nullptr);
  constexpr size_t kOddSize = 0x1230;  // a used block's size word, no flag set (its predecessor is used)
  size_t first, odd, usable;
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, 64, 1, &first, &usable), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_virtual_allocate(v, kOddSize, 1, &odd, &usable), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  size_t *word = nullptr;
  for (const alloy_block &block : recording.blocks) {
    size_t *words = static_cast<size_t *>(block.ptr);
    for (size_t i = 0; i < block.size / sizeof(size_t); ++i)
      if (words[i] == kOddSize) word = &words[i];
  }
  ASSERT_NE(word, nullptr) << "the record's size word is in the metadata";
  *word = kOddSize + 16;
  {
    alloy_test::FaultRecorder faults;
    EXPECT_EQ(alloy_tlsf_virtual_check(v), ALLOY_E_CORRUPTION);
    EXPECT_EQ(faults.count(ALLOY_E_CORRUPTION), 1u);
  }
  *word = kOddSize | 1;  // marked free, yet on no list
  {
    alloy_test::FaultRecorder faults;
    EXPECT_EQ(alloy_tlsf_virtual_check(v), ALLOY_E_CORRUPTION);
  }
  *word = kOddSize;
  EXPECT_EQ(alloy_tlsf_virtual_check(v), ALLOY_OK);
  alloy_tlsf_virtual_destroy(v);
}

TEST(TlsfVirtual, MetadataFollowsTheLiveBlocksNotTheRange) {
  // A terabyte-sized range costs no more metadata than a small one.
  alloy_tlsf_virtual *huge = Create(ALLOY_TLSF_VIRTUAL_RANGE_MAX);
  alloy_tlsf_virtual *small = Create(kMiB);
  ASSERT_NE(huge, nullptr);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(Stats(huge).metadata_bytes, Stats(small).metadata_bytes);
  size_t offset, usable;
  ASSERT_EQ(alloy_tlsf_virtual_allocate(huge, size_t{1} << 39, 1, &offset, &usable), ALLOY_OK);
  ASSERT_EQ(alloy_tlsf_virtual_check(huge), ALLOY_OK);
  EXPECT_EQ(alloy_tlsf_virtual_free(huge, offset, size_t{1} << 39), ALLOY_OK);
  // Many blocks, then all freed: records stay for reuse, bounded by the peak.
  std::vector<size_t> offsets(10000);
  for (size_t &o : offsets) ASSERT_EQ(alloy_tlsf_virtual_allocate(huge, 4096, 1, &o, &usable), ALLOY_OK);
  const alloy_tlsf_virtual_stats peak = Stats(huge);
  EXPECT_GE(peak.records, 10001u);
  EXPECT_LE(peak.records, 2 * 10001u + 2 * 4096 / 48);
  EXPECT_LE(peak.metadata_bytes, 10001u * (48 + 2 * 2 * 16) + 2 * 1024 * 1024);
  for (size_t o : offsets) ASSERT_EQ(alloy_tlsf_virtual_free(huge, o, 4096), ALLOY_OK);
  EXPECT_EQ(Stats(huge).records, peak.records);
  ASSERT_EQ(alloy_tlsf_virtual_check(huge), ALLOY_OK);
  alloy_tlsf_virtual_destroy(huge);
  alloy_tlsf_virtual_destroy(small);
}

// The resource face over 4 MiB of mapped memory (the contract writes into
// its blocks): checked, destroyed and unmapped after each test.
constexpr size_t kContractRange = 4 * kMiB;

struct MappedVirtual {
  alloy_tlsf_virtual *v;
  void *range;
};

std::map<alloy_resource *, MappedVirtual> &MappedInstances() {
  static std::map<alloy_resource *, MappedVirtual> instances;
  return instances;
}

alloy_test::ContractSubject OverMappedMemory() {
  alloy_test::ContractSubject subject;
  subject.name = "tlsf_virtual";
  subject.create = []() -> alloy_resource * {
    void *range = mmap(nullptr, kContractRange, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (range == MAP_FAILED) return nullptr;
    alloy_tlsf_virtual *v = Create(kContractRange, reinterpret_cast<uintptr_t>(range));
    if (v == nullptr) return nullptr;
    alloy_resource *resource = alloy_tlsf_virtual_resource(v);
    MappedInstances()[resource] = {v, range};
    return resource;
  };
  subject.destroy = [](alloy_resource *resource) {
    const MappedVirtual mapped = MappedInstances()[resource];
    MappedInstances().erase(resource);
    EXPECT_EQ(alloy_tlsf_virtual_check(mapped.v), ALLOY_OK);
    alloy_tlsf_virtual_destroy(mapped.v);
    munmap(mapped.range, kContractRange);
  };
  subject.max_size = kMiB;
  subject.max_alignment = kContractRange;  // the address is aligned, up to the range
  subject.bounded = true;
  subject.exhaustion_limit = kContractRange;
  return subject;
}

INSTANTIATE_TEST_SUITE_P(TlsfVirtual, ResourceContract, ::testing::Values(OverMappedMemory()),
                         alloy_test::SubjectName);

}  // namespace
