/* Sample: a resource loader keeping variable-size assets in a TLSF heap.
 *
 * Assets come and go in any order and sizes (textures, meshes, sounds), which
 * is what TLSF is for: O(1) allocate and free, immediate coalescing, and
 * in-place growth when a streamed asset turns out larger than announced. */
#include <stdio.h>
#include <string.h>

#include "alloy/allocator.h"
#include "alloy/tlsf.h"

typedef struct asset {
  const char *name;
  alloy_block data;
} asset;

static alloy_status load(alloy_allocator heap, asset *a, const char *name, size_t bytes) {
  ALLOY_TRY(alloy_alloc(heap, bytes, 64, &a->data)); /* 64: SIMD-friendly */
  memset(a->data.ptr, 0x5a, bytes);                  /* stands in for reading the file */
  a->name = name;
  return ALLOY_OK;
}

static void report(const alloy_tlsf *tlsf, const char *when) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  printf("%-22s live %8zu B in %zu blocks, held %8zu B in %zu pools (%zu B spare), largest free %zu B\n", when,
         stats.live_bytes, stats.used_blocks, stats.held_bytes, stats.pool_count, stats.spare_bytes,
         stats.largest_free_block);
}

int main(void) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 1 << 20; /* the level's usual working set */
  config.growth_size = 1 << 20;       /* grow by 1 MiB pools when a level needs more */
  config.spare_bytes = 4 << 20;       /* pools emptied by unloading stay for the next level's assets */
  alloy_tlsf *tlsf;
  alloy_status status = alloy_tlsf_create(&config, &tlsf);
  if (status != ALLOY_OK) {
    fprintf(stderr, "tlsf: %s\n", alloy_status_string(status));
    return 1;
  }
  alloy_allocator heap = alloy_allocator_of(alloy_tlsf_resource(tlsf));

  asset assets[4];
  const char *names[4] = {"rock_albedo.tex", "rock.mesh", "wind.ogg", "hero_albedo.tex"};
  const size_t sizes[4] = {256 << 10, 90 << 10, 700 << 10, 512 << 10};
  for (int i = 0; i < 4; ++i) {
    status = load(heap, &assets[i], names[i], sizes[i]);
    if (status != ALLOY_OK) {
      fprintf(stderr, "loading %s: %s\n", names[i], alloy_status_string(status));
      return 1;
    }
  }
  report(tlsf, "after loading 4 assets");

  /* The sound is unloaded; its space merges with its free neighbours at once. */
  ALLOY_IGNORE_STATUS(alloy_free(heap, assets[2].data, 64));
  report(tlsf, "after unloading sound");

  /* The mesh streams in a higher level of detail: grow it, in place if possible. */
  void *before = assets[1].data.ptr;
  if (alloy_reallocate(heap, &assets[1].data, 300 << 10, 64) == ALLOY_OK)
    printf("mesh grown to %zu B %s\n", assets[1].data.size, assets[1].data.ptr == before ? "in place" : "by moving");

  if (alloy_tlsf_check(tlsf) != ALLOY_OK) return 1; /* a debug menu would offer this walk */
  for (int i = 0; i < 4; ++i)
    if (i != 2) ALLOY_IGNORE_STATUS(alloy_free(heap, assets[i].data, 64));
  report(tlsf, "after unloading all");
  /* A loading screen is a quiet moment: the spares and free pages go back. */
  printf("trim gave back %zu B\n", alloy_tlsf_trim(tlsf));
  report(tlsf, "after trim");
  alloy_tlsf_destroy(tlsf);
  return 0;
}
