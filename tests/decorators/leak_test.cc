// The leak decorator: outstanding blocks, grouped by the stack that
// allocated them, on demand and on destroy.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/leak.h"
#include "alloy/system.h"
#include "tests/support/support.h"

// Named, non-inlined allocation sites; extern "C" so dladdr shows the plain
// name (the test links with -rdynamic).
extern "C" {
__attribute__((noinline)) alloy_block leak_test_load_texture(alloy_resource *resource, size_t size) {
  alloy_block block = {nullptr, 0};
  if (alloy_resource_allocate(resource, size, 16, &block) != ALLOY_OK) block.ptr = nullptr;
  __asm__ volatile("" ::: "memory");  // keep the call from becoming a tail call
  return block;
}
__attribute__((noinline)) alloy_block leak_test_spawn_particle(alloy_resource *resource) {
  alloy_block block = {nullptr, 0};
  if (alloy_resource_allocate(resource, 48, 8, &block) != ALLOY_OK) block.ptr = nullptr;
  __asm__ volatile("" ::: "memory");
  return block;
}
}

namespace {

std::string ReadAll(FILE *file) {
  std::string text;
  std::rewind(file);
  char buffer[512];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  return text;
}

size_t Count(const std::string &text, const std::string &needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

class LeakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_leak_config config = {};
    config.quiet_on_destroy = true;
    ASSERT_EQ(alloy_leak_create(alloy_system_resource(), &config, &leak_), ALLOY_OK);
    resource_ = alloy_leak_resource(leak_);
  }
  void TearDown() override { alloy_leak_destroy(leak_); }
  alloy_leak_summary Summary() {
    alloy_leak_summary summary;
    EXPECT_EQ(alloy_leak_get_summary(leak_, &summary), ALLOY_OK);
    return summary;
  }
  alloy_leak *leak_ = nullptr;
  alloy_resource *resource_ = nullptr;
};

TEST_F(LeakTest, TracksOutstandingBlocksAndForgetsFreedOnes) {
  EXPECT_EQ(Summary().blocks, 0u);
  std::vector<alloy_block> pair;
  for (size_t size : std::vector<size_t>{1000, 24}) pair.push_back(leak_test_load_texture(resource_, size));
  alloy_block a = pair[0], b = pair[1];
  ASSERT_NE(a.ptr, nullptr);
  ASSERT_NE(b.ptr, nullptr);
  alloy_leak_summary s = Summary();
  EXPECT_EQ(s.blocks, 2u);
  EXPECT_EQ(s.bytes, 1024u);
  EXPECT_EQ(s.sites, 1u) << "one call stack";
  alloy_block elsewhere = leak_test_load_texture(resource_, 8);
  EXPECT_EQ(Summary().sites, 2u) << "the same function called from another line is another stack";
  EXPECT_EQ(alloy_resource_deallocate(resource_, elsewhere, 16), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(resource_, a, 16), ALLOY_OK);
  EXPECT_EQ(Summary().blocks, 1u);
  alloy_block grown;
  ASSERT_EQ(alloy_resource_reallocate(resource_, b, 4000, 16, &grown), ALLOY_OK);
  s = Summary();
  EXPECT_EQ(s.blocks, 1u);
  EXPECT_EQ(s.bytes, 4000u) << "the record follows the reallocation";
  EXPECT_EQ(alloy_resource_deallocate(resource_, grown, 16), ALLOY_OK);
  EXPECT_EQ(Summary().blocks, 0u);
}

TEST_F(LeakTest, ReportGroupsByCallSiteLargestFirst) {
  std::vector<alloy_block> textures, particles;
  for (int i = 0; i < 3; ++i) textures.push_back(leak_test_load_texture(resource_, 256));
  for (int i = 0; i < 5; ++i) particles.push_back(leak_test_spawn_particle(resource_));
  alloy_leak_summary s = Summary();
  EXPECT_EQ(s.blocks, 8u);
  EXPECT_EQ(s.bytes, 3u * 256 + 5u * 48);
  EXPECT_EQ(s.sites, 2u);

  FILE *file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(alloy_leak_report(leak_, file), ALLOY_OK);
  std::string report = ReadAll(file);
  std::fclose(file);
  EXPECT_NE(report.find("8 blocks (1008 bytes) outstanding from 2 call sites"), std::string::npos) << report;
  size_t textures_at = report.find("3 blocks, 768 bytes");
  size_t particles_at = report.find("5 blocks, 240 bytes");
  ASSERT_NE(textures_at, std::string::npos) << report;
  ASSERT_NE(particles_at, std::string::npos) << report;
  EXPECT_LT(textures_at, particles_at) << "largest site first";
  EXPECT_EQ(Count(report, "leak_test_load_texture"), 1u) << report;
  EXPECT_EQ(Count(report, "leak_test_spawn_particle"), 1u) << report;
  EXPECT_LT(report.find("leak_test_load_texture"), particles_at) << "the site's own frame comes first";

  for (const alloy_block &b : textures) EXPECT_EQ(alloy_resource_deallocate(resource_, b, 16), ALLOY_OK);
  for (const alloy_block &b : particles) EXPECT_EQ(alloy_resource_deallocate(resource_, b, 8), ALLOY_OK);
}

