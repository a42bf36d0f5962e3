/* frame_allocator_usage — the frame arena in a game loop.
 *
 * Every frame the "renderer" records one small command per visible object
 * into a command list, sorts the list by state, "submits" it, and drops it
 * all with one O(1) reset. Frame 6 is a spike (ten times the objects): with
 * decommit_above set, the pages the spike committed go back to the OS at the
 * next reset instead of staying pinned. Visibility results live in a
 * double-buffered frame because the next frame reads them.
 *
 * The scratch frame pre-warms the 4 MiB it keeps (commit.prewarm_bytes): its
 * pages are faulted in at creation, so even the first frame takes no page
 * fault. The same first frame on a frame without pre-warm is shown first.
 *
 * Prints one line of statistics per frame, minor page faults included.
 */
#define _DEFAULT_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "alloy/allocator.h"
#include "alloy/double_frame.h"
#include "alloy/frame.h"

typedef struct draw_command {
  uint64_t sort_key; /* pipeline, material, depth */
  uint32_t mesh;
  uint32_t instance_count;
  float transform[12];
} draw_command;

typedef struct command_list {
  draw_command **commands; /* sorted view, allocated in the frame too */
  size_t count;
} command_list;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long minor_faults(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

static int by_sort_key(const void *a, const void *b) {
  const draw_command *x = *(draw_command *const *)a;
  const draw_command *y = *(draw_command *const *)b;
  return (x->sort_key > y->sort_key) - (x->sort_key < y->sort_key);
}

static uint32_t next_random(uint32_t *state) {
  *state ^= *state << 13;
  *state ^= *state >> 17;
  *state ^= *state << 5;
  return *state;
}

/* Records `objects` commands; every allocation comes from the frame. */
static alloy_status build_command_list(alloy_allocator frame, size_t objects, uint32_t *seed, command_list *out) {
  ALLOY_TRY(ALLOY_NEW_ARRAY(frame, draw_command *, objects, &out->commands));
  out->count = 0;
  for (size_t i = 0; i < objects; ++i) {
    draw_command *command;
    ALLOY_TRY(ALLOY_NEW(frame, draw_command, &command));
    command->sort_key = ((uint64_t)(next_random(seed) & 0xFF) << 56) | next_random(seed);
    command->mesh = (uint32_t)i;
    command->instance_count = 1 + next_random(seed) % 4;
    for (int k = 0; k < 12; ++k) command->transform[k] = (float)k;
    out->commands[out->count++] = command;
  }
  return ALLOY_OK;
}

static uint64_t submit(const command_list *list) {
  uint64_t checksum = 0;
  for (size_t i = 0; i < list->count; ++i) checksum += list->commands[i]->mesh * list->commands[i]->instance_count;
  return checksum;
}

/* Faults one first frame takes on a frame created with `config`. */
static long first_frame_faults(const alloy_frame_config *config) {
  alloy_frame *frame;
  if (alloy_frame_create(config, &frame) != ALLOY_OK) return -1;
  uint32_t seed = 1;
  command_list list;
  const long before = minor_faults();
  const alloy_status status = build_command_list(alloy_allocator_of(alloy_frame_resource(frame)), 20000, &seed, &list);
  const long faults = minor_faults() - before;
  alloy_frame_destroy(frame);
  return status == ALLOY_OK ? faults : -1;
}

int main(void) {
  alloy_frame_config config = alloy_frame_config_default((size_t)256 << 20);
  config.decommit_above = (size_t)4 << 20; /* keep 4 MiB warm; give back what a spike took */
  printf("commands of a first frame without pre-warm: %ld page faults\n", first_frame_faults(&config));
  alloy_frame_config prewarmed = config;
  prewarmed.commit.prewarm_bytes = (size_t)4 << 20; /* fault the kept 4 MiB in at creation */
  alloy_frame *scratch;
  alloy_double_frame visibility;
  alloy_status status = alloy_frame_create(&prewarmed, &scratch);
  if (status != ALLOY_OK || (status = alloy_double_frame_create(&config, &visibility)) != ALLOY_OK) {
    fprintf(stderr, "cannot create frames: %s\n", alloy_status_string(status));
    return 1;
  }
  alloy_allocator frame = alloy_allocator_of(alloy_frame_resource(scratch));

  printf("%5s %8s %10s %10s %10s %10s %9s %7s %10s\n", "frame", "commands", "used_KiB", "commit_KiB", "peak_KiB",
         "visible", "reset_ns", "faults", "checksum");
  /* faults: minor page faults while the commands are recorded */
  uint32_t seed = 0x2545F491u;
  const size_t *previous_visible = NULL;
  for (int f = 0; f < 12; ++f) {
    const size_t objects = f == 6 ? 200000 : 20000 + (size_t)(next_random(&seed) % 5000);

    /* Visibility lives in the double-buffered frame: next frame reads it. */
    alloy_double_frame_swap(&visibility);
    alloy_allocator vis = alloy_allocator_of(alloy_frame_resource(alloy_double_frame_current(&visibility)));
    size_t *visible;
    if (ALLOY_NEW(vis, size_t, &visible) != ALLOY_OK) return 1;
    *visible = objects - objects / 10;

    command_list list;
    const long faults_before = minor_faults();
    status = build_command_list(frame, objects, &seed, &list);
    const long faults = minor_faults() - faults_before;
    if (status != ALLOY_OK) {
      fprintf(stderr, "frame %d: %s\n", f, alloy_status_string(status));
      return 1;
    }
    {
      /* A temporary for the sort, rolled back at the end of the scope. */
      ALLOY_SCOPE(frame);
      draw_command **keys;
      if (ALLOY_NEW_ARRAY(frame, draw_command *, list.count, &keys) == ALLOY_OK) {
        memcpy(keys, list.commands, list.count * sizeof *keys);
        qsort(keys, list.count, sizeof *keys, by_sort_key);
        memcpy(list.commands, keys, list.count * sizeof *keys);
      }
    }
    const uint64_t checksum = submit(&list);

    alloy_frame_stats before;
    alloy_frame_get_stats(scratch, &before);
    const uint64_t start = now_ns();
    alloy_frame_reset(scratch);
    const uint64_t reset_ns = now_ns() - start;
    alloy_frame_stats after;
    alloy_frame_get_stats(scratch, &after);

    printf("%5d %8zu %10zu %10zu %10zu %10zu %9" PRIu64 " %7ld %10" PRIu64 "\n", f, list.count, before.used >> 10,
           after.committed >> 10, after.peak_used >> 10, previous_visible ? *previous_visible : 0, reset_ns, faults,
           checksum);
    previous_visible = visible;
  }
  alloy_double_frame_destroy(&visibility);
  alloy_frame_destroy(scratch);
  return 0;
}
