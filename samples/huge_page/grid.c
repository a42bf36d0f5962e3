/* Sample: a simulation grid on huge pages.
 *
 * A large array walked every frame benefits from 2 MiB pages (one TLB entry
 * instead of 512). The arena takes explicit huge pages when the system has
 * them reserved, else transparent huge pages, else normal pages, and says
 * which; per-step scratch is rewound with a marker. */
#include <stdio.h>

#include "alloy/allocator.h"
#include "alloy/huge_page.h"

int main(void) {
  alloy_huge_page_config config = alloy_huge_page_config_default();
  config.capacity = 16 << 20;
  alloy_huge_page_arena *arena;
  alloy_status status = alloy_huge_page_arena_create(&config, &arena);
  if (status != ALLOY_OK) {
    fprintf(stderr, "huge page arena: %s\n", alloy_status_string(status));
    return 1;
  }
  printf("arena of %zu MiB on %s\n", alloy_huge_page_arena_capacity(arena) >> 20,
         alloy_page_kind_name(alloy_huge_page_arena_kind(arena)));
  alloy_allocator a = alloy_allocator_of(alloy_huge_page_arena_resource(arena));

  enum { N = 1024 };
  float *grid;
  if (ALLOY_NEW_ARRAY(a, float, N * N, &grid) != ALLOY_OK) return 1;
  for (size_t i = 0; i < (size_t)N * N; ++i) grid[i] = 0.0f;

  for (int step = 0; step < 3; ++step) {
    ALLOY_SCOPE(a); /* scratch below is rewound at the end of the step */
    float *row_sums;
    if (ALLOY_NEW_ARRAY(a, float, N, &row_sums) != ALLOY_OK) return 1;
    for (size_t y = 0; y < N; ++y) {
      row_sums[y] = 0.0f;
      for (size_t x = 0; x < N; ++x) row_sums[y] += grid[y * N + x] += 1.0f;
    }
    printf("step %d: row 0 sums to %.0f, arena uses %zu KiB\n", step, row_sums[0],
           alloy_huge_page_arena_used(arena) >> 10);
  }
  alloy_huge_page_arena_destroy(arena);
  return 0;
}
