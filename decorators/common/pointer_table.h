/* alloy/pointer_table.h — a map from block addresses to one word, for the
 * decorators that must remember blocks outside the blocks themselves (debug:
 * which pointers are live; leak: where each live block's record is).
 *
 * Open addressing with linear probing and tombstones; the table doubles when
 * more than half full, so a lookup touches one or two cache lines. Memory
 * comes from the platform heap, or from a resource the owner names (a
 * decorator inside the process's malloc cannot use the platform heap). Not
 * thread-safe: the owner locks.
 *
 * Internal to //decorators.
 */
#ifndef ALLOY_POINTER_TABLE_H
#define ALLOY_POINTER_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_pointer_slot {
  uintptr_t key; /* 0: empty, 1: removed */
  uintptr_t value;
} alloy_pointer_slot;

typedef struct alloy_pointer_table {
  alloy_pointer_slot *slots;
  size_t capacity; /* a power of two, or 0 before the first insert */
  size_t count;    /* live keys */
  size_t used;     /* live keys and tombstones */
  alloy_resource *memory; /* where the slots come from; NULL: the platform heap */
} alloy_pointer_table;

/* An empty table; it allocates on the first insert. */
void alloy_pointer_table_init(alloy_pointer_table *table);

/* An empty table whose slots come from `memory` (thread-safe, or guarded by
 * the owner's lock) instead of the platform heap. */
void alloy_pointer_table_init_on(alloy_pointer_table *table, alloy_resource *memory);
void alloy_pointer_table_destroy(alloy_pointer_table *table);

/* Adds or replaces key (not 0 or 1). ALLOY_E_OUT_OF_MEMORY when growing fails
 * (the table is unchanged). */
ALLOY_NODISCARD alloy_status alloy_pointer_table_insert(alloy_pointer_table *table, const void *key, uintptr_t value);
bool alloy_pointer_table_find(const alloy_pointer_table *table, const void *key, uintptr_t *value);
bool alloy_pointer_table_remove(alloy_pointer_table *table, const void *key, uintptr_t *value);

/* Visits every entry in no particular order; stop early by returning false. */
void alloy_pointer_table_visit(const alloy_pointer_table *table, bool (*visit)(void *context, const void *key,
                                                                                uintptr_t value),
                               void *context);

ALLOY_EXTERN_C_END

#endif /* ALLOY_POINTER_TABLE_H */
