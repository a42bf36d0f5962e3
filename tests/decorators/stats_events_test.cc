// Profiler events of the stats decorator: snapshots every N operations,
// live-bytes and allocation-rate spikes with their hysteresis, a clock the
// test drives, the memory-config keys, and several threads at once.
// Periods are counted in operations or on the injected clock: nothing here
// depends on wall-clock time.
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/memory_config.h"
#include "alloy/stats.h"
#include "alloy/system.h"
#include "tests/support/support.h"

namespace {

struct EventLog {
  std::vector<alloy_stats_event> events;
  size_t Count(alloy_stats_event_kind kind, alloy_stats_spike_kind spike = ALLOY_STATS_SPIKE_NONE) const {
    size_t n = 0;
    for (const alloy_stats_event &e : events)
      if (e.kind == kind && (kind == ALLOY_STATS_EVENT_SNAPSHOT || e.spike == spike)) ++n;
    return n;
  }
  static void Record(const alloy_stats_event *event, void *context) {
    static_cast<EventLog *>(context)->events.push_back(*event);
  }
};

struct FakeClock {
  uint64_t now_ns = 1000;
  static uint64_t Read(void *context) { return static_cast<FakeClock *>(context)->now_ns; }
};

class StatsEventsTest : public ::testing::Test {
 protected:
  alloy_stats_config Config(uint64_t check_every) {
    alloy_stats_config config;
    std::memset(&config, 0, sizeof config);
    config.on_event = EventLog::Record;
    config.event_context = &log_;
    config.check_every = check_every;
    config.clock = FakeClock::Read;
    config.clock_context = &clock_;
    return config;
  }
  void Create(const alloy_stats_config &config) {
    ASSERT_EQ(alloy_stats_create(alloy_system_resource(), &config, &stats_), ALLOY_OK);
    resource_ = alloy_stats_resource(stats_);
  }
  alloy_block Allocate(size_t size) {
    alloy_block block = {nullptr, 0};
    EXPECT_EQ(alloy_resource_allocate(resource_, size, 8, &block), ALLOY_OK);
    blocks_.push_back(block);
    return block;
  }
  void FreeLast() {
    ASSERT_FALSE(blocks_.empty());
    EXPECT_EQ(alloy_resource_deallocate(resource_, blocks_.back(), 8), ALLOY_OK);
    blocks_.pop_back();
  }
  void TearDown() override {
    while (!blocks_.empty()) FreeLast();
    alloy_stats_destroy(stats_);
  }
  EventLog log_;
  FakeClock clock_;
  alloy_stats *stats_ = nullptr;
  alloy_resource *resource_ = nullptr;
  std::vector<alloy_block> blocks_;
};

TEST_F(StatsEventsTest, SnapshotEveryNAllocationsWithConsistentCounts) {
  Create(Config(8));
  for (int i = 0; i < 35; ++i) Allocate(16);
  ASSERT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const alloy_stats_event &e = log_.events[i];
    EXPECT_EQ(e.kind, ALLOY_STATS_EVENT_SNAPSHOT);
    EXPECT_EQ(e.sequence, i);
    EXPECT_EQ(e.operations, 8 * (i + 1));
    EXPECT_EQ(e.snapshot.allocations, 8 * (i + 1)) << "the checkpoint's own allocation is counted";
    EXPECT_EQ(e.snapshot.live_bytes, 128 * (i + 1));
    EXPECT_EQ(e.period_allocations, 8u);
  }
  // Frees have their own count: the 8th free is a checkpoint too.
  for (int i = 0; i < 7; ++i) FreeLast();
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 4u);
  FreeLast();
  ASSERT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 5u);
  EXPECT_EQ(log_.events[4].operations, 35u + 8u);
  EXPECT_EQ(log_.events[4].snapshot.deallocations, 8u);
  EXPECT_EQ(log_.events[4].snapshot.live_blocks, 27u);
  EXPECT_EQ(log_.events[4].period_allocations, 3u) << "allocations 33 to 35";
}

TEST_F(StatsEventsTest, CheckEveryRoundsUpToAPowerOfTwo) {
  Create(Config(10));
  for (int i = 0; i < 15; ++i) Allocate(16);
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 0u);
  Allocate(16);
  ASSERT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 1u);
  EXPECT_EQ(log_.events[0].snapshot.allocations, 16u);
}

