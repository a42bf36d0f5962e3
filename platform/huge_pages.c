/* Huge-page mappings: explicit hugetlb, transparent (madvise), normal. */
#define _GNU_SOURCE
#include "alloy/huge_pages.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "alloy/align.h"
#include "alloy/fault_seam.h"
#include "alloy/vm.h"

#define DEFAULT_HUGE_PAGE_SIZE ((size_t)2 << 20)

/* Reads "<key>: <number> ..." from /proc/meminfo; 0 when absent. */
static size_t meminfo_value(const char *key) {
  FILE *file = fopen("/proc/meminfo", "r");
  if (file == NULL) return 0;
  char line[256];
  size_t value = 0, key_length = strlen(key);
  while (fgets(line, sizeof line, file)) {
    if (strncmp(line, key, key_length) == 0 && line[key_length] == ':') {
      sscanf(line + key_length + 1, "%zu", &value);
      break;
    }
  }
  fclose(file);
  return value;
}

bool alloy_huge_pages_enabled(void) { return ALLOY_WITH_HUGE_PAGES != 0; }

/* The size never changes while the system runs: read /proc/meminfo once. */
static atomic_size_t cached_huge_page_size;

size_t alloy_huge_page_size(void) {
  size_t size = atomic_load_explicit(&cached_huge_page_size, memory_order_relaxed);
  if (ALLOY_UNLIKELY(size == 0)) {
    size_t kib = meminfo_value("Hugepagesize");
    size = kib ? kib * 1024 : DEFAULT_HUGE_PAGE_SIZE;
    atomic_store_explicit(&cached_huge_page_size, size, memory_order_relaxed);
  }
  return size;
}

size_t alloy_huge_pages_free(void) { return meminfo_value("HugePages_Free"); }

alloy_thp_mode alloy_thp_current_mode(void) {
  FILE *file = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (file == NULL) return ALLOY_THP_UNSUPPORTED;
  char text[128] = {0};
  size_t length = fread(text, 1, sizeof text - 1, file);
  fclose(file);
  text[length] = '\0';
  /* The active mode is the bracketed word, e.g. "always [madvise] never". */
  if (strstr(text, "[always]")) return ALLOY_THP_ALWAYS;
  if (strstr(text, "[madvise]")) return ALLOY_THP_MADVISE;
  if (strstr(text, "[never]")) return ALLOY_THP_NEVER;
  return ALLOY_THP_UNSUPPORTED;
}

const char *alloy_page_kind_name(alloy_page_kind kind) {
  switch (kind) {
    case ALLOY_PAGES_NORMAL: return "normal pages";
    case ALLOY_PAGES_TRANSPARENT_HUGE: return "transparent huge pages";
    case ALLOY_PAGES_EXPLICIT_HUGE: return "explicit huge pages";
  }
  return "unknown pages";
}

static alloy_status map_explicit(size_t size, void **base) {
  if (!alloy_huge_pages_enabled()) return ALLOY_E_UNAVAILABLE;
  if (alloy_fault_seam_refuses(ALLOY_PLATFORM_RESERVE)) return ALLOY_E_OUT_OF_MEMORY;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
  void *mapped = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (mapped == MAP_FAILED) return ALLOY_E_UNAVAILABLE; /* none reserved, or no hugetlb */
  *base = mapped;
  return ALLOY_OK;
}

static alloy_status map_transparent(size_t size, size_t huge, void **base) {
  alloy_thp_mode mode = alloy_thp_current_mode();
  if (!alloy_huge_pages_enabled()) return ALLOY_E_UNAVAILABLE;
  if (mode == ALLOY_THP_UNSUPPORTED || mode == ALLOY_THP_NEVER) return ALLOY_E_UNAVAILABLE;
  ALLOY_TRY(alloy_vm_map(size, huge, base));
  if (madvise(*base, size, MADV_HUGEPAGE) != 0) {
    ALLOY_IGNORE_STATUS(alloy_vm_release(*base, size)); /* best effort on the failure path */
    return ALLOY_E_UNAVAILABLE;
  }
  return ALLOY_OK;
}

alloy_status alloy_huge_pages_map_kind(size_t size, alloy_page_kind kind, alloy_huge_mapping *out) {
  size_t huge = alloy_huge_page_size();
  size_t rounded;
  if (out == NULL || size == 0 || size > ALLOY_MAX_REQUEST || !alloy_align_up_checked(size, huge, &rounded))
    return ALLOY_E_INVALID_ARGUMENT;
  void *base = NULL;
  switch (kind) {
    case ALLOY_PAGES_EXPLICIT_HUGE: ALLOY_TRY(map_explicit(rounded, &base)); break;
    case ALLOY_PAGES_TRANSPARENT_HUGE: ALLOY_TRY(map_transparent(rounded, huge, &base)); break;
    case ALLOY_PAGES_NORMAL: ALLOY_TRY(alloy_vm_map(rounded, huge, &base)); break;
    default: return ALLOY_E_INVALID_ARGUMENT;
  }
  out->base = base;
  out->size = rounded;
  out->kind = kind;
  return ALLOY_OK;
}

alloy_status alloy_huge_pages_map(size_t size, alloy_page_kind best, alloy_huge_mapping *out) {
  if ((unsigned)best > ALLOY_PAGES_EXPLICIT_HUGE) return ALLOY_E_INVALID_ARGUMENT;
  for (int kind = (int)best; kind >= (int)ALLOY_PAGES_NORMAL; --kind) {
    alloy_status status = alloy_huge_pages_map_kind(size, (alloy_page_kind)kind, out);
    if (status != ALLOY_E_UNAVAILABLE) return status;
  }
  return ALLOY_E_UNAVAILABLE;
}

alloy_status alloy_huge_pages_unmap(const alloy_huge_mapping *mapping) {
  if (mapping == NULL || mapping->base == NULL) return ALLOY_E_INVALID_ARGUMENT;
  if (munmap(mapping->base, mapping->size) != 0) return ALLOY_E_PLATFORM;
  return ALLOY_OK;
}

size_t alloy_huge_pages_thp_backed_bytes(const void *addr, size_t size) {
  FILE *file = fopen("/proc/self/smaps", "r");
  if (file == NULL) return 0;
  char line[512];
  size_t total = 0;
  bool inside = false;
  unsigned long start, end;
  const unsigned long first = (unsigned long)addr, last = first + size;
  while (fgets(line, sizeof line, file)) {
    if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      inside = start < last && end > first;
      continue;
    }
    size_t kib;
    if (inside && sscanf(line, "AnonHugePages: %zu kB", &kib) == 1) total += kib * 1024;
  }
  fclose(file);
  return total;
}
