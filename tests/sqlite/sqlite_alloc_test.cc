// SQLite on alloy: the scripted workload (answers computed independently of
// SQLite) on SQLite's own allocator, on the adapter's heap and under the
// debug and leak decorators (no fault, nothing outstanding after
// sqlite3_shutdown); the methods' conventions (sizes from the header,
// roundup, reallocation across heaps).
#include "alloy/sqlite_alloc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "alloy/debug.h"
#include "alloy/fallback.h"
#include "alloy/leak.h"
#include "alloy/small_object.h"
#include "alloy/sqlite_workload.h"
#include "alloy/system.h"
#include "sqlite3.h"
#include "tests/support/checked_heap.h"
#include "tests/support/support.h"

namespace {

using alloy_test::FaultRecorder;

// SQLite's own allocator, as configured before any test replaced it.
const sqlite3_mem_methods &SqliteDefault() {
  static const sqlite3_mem_methods methods = [] {
    sqlite3_mem_methods m{};
    sqlite3_shutdown();
    EXPECT_EQ(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &m), SQLITE_OK);
    return m;
  }();
  return methods;
}

struct Outcome {
  int status;
  std::string report;
};

Outcome RunWorkload(int rows) {
  std::string buffer(8192, '\0');
  int status = alloy_sqlite_workload_run(rows, &buffer[0], buffer.size());
  return {status, std::string(buffer.c_str())};
}

int Rows() { return static_cast<int>(alloy_test::Scaled(100000, 2000)); }

class Adapter {
 public:
  explicit Adapter(const alloy_sqlite_alloc_config *config = nullptr) {
    EXPECT_EQ(alloy_sqlite_alloc_create(config, &adapter_), ALLOY_OK);
  }
  ~Adapter() { alloy_sqlite_alloc_destroy(adapter_); }
  alloy_sqlite_alloc *get() { return adapter_; }

 private:
  alloy_sqlite_alloc *adapter_ = nullptr;
};

// leak(debug(small_object, then system)), every block checked and recorded.
using Decorated = alloy_test::CheckedHeap;

// Each test starts and ends on SQLite's own allocator, shut down.
class SqliteOnAlloy : public ::testing::Test {
 protected:
  void SetUp() override { (void)SqliteDefault(); }
  void TearDown() override {
    sqlite3_shutdown();
    sqlite3_mem_methods methods = SqliteDefault();
    EXPECT_EQ(sqlite3_config(SQLITE_CONFIG_MALLOC, &methods), SQLITE_OK);
  }
  static void Install(alloy_sqlite_alloc *adapter) {
    ASSERT_EQ(sqlite3_shutdown(), SQLITE_OK);
    ASSERT_EQ(alloy_sqlite_alloc_install(adapter), ALLOY_OK);
    ASSERT_EQ(sqlite3_initialize(), SQLITE_OK);
  }
};

TEST_F(SqliteOnAlloy, WorkloadAnswersOnSqlitesOwnAllocator) {
  Outcome stock = RunWorkload(Rows());
  EXPECT_EQ(stock.status, 0) << stock.report;
  EXPECT_NE(stock.report.find("PRAGMA integrity_check = ok"), std::string::npos) << stock.report;
}

TEST_F(SqliteOnAlloy, WorkloadGivesTheSameAnswersOnTheOwnHeap) {
  Outcome stock = RunWorkload(Rows());
  ASSERT_EQ(stock.status, 0) << stock.report;
  Adapter adapter;
  Install(adapter.get());
  const sqlite3_int64 used_before = sqlite3_memory_used();
  Outcome ours = RunWorkload(Rows());
  EXPECT_EQ(ours.status, 0) << ours.report;
  EXPECT_EQ(ours.report, stock.report);
  // SQLite's accounting (through xSize) saw the database come and go.
  EXPECT_GT(sqlite3_memory_highwater(0), used_before + static_cast<sqlite3_int64>(Rows()) * 16);
  EXPECT_EQ(sqlite3_memory_used(), used_before);
  ASSERT_EQ(sqlite3_shutdown(), SQLITE_OK);
}

TEST_F(SqliteOnAlloy, UnderDebugAndLeakNoFaultAndNothingOutstandingAfterShutdown) {
  const int rows = static_cast<int>(alloy_test::Scaled(20000, 1000));
  FaultRecorder faults;
  Decorated decorated;
  alloy_sqlite_alloc_config config = {};
  config.resource = decorated.resource();
  Adapter adapter(&config);
  Install(adapter.get());
  Outcome ours = RunWorkload(rows);
  EXPECT_EQ(ours.status, 0) << ours.report;
  EXPECT_NE(ours.report.find("PRAGMA integrity_check = ok"), std::string::npos) << ours.report;
  ASSERT_EQ(sqlite3_shutdown(), SQLITE_OK);
  alloy_leak_summary outstanding = decorated.Outstanding();
  EXPECT_EQ(outstanding.blocks, 0u);
  EXPECT_EQ(outstanding.bytes, 0u);
  EXPECT_EQ(decorated.DebugFaults(), 0u);
  EXPECT_TRUE(faults.faults().empty()) << faults.last_message();
}

