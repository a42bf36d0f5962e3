/* alloy/double_frame.h — two frames swapped every frame.
 *
 * The usual engine pattern for data that must survive into the next frame
 * (last frame's visibility results, render commands consumed one frame
 * late): allocate from the current frame; at the start of each frame call
 * alloy_double_frame_swap, which makes the other arena current and resets
 * it. Every block therefore lives for two frames: the one it was allocated
 * in and the next.
 */
#ifndef ALLOY_DOUBLE_FRAME_H
#define ALLOY_DOUBLE_FRAME_H

#include "alloy/compiler.h"
#include "alloy/frame.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_double_frame {
  alloy_frame *frames[2];
  unsigned current; /* index of the frame allocated from now */
} alloy_double_frame;

/* Creates both frames with the same config; *out is written only on success. */
ALLOY_NODISCARD alloy_status alloy_double_frame_create(const alloy_frame_config *config, alloy_double_frame *out);

void alloy_double_frame_destroy(alloy_double_frame *pair);

/* The frame to allocate from during this frame. */
static inline alloy_frame *alloy_double_frame_current(const alloy_double_frame *pair) {
  return pair->frames[pair->current];
}

/* Last frame's arena: still valid, read-only by convention. */
static inline alloy_frame *alloy_double_frame_previous(const alloy_double_frame *pair) {
  return pair->frames[pair->current ^ 1u];
}

/* Starts a new frame: the frame from two frames ago is reset and becomes current. */
void alloy_double_frame_swap(alloy_double_frame *pair);

ALLOY_EXTERN_C_END

#endif /* ALLOY_DOUBLE_FRAME_H */
