#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/fault_injection.h"
#include "alloy/thread.h"
#include "alloy/vm.h"

namespace {

TEST(Thread, IdsAreStablePerThreadAndDistinctAcrossLiveThreads) {
  uintptr_t mine = alloy_thread_id();
  EXPECT_NE(mine, 0u);
  EXPECT_EQ(mine, alloy_thread_id());
  std::vector<uintptr_t> ids(4);
  std::vector<std::thread> threads;
  std::atomic<int> arrived{0};
  for (size_t i = 0; i < ids.size(); ++i)
    threads.emplace_back([&, i] {
      ids[i] = alloy_thread_id();
      arrived.fetch_add(1);
      while (arrived.load() < static_cast<int>(ids.size())) alloy_thread_yield();  // all alive at once
    });
  for (auto &t : threads) t.join();
  std::set<uintptr_t> unique(ids.begin(), ids.end());
  unique.insert(mine);
  EXPECT_EQ(unique.size(), ids.size() + 1);
}

TEST(Thread, SerialsAreNeverReusedEvenAfterAThreadExits) {
  const uint64_t mine = alloy_thread_serial();
  EXPECT_NE(mine, 0u);
  EXPECT_EQ(mine, alloy_thread_serial());
  EXPECT_EQ(mine, alloy_thread_serial_if_taken());
  std::set<uint64_t> serials{mine};
  for (int i = 0; i < 8; ++i) {  // one after another: each may reuse the last one's thread-local storage
    uint64_t before = 1, serial = 0;
    std::thread([&] {
      before = alloy_thread_serial_if_taken();
      serial = alloy_thread_serial();
    }).join();
    EXPECT_EQ(before, 0u) << "a new thread starts without a serial";
    EXPECT_TRUE(serials.insert(serial).second) << "serial " << serial << " was handed out twice";
  }
}

TEST(FaultInjection, IsPerThread) {
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  void *other = nullptr;
  alloy_status other_status = ALLOY_E_PLATFORM;
  std::thread([&] { other_status = alloy_vm_reserve(alloy_vm_page_size(), 0x1000, &other); }).join();
  EXPECT_EQ(other_status, ALLOY_OK) << "another thread's injected failure leaked";
  void *mine = nullptr;
  EXPECT_EQ(alloy_vm_reserve(alloy_vm_page_size(), 0x1000, &mine), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(alloy_vm_release(other, alloy_vm_page_size()), ALLOY_OK);
}

}  // namespace
