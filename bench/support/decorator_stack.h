// Builds a stack of decorators over an inner resource in a given order, for
// the stacking, contract and benchmark targets.
#ifndef ALLOY_BENCH_SUPPORT_DECORATOR_STACK_H
#define ALLOY_BENCH_SUPPORT_DECORATOR_STACK_H

#include <string>
#include <vector>

#include "alloy/debug.h"
#include "alloy/leak.h"
#include "alloy/locked.h"
#include "alloy/resource.h"
#include "alloy/stats.h"
#include "alloy/tagged.h"

namespace alloy_test {

enum class Decorator { kLocked, kStats, kTagged, kDebug, kLeak };

const char *DecoratorName(Decorator decorator);

// The five decorators, in a fixed order.
std::vector<Decorator> AllDecorators();

struct DecoratorStack {
  alloy_resource *top = nullptr;  // the outermost resource (the inner when empty)
  std::vector<Decorator> order;   // innermost first
  alloy_locked *locked = nullptr;
  alloy_stats *stats = nullptr;
  alloy_tagged *tagged = nullptr;
  alloy_debug *debug = nullptr;
  alloy_leak *leak = nullptr;
  std::string Name() const;  // e.g. "leak(debug(system))"
};

struct StackOptions {
  alloy_debug_config debug = alloy_debug_config_default();
  alloy_tagged_config tagged = {};
  alloy_stats_config stats = {};
  alloy_leak_config leak = {};
};

// Wraps `inner` in `order` (innermost first). ALLOY_OK or the first failure
// (nothing is left created then).
alloy_status BuildStack(alloy_resource *inner, const std::vector<Decorator> &order, const StackOptions &options,
                        DecoratorStack *out);
// Destroys the decorators outermost first; the inner resource is untouched.
void DestroyStack(DecoratorStack *stack);

}  // namespace alloy_test

#endif  // ALLOY_BENCH_SUPPORT_DECORATOR_STACK_H
