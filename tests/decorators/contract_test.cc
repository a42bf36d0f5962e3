// The resource contract, run over each decorator (and over a stack of all of
// them) on every inner resource of InnerFactories().
#include <cctype>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bench/support/decorator_stack.h"
#include "tests/contract/contract_suite.h"
#include "tests/decorators/inner_factories.h"

namespace alloy_test {
namespace {

struct Subject {
  DecoratorStack stack;
  alloy_resource *inner = nullptr;
  std::function<void(alloy_resource *)> destroy_inner;
};

std::map<alloy_resource *, Subject *> &Registry() {
  static std::map<alloy_resource *, Subject *> registry;
  return registry;
}

ContractSubject Make(const InnerFactory &inner, const std::string &name, std::vector<Decorator> order,
                     bool guard_pages) {
  ContractSubject subject;
  subject.name = name;
  subject.create = [inner, order, guard_pages]() -> alloy_resource * {
    auto *s = new Subject;
    s->inner = inner.create();
    s->destroy_inner = inner.destroy;
    StackOptions options;
    options.debug.guard_pages = guard_pages;
    EXPECT_EQ(BuildStack(s->inner, order, options, &s->stack), ALLOY_OK);
    Registry()[s->stack.top] = s;  // so destroy can find the subject behind the top resource
    return s->stack.top;
  };
  subject.destroy = [](alloy_resource *top) {
    Subject *s = Registry()[top];
    Registry().erase(top);
    DestroyStack(&s->stack);
    s->destroy_inner(s->inner);
    delete s;
  };
  subject.max_size = inner.max_size;
  subject.max_alignment = guard_pages ? 4096 : inner.max_alignment;
  subject.bounded = inner.bounded && !guard_pages;  // guard pages take blocks from the platform
  subject.exhaustion_limit = inner.exhaustion_limit;
  return subject;
}

std::string Capitalised(std::string name) {
  std::string out;
  bool up = true;
  for (char c : name) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

std::vector<ContractSubject> Subjects() {
  std::vector<ContractSubject> subjects;
  for (const InnerFactory &inner : InnerFactories()) {
    const std::string suffix = Capitalised(inner.name);
    subjects.push_back(Make(inner, "Locked" + suffix, {Decorator::kLocked}, false));
    subjects.push_back(Make(inner, "Stats" + suffix, {Decorator::kStats}, false));
    subjects.push_back(Make(inner, "Tagged" + suffix, {Decorator::kTagged}, false));
    subjects.push_back(Make(inner, "Debug" + suffix, {Decorator::kDebug}, false));
    subjects.push_back(Make(inner, "Leak" + suffix, {Decorator::kLeak}, false));
    subjects.push_back(Make(inner, "AllStacked" + suffix, AllDecorators(), false));
    subjects.push_back(Make(inner, "DebugGuardPages" + suffix, {Decorator::kDebug}, true));
  }
  return subjects;
}

INSTANTIATE_TEST_SUITE_P(Decorators, ResourceContract, ::testing::ValuesIn(Subjects()), SubjectName);

}  // namespace
}  // namespace alloy_test
