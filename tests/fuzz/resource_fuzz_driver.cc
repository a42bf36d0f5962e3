#include "tests/fuzz/resource_fuzz_driver.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "alloy/align.h"
#include "tests/fuzz/input_reader.h"

namespace alloy_fuzz {
namespace {

struct Live {
  alloy_block block;
  size_t size;
  size_t align;
  uint8_t tag;
};

[[noreturn]] void Fail(const char *what, const Live *live) {
  std::fprintf(stderr, "resource invariant broken: %s (block %p size %zu align %zu)\n", what,
               live ? live->block.ptr : nullptr, live ? live->size : 0, live ? live->align : 0);
  std::abort();
}

void Verify(const Live &live) {
  const auto *bytes = static_cast<const uint8_t *>(live.block.ptr);
  for (size_t i = 0; i < live.size; ++i)
    if (bytes[i] != static_cast<uint8_t>(live.tag + i)) Fail("block contents changed", &live);
}

void Stamp(const Live &live) {
  auto *bytes = static_cast<uint8_t *>(live.block.ptr);
  for (size_t i = 0; i < live.size; ++i) bytes[i] = static_cast<uint8_t>(live.tag + i);
}

}  // namespace

void RunOperations(alloy_resource *resource, const DriverLimits &limits, const uint8_t *data, size_t size) {
  Reader in(data, size);
  std::vector<Live> live;
  const unsigned max_align_log2 = alloy_log2_floor(limits.max_alignment);
  uint8_t next_tag = 1;
  while (!in.empty() && live.size() < 512) {
    const uint8_t op = in.Byte() % 8;
    if (op < 4) {  // allocate
      size_t request = in.Word() % (limits.max_size + 1);
      size_t align = size_t{1} << (in.Byte() % (max_align_log2 + 1));
      alloy_block block = {nullptr, 0};
      alloy_status status = alloy_resource_allocate(resource, request, align, &block);
      if (status != ALLOY_OK) {
        if (block.ptr != nullptr) Fail("failed allocation wrote its output", nullptr);
        continue;
      }
      Live entry = {block, request, align, next_tag++};
      if (block.size < request || !alloy_ptr_is_aligned(block.ptr, align)) Fail("bad block", &entry);
      Stamp(entry);
      live.push_back(entry);
    } else if (op < 6 && !live.empty()) {  // free
      size_t index = limits.lifo_free ? live.size() - 1 : in.Byte() % live.size();
      Verify(live[index]);
      if (alloy_resource_deallocate(resource, live[index].block, live[index].align) != ALLOY_OK)
        Fail("free refused", &live[index]);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(index));
    } else if (op == 6 && !live.empty()) {  // reallocate
      size_t index = limits.lifo_free ? live.size() - 1 : in.Byte() % live.size();
      Live &entry = live[index];
      size_t new_size = in.Word() % (limits.max_size + 1);
      alloy_block moved;
      alloy_status status = alloy_resource_reallocate(resource, entry.block, new_size, entry.align, &moved);
      if (status != ALLOY_OK) {
        Verify(entry);  // a failed reallocate keeps the block as it was
      } else {
        Live resized = {moved, new_size < entry.size ? new_size : entry.size, entry.align, entry.tag};
        Verify(resized);
        entry.block = moved;
        entry.size = new_size;
        Stamp(entry);
      }
    } else {  // a bad request must fail cleanly and change nothing
      alloy_block block = {nullptr, 0};
      size_t bad_align = (in.Byte() | 1u) * 3u;  // never a power of two
      if (alloy_resource_allocate(resource, 8, bad_align, &block) != ALLOY_E_INVALID_ARGUMENT || block.ptr)
        Fail("bad alignment accepted", nullptr);
      if (alloy_resource_allocate(resource, SIZE_MAX - in.Byte(), 8, &block) != ALLOY_E_INVALID_ARGUMENT)
        Fail("overflowing size accepted", nullptr);
    }
  }
  for (const Live &entry : live) Verify(entry);
  for (auto it = live.rbegin(); it != live.rend(); ++it)
    if (alloy_resource_deallocate(resource, it->block, it->align) != ALLOY_OK) Fail("final free refused", &*it);
}

}  // namespace alloy_fuzz