TEST_F(StatsEventsTest, ReallocationsReachCheckpointsAndFailuresShowInSnapshots) {
  Create(Config(2));
  alloy_block block;
  EXPECT_EQ(alloy_resource_allocate(resource_, 16, 3, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_resource_allocate(resource_, SIZE_MAX, 8, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_TRUE(log_.events.empty()) << "failures are off the counted path";
  Allocate(16);
  for (int i = 0; i < 2; ++i) {
    alloy_block moved;
    ASSERT_EQ(alloy_resource_reallocate(resource_, blocks_.back(), 64 << i, 8, &moved), ALLOY_OK);
    blocks_.back() = moved;
  }
  ASSERT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 1u);
  EXPECT_EQ(log_.events[0].snapshot.reallocations, 2u);
  EXPECT_EQ(log_.events[0].snapshot.failures, 2u);
  EXPECT_EQ(log_.events[0].snapshot.live_bytes, 128u);
}

TEST_F(StatsEventsTest, PeriodInTimeWaitsForTheClock) {
  alloy_stats_config config = Config(1);
  config.period_ns = 1000000;  // 1 ms on the test's clock
  Create(config);
  for (int i = 0; i < 10; ++i) Allocate(8);
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 0u) << "the clock has not moved";
  clock_.now_ns += 1000000;
  Allocate(8);
  ASSERT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 1u);
  EXPECT_EQ(log_.events[0].period_ns, 1000000u);
  EXPECT_EQ(log_.events[0].period_allocations, 11u);
  EXPECT_DOUBLE_EQ(log_.events[0].allocation_rate, 11000.0) << "11 allocations in 1 ms";
  clock_.now_ns += 999999;
  Allocate(8);
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 1u);
  clock_.now_ns += 1;
  Allocate(8);
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 2u);
}

TEST_F(StatsEventsTest, LiveBytesSpikeFiresOnceAndRearmsBelowSevenEighths) {
  alloy_stats_config config = Config(1);
  config.live_bytes_threshold = 1000;
  Create(config);
  for (int i = 0; i < 15; ++i) Allocate(100);  // crosses at 1100
  ASSERT_EQ(log_.Count(ALLOY_STATS_EVENT_SPIKE, ALLOY_STATS_SPIKE_LIVE_BYTES), 1u);
  const alloy_stats_event *spike = nullptr;
  for (const alloy_stats_event &e : log_.events)
    if (e.kind == ALLOY_STATS_EVENT_SPIKE) spike = &e;
  ASSERT_NE(spike, nullptr);
  EXPECT_DOUBLE_EQ(spike->value, 1100.0);
  EXPECT_DOUBLE_EQ(spike->threshold, 1000.0);
  EXPECT_EQ(spike->snapshot.live_bytes, 1100u);
  EXPECT_STREQ(alloy_stats_spike_name(spike->spike), "live_bytes");
  // Down to 900: above 7/8 (875), still disarmed; up again: no new spike.
  for (int i = 0; i < 6; ++i) FreeLast();
  for (int i = 0; i < 3; ++i) Allocate(100);
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SPIKE, ALLOY_STATS_SPIKE_LIVE_BYTES), 1u);
  // Down to 800 re-arms; crossing again fires again.
  for (int i = 0; i < 4; ++i) FreeLast();
  for (int i = 0; i < 3; ++i) Allocate(100);
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SPIKE, ALLOY_STATS_SPIKE_LIVE_BYTES), 2u);
}

TEST_F(StatsEventsTest, AllocationRateSpikeOnTheInjectedClock) {
  alloy_stats_config config = Config(8);
  config.period_ns = 1000000;                // 1 ms periods
  config.allocation_rate_threshold = 5000;  // allocations per second
  Create(config);
  auto run_period = [&](uint64_t period_ns) {
    clock_.now_ns += period_ns;
    for (int i = 0; i < 8; ++i) Allocate(8);  // one checkpoint, at the end
  };
  run_period(1000000);  // 8 in 1 ms = 8000/s
  ASSERT_EQ(log_.Count(ALLOY_STATS_EVENT_SPIKE, ALLOY_STATS_SPIKE_ALLOCATION_RATE), 1u);
  EXPECT_DOUBLE_EQ(log_.events.back().value, 8000.0);
  EXPECT_DOUBLE_EQ(log_.events.back().threshold, 5000.0);
  EXPECT_STREQ(alloy_stats_spike_name(log_.events.back().spike), "allocation_rate");
  run_period(1000000);  // still fast: no second spike while disarmed
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SPIKE, ALLOY_STATS_SPIKE_ALLOCATION_RATE), 1u);
  run_period(1700000);  // 4706/s: below the threshold, above 7/8 of it: still disarmed
  run_period(1000000);
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SPIKE, ALLOY_STATS_SPIKE_ALLOCATION_RATE), 1u);
  run_period(10000000);  // 800/s re-arms
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SPIKE, ALLOY_STATS_SPIKE_ALLOCATION_RATE), 1u);
  run_period(1000000);
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SPIKE, ALLOY_STATS_SPIKE_ALLOCATION_RATE), 2u);
  EXPECT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 6u) << "one snapshot per period as well";
}

TEST_F(StatsEventsTest, PollRunsACheckpointNow) {
  Create(Config(1024));
  Allocate(24);
  EXPECT_TRUE(log_.events.empty());
  alloy_stats_poll(stats_);
  ASSERT_EQ(log_.Count(ALLOY_STATS_EVENT_SNAPSHOT), 1u);
  EXPECT_EQ(log_.events[0].operations, 1u);
  EXPECT_EQ(log_.events[0].snapshot.live_bytes, 24u);
}

