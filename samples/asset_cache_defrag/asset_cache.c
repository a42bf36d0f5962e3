/* Sample: an asset cache that defragments its TLSF heap a little every frame.
 *
 * Assets of 1 KiB - 1 MiB are loaded and evicted at random under a budget,
 * as a streaming game does. A heap that never moves a block keeps the holes
 * evictions leave; here every asset is reached through a handle (its slot
 * in the cache), so the cache lets blocks move: each frame it runs one
 * defragmentation pass of at most 256 KiB, alloy copies the bytes, and the
 * cache repoints the handles. Two caches replay the same loads, one with
 * passes and one without, and every 100 frames the sample prints what each
 * holds against what is live. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloy/tlsf.h"

#define FRAMES 400
#define LOADS_PER_FRAME 3
#define BUDGET_BYTES ((size_t)16 << 20)
#define MAX_ASSETS 1024
#define PASS_BYTES ((size_t)256 << 10)
#define PASS_MOVES 64

/* Every asset starts with its header: the slot that owns it, so a moved
 * block tells the cache which handle to repoint. */
typedef struct asset_header {
  uint32_t slot;
  uint32_t id;
} asset_header;

typedef struct asset {
  void *data; /* NULL: the slot is empty */
  size_t bytes;
  uint32_t id;
} asset;

typedef struct cache {
  alloy_tlsf *heap;
  asset assets[MAX_ASSETS];
  size_t live_bytes;
  size_t moves, moved_bytes;
} cache;

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t next_random(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Du;
}

/* 1 KiB - 1 MiB, log-uniform. */
static size_t asset_size(uint64_t r) {
  const unsigned shift = 10 + (unsigned)(r % 10);
  return ((size_t)1 << shift) + (size_t)((r >> 8) % ((size_t)1 << shift));
}

static bool cache_init(cache *c) {
  memset(c, 0, sizeof *c);
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.numa_node = ALLOY_TLSF_NUMA_NONE;
  return alloy_tlsf_create(&config, &c->heap) == ALLOY_OK;
}

static void evict(cache *c, uint32_t slot) {
  asset *a = &c->assets[slot];
  (void)alloy_tlsf_deallocate(c->heap, alloy_block_make(a->data, a->bytes));
  c->live_bytes -= a->bytes;
  a->data = NULL;
}

static bool load(cache *c, uint32_t slot, size_t bytes, uint32_t id) {
  alloy_block block;
  if (alloy_tlsf_allocate(c->heap, bytes, 16, &block) != ALLOY_OK) return false;
  asset *a = &c->assets[slot];
  a->data = block.ptr;
  a->bytes = bytes;
  a->id = id;
  asset_header header = {slot, id};
  memcpy(a->data, &header, sizeof header);
  memset((char *)a->data + sizeof header, (int)(id & 0xff), bytes - sizeof header); /* "reading the file" */
  c->live_bytes += bytes;
  return true;
}

/* One pass: alloy plans and copies, the cache repoints its handles. */
static bool defragment(cache *c) {
  alloy_tlsf_move moves[PASS_MOVES];
  alloy_tlsf_pass pass;
  memset(&pass, 0, sizeof pass);
  pass.moves = moves;
  pass.capacity = PASS_MOVES;
  pass.max_bytes = PASS_BYTES;
  pass.max_moves = SIZE_MAX;
  pass.all_movable = true;
  pass.copy = true;
  if (alloy_tlsf_defrag_begin(c->heap, &pass) != ALLOY_OK) return false;
  if (alloy_tlsf_defrag_end(c->heap, &pass) != ALLOY_OK) return false;
  for (size_t i = 0; i < pass.count; ++i) {
    if (moves[i].result != ALLOY_TLSF_MOVE_DONE) continue;
    asset_header header;
    memcpy(&header, moves[i].to, sizeof header);
    c->assets[header.slot].data = moves[i].to;
  }
  c->moves += pass.moved;
  c->moved_bytes += pass.moved_bytes;
  return true;
}

static size_t held(const cache *c) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(c->heap, &stats);
  return stats.held_bytes;
}

