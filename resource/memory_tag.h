/* alloy/memory_tag.h — the memory tags budgets and statistics are kept by.
 *
 * A tag is a small integer naming a subsystem. The engine's usual ones are
 * predefined; a program adds its own from ALLOY_TAG_USER_FIRST up to
 * ALLOY_TAG_CAPACITY - 1 ("user0", "user1", ... unless the tagged decorator
 * is given another name for them).
 */
#ifndef ALLOY_MEMORY_TAG_H
#define ALLOY_MEMORY_TAG_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

typedef unsigned alloy_tag;

enum {
  ALLOY_TAG_UNTAGGED = 0, /* no scope pushed and no explicit tag */
  ALLOY_TAG_GRAPHICS,
  ALLOY_TAG_AUDIO,
  ALLOY_TAG_PHYSICS,
  ALLOY_TAG_UI,
  ALLOY_TAG_TOOLING,
  ALLOY_TAG_USER_FIRST = 8,
  ALLOY_TAG_CAPACITY = 64
};

/* "graphics", "audio", ..., "user0", ...; NULL for a tag at or above ALLOY_TAG_CAPACITY. */
const char *alloy_tag_default_name(alloy_tag tag);

/* The tag whose default name is `name` (case-sensitive), or a plain number
 * below ALLOY_TAG_CAPACITY. False when there is none. */
bool alloy_tag_from_name(const char *name, size_t length, alloy_tag *out);

ALLOY_EXTERN_C_END

#endif /* ALLOY_MEMORY_TAG_H */