TEST(StatsEvents, OffWithoutACallback) {
  alloy_stats *stats;
  alloy_stats_config config;
  std::memset(&config, 0, sizeof config);
  config.check_every = 1;
  config.live_bytes_threshold = 1;
  ASSERT_EQ(alloy_stats_create(alloy_system_resource(), &config, &stats), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_resource_allocate(alloy_stats_resource(stats), 64, 8, &block), ALLOY_OK);
  alloy_stats_poll(stats);  // nothing to call: must not crash
  ASSERT_EQ(alloy_resource_deallocate(alloy_stats_resource(stats), block, 8), ALLOY_OK);
  alloy_stats_destroy(stats);
  alloy_stats_poll(nullptr);
}

TEST(StatsEvents, ConfigComesFromTheMemoryConfig) {
  alloy_memory_config memory = alloy_memory_config_defaults();
  EXPECT_EQ(memory.stats_check_every, 4096u);
  EXPECT_EQ(memory.stats_period_ms, 1000u);
  char error[256];
  ASSERT_EQ(alloy_memory_config_parse(
                "stats.check_every=64;stats.period_ms=250;stats.spike.live_bytes=512M;stats.spike.alloc_rate=100000",
                &memory, error, sizeof error),
            ALLOY_OK)
      << error;
  alloy_stats_config config = alloy_stats_config_from_memory_config(&memory);
  EXPECT_EQ(config.check_every, 64u);
  EXPECT_EQ(config.period_ns, 250000000u);
  EXPECT_EQ(config.live_bytes_threshold, size_t{512} << 20);
  EXPECT_EQ(config.allocation_rate_threshold, 100000u);
  EXPECT_EQ(config.on_event, nullptr) << "the callback is the caller's to set";
  EXPECT_EQ(alloy_memory_config_parse("stats.check_every=0", &memory, error, sizeof error), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_memory_config_parse("stats.spike.live_bytes=lots", &memory, error, sizeof error),
            ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(memory.stats_check_every, 64u) << "a failed parse changes nothing";
}

// Several threads through one decorator over the (thread-safe) system
// resource: callbacks never overlap, there are no more checkpoints than
// multiples of check_every, and the snapshots stay within what the threads
// can have live.
struct SharedLog {
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<size_t> snapshots{0};
  std::atomic<size_t> spikes{0};
  std::atomic<size_t> too_much_live{0};
  std::vector<uint64_t> checkpoints;  // written by the one emitting thread
  size_t max_live_bytes = 0;
  static void Record(const alloy_stats_event *event, void *context) {
    SharedLog *log = static_cast<SharedLog *>(context);
    if (log->inside.fetch_add(1) != 0) log->overlaps.fetch_add(1);
    if (event->kind == ALLOY_STATS_EVENT_SNAPSHOT) {
      log->snapshots.fetch_add(1);
      log->checkpoints.push_back(event->operations);
    } else {
      log->spikes.fetch_add(1);
    }
    if (event->snapshot.live_bytes > log->max_live_bytes) log->too_much_live.fetch_add(1);
    log->inside.fetch_sub(1);
  }
};

TEST(StatsEventsShared, OneEmitterPerCheckpointAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr size_t kLivePerThread = 8;
  constexpr size_t kSize = 64;
  const size_t rounds = alloy_test::Scaled(20000, 500);
  SharedLog log;
  log.max_live_bytes = kThreads * kLivePerThread * kSize;
  alloy_stats_config config;
  std::memset(&config, 0, sizeof config);
  config.on_event = SharedLog::Record;
  config.event_context = &log;
  config.check_every = 64;
  config.live_bytes_threshold = kThreads * kLivePerThread * kSize / 2;
  alloy_stats *stats;
  ASSERT_EQ(alloy_stats_create(alloy_system_resource(), &config, &stats), ALLOY_OK);
  alloy_resource *resource = alloy_stats_resource(stats);
  std::atomic<size_t> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      std::vector<alloy_block> live;
      for (size_t r = 0; r < rounds; ++r) {
        if (live.size() == kLivePerThread || (r % 3 == 2 && !live.empty())) {
          if (alloy_resource_deallocate(resource, live.back(), 8) != ALLOY_OK) errors.fetch_add(1);
          live.pop_back();
        } else {
          alloy_block block;
          if (alloy_resource_allocate(resource, kSize, 8, &block) != ALLOY_OK) {
            errors.fetch_add(1);
            continue;
          }
          live.push_back(block);
        }
      }
      for (const alloy_block &block : live)
        if (alloy_resource_deallocate(resource, block, 8) != ALLOY_OK) errors.fetch_add(1);
    });
  for (std::thread &thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_EQ(log.overlaps.load(), 0) << "one checkpoint at a time";
  EXPECT_EQ(log.too_much_live.load(), 0u);
  alloy_stats_snapshot s;
  alloy_stats_snapshot_get(stats, &s);
  EXPECT_GE(log.snapshots.load(), 1u);
  EXPECT_LE(log.snapshots.load(), s.allocations / 64 + s.deallocations / 64);
  for (uint64_t checkpoint : log.checkpoints) EXPECT_GE(checkpoint, 64u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.allocations, s.deallocations);
  alloy_stats_destroy(stats);
}

}  // namespace
