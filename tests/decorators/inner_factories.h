// The inner resources the decorator tests stack over. To cover another
// strategy in the contract and stacking tests, add one line to
// InnerFactories() in inner_factories.cc.
#ifndef ALLOY_TESTS_DECORATORS_INNER_FACTORIES_H
#define ALLOY_TESTS_DECORATORS_INNER_FACTORIES_H

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "alloy/resource.h"

namespace alloy_test {

struct InnerFactory {
  std::string name;
  std::function<alloy_resource *()> create;
  std::function<void(alloy_resource *)> destroy;
  size_t max_size;           // largest request a decorated stack over it must serve
                             // (leave room for a debug header, canaries and a tag header)
  size_t max_alignment;      // largest alignment it serves
  bool bounded;              // allocation eventually fails with a status
  size_t exhaustion_limit;   // bounded: bytes after which failure is guaranteed
};

std::vector<InnerFactory> InnerFactories();

inline void PrintTo(const InnerFactory &factory, std::ostream *os) { *os << factory.name; }

}  // namespace alloy_test

#endif  // ALLOY_TESTS_DECORATORS_INNER_FACTORIES_H
