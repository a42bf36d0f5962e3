// The compile-time options that change decorator defaults (alloy/options.h):
// ALLOY_WITH_CANARIES and ALLOY_WITH_LEAK_TRACKING. Each test reads the
// option and checks the behaviour it promises, so it passes in both builds
// and fails if the option stops reaching the decorators.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "alloy/debug.h"
#include "alloy/leak.h"
#include "alloy/memory_config.h"
#include "alloy/options.h"
#include "alloy/system.h"
#include "bench/support/test_free_list.h"
#include "tests/support/support.h"

// A call stack deeper than any leak depth, each frame a real, distinct
// return address (no inlining, no tail call).
extern "C" ALLOY_NOINLINE alloy_block compile_options_deep_allocate(alloy_resource *resource, int depth) {
  if (depth == 0) {
    alloy_block block = {nullptr, 0};
    if (alloy_resource_allocate(resource, 40, 8, &block) != ALLOY_OK) block.ptr = nullptr;
    return block;
  }
  alloy_block block = compile_options_deep_allocate(resource, depth - 1);
  asm volatile("" ::: "memory");  // work after the call keeps it from being a tail call
  return block;
}

namespace {

constexpr bool kWithCanaries = ALLOY_WITH_CANARIES != 0;
constexpr bool kWithLeakTracking = ALLOY_WITH_LEAK_TRACKING != 0;

#ifdef ALLOY_DEBUG
constexpr bool kDebugBuild = ALLOY_DEBUG != 0;
#else
constexpr bool kDebugBuild = false;
#endif

// The debug build promises canaries: --config=debug brings the canaries
// option with it, so the behaviour the tests below check is on there.
TEST(CompileOptions, TheDebugBuildHasCanaries) {
  if (!kDebugBuild) GTEST_SKIP() << "not the debug build";
  EXPECT_TRUE(kWithCanaries) << "--config=debug must turn on --define=alloy_canaries=1";
  EXPECT_TRUE(alloy_debug_config_default().check_on_destroy);
}

TEST(CompileOptions, CanariesSetTheDebugDefaults) {
  EXPECT_EQ(alloy_debug_config_default().check_on_destroy, kWithCanaries);
  alloy_memory_config memory = alloy_memory_config_defaults();
  EXPECT_TRUE(memory.debug_canary);
  EXPECT_EQ(memory.debug_check_on_destroy, kWithCanaries);
  EXPECT_EQ(alloy_debug_config_from_memory_config(&memory).check_on_destroy, kWithCanaries);
}

// An overrun of a block that is never freed: only a destroy that checks the
// live blocks sees it.
TEST(CompileOptions, CanariesMakeTheDefaultDebugDecoratorCheckLiveBlocksOnDestroy) {
  alloy_resource *inner = alloy_test::CreateFreeList(1 << 20);
  ASSERT_NE(inner, nullptr);
  alloy_debug *debug;
  ASSERT_EQ(alloy_debug_create(inner, nullptr, &debug), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_resource_allocate(alloy_debug_resource(debug), 30, 16, &block), ALLOY_OK);
  static_cast<unsigned char *>(block.ptr)[30] = 'x';  // one past the end, into the back canary
  {
    alloy_test::FaultRecorder faults;
    alloy_debug_destroy(debug);
    EXPECT_EQ(faults.count(ALLOY_E_CORRUPTION), kWithCanaries ? 1u : 0u);
    if (kWithCanaries) {
      EXPECT_NE(faults.last_message().find("back canary"), std::string::npos);
    }
  }
  alloy_test::DestroyFreeList(inner);  // releases the block the decorator left live
}

TEST(CompileOptions, CheckOnDestroyCanBeChosenAtRunTime) {
  for (bool check : {false, true}) {
    alloy_resource *inner = alloy_test::CreateFreeList(1 << 20);
    ASSERT_NE(inner, nullptr);
    alloy_debug_config config = alloy_debug_config_default();
    config.check_on_destroy = check;
    alloy_debug *debug;
    ASSERT_EQ(alloy_debug_create(inner, &config, &debug), ALLOY_OK);
    alloy_block block;
    ASSERT_EQ(alloy_resource_allocate(alloy_debug_resource(debug), 30, 16, &block), ALLOY_OK);
    static_cast<unsigned char *>(block.ptr)[-1] = 0;  // underrun into the front canary
    alloy_test::FaultRecorder faults;
    alloy_debug_destroy(debug);
    EXPECT_EQ(faults.count(ALLOY_E_CORRUPTION), check ? 1u : 0u);
    alloy_test::DestroyFreeList(inner);
  }
}

TEST(CompileOptions, LeakTrackingSetsTheLeakDefaults) {
  const unsigned expected = kWithLeakTracking ? ALLOY_LEAK_MAX_DEPTH : 16u;
  alloy_memory_config memory = alloy_memory_config_defaults();
  EXPECT_EQ(memory.leak_depth, expected);
  EXPECT_EQ(alloy_leak_config_from_memory_config(&memory).depth, expected);
}

// Frames printed for one block allocated 40 calls deep by a leak decorator
// with the default (NULL) config.
size_t FramesRecordedByDefault() {
  alloy_leak *leak;
  EXPECT_EQ(alloy_leak_create(alloy_system_resource(), nullptr, &leak), ALLOY_OK);
  alloy_block block = compile_options_deep_allocate(alloy_leak_resource(leak), 40);
  EXPECT_NE(block.ptr, nullptr);
  std::FILE *file = std::tmpfile();
  EXPECT_NE(file, nullptr);
  EXPECT_EQ(alloy_leak_report(leak, file), ALLOY_OK);
  std::rewind(file);
  size_t frames = 0;
  char line[1024];
  while (std::fgets(line, sizeof line, file) != nullptr)
    if (std::string(line).find("    #") == 0) ++frames;
  std::fclose(file);
  EXPECT_EQ(alloy_resource_deallocate(alloy_leak_resource(leak), block, 8), ALLOY_OK);
  alloy_leak_destroy(leak);
  return frames;
}

TEST(CompileOptions, LeakTrackingRecordsFullStacksByDefault) {
  EXPECT_EQ(FramesRecordedByDefault(), kWithLeakTracking ? size_t{ALLOY_LEAK_MAX_DEPTH} : size_t{16});
}

}  // namespace
