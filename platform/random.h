/* alloy/random.h — secrets for the every-build misuse checks.
 *
 * A heap marks its free blocks, or encodes its links, with a key the
 * program cannot guess or write by chance: 64 bits from the kernel's
 * generator (getrandom, never blocking), mixed with the time and the
 * caller's address so that a kernel without getrandom still gives
 * different heaps different keys. Never 0, which heaps use for "no key".
 * Not for cryptography.
 */
#ifndef ALLOY_RANDOM_H
#define ALLOY_RANDOM_H

#include <stdint.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

/* A fresh non-zero key; `salt` (a heap's address, say) is mixed in. */
uint64_t alloy_random_key(const void *salt);

ALLOY_EXTERN_C_END

#endif /* ALLOY_RANDOM_H */
