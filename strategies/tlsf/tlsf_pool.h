/* tlsf_pool.h — what tlsf_pool.c offers the other files of the package:
 * memory from the configured source, laying pools out and giving them back,
 * growth, the spare pools (invariant 11) and ownership by address through
 * the pool index (invariant 12). tlsf_pool.c lists and unlists a pool's
 * block through tlsf_purge.h and calls no file above it. */
#ifndef ALLOY_TLSF_POOL_H
#define ALLOY_TLSF_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "strategies/tlsf/tlsf_internal.h"

/* ---- memory sources and pools ---------------------------------------------- */

/* `bytes` of memory for a pool or the control structure from `source` (the
 * platform, on `numa_node` when it is one, or `parent`); in *source_bytes
 * what giving it back takes. */
ALLOY_HIDDEN alloy_status alloy_tlsf_pool_obtain(alloy_tlsf_growth source, alloy_resource *parent, int numa_node,
                                                 size_t bytes, void **memory, size_t *source_bytes);
/* Gives memory obtained from `source` back. */
ALLOY_HIDDEN void alloy_tlsf_pool_give_back(alloy_tlsf_growth source, alloy_resource *parent, void *memory,
                                            size_t source_bytes);

/* Lays a pool out over [pool, pool + bytes) (header, one free block,
 * sentinel), lists its block and links it in. `fresh`: its pages were just
 * mapped and hold no memory yet. */
ALLOY_HIDDEN void alloy_tlsf_pool_format(alloy_tlsf *tlsf, tlsf_pool *pool, void *memory, size_t source_bytes,
                                         size_t bytes, tlsf_origin origin, bool fresh);
/* Unlinks every pool and gives each back to its source (the instance goes). */
ALLOY_HIDDEN void alloy_tlsf_pool_release_all(alloy_tlsf *tlsf);

/* Adds a pool whose first block serves a `search`-byte request. */
ALLOY_HIDDEN alloy_status alloy_tlsf_pool_grow(alloy_tlsf *tlsf, size_t search, size_t align);

/* The pool whose blocks' payloads hold `ptr`, or NULL. */
ALLOY_HIDDEN tlsf_pool *alloy_tlsf_pool_of(const alloy_tlsf *tlsf, const void *ptr);

/* ---- spare pools (invariant 11) --------------------------------------------- */

/* A just-freed block, merged and not listed yet, that `sentinel` follows: when
 * it is a grown pool's only block, the pool is kept as the newest spare while
 * the spares stay within the limit, else unlinked and given back. Returns
 * whether the block is still there to be listed. */
ALLOY_HIDDEN bool alloy_tlsf_pool_keep_or_release(alloy_tlsf *tlsf, tlsf_block *block, tlsf_block *sentinel);
/* The block before `sentinel` was just taken for an allocation: if it was a
 * spare pool's whole block, the pool is in use again. */
ALLOY_HIDDEN void alloy_tlsf_pool_spare_reuse(alloy_tlsf *tlsf, tlsf_block *sentinel);
/* Gives the oldest spare pool back (it decayed). */
ALLOY_HIDDEN void alloy_tlsf_pool_spare_release_oldest(alloy_tlsf *tlsf);
/* Gives every spare pool back; the bytes their sources get back. */
ALLOY_HIDDEN size_t alloy_tlsf_pool_release_spares(alloy_tlsf *tlsf);

#endif /* ALLOY_TLSF_POOL_H */
