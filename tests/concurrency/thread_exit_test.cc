// Thread-exit callbacks run once per thread that stored a value, and never
// after the key is deleted.
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/thread_exit.h"

namespace {

std::atomic<int> exits{0};
std::atomic<void *> last_value{nullptr};

void OnExit(void *value) {
  exits.fetch_add(1);
  last_value.store(value);
}

TEST(ThreadExit, CallbackRunsWithTheThreadsValue) {
  exits = 0;
  alloy_thread_exit_key key;
  ASSERT_EQ(alloy_thread_exit_key_create(&key, OnExit), ALLOY_OK);
  int token = 0;
  std::thread([&] {
    EXPECT_EQ(alloy_thread_exit_get(&key), nullptr);
    ASSERT_EQ(alloy_thread_exit_set(&key, &token), ALLOY_OK);
    EXPECT_EQ(alloy_thread_exit_get(&key), &token);
  }).join();
  EXPECT_EQ(exits.load(), 1);
  EXPECT_EQ(last_value.load(), &token);
  std::thread([] {}).join();  // a thread that stored nothing costs nothing
  EXPECT_EQ(exits.load(), 1);
  alloy_thread_exit_key_delete(&key);
}

TEST(ThreadExit, EveryThreadGetsItsOwnSlot) {
  exits = 0;
  alloy_thread_exit_key key;
  ASSERT_EQ(alloy_thread_exit_key_create(&key, OnExit), ALLOY_OK);
  std::vector<std::thread> threads;
  int tokens[8];
  for (int &t : tokens)
    threads.emplace_back([&key, &t] {
      ASSERT_EQ(alloy_thread_exit_set(&key, &t), ALLOY_OK);
      EXPECT_EQ(alloy_thread_exit_get(&key), &t);
    });
  for (auto &t : threads) t.join();
  EXPECT_EQ(exits.load(), 8);
  alloy_thread_exit_key_delete(&key);
}

TEST(ThreadExit, DeletedKeysRunNoCallback) {
  exits = 0;
  alloy_thread_exit_key key;
  ASSERT_EQ(alloy_thread_exit_key_create(&key, OnExit), ALLOY_OK);
  std::atomic<bool> stored{false}, deleted{false};
  int token = 0;
  std::thread worker([&] {
    ASSERT_EQ(alloy_thread_exit_set(&key, &token), ALLOY_OK);
    stored = true;
    while (!deleted) std::this_thread::yield();
  });
  while (!stored) std::this_thread::yield();
  alloy_thread_exit_key_delete(&key);
  deleted = true;
  worker.join();
  EXPECT_EQ(exits.load(), 0);
  alloy_thread_exit_key_delete(&key);  // twice is harmless
}

TEST(ThreadExit, BadArguments) {
  alloy_thread_exit_key key = {};
  EXPECT_EQ(alloy_thread_exit_key_create(&key, nullptr), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_thread_exit_key_create(nullptr, OnExit), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_thread_exit_set(&key, &key), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_thread_exit_get(&key), nullptr);
}

}  // namespace
