// The push / exchange-all MPSC queue under many producers.
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/mpsc_queue.h"
#include "tests/support/support.h"

namespace {

struct Item {
  alloy_mpsc_node node;  // first: a node pointer is an item pointer
  uint32_t producer;
  uint32_t sequence;
};

TEST(MpscQueue, TakesNothingFromAnEmptyQueue) {
  alloy_mpsc_queue queue;
  alloy_mpsc_queue_init(&queue);
  EXPECT_TRUE(alloy_mpsc_queue_is_empty(&queue));
  EXPECT_EQ(alloy_mpsc_queue_take_all(&queue), nullptr);
}

TEST(MpscQueue, PushReportsAnEmptyQueueAndTakeAllReturnsNewestFirst) {
  alloy_mpsc_queue queue;
  alloy_mpsc_queue_init(&queue);
  Item items[3] = {};
  EXPECT_TRUE(alloy_mpsc_queue_push(&queue, &items[0].node));
  EXPECT_FALSE(alloy_mpsc_queue_push(&queue, &items[1].node));
  EXPECT_FALSE(alloy_mpsc_queue_push(&queue, &items[2].node));
  alloy_mpsc_node *batch = alloy_mpsc_queue_take_all(&queue);
  ASSERT_EQ(batch, &items[2].node);
  EXPECT_EQ(batch->next, &items[1].node);
  EXPECT_EQ(batch->next->next, &items[0].node);
  EXPECT_EQ(batch->next->next->next, nullptr);
  EXPECT_TRUE(alloy_mpsc_queue_is_empty(&queue));
  batch = alloy_mpsc_list_reverse(batch);
  EXPECT_EQ(batch, &items[0].node);
  EXPECT_TRUE(alloy_mpsc_queue_push(&queue, &items[0].node)) << "empty again after take_all";
}

TEST(MpscQueue, PushChainKeepsTheChainTogether) {
  alloy_mpsc_queue queue;
  alloy_mpsc_queue_init(&queue);
  Item items[4] = {};
  alloy_mpsc_queue_push(&queue, &items[0].node);
  items[1].node.next = &items[2].node;
  items[2].node.next = &items[3].node;
  EXPECT_FALSE(alloy_mpsc_queue_push_chain(&queue, &items[1].node, &items[3].node));
  alloy_mpsc_node *batch = alloy_mpsc_queue_take_all(&queue);
  const alloy_mpsc_node *expected[] = {&items[1].node, &items[2].node, &items[3].node, &items[0].node};
  for (const alloy_mpsc_node *e : expected) {
    ASSERT_EQ(batch, e);
    batch = batch->next;
  }
  EXPECT_EQ(batch, nullptr);
}

// Many producers push while one consumer drains: every item arrives exactly
// once, and each producer's items arrive in its push order.
TEST(MpscQueue, ManyProducersOneConsumer) {
  const uint32_t producers = 6;
  const uint32_t per_producer = static_cast<uint32_t>(alloy_test::Scaled(40000, 500));
  std::vector<std::vector<Item>> items(producers, std::vector<Item>(per_producer));
  alloy_mpsc_queue queue;
  alloy_mpsc_queue_init(&queue);
  std::atomic<uint32_t> empties_reported{0};

  std::vector<std::thread> threads;
  for (uint32_t p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      for (uint32_t i = 0; i < per_producer; ++i) {
        items[p][i].producer = p;
        items[p][i].sequence = i;
        if (alloy_mpsc_queue_push(&queue, &items[p][i].node)) empties_reported.fetch_add(1);
      }
    });

  std::vector<uint32_t> next_expected(producers, 0);
  uint64_t received = 0, batches = 0;
  const uint64_t total = uint64_t{producers} * per_producer;
  while (received < total) {
    alloy_mpsc_node *batch = alloy_mpsc_list_reverse(alloy_mpsc_queue_take_all(&queue));
    if (batch == nullptr) {
      std::this_thread::yield();
      continue;
    }
    ++batches;
    for (alloy_mpsc_node *n = batch; n != nullptr; n = n->next) {
      const Item *item = reinterpret_cast<const Item *>(n);
      ASSERT_LT(item->producer, producers);
      ASSERT_EQ(item->sequence, next_expected[item->producer]) << "lost, duplicated or reordered";
      ++next_expected[item->producer];
      ++received;
    }
  }
  for (auto &t : threads) t.join();
  EXPECT_EQ(alloy_mpsc_queue_take_all(&queue), nullptr);
  for (uint32_t p = 0; p < producers; ++p) EXPECT_EQ(next_expected[p], per_producer);
  // Exactly one push found the queue empty per non-empty batch taken.
  EXPECT_EQ(empties_reported.load(), batches);
}

}  // namespace
