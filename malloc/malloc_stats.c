/* The drop-in malloc's report at exit, when ALLOY_MALLOC_STATS asks for it:
 * what the program did with each tier (the small-object heap, the medium
 * arenas, the large mappings) and its peak resident memory, as a table and
 * one JSON object.
 *
 *   ALLOY_MALLOC_STATS=1       both on stderr
 *   ALLOY_MALLOC_STATS=<path>  the table on stderr, the JSON into the file
 *                              (a path holds a '/'; "%p" in it becomes the
 *                              process id, so the processes of a pipeline
 *                              or a build do not overwrite each other)
 *
 * It runs as a destructor, when the program exits or the preload library
 * is unloaded. Threads still running then make it a snapshot. It formats
 * into a buffer on the stack and writes with write(2): the report never
 * allocates, so it cannot disturb what it reports. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "malloc_internal.h"

enum { TIER_SMALL, TIER_MEDIUM, TIER_LARGE, TIER_COUNT };

static const char *const tier_names[TIER_COUNT] = {"small", "medium", "large"};

static void small_stats(alloy_malloc_tier_stats *out) {
  *out = (alloy_malloc_tier_stats){0};
  alloy_small_object *heap = alloy_malloc_heap_existing();
  if (heap == NULL) return;
  alloy_small_object_stats stats;
  alloy_small_object_get_stats(heap, &stats);
  out->allocations = stats.allocations;
  out->frees = stats.deallocations;
  out->live_bytes = stats.live_bytes;
  out->peak_live_bytes = stats.peak_live_bytes;
  out->held_bytes = stats.committed_bytes;
}

/* The partition's blocks and the arenas' together. */
static void medium_stats(alloy_malloc_tier_stats *out) {
  alloy_malloc_tier_stats arenas;
  alloy_malloc_partition_get_stats(out);
  alloy_malloc_medium_get_stats(&arenas);
  out->allocations += arenas.allocations;
  out->frees += arenas.frees;
  out->live_bytes += arenas.live_bytes;
  out->peak_live_bytes += arenas.peak_live_bytes; /* an upper bound of the sum's peak */
  out->held_bytes += arenas.held_bytes;
}

static void write_all(int fd, const char *text, size_t length) {
  while (length > 0) {
    ssize_t written = write(fd, text, length);
    if (written <= 0) return;
    text += written;
    length -= (size_t)written;
  }
}

/* Appends to buffer[*used..capacity), truncating quietly when it is full. */
__attribute__((format(printf, 4, 5))) static void append(char *buffer, size_t capacity, size_t *used, const char *format, ...) {
  if (*used >= capacity) return;
  va_list args;
  va_start(args, format);
  int n = vsnprintf(buffer + *used, capacity - *used, format, args);
  va_end(args);
  if (n > 0) *used += (size_t)n < capacity - *used ? (size_t)n : capacity - *used - 1;
}

static void format_table(const alloy_malloc_tier_stats *tiers, size_t peak_rss, char *out, size_t capacity,
                         size_t *used) {
  append(out, capacity, used, "alloy_malloc: statistics at exit (pid %ld)\n", (long)getpid());
  append(out, capacity, used, "  %-7s %14s %14s %14s %14s %14s\n", "tier", "allocations", "frees", "live bytes",
         "peak live", "held bytes");
  for (int i = 0; i < TIER_COUNT; ++i)
    append(out, capacity, used, "  %-7s %14" PRIu64 " %14" PRIu64 " %14zu %14zu %14zu\n", tier_names[i],
           tiers[i].allocations, tiers[i].frees, tiers[i].live_bytes, tiers[i].peak_live_bytes, tiers[i].held_bytes);
  append(out, capacity, used, "  process peak resident memory: %zu bytes\n", peak_rss);
}

static void format_json(const alloy_malloc_tier_stats *tiers, size_t peak_rss, char *out, size_t capacity,
                        size_t *used) {
  append(out, capacity, used, "{\"pid\":%ld", (long)getpid());
  for (int i = 0; i < TIER_COUNT; ++i)
    append(out, capacity, used,
           ",\"%s\":{\"allocations\":%" PRIu64 ",\"frees\":%" PRIu64
           ",\"live_bytes\":%zu,\"peak_live_bytes\":%zu,\"held_bytes\":%zu}",
           tier_names[i], tiers[i].allocations, tiers[i].frees, tiers[i].live_bytes, tiers[i].peak_live_bytes,
           tiers[i].held_bytes);
  append(out, capacity, used, ",\"peak_rss_bytes\":%zu}\n", peak_rss);
}

/* The path with each "%p" replaced by the process id; false when it does not fit. */
static bool expand_path(const char *setting, char *path, size_t capacity) {
  size_t used = 0;
  for (const char *c = setting; *c != '\0'; ++c) {
    if (c[0] == '%' && c[1] == 'p') {
      append(path, capacity, &used, "%ld", (long)getpid());
      ++c;
    } else {
      append(path, capacity, &used, "%c", *c);
    }
    if (used + 1 >= capacity) return false;
  }
  return true;
}

__attribute__((destructor)) static void report_at_exit(void) {
  const char *setting = getenv("ALLOY_MALLOC_STATS");
  if (setting == NULL || setting[0] == '\0' || strcmp(setting, "0") == 0) return;
  alloy_malloc_tier_stats tiers[TIER_COUNT];
  small_stats(&tiers[TIER_SMALL]);
  medium_stats(&tiers[TIER_MEDIUM]);
  alloy_malloc_large_get_stats(&tiers[TIER_LARGE]);
  struct rusage usage;
  size_t peak_rss = getrusage(RUSAGE_SELF, &usage) == 0 ? (size_t)usage.ru_maxrss * 1024u : 0;

  char text[2048];
  size_t used = 0;
  format_table(tiers, peak_rss, text, sizeof(text), &used);
  write_all(STDERR_FILENO, text, used);

  char json[1024];
  size_t json_used = 0;
  format_json(tiers, peak_rss, json, sizeof(json), &json_used);
  bool to_file = strchr(setting, '/') != NULL;
  char path[512] = "";
  if (to_file && !expand_path(setting, path, sizeof(path))) return;
  int fd = to_file ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : STDERR_FILENO;
  if (fd < 0) return;
  if (!to_file) write_all(fd, "alloy_malloc: ", 14);
  write_all(fd, json, json_used);
  if (to_file) close(fd);
}
