#include "tests/cpp/strategy_cases.h"

#include <gtest/gtest.h>

#include "alloy/debug.h"
#include "alloy/fallback.h"
#include "alloy/frame.h"
#include "alloy/huge_page.h"
#include "alloy/locked.h"
#include "alloy/partition.h"
#include "alloy/pool.h"
#include "alloy/small_object.h"
#include "alloy/stack.h"
#include "alloy/stats.h"
#include "alloy/system.h"
#include "alloy/tagged.h"
#include "alloy/tlsf.h"

namespace alloy_test {
namespace {

constexpr size_t kUnbounded = size_t{1} << 20;  // more than any test asks for
constexpr size_t kPoolBlock = 1024;

// Fails the test (and returns nullptr) when a create call is refused.
bool Created(alloy_status status, const char *what) {
  EXPECT_EQ(status, ALLOY_OK) << what << ": " << alloy_status_name(status);
  return status == ALLOY_OK;
}

std::shared_ptr<alloy_resource> Frame() {
  alloy_frame_config config = alloy_frame_config_default(size_t{64} << 20);
  alloy_frame *frame = nullptr;
  if (!Created(alloy_frame_create(&config, &frame), "frame")) return nullptr;
  return {alloy_frame_resource(frame), [frame](alloy_resource *) { alloy_frame_destroy(frame); }};
}

std::shared_ptr<alloy_resource> Stack() {
  alloy_stack_config config = alloy_stack_config_default(size_t{16} << 20);
  alloy_stack *stack = nullptr;
  if (!Created(alloy_stack_create(&config, &stack), "stack")) return nullptr;
  return {alloy_stack_resource(stack), [stack](alloy_resource *) { alloy_stack_destroy(stack); }};
}

std::shared_ptr<alloy_resource> Pool() {
  alloy_pool_config config = alloy_pool_config_default(kPoolBlock);
  alloy_pool *pool = nullptr;
  if (!Created(alloy_pool_create(&config, &pool), "pool")) return nullptr;
  return {alloy_pool_resource(pool), [pool](alloy_resource *) { alloy_pool_destroy(pool); }};
}

alloy_small_object *SmallObjectHeap() {
  alloy_small_object_config config = {};
  config.max_size = ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE;
  config.capacity = size_t{256} << 20;
  alloy_small_object *heap = nullptr;
  return Created(alloy_small_object_create(&config, &heap), "small_object") ? heap : nullptr;
}

std::shared_ptr<alloy_resource> SmallObject() {
  alloy_small_object *heap = SmallObjectHeap();
  if (heap == nullptr) return nullptr;
  return {alloy_small_object_resource(heap), [heap](alloy_resource *) { alloy_small_object_destroy(heap); }};
}

alloy_tlsf *Tlsf() {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  alloy_tlsf *tlsf = nullptr;
  return Created(alloy_tlsf_create(&config, &tlsf), "tlsf") ? tlsf : nullptr;
}

std::shared_ptr<alloy_resource> TlsfResource() {
  alloy_tlsf *tlsf = Tlsf();
  if (tlsf == nullptr) return nullptr;
  return {alloy_tlsf_resource(tlsf), [tlsf](alloy_resource *) { alloy_tlsf_destroy(tlsf); }};
}

std::shared_ptr<alloy_resource> Partition() {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  root_config.reserve_bytes = size_t{64} << 20;
  alloy_partition_root *root = nullptr;
  if (!Created(alloy_partition_root_create(&root_config, &root), "partition root")) return nullptr;
  alloy_partition_config config = alloy_partition_config_default();
  alloy_partition *partition = nullptr;
  if (!Created(alloy_partition_create(root, "cpp", &config, &partition), "partition")) {
    alloy_partition_root_destroy(root);
    return nullptr;
  }
  return {alloy_partition_resource(partition), [root, partition](alloy_resource *) {
            alloy_partition_destroy(partition);
            alloy_partition_root_destroy(root);
          }};
}

std::shared_ptr<alloy_resource> HugePage() {
  alloy_huge_page_config config = alloy_huge_page_config_default();
  config.capacity = size_t{8} << 20;
  alloy_huge_page_arena *arena = nullptr;
  if (!Created(alloy_huge_page_arena_create(&config, &arena), "huge_page")) return nullptr;
  return {alloy_huge_page_arena_resource(arena), [arena](alloy_resource *) { alloy_huge_page_arena_destroy(arena); }};
}

std::shared_ptr<alloy_resource> System() {
  return {alloy_system_resource(), [](alloy_resource *) {}};
}

// The spec's chain: small objects first, TLSF for the rest, the C heap last.
std::shared_ptr<alloy_resource> Fallback() {
  alloy_small_object *heap = SmallObjectHeap();
  alloy_tlsf *tlsf = Tlsf();
  auto chain = std::make_shared<alloy_fallback>();
  alloy_resource *members[] = {heap ? alloy_small_object_resource(heap) : nullptr,
                               tlsf ? alloy_tlsf_resource(tlsf) : nullptr, alloy_system_resource()};
  auto destroy_members = [heap, tlsf] {
    if (tlsf != nullptr) alloy_tlsf_destroy(tlsf);
    if (heap != nullptr) alloy_small_object_destroy(heap);
  };
  if (heap == nullptr || tlsf == nullptr || !Created(alloy_fallback_init(chain.get(), members, 3), "fallback")) {
    destroy_members();
    return nullptr;
  }
  return {alloy_fallback_resource(chain.get()), [chain, destroy_members](alloy_resource *) { destroy_members(); }};
}

// debug(tagged(stats(locked(tlsf)))): every concern between the container
// and the strategy at once.
std::shared_ptr<alloy_resource> DecoratorStack() {
  alloy_tlsf *tlsf = Tlsf();
  if (tlsf == nullptr) return nullptr;
  alloy_locked *locked = nullptr;
  alloy_stats *stats = nullptr;
  alloy_tagged *tagged = nullptr;
  alloy_debug *debug = nullptr;
  auto destroy_all = [&tlsf, &locked, &stats, &tagged, &debug] {
    if (debug != nullptr) alloy_debug_destroy(debug);
    if (tagged != nullptr) alloy_tagged_destroy(tagged);
    if (stats != nullptr) alloy_stats_destroy(stats);
    if (locked != nullptr) alloy_locked_destroy(locked);
    alloy_tlsf_destroy(tlsf);
  };
  if (!Created(alloy_locked_create(alloy_tlsf_resource(tlsf), nullptr, &locked), "locked") ||
      !Created(alloy_stats_create(alloy_locked_resource(locked), nullptr, &stats), "stats") ||
      !Created(alloy_tagged_create(alloy_stats_resource(stats), nullptr, &tagged), "tagged") ||
      !Created(alloy_debug_create(alloy_tagged_resource(tagged), nullptr, &debug), "debug")) {
    destroy_all();
    return nullptr;
  }
  return {alloy_debug_resource(debug), [tlsf, locked, stats, tagged, debug](alloy_resource *) {
            alloy_debug_destroy(debug);
            alloy_tagged_destroy(tagged);
            alloy_stats_destroy(stats);
            alloy_locked_destroy(locked);
            alloy_tlsf_destroy(tlsf);
          }};
}

}  // namespace

std::vector<StrategyCase> StrategyCases() {
  return {
      {"frame", Frame, kUnbounded, false},
      {"stack", Stack, kUnbounded, true},
      {"pool", Pool, kPoolBlock, false},
      {"small_object", SmallObject, ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE, false},
      {"tlsf", TlsfResource, kUnbounded, false},
      {"partition", Partition, 8192, false},
      {"huge_page", HugePage, kUnbounded, false},
      {"system", System, kUnbounded, false},
      {"fallback", Fallback, kUnbounded, false},
      {"decorator_stack", DecoratorStack, kUnbounded, false},
  };
}

}  // namespace alloy_test
