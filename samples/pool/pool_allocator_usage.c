/* pool_allocator_usage — the pool strategy behind a particle system.
 *
 * Particles are all one size and die in no particular order: a pool hands
 * them out and takes them back in O(1), reusing the most recently freed
 * (cache-hot) block first. The system is capped with max_blocks, so a burst
 * beyond the budget gets ALLOY_E_CAPACITY and is dropped, not allocated.
 */
#include <stdint.h>
#include <stdio.h>

#include "alloy/allocator.h"
#include "alloy/pool.h"

typedef struct particle {
  float position[3];
  float velocity[3];
  float age, lifetime;
  uint32_t color;
  struct particle *next; /* the live list */
} particle;

static uint32_t next_random(uint32_t *state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

int main(void) {
  alloy_pool_config config = alloy_pool_config_default(sizeof(particle));
  config.block_align = ALLOY_ALIGNOF(particle);
  config.max_blocks = 50000;
  alloy_pool *pool;
  alloy_status status = alloy_pool_create(&config, &pool);
  if (status != ALLOY_OK) {
    fprintf(stderr, "cannot create the pool: %s\n", alloy_status_string(status));
    return 1;
  }
  alloy_allocator particles = alloy_allocator_of(alloy_pool_resource(pool));

  particle *live = NULL;
  uint32_t seed = 7;
  printf("%4s %8s %8s %8s %6s %10s\n", "tick", "spawned", "dropped", "live", "slabs", "capacity");
  for (int tick = 0; tick < 20; ++tick) {
    /* Age everything; the dead go back to the pool in whatever order they die. */
    for (particle **link = &live; *link != NULL;) {
      particle *p = *link;
      p->age += 1.0f;
      for (int k = 0; k < 3; ++k) p->position[k] += p->velocity[k];
      if (p->age >= p->lifetime) {
        *link = p->next;
        ALLOY_IGNORE_STATUS(ALLOY_DELETE(particles, particle, p));
      } else {
        link = &p->next;
      }
    }
    /* Spawn a burst; tick 10 is an explosion larger than the budget. */
    const int burst = tick == 10 ? 60000 : 3000 + (int)(next_random(&seed) % 2000);
    int spawned = 0, dropped = 0;
    for (int i = 0; i < burst; ++i) {
      particle *p;
      status = ALLOY_NEW(particles, particle, &p);
      if (status == ALLOY_E_CAPACITY) {
        ++dropped;
        continue;
      }
      if (status != ALLOY_OK) return 1;
      p->lifetime = (float)(2 + next_random(&seed) % 8);
      p->velocity[1] = 1.0f;
      p->color = next_random(&seed);
      p->next = live;
      live = p;
      ++spawned;
    }
    alloy_pool_stats stats;
    alloy_pool_get_stats(pool, &stats);
    printf("%4d %8d %8d %8zu %6zu %10zu\n", tick, spawned, dropped, stats.live_blocks, stats.slab_count,
           stats.capacity_blocks);
  }
  while (live != NULL) {
    particle *next = live->next;
    ALLOY_IGNORE_STATUS(ALLOY_DELETE(particles, particle, live));
    live = next;
  }
  alloy_pool_destroy(pool);
  return 0;
}
