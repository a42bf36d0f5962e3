// A small bounded, single-threaded resource for the decorator tests and
// benchmarks: power-of-two size classes (16 B .. 64 KiB) with intrusive free
// lists over one bump region from the platform. It keeps plain (non-atomic)
// state on purpose, so ThreadSanitizer reports any unsynchronised sharing,
// and it answers owns(), size classes and stats, so decorators that forward
// them can be checked.
#ifndef ALLOY_BENCH_SUPPORT_TEST_FREE_LIST_H
#define ALLOY_BENCH_SUPPORT_TEST_FREE_LIST_H

#include <cstddef>
#include <cstdint>

#include "alloy/resource.h"

namespace alloy_test {

constexpr size_t kFreeListMaxSize = 65536;
constexpr size_t kFreeListMaxAlignment = 4096;

// A fresh resource over `capacity` bytes (rounded to pages); nullptr when the
// platform refuses.
alloy_resource *CreateFreeList(size_t capacity);
void DestroyFreeList(alloy_resource *resource);

// Blocks handed out and not freed.
size_t FreeListLiveBlocks(const alloy_resource *resource);

}  // namespace alloy_test

#endif  // ALLOY_BENCH_SUPPORT_TEST_FREE_LIST_H
