/* Formatted text into a bounded buffer that counts what the whole text needs. */
#include "alloy/text_sink.h"

#include <stdarg.h>
#include <stdio.h>

alloy_text_sink alloy_text_sink_start(char *buffer, size_t capacity) {
  if (capacity > 0) buffer[0] = '\0';
  return (alloy_text_sink){buffer, capacity, 0};
}

void alloy_text_sink_printf(alloy_text_sink *sink, const char *format, ...) {
  char *at = sink->length < sink->capacity ? sink->buffer + sink->length : NULL;
  size_t room = sink->length < sink->capacity ? sink->capacity - sink->length : 0;
  va_list args;
  va_start(args, format);
  int written = vsnprintf(at, room, format, args);
  va_end(args);
  if (written > 0) sink->length += (size_t)written;
}
