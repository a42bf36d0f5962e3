// Keys for the misuse checks: never 0, and different every time, also for
// the same salt and across threads.
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/random.h"

namespace {

TEST(RandomKey, NeverZeroAndNeverRepeated) {
  std::set<uint64_t> keys;
  int salt = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t key = alloy_random_key(&salt);
    EXPECT_NE(key, 0u);
    EXPECT_TRUE(keys.insert(key).second) << "key " << key << " repeated at call " << i;
  }
}

TEST(RandomKey, ThreadsGetDistinctKeys) {
  constexpr int kThreads = 4, kPerThread = 1000;
  std::vector<std::vector<uint64_t>> keys(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&keys, t] {
      for (int i = 0; i < kPerThread; ++i) keys[t].push_back(alloy_random_key(nullptr));
    });
  for (std::thread &thread : threads) thread.join();
  std::set<uint64_t> all;
  for (const auto &list : keys) all.insert(list.begin(), list.end());
  EXPECT_EQ(all.size(), size_t{kThreads} * kPerThread);
  EXPECT_EQ(all.count(0), 0u);
}

}  // namespace
