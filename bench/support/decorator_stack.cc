#include "bench/support/decorator_stack.h"

namespace alloy_test {

const char *DecoratorName(Decorator decorator) {
  switch (decorator) {
    case Decorator::kLocked: return "locked";
    case Decorator::kStats: return "stats";
    case Decorator::kTagged: return "tagged";
    case Decorator::kDebug: return "debug";
    case Decorator::kLeak: return "leak";
  }
  return "?";
}

std::vector<Decorator> AllDecorators() {
  return {Decorator::kLocked, Decorator::kStats, Decorator::kTagged, Decorator::kDebug, Decorator::kLeak};
}

std::string DecoratorStack::Name() const {
  std::string name = "inner";
  for (Decorator d : order) name = std::string(DecoratorName(d)) + "(" + name + ")";
  return name;
}

alloy_status BuildStack(alloy_resource *inner, const std::vector<Decorator> &order, const StackOptions &options,
                        DecoratorStack *out) {
  DecoratorStack stack;
  stack.top = inner;
  for (Decorator d : order) {
    alloy_status status = ALLOY_OK;
    switch (d) {
      case Decorator::kLocked:
        status = alloy_locked_create(stack.top, nullptr, &stack.locked);
        if (status == ALLOY_OK) stack.top = alloy_locked_resource(stack.locked);
        break;
      case Decorator::kStats:
        status = alloy_stats_create(stack.top, &options.stats, &stack.stats);
        if (status == ALLOY_OK) stack.top = alloy_stats_resource(stack.stats);
        break;
      case Decorator::kTagged:
        status = alloy_tagged_create(stack.top, &options.tagged, &stack.tagged);
        if (status == ALLOY_OK) stack.top = alloy_tagged_resource(stack.tagged);
        break;
      case Decorator::kDebug:
        status = alloy_debug_create(stack.top, &options.debug, &stack.debug);
        if (status == ALLOY_OK) stack.top = alloy_debug_resource(stack.debug);
        break;
      case Decorator::kLeak:
        status = alloy_leak_create(stack.top, &options.leak, &stack.leak);
        if (status == ALLOY_OK) stack.top = alloy_leak_resource(stack.leak);
        break;
    }
    if (status != ALLOY_OK) {
      DestroyStack(&stack);
      return status;
    }
    stack.order.push_back(d);
  }
  *out = stack;
  return ALLOY_OK;
}

void DestroyStack(DecoratorStack *stack) {
  for (auto it = stack->order.rbegin(); it != stack->order.rend(); ++it) {
    switch (*it) {
      case Decorator::kLocked: alloy_locked_destroy(stack->locked); stack->locked = nullptr; break;
      case Decorator::kStats: alloy_stats_destroy(stack->stats); stack->stats = nullptr; break;
      case Decorator::kTagged: alloy_tagged_destroy(stack->tagged); stack->tagged = nullptr; break;
      case Decorator::kDebug: alloy_debug_destroy(stack->debug); stack->debug = nullptr; break;
      case Decorator::kLeak: alloy_leak_destroy(stack->leak); stack->leak = nullptr; break;
    }
  }
  stack->order.clear();
  stack->top = nullptr;
}

}  // namespace alloy_test
