/* tlsf_defrag.h — the look-up a free makes while a defragmentation pass
 * (tlsf_defrag.c) is open on its heap, inline so the heaps' files call no
 * file above them: tlsf_defrag.c frees through the heaps' public free. */
#ifndef ALLOY_TLSF_DEFRAG_H
#define ALLOY_TLSF_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "alloy/fault.h"
#include "alloy/tlsf.h"

/* A block is about to be freed or resized while `pass` is open: the block
 * at `ptr` (in-band) or `offset` (virtual, ptr NULL). A planned move's
 * source has its move cancelled (ALLOY_OK: the free goes on); a reserved
 * destination is not the caller's, reported as ALLOY_E_NOT_OWNED (the free
 * must not go on). O(moves). */
static inline alloy_status defrag_on_free(alloy_tlsf_pass *pass, const void *ptr, size_t offset) {
  const bool in_band = ptr != NULL;
  for (size_t i = 0; i < pass->count; ++i) {
    alloy_tlsf_move *move = &pass->moves[i];
    if (in_band ? move->to == ptr : move->to_offset == offset) {
      alloy_fault fault = {ALLOY_E_NOT_OWNED, in_band ? "tlsf" : "tlsf_virtual",
                           in_band ? ptr : (const void *)(uintptr_t)offset, move->size, 0, 0, 0,
                           "block is reserved by the open defragmentation pass"};
      return alloy_fault_report(&fault);
    }
    if ((in_band ? move->from == ptr : move->from_offset == offset) && move->result == ALLOY_TLSF_MOVE_PLANNED)
      move->result = ALLOY_TLSF_MOVE_CANCELLED;
  }
  return ALLOY_OK;
}

#endif /* ALLOY_TLSF_DEFRAG_H */
