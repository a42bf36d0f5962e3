/* Two frames swapped every frame: a thin helper over alloy_frame. */
#include "alloy/double_frame.h"

alloy_status alloy_double_frame_create(const alloy_frame_config *config, alloy_double_frame *out) {
  if (out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  alloy_double_frame pair = {{NULL, NULL}, 0};
  ALLOY_TRY(alloy_frame_create(config, &pair.frames[0]));
  alloy_status status = alloy_frame_create(config, &pair.frames[1]);
  if (status != ALLOY_OK) {
    alloy_frame_destroy(pair.frames[0]);
    return status;
  }
  *out = pair;
  return ALLOY_OK;
}

void alloy_double_frame_destroy(alloy_double_frame *pair) {
  alloy_frame_destroy(pair->frames[0]);
  alloy_frame_destroy(pair->frames[1]);
  pair->frames[0] = pair->frames[1] = NULL;
}

void alloy_double_frame_swap(alloy_double_frame *pair) {
  pair->current ^= 1u;
  alloy_frame_reset(pair->frames[pair->current]);
}
