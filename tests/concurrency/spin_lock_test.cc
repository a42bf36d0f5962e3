// The spin lock keeps a plain counter consistent across threads.
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/spin_lock.h"
#include "tests/support/support.h"

namespace {

TEST(SpinLock, TryAcquireFailsWhileHeld) {
  alloy_spin_lock lock;
  alloy_spin_lock_init(&lock);
  EXPECT_TRUE(alloy_spin_lock_try_acquire(&lock));
  EXPECT_FALSE(alloy_spin_lock_try_acquire(&lock));
  alloy_spin_lock_release(&lock);
  EXPECT_TRUE(alloy_spin_lock_try_acquire(&lock));
  alloy_spin_lock_release(&lock);
}

TEST(SpinLock, MutualExclusion) {
  alloy_spin_lock lock;
  alloy_spin_lock_init(&lock);
  const size_t rounds = alloy_test::Scaled(100000, 1000);
  size_t counter = 0;  // plain: only the lock orders the increments
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (size_t i = 0; i < rounds; ++i) {
        alloy_spin_lock_acquire(&lock);
        counter = counter + 1;
        alloy_spin_lock_release(&lock);
      }
    });
  for (auto &t : threads) t.join();
  EXPECT_EQ(counter, 4 * rounds);
}

}  // namespace