/* Every asset still holds its header and bytes. */
static size_t intact_assets(const cache *c, bool *all) {
  size_t count = 0;
  *all = true;
  for (uint32_t slot = 0; slot < MAX_ASSETS; ++slot) {
    const asset *a = &c->assets[slot];
    if (a->data == NULL) continue;
    ++count;
    asset_header header;
    memcpy(&header, a->data, sizeof header);
    bool ok = header.slot == slot && header.id == a->id;
    const unsigned char *bytes = (const unsigned char *)a->data + sizeof header;
    for (size_t i = 0; ok && i < a->bytes - sizeof header; ++i) ok = bytes[i] == (a->id & 0xff);
    if (!ok) *all = false;
  }
  return count;
}

static double percent_beyond(size_t held_bytes, size_t live) {
  return 100.0 * ((double)held_bytes - (double)live) / (double)live;
}

int main(void) {
  static cache plain, moving;
  if (!cache_init(&plain) || !cache_init(&moving)) {
    fprintf(stderr, "tlsf: cannot create the heaps\n");
    return 1;
  }
  const size_t base_plain = held(&plain), base_moving = held(&moving);
  double sum_plain = 0, sum_moving = 0;
  int samples = 0;
  uint32_t next_id = 0;
  for (int frame = 1; frame <= FRAMES; ++frame) {
    for (int l = 0; l < LOADS_PER_FRAME; ++l) {
      const size_t bytes = asset_size(next_random());
      /* Evict at random until the new asset fits the budget and has a slot. */
      uint32_t slot = MAX_ASSETS;
      for (;;) {
        for (uint32_t s = 0; s < MAX_ASSETS && slot == MAX_ASSETS; ++s)
          if (plain.assets[s].data == NULL) slot = s;
        if (slot != MAX_ASSETS && plain.live_bytes + bytes <= BUDGET_BYTES) break;
        const uint32_t victim = (uint32_t)(next_random() % MAX_ASSETS);
        if (plain.assets[victim].data == NULL) continue;
        evict(&plain, victim);
        evict(&moving, victim);
      }
      ++next_id;
      if (!load(&plain, slot, bytes, next_id) || !load(&moving, slot, bytes, next_id)) {
        fprintf(stderr, "out of memory at frame %d\n", frame);
        return 1;
      }
    }
    if (!defragment(&moving)) {
      fprintf(stderr, "defragmentation pass failed at frame %d\n", frame);
      return 1;
    }
    if (frame % 100 == 0) {
      const size_t live = moving.live_bytes;
      const size_t hp = held(&plain) - base_plain, hm = held(&moving) - base_moving;
      printf("frame %4d: live %6.2f MiB, held %6.2f MiB without passes (%+5.1f %%), %6.2f MiB with (%+5.1f %%), "
             "moved %zu KiB so far\n",
             frame, live / 1048576.0, hp / 1048576.0, percent_beyond(hp, live), hm / 1048576.0,
             percent_beyond(hm, live), moving.moved_bytes >> 10);
      if (frame > FRAMES / 2) {
        sum_plain += percent_beyond(hp, live);
        sum_moving += percent_beyond(hm, live);
        ++samples;
      }
    }
  }
  bool all_plain, all_moving;
  const size_t count = intact_assets(&moving, &all_moving);
  intact_assets(&plain, &all_plain);
  if (!all_moving || !all_plain || alloy_tlsf_check(moving.heap) != ALLOY_OK) {
    printf("asset contents or heap damaged\n");
    return 1;
  }
  printf("all %zu assets intact after %zu moves (%zu KiB, %.1f KiB per frame)\n", count, moving.moves,
         moving.moved_bytes >> 10, (double)moving.moved_bytes / 1024.0 / FRAMES);
  printf("held beyond live over the last frames: %.1f %% with passes, %.1f %% without\n", sum_moving / samples,
         sum_plain / samples);
  printf("with passes holds less: %s\n", sum_moving < sum_plain ? "yes" : "no");
  alloy_tlsf_destroy(plain.heap);
  alloy_tlsf_destroy(moving.heap);
  return 0;
}
