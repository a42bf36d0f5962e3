/* alloy/leak.h — the leak decorator: every outstanding block with the stack
 * that allocated it.
 *
 * Each allocation records the block (address, size, alignment) and up to
 * `depth` return addresses from glibc's backtrace(); each free drops the
 * record. alloy_leak_report prints what is still live, grouped by call
 * stack, largest first, each frame symbolized with dladdr (link with
 * -rdynamic to see the names of functions in the executable). The
 * decorator reports on destroy too, unless told not to.
 *
 * Records live in a side table keyed by address (the blocks are untouched),
 * so it stacks over any resource and costs one backtrace per allocation: a
 * development tool, not a production default. State (object, table and
 * records) comes from the platform heap; a lock guards it, so the decorator
 * may be shared when the inner is thread-safe. A rewind of a LIFO inner
 * would free blocks behind the decorator's back, so mark and rewind are not
 * offered. The inner resource stays the caller's.
 */
#ifndef ALLOY_LEAK_H
#define ALLOY_LEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

#define ALLOY_LEAK_MAX_DEPTH 32u

/* Frames recorded per block when the config leaves depth at 0: all of them
 * when the build asks for leak tracking (ALLOY_WITH_LEAK_TRACKING,
 * alloy/options.h). */
#if ALLOY_WITH_LEAK_TRACKING
#define ALLOY_LEAK_DEFAULT_DEPTH ALLOY_LEAK_MAX_DEPTH
#else
#define ALLOY_LEAK_DEFAULT_DEPTH 16u
#endif

typedef struct alloy_leak alloy_leak;

typedef struct alloy_leak_config {
  unsigned depth;         /* frames per block, 1..ALLOY_LEAK_MAX_DEPTH (0: 16, or all 32
                           * when built with ALLOY_WITH_LEAK_TRACKING) */
  bool quiet_on_destroy;  /* do not report outstanding blocks on destroy */
  FILE *report_file;      /* where destroy reports (NULL: stderr) */
} alloy_leak_config;

typedef struct alloy_leak_summary {
  size_t blocks; /* outstanding blocks */
  size_t bytes;  /* their requested bytes */
  size_t sites;  /* distinct allocating call stacks among them */
} alloy_leak_summary;

/* config may be NULL (the default depth, report to stderr on destroy). */
ALLOY_NODISCARD alloy_status alloy_leak_create(alloy_resource *inner, const alloy_leak_config *config,
                                               alloy_leak **out);

/* Reports outstanding blocks (unless quiet) and frees the decorator's state;
 * the blocks themselves stay allocated in the inner resource. */
void alloy_leak_destroy(alloy_leak *leak);
alloy_resource *alloy_leak_resource(alloy_leak *leak);

/* ALLOY_E_OUT_OF_MEMORY when the scratch space for grouping is refused
 * (the summary is then still right; the report is not printed). */
ALLOY_NODISCARD alloy_status alloy_leak_get_summary(alloy_leak *leak, alloy_leak_summary *out);

/* Prints the outstanding blocks grouped by call stack to `file`. */
ALLOY_NODISCARD alloy_status alloy_leak_report(alloy_leak *leak, FILE *file);

ALLOY_EXTERN_C_END

#endif /* ALLOY_LEAK_H */
