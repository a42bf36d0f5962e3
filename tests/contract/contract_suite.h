// The resource contract as one parameterised suite. Every strategy and every
// decorator stack that claims the contract instantiates it with a subject:
//
//   INSTANTIATE_TEST_SUITE_P(Frame, ResourceContract,
//                            ::testing::Values(MakeFrameSubject()),
//                            alloy_test::SubjectName);
#ifndef ALLOY_TESTS_CONTRACT_SUITE_H
#define ALLOY_TESTS_CONTRACT_SUITE_H

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "alloy/resource.h"

namespace alloy_test {

struct ContractSubject {
  std::string name;
  std::function<alloy_resource *()> create;
  std::function<void(alloy_resource *)> destroy;
  size_t max_size = 4096;        // largest request the subject serves
  size_t max_alignment = 4096;   // largest alignment the subject serves
  bool lifo_free = false;        // frees must come in reverse allocation order
  bool bounded = false;          // allocation eventually fails with a status
  size_t exhaustion_limit = 0;   // bounded: bytes after which failure is guaranteed
};

// gtest prints parameters; without this it would dump the struct's raw bytes.
inline void PrintTo(const ContractSubject &subject, std::ostream *os) { *os << subject.name; }

inline std::string SubjectName(const ::testing::TestParamInfo<ContractSubject> &info) { return info.param.name; }

class ResourceContract : public ::testing::TestWithParam<ContractSubject> {
 protected:
  void SetUp() override { resource_ = GetParam().create(); }
  void TearDown() override { GetParam().destroy(resource_); }
  alloy_resource *resource_ = nullptr;
};

}  // namespace alloy_test

#endif  // ALLOY_TESTS_CONTRACT_SUITE_H
