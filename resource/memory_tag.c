/* Default names of the memory tags. */
#include "alloy/memory_tag.h"

#include <string.h>

static const char *const predefined_names[ALLOY_TAG_USER_FIRST] = {
    "untagged", "graphics", "audio", "physics", "ui", "tooling", "reserved6", "reserved7",
};

/* "user0".."user55", built once into constant storage. */
static const char *const user_names[ALLOY_TAG_CAPACITY - ALLOY_TAG_USER_FIRST] = {
    "user0",  "user1",  "user2",  "user3",  "user4",  "user5",  "user6",  "user7",  "user8",  "user9",
    "user10", "user11", "user12", "user13", "user14", "user15", "user16", "user17", "user18", "user19",
    "user20", "user21", "user22", "user23", "user24", "user25", "user26", "user27", "user28", "user29",
    "user30", "user31", "user32", "user33", "user34", "user35", "user36", "user37", "user38", "user39",
    "user40", "user41", "user42", "user43", "user44", "user45", "user46", "user47", "user48", "user49",
    "user50", "user51", "user52", "user53", "user54", "user55",
};

const char *alloy_tag_default_name(alloy_tag tag) {
  if (tag < ALLOY_TAG_USER_FIRST) return predefined_names[tag];
  if (tag < ALLOY_TAG_CAPACITY) return user_names[tag - ALLOY_TAG_USER_FIRST];
  return NULL;
}

bool alloy_tag_from_name(const char *name, size_t length, alloy_tag *out) {
  if (length > 0 && length <= 2 && name[0] >= '0' && name[0] <= '9') {
    unsigned value = 0;
    for (size_t i = 0; i < length; ++i) {
      if (name[i] < '0' || name[i] > '9') return false;
      value = value * 10u + (unsigned)(name[i] - '0');
    }
    if (value >= ALLOY_TAG_CAPACITY) return false;
    *out = value;
    return true;
  }
  for (alloy_tag tag = 0; tag < ALLOY_TAG_CAPACITY; ++tag) {
    const char *candidate = alloy_tag_default_name(tag);
    if (strlen(candidate) == length && memcmp(candidate, name, length) == 0) {
      *out = tag;
      return true;
    }
  }
  return false;
}
