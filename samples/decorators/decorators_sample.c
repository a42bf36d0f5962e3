/* A game-style memory setup: the system heap made observable and guarded by
 * a stack of decorators, configured from ALLOY_MEMORY_CONFIG.
 *
 *   leak( debug( tagged( stats( locked( system ) ) ) ) )
 *
 * Try:  ALLOY_MEMORY_CONFIG="budget.audio=4K;stats.sample=1" decorators_sample
 *       ALLOY_MEMORY_CONFIG="budget.audio=lots" decorators_sample     (rejected)
 */
#include <stdio.h>
#include <string.h>

#include "alloy/debug.h"
#include "alloy/leak.h"
#include "alloy/locked.h"
#include "alloy/memory_config.h"
#include "alloy/stats.h"
#include "alloy/system.h"
#include "alloy/tagged.h"

static void on_budget_exceeded(void *context, alloy_tag tag, const char *tag_name, size_t requested,
                               size_t live_bytes, size_t budget) {
  (void)context;
  (void)tag;
  printf("budget alert: '%s' asked for %zu bytes with %zu of %zu live\n", tag_name, requested, live_bytes, budget);
}

static void *load_sound(alloy_resource *memory, size_t bytes) {
  alloy_block block;
  if (alloy_resource_allocate(memory, bytes, 16, &block) != ALLOY_OK) return NULL;
  memset(block.ptr, 0, bytes);
  return block.ptr;
}

int main(void) {
  alloy_memory_config config = alloy_memory_config_defaults();
  config.budgets[ALLOY_TAG_AUDIO] = 16 << 10; /* set from code; the environment may override */
  char error[256];
  if (alloy_memory_config_from_env("ALLOY_MEMORY_CONFIG", &config, error, sizeof error) != ALLOY_OK) {
    fprintf(stderr, "%s\n", error);
    return 2;
  }

  alloy_locked *locked;
  alloy_stats *stats;
  alloy_tagged *tagged;
  alloy_debug *debug;
  alloy_leak *leak;
  alloy_stats_config stats_config = alloy_stats_config_from_memory_config(&config);
  alloy_tagged_config tagged_config = alloy_tagged_config_from_memory_config(&config);
  tagged_config.on_budget_exceeded = on_budget_exceeded;
  alloy_debug_config debug_config = alloy_debug_config_from_memory_config(&config);
  alloy_leak_config leak_config = alloy_leak_config_from_memory_config(&config);
  leak_config.report_file = stdout;
  if (alloy_locked_create(alloy_system_resource(), NULL, &locked) != ALLOY_OK ||
      alloy_stats_create(alloy_locked_resource(locked), &stats_config, &stats) != ALLOY_OK ||
      alloy_tagged_create(alloy_stats_resource(stats), &tagged_config, &tagged) != ALLOY_OK ||
      alloy_debug_create(alloy_tagged_resource(tagged), &debug_config, &debug) != ALLOY_OK ||
      alloy_leak_create(alloy_debug_resource(debug), &leak_config, &leak) != ALLOY_OK) {
    fprintf(stderr, "could not build the decorator stack\n");
    return 1;
  }
  alloy_resource *memory = alloy_leak_resource(leak);

  /* Audio loads sounds until its budget says no. */
  if (alloy_tag_push(ALLOY_TAG_AUDIO) != ALLOY_OK) return 1;
  void *sounds[16];
  size_t loaded = 0;
  while (loaded < 16 && (sounds[loaded] = load_sound(memory, 3000)) != NULL) ++loaded;
  ALLOY_IGNORE_STATUS(alloy_tag_pop());
  printf("audio loaded %zu sounds of 3000 bytes\n", loaded);

  /* Graphics allocates in its own scope. (alloy_tagged_allocate names a tag
   * explicitly, but only on the tagged decorator itself: blocks from it must
   * be freed there, not through the decorators stacked above.) */
  alloy_block texture;
  if (alloy_tag_push(ALLOY_TAG_GRAPHICS) != ALLOY_OK) return 1;
  if (alloy_resource_allocate(memory, 64 << 10, 64, &texture) != ALLOY_OK) return 1;
  ALLOY_IGNORE_STATUS(alloy_tag_pop());

  alloy_tag_stats audio;
  ALLOY_IGNORE_STATUS(alloy_tagged_get_tag_stats(tagged, ALLOY_TAG_AUDIO, &audio));
  printf("audio: %zu bytes live, peak %zu, budget %zu, %llu refusals\n", audio.live_bytes, audio.peak_live_bytes,
         audio.budget, (unsigned long long)audio.budget_refusals);

  char text[2048];
  alloy_tagged_dump_text(tagged, text, sizeof text);
  printf("%s", text);
  alloy_stats_dump_text(stats, text, sizeof text);
  printf("%s", text);
  alloy_stats_dump_json(stats, text, sizeof text);
  printf("%s\n", text);

  /* One sound is "forgotten": the leak report names where it came from. */
  for (size_t i = 1; i < loaded; ++i)
    ALLOY_IGNORE_STATUS(alloy_resource_deallocate(memory, alloy_block_make(sounds[i], 3000), 16));
  ALLOY_IGNORE_STATUS(alloy_resource_deallocate(memory, texture, 64));
  if (alloy_leak_report(leak, stdout) != ALLOY_OK) return 1;
  if (loaded > 0) ALLOY_IGNORE_STATUS(alloy_resource_deallocate(memory, alloy_block_make(sounds[0], 3000), 16));

  alloy_leak_destroy(leak); /* nothing left: no report */
  alloy_debug_destroy(debug);
  alloy_tagged_destroy(tagged);
  alloy_stats_destroy(stats);
  alloy_locked_destroy(locked);
  return 0;
}
