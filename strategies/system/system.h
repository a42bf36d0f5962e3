/* alloy/system.h — the system strategy: the C library heap as an alloy resource.
 *
 * The fallback of last resort and the choice for tools and non-critical
 * paths. Thread-safe, any alignment, any size the heap can give. It keeps no
 * state, so one shared instance serves everyone; it cannot tell which blocks
 * are its own (owns() is absent), so in a fallback chain it goes last.
 */
#ifndef ALLOY_SYSTEM_H
#define ALLOY_SYSTEM_H

#include "alloy/compiler.h"
#include "alloy/resource.h"

ALLOY_EXTERN_C_BEGIN

/* The process-wide system resource (stateless; never destroyed). */
alloy_resource *alloy_system_resource(void);

ALLOY_EXTERN_C_END

#endif /* ALLOY_SYSTEM_H */
