// The resources the C++ face's suites run every container on: each strategy
// and one decorator stack, with what a test must know to stay inside what
// each serves. To cover another resource, add one entry in strategy_cases.cc.
#ifndef ALLOY_TESTS_CPP_STRATEGY_CASES_H
#define ALLOY_TESTS_CPP_STRATEGY_CASES_H

#include <cstddef>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "alloy/resource.h"

namespace alloy_test {

struct StrategyCase {
  std::string name;
  // The resource, with a deleter that destroys it and whatever it stands on.
  std::function<std::shared_ptr<alloy_resource>()> create;
  size_t max_request;  // the largest block it serves (the pool's block size)
  bool lifo;           // frees must come in reverse order of allocation (the stack)
};

std::vector<StrategyCase> StrategyCases();

inline void PrintTo(const StrategyCase &strategy, std::ostream *os) { *os << strategy.name; }

}  // namespace alloy_test

#endif  // ALLOY_TESTS_CPP_STRATEGY_CASES_H
