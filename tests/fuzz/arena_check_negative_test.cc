// Checker self-test for the linear strategies: corrupts one field of the
// frame's and the stack's arena at a time (public in their heads for the
// inline fast paths) and requires alloy_frame_check / alloy_stack_check to
// name the broken rule, so the fuzz targets' "check is clean" assertions
// can be trusted. An untouched control passes; restoring the field heals.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "alloy/fault.h"
#include "alloy/frame.h"
#include "alloy/stack.h"
#include "alloy/vm.h"

#include "tests/fuzz/recorded_fault.h"

namespace {

using alloy_fuzz::Record;
using alloy_fuzz::Recorded;

struct Corruption {
  const char *rule;
  std::function<void(alloy_vm_arena *)> apply;
};

std::vector<Corruption> Corruptions() {
  const size_t page = alloy_vm_page_size();
  return {
      {"the top is below the arena's base", [](alloy_vm_arena *a) { a->top = a->base - 16; }},
      {"the top is past the arena's limit", [](alloy_vm_arena *a) { a->top = a->limit + 16; }},
      {"the top is past the committed range", [](alloy_vm_arena *a) { a->top = a->committed_end + 16; }},
      {"the committed range reaches into the guard page",
       [page](alloy_vm_arena *a) { a->committed_end = a->limit + page; }},
      {"the committed range does not end on a page boundary", [](alloy_vm_arena *a) { a->committed_end += 8; }},
      {"the limit is not one guard page before the reservation's end", [](alloy_vm_arena *a) { a->reserved_size *= 2; }},
      {"the commit step is not whole pages", [](alloy_vm_arena *a) { a->commit_chunk += 1; }},
      {"the tools' extent is outside the committed range's reach",
       [](alloy_vm_arena *a) { a->tools_end = a->committed_end - 1; }},
  };
}

// Each corruption on a fresh copy of the arena's fields, put back after.
void ExpectEveryRuleReported(alloy_vm_arena *arena, const std::function<alloy_status()> &check) {
  Recorded recorded;
  alloy_fault_set_handler(Record, &recorded);
  EXPECT_EQ(check(), ALLOY_OK) << "the untouched control";
  EXPECT_EQ(recorded.faults, 0);
  for (const Corruption &corruption : Corruptions()) {
    alloy_vm_arena saved;
    std::memcpy(&saved, arena, sizeof saved);
    corruption.apply(arena);
    EXPECT_EQ(check(), ALLOY_E_CORRUPTION) << corruption.rule;
    EXPECT_EQ(recorded.faults, 1) << corruption.rule;
    EXPECT_EQ(recorded.kind, ALLOY_E_CORRUPTION);
    EXPECT_EQ(recorded.detail, corruption.rule);
    std::memcpy(arena, &saved, sizeof saved);
    recorded = Recorded{};
    EXPECT_EQ(check(), ALLOY_OK) << "restoring the arena must heal it: " << corruption.rule;
  }
  alloy_fault_set_handler(nullptr, nullptr);
}

TEST(FrameCheckNegative, EveryArenaRuleIsNamed) {
  alloy_frame_config config = alloy_frame_config_default(size_t{1} << 20);
  alloy_frame *frame = nullptr;
  ASSERT_EQ(alloy_frame_create(&config, &frame), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_frame_allocate(frame, 5000, 16, &block), ALLOY_OK);
  auto *head = reinterpret_cast<alloy_frame_head *>(frame);
  ExpectEveryRuleReported(&head->arena, [frame] { return alloy_frame_check(frame); });
  alloy_frame_destroy(frame);
}

TEST(StackCheckNegative, EveryArenaRuleIsNamed) {
  alloy_stack_config config = alloy_stack_config_default(size_t{1} << 20);
  alloy_stack *stack = nullptr;
  ASSERT_EQ(alloy_stack_create(&config, &stack), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_stack_allocate(stack, 5000, 16, &block), ALLOY_OK);
  auto *head = reinterpret_cast<alloy_stack_head *>(stack);
  ExpectEveryRuleReported(&head->arena, [stack] { return alloy_stack_check(stack); });
  alloy_stack_destroy(stack);
}

}  // namespace
