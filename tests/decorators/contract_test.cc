// The resource contract, run over each decorator (and over a stack of all of
// them) on the system heap and on a bounded single-threaded free list.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/system.h"
#include "tests/contract/contract_suite.h"
#include "tests/decorators/decorator_stack.h"
#include "tests/decorators/test_free_list.h"

namespace alloy_test {
namespace {

constexpr size_t kFreeListCapacity = 4 << 20;

struct Subject {
  DecoratorStack stack;
  alloy_resource *inner = nullptr;
  bool owns_inner = false;
};

std::map<alloy_resource *, Subject *> &Registry() {
  static std::map<alloy_resource *, Subject *> registry;
  return registry;
}

ContractSubject Make(const std::string &name, std::vector<Decorator> order, bool on_free_list, bool guard_pages) {
  ContractSubject subject;
  subject.name = name;
  subject.create = [order, on_free_list, guard_pages]() -> alloy_resource * {
    auto *s = new Subject;
    s->inner = on_free_list ? CreateFreeList(kFreeListCapacity) : alloy_system_resource();
    s->owns_inner = on_free_list;
    StackOptions options;
    options.debug.guard_pages = guard_pages;
    options.leak.quiet_on_destroy = false;
    EXPECT_EQ(BuildStack(s->inner, order, options, &s->stack), ALLOY_OK);
    // Remember the subject behind the top resource so destroy can find it.
    Registry()[s->stack.top] = s;
    return s->stack.top;
  };
  subject.destroy = [](alloy_resource *top) {
    Subject *s = Registry()[top];
    Registry().erase(top);
    DestroyStack(&s->stack);
    if (s->owns_inner) DestroyFreeList(s->inner);
    delete s;
  };
  if (on_free_list) {
    subject.max_size = 32768;  // headers and canaries must still fit the largest class
    subject.max_alignment = kFreeListMaxAlignment;
    subject.bounded = true;
    subject.exhaustion_limit = kFreeListCapacity;
  } else {
    subject.max_size = 1 << 20;
    subject.max_alignment = guard_pages ? 4096 : 1 << 16;
  }
  return subject;
}

std::vector<ContractSubject> Subjects() {
  std::vector<ContractSubject> subjects;
  for (bool on_free_list : {false, true}) {
    const std::string inner = on_free_list ? "FreeList" : "System";
    subjects.push_back(Make("Locked" + inner, {Decorator::kLocked}, on_free_list, false));
    subjects.push_back(Make("Stats" + inner, {Decorator::kStats}, on_free_list, false));
    subjects.push_back(Make("Tagged" + inner, {Decorator::kTagged}, on_free_list, false));
    subjects.push_back(Make("Debug" + inner, {Decorator::kDebug}, on_free_list, false));
    subjects.push_back(Make("Leak" + inner, {Decorator::kLeak}, on_free_list, false));
    subjects.push_back(Make("AllStacked" + inner, AllDecorators(), on_free_list, false));
  }
  subjects.push_back(Make("DebugGuardPagesSystem", {Decorator::kDebug}, false, true));
  return subjects;
}

INSTANTIATE_TEST_SUITE_P(Decorators, ResourceContract, ::testing::ValuesIn(Subjects()), SubjectName);

}  // namespace
}  // namespace alloy_test
