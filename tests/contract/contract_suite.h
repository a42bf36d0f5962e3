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
#include <utility>

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

// A linear arena (frame, stack) reserving `reserve` bytes, create and destroy
// still to be set: frees come in LIFO order, requests and alignments up to
// 64 KiB are served, and allocation fails once the reservation is used up.
inline ContractSubject LinearArenaSubject(std::string name, size_t reserve) {
  ContractSubject subject;
  subject.name = std::move(name);
  subject.max_size = size_t{1} << 16;
  subject.max_alignment = size_t{1} << 16;
  subject.lifo_free = true;
  subject.bounded = true;
  subject.exhaustion_limit = reserve;
  return subject;
}

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