TEST_F(SqliteOnAlloy, InstallIsRefusedWhileSqliteIsInitialized) {
  Adapter adapter;
  ASSERT_EQ(sqlite3_initialize(), SQLITE_OK);
  EXPECT_EQ(alloy_sqlite_alloc_install(adapter.get()), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_sqlite_alloc_install(nullptr), ALLOY_E_INVALID_ARGUMENT);
}

// ---- The methods, called as SQLite calls them -----------------------------

void MethodConventions(alloy_sqlite_alloc *adapter, bool own_heap) {
  sqlite3_mem_methods m;
  alloy_sqlite_alloc_methods(adapter, &m);
  ASSERT_EQ(m.pAppData, adapter);
  ASSERT_EQ(m.xInit(m.pAppData), SQLITE_OK);
  // xSize gives back the size asked for, from the header.
  void *small = m.xMalloc(20);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(m.xSize(small), 20);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 8, 0u);
  alloy_test::Fill(small, 20, 1);
  // Reallocation into the system heap and back keeps the bytes and the size.
  void *grown = m.xRealloc(small, 70000);
  ASSERT_NE(grown, nullptr);
  EXPECT_EQ(m.xSize(grown), 70000);
  EXPECT_TRUE(alloy_test::Check(grown, 20, 1));
  alloy_test::Fill(grown, 70000, 2);
  void *shrunk = m.xRealloc(grown, 100);
  ASSERT_NE(shrunk, nullptr);
  EXPECT_EQ(m.xSize(shrunk), 100);
  EXPECT_TRUE(alloy_test::Check(shrunk, 100, 2));
  void *same_class = m.xRealloc(shrunk, 98);
  ASSERT_NE(same_class, nullptr);
  EXPECT_EQ(m.xSize(same_class), 98);
  EXPECT_TRUE(alloy_test::Check(same_class, 98, 2));
  m.xFree(same_class);
  m.xFree(nullptr);
  EXPECT_EQ(m.xSize(nullptr), 0);
  // xRoundup: at least the request, and what a block of that size holds.
  for (int n : {1, 8, 9, 100, 1000, 1017, 4096, 70001}) {
    const int rounded = m.xRoundup(n);
    EXPECT_GE(rounded, n);
    EXPECT_EQ(rounded % 8, 0) << n;
    void *block = m.xMalloc(rounded);
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(m.xSize(block), rounded);
    alloy_test::Fill(block, static_cast<size_t>(rounded), 3);
    EXPECT_TRUE(alloy_test::Check(block, static_cast<size_t>(rounded), 3));
    m.xFree(block);
  }
  // On the own heap a small request is rounded up to its whole class (less the header).
  if (own_heap) {
    EXPECT_EQ(m.xRoundup(90), 104 - 8);
  }
  EXPECT_EQ(m.xMalloc(-1), nullptr);
  m.xShutdown(m.pAppData);
}

TEST_F(SqliteOnAlloy, MethodsFollowSqlitesConventionsOnTheOwnHeap) {
  Adapter adapter;
  MethodConventions(adapter.get(), true);
}

TEST_F(SqliteOnAlloy, MethodsFollowSqlitesConventionsUnderDebugAndLeak) {
  FaultRecorder faults;
  Decorated decorated;
  alloy_sqlite_alloc_config config = {};
  config.resource = decorated.resource();
  Adapter adapter(&config);
  MethodConventions(adapter.get(), false);
  EXPECT_EQ(decorated.Outstanding().blocks, 0u);
  EXPECT_EQ(decorated.DebugFaults(), 0u);
  EXPECT_TRUE(faults.faults().empty()) << faults.last_message();
}

TEST_F(SqliteOnAlloy, ConfigRejectsWhatCannotWork) {
  alloy_sqlite_alloc *adapter = nullptr;
  alloy_sqlite_alloc_config config = {};
  config.small_max = ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE + 1;
  EXPECT_EQ(alloy_sqlite_alloc_create(&config, &adapter), ALLOY_E_INVALID_ARGUMENT);
  config = {};
  config.resource = alloy_system_resource();
  config.small_max = 256;
  EXPECT_EQ(alloy_sqlite_alloc_create(&config, &adapter), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_sqlite_alloc_create(nullptr, nullptr), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(adapter, nullptr);
}

}  // namespace
