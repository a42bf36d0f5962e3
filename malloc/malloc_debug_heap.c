/* The checked malloc's process-wide debug decorator, over the release
 * malloc (malloc_api.c under its alloy_malloc_api_* names) as an alloy
 * resource, created on the first call (which may come before main) or when
 * the library is loaded, whichever is first; and the call-site record and
 * fault handler that tell the user where a misuse happened.
 *
 * The decorator's own memory (its object, live table, quarantine ring)
 * comes from the release malloc too, never from the C library's heap, which
 * inside a preload library is this malloc. Creation may call back into
 * malloc (the release heap's first creation registers its fork handler,
 * which allocates on some systems): such a call on the creating thread is
 * served from the release malloc's bootstrap buffer; other threads wait.
 *
 * fork(): the decorator's lock is registered with the fork guard after the
 * release malloc's locks (their heap exists before the decorator is made),
 * so the guard takes it first, the order a checked call nests them in. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloy/debug.h"
#include "alloy/fault.h"
#include "alloy/malloc_debug.h"
#include "alloy/resource.h"
#include "malloc_debug_internal.h"
#include "malloc_once.h"

#define DEFAULT_QUARANTINE 256u

ALLOY_THREAD_LOCAL alloy_malloc_debug_call alloy_malloc_debug_heap_call __attribute__((tls_model("initial-exec")));

static alloy_malloc_once heap_once = ALLOY_MALLOC_ONCE_INIT;
static _Atomic bool continue_after_fault;

/* ---- The release malloc as a resource ----------------------------------- */

static alloy_status release_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  (void)self;
  ALLOY_TRY(alloy_request_check(size, align));
  void *ptr = alloy_malloc_api_memalign(align, size);
  if (ptr == NULL) return ALLOY_E_OUT_OF_MEMORY;
  *out = alloy_block_make(ptr, size);
  return ALLOY_OK;
}

/* The size and alignment of the allocation route the free past the small
 * heap's lookup when they exceed its classes. */
static alloy_status release_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  (void)self;
  alloy_malloc_api_free_aligned_sized(block.ptr, align, block.size);
  return ALLOY_OK;
}

static void release_get_info(const alloy_resource *self, alloy_resource_info *info) {
  (void)self;
  info->name = "alloy_malloc";
  info->thread_safety = ALLOY_THREAD_SAFE;
  info->max_alignment = ALLOY_MAX_REQUEST / 2 + 1;
  info->max_size = ALLOY_MAX_REQUEST;
}

static const alloy_resource_ops release_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "alloy_malloc",
    .allocate = release_allocate,
    .deallocate = release_deallocate,
    .get_info = release_get_info,
};

static alloy_resource release_resource = {&release_ops};

/* ---- Options -------------------------------------------------------------- */

/* ALLOY_MALLOC_DEBUG: comma-separated "continue" and "quarantine=N". Read
 * without allocating; an environment not set up yet reads as empty. */
static void read_options(size_t *quarantine) {
  const char *options = getenv("ALLOY_MALLOC_DEBUG");
  if (options == NULL) return;
  for (const char *word = options; *word != '\0';) {
    size_t length = strcspn(word, ",");
    if (length == 8 && strncmp(word, "continue", 8) == 0)
      atomic_store_explicit(&continue_after_fault, true, memory_order_relaxed);
    else if (length == 5 && strncmp(word, "abort", 5) == 0)
      atomic_store_explicit(&continue_after_fault, false, memory_order_relaxed);
    else if (quarantine != NULL && length > 11 && strncmp(word, "quarantine=", 11) == 0)
      *quarantine = strtoul(word + 11, NULL, 10);
    word += length;
    if (*word == ',') ++word;
  }
}

/* ---- Creation --------------------------------------------------------------- */

