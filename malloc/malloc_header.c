/* The drop-in malloc's report of a free whose header (malloc_header.h) is
 * not a valid block's: a foreign, interior or repeated free, or a header
 * overwritten by the program. */
#include "alloy/fault.h"
#include "malloc_header.h"

void alloy_malloc_header_report(alloy_status status, const void *ptr, const char *what) {
  alloy_fault fault = {status, "alloy_malloc", ptr, 0, 0, 0, 0, what};
  ALLOY_IGNORE_STATUS(alloy_fault_report(&fault));
}
