/* Open-addressing pointer map for the decorators' side tables. */
#include "alloy/pointer_table.h"

#include <string.h>

#include "alloy/heap.h"

#define SLOT_EMPTY ((uintptr_t)0)
#define SLOT_REMOVED ((uintptr_t)1)
#define INITIAL_CAPACITY 64u

static size_t slot_of(uintptr_t key, size_t capacity) {
  /* Blocks are at least 8-byte aligned; Fibonacci hashing spreads the rest. */
  return (size_t)(((uint64_t)key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (capacity - 1);
}

void alloy_pointer_table_init(alloy_pointer_table *table) { memset(table, 0, sizeof *table); }

void alloy_pointer_table_init_on(alloy_pointer_table *table, alloy_resource *memory) {
  alloy_pointer_table_init(table);
  table->memory = memory;
}

static alloy_status slots_allocate(const alloy_pointer_table *table, size_t capacity, alloy_pointer_slot **out) {
  void *memory;
  size_t bytes = capacity * sizeof(alloy_pointer_slot);
  if (table->memory == NULL) {
    ALLOY_TRY(alloy_heap_allocate(bytes, ALLOY_CACHE_LINE, &memory));
  } else {
    alloy_block block;
    ALLOY_TRY(alloy_resource_allocate(table->memory, bytes, ALLOY_CACHE_LINE, &block));
    memory = block.ptr;
  }
  *out = (alloy_pointer_slot *)memory;
  return ALLOY_OK;
}

static void slots_free(const alloy_pointer_table *table, alloy_pointer_slot *slots, size_t capacity) {
  if (slots == NULL) return;
  if (table->memory == NULL)
    alloy_heap_free(slots);
  else
    ALLOY_IGNORE_STATUS(alloy_resource_deallocate(
        table->memory, alloy_block_make(slots, capacity * sizeof(alloy_pointer_slot)), ALLOY_CACHE_LINE));
}

void alloy_pointer_table_destroy(alloy_pointer_table *table) {
  slots_free(table, table->slots, table->capacity);
  alloy_pointer_table_init_on(table, table->memory);
}

static void place(alloy_pointer_slot *slots, size_t capacity, uintptr_t key, uintptr_t value) {
  size_t i = slot_of(key, capacity);
  while (slots[i].key > SLOT_REMOVED) i = (i + 1) & (capacity - 1);
  slots[i].key = key;
  slots[i].value = value;
}

static ALLOY_COLD alloy_status rebuild(alloy_pointer_table *table, size_t capacity) {
  alloy_pointer_slot *slots;
  ALLOY_TRY(slots_allocate(table, capacity, &slots));
  memset(slots, 0, capacity * sizeof *slots);
  for (size_t i = 0; i < table->capacity; ++i)
    if (table->slots[i].key > SLOT_REMOVED) place(slots, capacity, table->slots[i].key, table->slots[i].value);
  slots_free(table, table->slots, table->capacity);
  table->slots = slots;
  table->capacity = capacity;
  table->used = table->count;
  return ALLOY_OK;
}

static alloy_pointer_slot *lookup(const alloy_pointer_table *table, uintptr_t key) {
  if (table->capacity == 0) return NULL;
  size_t i = slot_of(key, table->capacity);
  for (;;) {
    alloy_pointer_slot *slot = &table->slots[i];
    if (slot->key == key) return slot;
    if (slot->key == SLOT_EMPTY) return NULL;
    i = (i + 1) & (table->capacity - 1);
  }
}

alloy_status alloy_pointer_table_insert(alloy_pointer_table *table, const void *key, uintptr_t value) {
  uintptr_t k = (uintptr_t)key;
  if (k <= SLOT_REMOVED) return ALLOY_E_INVALID_ARGUMENT;
  alloy_pointer_slot *existing = lookup(table, k);
  if (existing != NULL) {
    existing->value = value;
    return ALLOY_OK;
  }
  if ((table->used + 1) * 2 > table->capacity) {
    /* Mostly tombstones: rebuild at the same size; else double. */
    size_t capacity = table->capacity == 0 ? INITIAL_CAPACITY
                      : (table->count + 1) * 4 <= table->capacity ? table->capacity
                                                                  : table->capacity * 2;
    ALLOY_TRY(rebuild(table, capacity));
  }
  size_t i = slot_of(k, table->capacity);
  while (table->slots[i].key > SLOT_REMOVED) i = (i + 1) & (table->capacity - 1);
  if (table->slots[i].key == SLOT_EMPTY) ++table->used;
  table->slots[i].key = k;
  table->slots[i].value = value;
  ++table->count;
  return ALLOY_OK;
}

bool alloy_pointer_table_find(const alloy_pointer_table *table, const void *key, uintptr_t *value) {
  alloy_pointer_slot *slot = lookup(table, (uintptr_t)key);
  if (slot == NULL || (uintptr_t)key <= SLOT_REMOVED) return false;
  if (value != NULL) *value = slot->value;
  return true;
}

bool alloy_pointer_table_remove(alloy_pointer_table *table, const void *key, uintptr_t *value) {
  if ((uintptr_t)key <= SLOT_REMOVED) return false;
  alloy_pointer_slot *slot = lookup(table, (uintptr_t)key);
  if (slot == NULL) return false;
  if (value != NULL) *value = slot->value;
  slot->key = SLOT_REMOVED;
  --table->count;
  return true;
}

void alloy_pointer_table_visit(const alloy_pointer_table *table,
                               bool (*visit)(void *context, const void *key, uintptr_t value), void *context) {
  for (size_t i = 0; i < table->capacity; ++i)
    if (table->slots[i].key > SLOT_REMOVED && !visit(context, (const void *)table->slots[i].key, table->slots[i].value))
      return;
}
