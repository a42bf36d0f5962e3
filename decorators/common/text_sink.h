/* alloy/text_sink.h — formatted text into a caller's bounded buffer, for the
 * decorators' text and JSON dumps.
 *
 * Writes snprintf-style: the text is cut at the buffer's end but always
 * NUL-terminated (for a non-empty buffer), and `length` keeps counting what
 * the whole text needs, so a dump returns that length and the caller can
 * retry with a larger buffer.
 *
 * Internal to //decorators.
 */
#ifndef ALLOY_TEXT_SINK_H
#define ALLOY_TEXT_SINK_H

#include <stddef.h>

#include "alloy/compiler.h"

typedef struct alloy_text_sink {
  char *buffer;
  size_t capacity;
  size_t length; /* bytes the whole text needs so far, NUL excluded */
} alloy_text_sink;

/* An empty text in `buffer` (which may be NULL when capacity is 0). */
alloy_text_sink alloy_text_sink_start(char *buffer, size_t capacity);

/* Appends printf-formatted text. */
ALLOY_PRINTF(2, 3) void alloy_text_sink_printf(alloy_text_sink *sink, const char *format, ...);

#endif /* ALLOY_TEXT_SINK_H */