TEST(Leak, ReportsOnDestroyUnlessQuiet) {
  FILE *file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  alloy_leak_config config = {};
  config.report_file = file;
  alloy_leak *leak;
  ASSERT_EQ(alloy_leak_create(alloy_system_resource(), &config, &leak), ALLOY_OK);
  alloy_block block = leak_test_spawn_particle(alloy_leak_resource(leak));
  ASSERT_NE(block.ptr, nullptr);
  alloy_leak_destroy(leak);
  std::string report = ReadAll(file);
  std::fclose(file);
  EXPECT_NE(report.find("1 block (48 bytes) outstanding from 1 call site"), std::string::npos) << report;
  EXPECT_NE(report.find("leak_test_spawn_particle"), std::string::npos) << report;
  // The block itself is still the inner's; give it back.
  EXPECT_EQ(alloy_resource_deallocate(alloy_system_resource(), block, 8), ALLOY_OK);
}

TEST(Leak, NothingOutstandingPrintsNothingOnDestroy) {
  FILE *file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  alloy_leak_config config = {};
  config.report_file = file;
  alloy_leak *leak;
  ASSERT_EQ(alloy_leak_create(alloy_system_resource(), &config, &leak), ALLOY_OK);
  alloy_block block = leak_test_spawn_particle(alloy_leak_resource(leak));
  EXPECT_EQ(alloy_resource_deallocate(alloy_leak_resource(leak), block, 8), ALLOY_OK);
  alloy_leak_destroy(leak);
  EXPECT_EQ(ReadAll(file), "");
  std::fclose(file);
}

TEST_F(LeakTest, ManyBlocksAndBadInput) {
  const size_t count = alloy_test::Scaled(5000, 300);
  std::vector<alloy_block> blocks(count);
  for (alloy_block &block : blocks) ASSERT_EQ(alloy_resource_allocate(resource_, 16, 16, &block), ALLOY_OK);
  EXPECT_EQ(Summary().blocks, count);
  for (size_t i = 0; i < count; i += 2) EXPECT_EQ(alloy_resource_deallocate(resource_, blocks[i], 16), ALLOY_OK);
  EXPECT_EQ(Summary().blocks, count / 2);
  for (size_t i = 1; i < count; i += 2) EXPECT_EQ(alloy_resource_deallocate(resource_, blocks[i], 16), ALLOY_OK);
  EXPECT_EQ(Summary().blocks, 0u);
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_resource_allocate(resource_, 8, 0, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(Summary().blocks, 0u) << "failed allocations leave no record";
  alloy_leak_config config = {};
  config.depth = ALLOY_LEAK_MAX_DEPTH + 1;
  alloy_leak *other;
  EXPECT_EQ(alloy_leak_create(alloy_system_resource(), &config, &other), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_leak_report(leak_, nullptr), ALLOY_E_INVALID_ARGUMENT);
}

}  // namespace

namespace {

// Regression: a pointer the decorator never handed out used to reach the
// inner heap, which then named it a double free. The decorator knows every
// block it handed out, so it names the misuse itself and leaves the inner
// untouched.
TEST_F(LeakTest, NamesAForeignBlockItself) {
  alloy_test::FaultRecorder faults;
  alignas(16) static char foreign[64];
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(foreign, 64), 16), ALLOY_E_NOT_OWNED);
  ASSERT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
  EXPECT_EQ(faults.faults().back().ptr, static_cast<void *>(foreign));
  EXPECT_STREQ(faults.faults().back().resource, "leak");
  // The decorator and its inner go on as before.
  alloy_block block = leak_test_spawn_particle(resource_);
  ASSERT_NE(block.ptr, nullptr);
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(block.ptr, 48), 8), ALLOY_OK);
  EXPECT_EQ(Summary().blocks, 0u);
}

// A second free of a block it handed out is a double free, named before the
// inner heap (here the C library's, which would abort) sees it.
TEST_F(LeakTest, NamesADoubleFreeItself) {
  alloy_test::FaultRecorder faults;
  alloy_block block = leak_test_spawn_particle(resource_);
  ASSERT_NE(block.ptr, nullptr);
  ASSERT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(block.ptr, 48), 8), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(block.ptr, 48), 8), ALLOY_E_DOUBLE_FREE);
  ASSERT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_EQ(faults.faults().back().ptr, block.ptr);
  EXPECT_EQ(faults.faults().size(), 1u) << faults.last_message();
  // A block reallocated away from its address leaves that address freed.
  alloy_block grown = leak_test_spawn_particle(resource_);
  ASSERT_NE(grown.ptr, nullptr);
  alloy_block moved;
  ASSERT_EQ(alloy_resource_reallocate(resource_, alloy_block_make(grown.ptr, 48), 1 << 20, 8, &moved), ALLOY_OK);
  if (moved.ptr != grown.ptr) {
    EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(grown.ptr, 48), 8), ALLOY_E_DOUBLE_FREE);
  }
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(moved.ptr, 1 << 20), 8), ALLOY_OK);
  EXPECT_EQ(Summary().blocks, 0u);
}

}  // namespace
