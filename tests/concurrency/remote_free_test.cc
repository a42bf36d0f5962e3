// The remote-free channel: many senders, many sources, one owner.
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/remote_free.h"
#include "tests/support/support.h"

namespace {

struct Block {
  Block *next;  // the channel links blocks through their first word
  uint32_t source;
  uint32_t sender;
};

TEST(RemoteFree, SendThenTakeReturnsTheBatchAndItsCount) {
  alloy_remote_free_inbox inbox;
  alloy_remote_free_inbox_init(&inbox);
  alloy_remote_free_source source;
  alloy_remote_free_source_init(&source);
  EXPECT_EQ(alloy_remote_free_receive(&inbox), nullptr);
  Block blocks[5] = {};
  alloy_remote_free_send(&inbox, &source, &blocks[0], &blocks[0], 1);
  blocks[1].next = &blocks[2];
  blocks[2].next = &blocks[3];
  alloy_remote_free_send(&inbox, &source, &blocks[1], &blocks[3], 3);
  EXPECT_EQ(alloy_remote_free_pending(&source), 4u);
  alloy_remote_free_source *received = alloy_remote_free_receive(&inbox);
  ASSERT_EQ(received, &source) << "the source was announced once";
  EXPECT_EQ(alloy_remote_free_source_next(received), nullptr);
  size_t count = 0;
  Block *list = static_cast<Block *>(alloy_remote_free_take(received, &count));
  EXPECT_EQ(count, 4u);
  const Block *expected[] = {&blocks[1], &blocks[2], &blocks[3], &blocks[0]};
  for (const Block *e : expected) {
    ASSERT_EQ(list, e);
    list = list->next;
  }
  EXPECT_EQ(list, nullptr);
  EXPECT_EQ(alloy_remote_free_pending(&source), 0u);
  // After the take, the next send announces the source again.
  alloy_remote_free_send(&inbox, &source, &blocks[4], &blocks[4], 1);
  EXPECT_EQ(alloy_remote_free_receive(&inbox), &source);
}

// Senders free blocks of several sources concurrently while the owner keeps
// receiving: every block comes back exactly once, counts add up.
TEST(RemoteFree, ManySendersManySourcesOneOwner) {
  const uint32_t senders = 5, sources = 7;
  const uint32_t per_sender = static_cast<uint32_t>(alloy_test::Scaled(30000, 400));
  alloy_remote_free_inbox inbox;
  alloy_remote_free_inbox_init(&inbox);
  std::vector<alloy_remote_free_source> source(sources);
  for (auto &s : source) alloy_remote_free_source_init(&s);
  std::vector<std::vector<Block>> blocks(senders, std::vector<Block>(per_sender));

  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < senders; ++t)
    threads.emplace_back([&, t] {
      uint32_t i = 0;
      while (i < per_sender) {
        // Batches of 1..4 blocks of one source, like a thread's outgoing batch.
        uint32_t n = 1 + (i % 4);
        if (n > per_sender - i) n = per_sender - i;
        uint32_t s = (i * 7 + t) % sources;
        for (uint32_t k = 0; k < n; ++k) {
          blocks[t][i + k].source = s;
          blocks[t][i + k].sender = t;
          blocks[t][i + k].next = k + 1 < n ? &blocks[t][i + k + 1] : nullptr;
        }
        alloy_remote_free_send(&inbox, &source[s], &blocks[t][i], &blocks[t][i + n - 1], n);
        i += n;
      }
    });

  std::vector<std::vector<uint8_t>> seen(senders, std::vector<uint8_t>(per_sender, 0));
  const uint64_t total = uint64_t{senders} * per_sender;
  uint64_t received = 0;
  while (received < total) {
    alloy_remote_free_source *s = alloy_remote_free_receive(&inbox);
    if (s == nullptr) std::this_thread::yield();
    while (s != nullptr) {
      alloy_remote_free_source *next = alloy_remote_free_source_next(s);
      size_t count = 0;
      Block *list = static_cast<Block *>(alloy_remote_free_take(s, &count));
      size_t walked = 0;
      for (; list != nullptr; list = list->next, ++walked) {
        ASSERT_EQ(&source[list->source], s) << "a block arrived through the wrong source";
        size_t index = static_cast<size_t>(list - blocks[list->sender].data());
        ASSERT_EQ(seen[list->sender][index], 0) << "a block arrived twice";
        seen[list->sender][index] = 1;
      }
      EXPECT_EQ(walked, count);
      received += walked;
      s = next;
    }
  }
  for (auto &t : threads) t.join();
  EXPECT_EQ(alloy_remote_free_receive(&inbox), nullptr);
  for (auto &s : source) EXPECT_EQ(alloy_remote_free_pending(&s), 0u);
}

}  // namespace