static void *make_heap(void) {
  size_t quarantine = DEFAULT_QUARANTINE;
  read_options(&quarantine);
  alloy_debug_config config = alloy_debug_config_default();
  config.quarantine = quarantine;
  config.check_on_destroy = false; /* never destroyed: the process's malloc */
  /* The release heap first, with its locks registered before the decorator's. */
  void *probe = alloy_malloc_api_malloc(1);
  if (probe != NULL) alloy_malloc_api_free(probe);
  alloy_debug *made = NULL;
  if (alloy_debug_create_with_state(&release_resource, &config, &release_resource, &made) != ALLOY_OK) return NULL;
  alloy_fault_set_handler(alloy_malloc_debug_fault_handler, NULL);
  return made;
}

alloy_debug *alloy_malloc_debug_heap_get(bool *reentrant) {
  return alloy_malloc_once_get(&heap_once, make_heap, reentrant);
}

alloy_debug *alloy_malloc_debug_heap_existing(void) { return alloy_malloc_once_existing(&heap_once); }

/* At load, in a program that has not allocated yet: the checks (and the
 * handler) are in place before main. The options are read again here, where
 * the environment is surely set up. */
__attribute__((constructor)) static void create_at_load(void) {
  bool reentrant = false;
  (void)alloy_malloc_debug_heap_get(&reentrant);
  read_options(NULL);
}

/* ---- Call sites and the fault handler -------------------------------------- */

const void *alloy_malloc_debug_call_site(void) { return alloy_malloc_debug_heap_call.site; }

const char *alloy_malloc_debug_call_function(void) { return alloy_malloc_debug_heap_call.function; }

/* "0x55d0c0de1234 in free called from python3+0x1a2b3c (PyObject_Free+0x2c)":
 * a module and offset addr2line resolves. */
static int format_call_site(char *buffer, size_t capacity) {
  const alloy_malloc_debug_call call = alloy_malloc_debug_heap_call;
  if (call.site == NULL) return 0;
  int length = snprintf(buffer, capacity, "\nalloy: in %s called from %p", call.function ? call.function : "?",
                        call.site);
  Dl_info info;
  if (length > 0 && (size_t)length < capacity && dladdr(call.site, &info) != 0 && info.dli_fname != NULL) {
    const char *module = strrchr(info.dli_fname, '/');
    module = module != NULL ? module + 1 : info.dli_fname;
    length += snprintf(buffer + length, capacity - (size_t)length, " (%s+0x%zx", module,
                       (size_t)((const char *)call.site - (const char *)info.dli_fbase));
    if ((size_t)length < capacity && info.dli_sname != NULL)
      length += snprintf(buffer + length, capacity - (size_t)length, ", %s+0x%zx", info.dli_sname,
                         (size_t)((const char *)call.site - (const char *)info.dli_saddr));
    if ((size_t)length < capacity) length += snprintf(buffer + length, capacity - (size_t)length, ")");
  }
  return length;
}

void alloy_malloc_debug_fault_handler(const alloy_fault *fault, void *context) {
  (void)context;
  char message[1024];
  int length = alloy_fault_format(fault, message, sizeof message);
  if (length < 0) length = 0;
  if ((size_t)length < sizeof message) length += format_call_site(message + length, sizeof message - (size_t)length);
  bool go_on = atomic_load_explicit(&continue_after_fault, memory_order_relaxed);
  if ((size_t)length < sizeof message)
    length += snprintf(message + length, sizeof message - (size_t)length, "\nalloy: %s\n",
                       go_on ? "the call did nothing; going on (ALLOY_MALLOC_DEBUG=continue)"
                             : "aborting (ALLOY_MALLOC_DEBUG=continue reports and goes on)");
  if ((size_t)length > sizeof message - 1) length = (int)(sizeof message - 1);
  /* write(2): no stdio lock or buffer, which the faulty call may hold. */
  for (const char *at = message; length > 0;) {
    ssize_t written = write(STDERR_FILENO, at, (size_t)length);
    if (written <= 0) break;
    at += written;
    length -= (int)written;
  }
  if (!go_on) abort();
}
