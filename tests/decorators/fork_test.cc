// fork() while other threads call through a decorator: the locked, debug
// and leak decorators' locks are held across the fork, so the child's only
// thread allocates and frees through each (in both of decorator_lock's
// modes, and through a stack that nests them) without waiting on a lock a
// vanished thread held.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/debug.h"
#include "alloy/leak.h"
#include "alloy/locked.h"
#include "alloy/system.h"
#include "bench/support/test_free_list.h"
#include "tests/support/fork_child.h"
#include "tests/support/support.h"

namespace {

constexpr size_t kSizes[] = {1, 8, 16, 24, 48, 100, 256, 1000, 4096, 10000};

// A decorator stack and how to take it down (the outermost last created).
struct Stack {
  alloy_resource *top = nullptr;
  std::vector<std::function<void()>> teardown;  // run in reverse
  ~Stack() {
    for (auto it = teardown.rbegin(); it != teardown.rend(); ++it) (*it)();
  }
};

alloy_resource *FreeList(Stack *stack) {
  alloy_resource *inner = alloy_test::CreateFreeList(32u << 20);
  if (inner != nullptr) stack->teardown.push_back([inner] { alloy_test::DestroyFreeList(inner); });
  return inner;
}

alloy_resource *Locked(Stack *stack, alloy_resource *inner) {
  alloy_locked *locked = nullptr;
  if (inner == nullptr || alloy_locked_create(inner, nullptr, &locked) != ALLOY_OK) return nullptr;
  stack->teardown.push_back([locked] { alloy_locked_destroy(locked); });
  return alloy_locked_resource(locked);
}

alloy_resource *Debug(Stack *stack, alloy_resource *inner) {
  alloy_debug *debug = nullptr;
  if (inner == nullptr || alloy_debug_create(inner, nullptr, &debug) != ALLOY_OK) return nullptr;
  stack->teardown.push_back([debug] { alloy_debug_destroy(debug); });
  return alloy_debug_resource(debug);
}

alloy_resource *Leak(Stack *stack, alloy_resource *inner) {
  alloy_leak_config config = {0, true, nullptr};
  alloy_leak *leak = nullptr;
  if (inner == nullptr || alloy_leak_create(inner, &config, &leak) != ALLOY_OK) return nullptr;
  stack->teardown.push_back([leak] { alloy_leak_destroy(leak); });
  return alloy_leak_resource(leak);
}

struct StackKind {
  const char *name;
  alloy_resource *(*build)(Stack *);
  bool inner_is_c_heap;  // the child calls malloc on every allocation
};

const StackKind kKinds[] = {
    {"Locked", [](Stack *s) { return Locked(s, FreeList(s)); }, false},
    // Over a thread-unsafe inner the decorator's lock covers the whole call.
    {"DebugSerializingItsInner", [](Stack *s) { return Debug(s, FreeList(s)); }, false},
    {"LeakSerializingItsInner", [](Stack *s) { return Leak(s, FreeList(s)); }, false},
    // Over a thread-safe inner it guards the decorator's own state only.
    {"DebugOverAThreadSafeInner", [](Stack *s) { return Debug(s, alloy_system_resource()); }, true},
    {"LeakOverAThreadSafeInner", [](Stack *s) { return Leak(s, alloy_system_resource()); }, true},
    // Nested: locked holds its lock across leak's and debug's.
    {"LockedOverLeakOverDebug", [](Stack *s) { return Locked(s, Leak(s, Debug(s, FreeList(s)))); }, false},
};

int ChildBody(void *context) {
  auto *resource = static_cast<alloy_resource *>(context);
  for (int round = 0; round < 4; ++round) {
    for (size_t size : kSizes) {
      alloy_block block;
      if (alloy_resource_allocate(resource, size, 16, &block) != ALLOY_OK) return 2;
      alloy_test::Fill(block.ptr, size, static_cast<uint32_t>(size));
      if (!alloy_test::Check(block.ptr, size, static_cast<uint32_t>(size))) return 3;
      if (alloy_resource_deallocate(resource, block, 16) != ALLOY_OK) return 4;
    }
  }
  return 0;
}

class DecoratorFork : public ::testing::TestWithParam<StackKind> {};

TEST_P(DecoratorFork, ChildAllocatesWhileOtherThreadsHeldTheLock) {
  if (alloy_test::kAsan && GetParam().inner_is_c_heap)
    GTEST_SKIP() << "gcc 12's AddressSanitizer runtime does not hold its own allocator's locks across fork(): "
                    "a child of a multi-threaded program can wait forever in malloc on a size-class lock "
                    "another thread held (SizeClassAllocator64::GetFromAllocator), and this stack's inner "
                    "is the C heap. The decorator's own lock is covered by the cases over the free list.";
  Stack stack;
  alloy_resource *resource = GetParam().build(&stack);
  ASSERT_NE(resource, nullptr);
  std::atomic<bool> stop{false};
  std::mutex handoff_mutex;
  std::vector<alloy_block> handoff;  // allocated on one thread, freed on another
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      size_t i = static_cast<size_t>(t);
      while (!stop.load(std::memory_order_relaxed)) {
        alloy_test::LetOthersRunUnderValgrind();
        alloy_block block;
        size_t size = kSizes[i++ % (sizeof kSizes / sizeof kSizes[0])];
        if (alloy_resource_allocate(resource, size, 16, &block) != ALLOY_OK) continue;
        std::lock_guard<std::mutex> lock(handoff_mutex);
        if (t == 0 && handoff.size() < 64) {
          handoff.push_back(block);
        } else {
          EXPECT_EQ(alloy_resource_deallocate(resource, block, 16), ALLOY_OK);
        }
      }
    });
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      alloy_test::LetOthersRunUnderValgrind();
      std::vector<alloy_block> taken;
      {
        std::lock_guard<std::mutex> lock(handoff_mutex);
        taken.swap(handoff);
      }
      for (alloy_block block : taken) EXPECT_EQ(alloy_resource_deallocate(resource, block, 16), ALLOY_OK);
      std::this_thread::yield();
    }
  });
  // Threads that come and go, each with a short-lived stack of its own.
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      alloy_test::LetOthersRunUnderValgrind();
      std::thread short_lived([&] {
        Stack own;
        alloy_resource *mine = GetParam().build(&own);
        EXPECT_NE(mine, nullptr);
        if (mine != nullptr) {
          EXPECT_EQ(ChildBody(mine), 0);
        }
      });
      short_lived.join();
    }
  });

  const size_t forks = alloy_test::ForksWhileThreadsRun(40, 5);
  for (size_t i = 0; i < forks; ++i) {
    alloy_test::ChildOutcome outcome = alloy_test::RunInChild(ChildBody, resource, alloy_test::ChildTimeoutMs());
    ASSERT_TRUE(outcome.ok()) << GetParam().name << ", fork " << i << " of " << forks << ": " << outcome.describe();
  }
  stop = true;
  for (std::thread &thread : threads) thread.join();
  for (alloy_block block : handoff) EXPECT_EQ(alloy_resource_deallocate(resource, block, 16), ALLOY_OK);
}

INSTANTIATE_TEST_SUITE_P(EveryLockingDecorator, DecoratorFork, ::testing::ValuesIn(kKinds),
                         [](const ::testing::TestParamInfo<StackKind> &info) { return std::string(info.param.name); });

}  // namespace
