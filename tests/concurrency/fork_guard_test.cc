// The fork guard: a child never inherits a registered lock held by a thread
// that does not exist in it, whatever the other threads were doing.
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/fork_guard.h"
#include "tests/support/fork_child.h"
#include "tests/support/support.h"

namespace {

struct Locks {
  alloy_spin_lock outer;
  alloy_spin_lock inner;
};

int TakeBoth(void *context) {
  auto *locks = static_cast<Locks *>(context);
  alloy_spin_lock_acquire(&locks->outer);
  alloy_spin_lock_acquire(&locks->inner);
  alloy_spin_lock_release(&locks->inner);
  alloy_spin_lock_release(&locks->outer);
  return 0;
}

size_t Forks() { return alloy_test::ForksWhileThreadsRun(40, 8); }

TEST(ForkGuard, RegisterAndUnregisterCount) {
  size_t before = alloy_fork_guard_count();
  alloy_spin_lock lock;
  alloy_spin_lock_init(&lock);
  alloy_fork_guard guard = {};
  alloy_fork_guard_register_lock(&guard, &lock);
  EXPECT_TRUE(alloy_fork_guard_installed());
  EXPECT_EQ(alloy_fork_guard_count(), before + 1);
  alloy_fork_guard_unregister(&guard);
  EXPECT_EQ(alloy_fork_guard_count(), before);
  alloy_fork_guard_unregister(&guard);  // a second time: nothing
  EXPECT_EQ(alloy_fork_guard_count(), before);
}

// A thread keeps taking the locks, the inner one nested in the outer one
// (the outer one registered later, as a decorator is created after its
// inner); every child must take both at once.
TEST(ForkGuard, ChildTakesLocksOtherThreadsHeldAtTheFork) {
  Locks locks;
  alloy_spin_lock_init(&locks.outer);
  alloy_spin_lock_init(&locks.inner);
  alloy_fork_guard inner_guard = {};
  alloy_fork_guard outer_guard = {};
  alloy_fork_guard_register_lock(&inner_guard, &locks.inner);
  alloy_fork_guard_register_lock(&outer_guard, &locks.outer);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        alloy_test::LetOthersRunUnderValgrind();
        TakeBoth(&locks);
        alloy_spin_lock_acquire(&locks.inner);  // the inner one alone, too
        alloy_spin_lock_release(&locks.inner);
      }
    });
  for (size_t i = 0; i < Forks(); ++i) {
    alloy_test::ChildOutcome child = alloy_test::RunInChild(TakeBoth, &locks, alloy_test::ChildTimeoutMs());
    ASSERT_TRUE(child.ok()) << "fork " << i << ": " << child.describe();
  }
  stop = true;
  for (std::thread &thread : threads) thread.join();
  alloy_fork_guard_unregister(&outer_guard);
  alloy_fork_guard_unregister(&inner_guard);
}

// Several locks of one owner, given in its nesting order.
TEST(ForkGuard, OneGuardTakesItsLocksInTheGivenOrder) {
  Locks locks;
  alloy_spin_lock_init(&locks.outer);
  alloy_spin_lock_init(&locks.inner);
  alloy_fork_guard guard = {};
  alloy_spin_lock *const order[] = {&locks.outer, &locks.inner};
  alloy_fork_guard_register(&guard, order, 2);
  std::atomic<bool> stop{false};
  std::thread user([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      alloy_test::LetOthersRunUnderValgrind();
      TakeBoth(&locks);
    }
  });
  for (size_t i = 0; i < Forks(); ++i) {
    alloy_test::ChildOutcome child = alloy_test::RunInChild(TakeBoth, &locks, alloy_test::ChildTimeoutMs());
    ASSERT_TRUE(child.ok()) << "fork " << i << ": " << child.describe();
  }
  stop = true;
  user.join();
  alloy_fork_guard_unregister(&guard);
}

// Objects created and destroyed while another thread forks: the registry
// lock keeps the handler off a guard whose owner is going away.
TEST(ForkGuard, RegistrationsRacingWithForkNeitherHangNorCrash) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        alloy_test::LetOthersRunUnderValgrind();
        auto *lock = new alloy_spin_lock;
        alloy_spin_lock_init(lock);
        auto *guard = new alloy_fork_guard();
        alloy_fork_guard_register_lock(guard, lock);
        alloy_spin_lock_acquire(lock);
        alloy_spin_lock_release(lock);
        alloy_fork_guard_unregister(guard);
        delete guard;
        delete lock;
      }
    });
  Locks locks;
  alloy_spin_lock_init(&locks.outer);
  alloy_spin_lock_init(&locks.inner);
  for (size_t i = 0; i < Forks(); ++i) {
    alloy_test::ChildOutcome child = alloy_test::RunInChild(TakeBoth, &locks, alloy_test::ChildTimeoutMs());
    ASSERT_TRUE(child.ok()) << "fork " << i << ": " << child.describe();
  }
  stop = true;
  for (std::thread &thread : threads) thread.join();
}

}  // namespace
