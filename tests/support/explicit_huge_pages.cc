#include "tests/support/explicit_huge_pages.h"

#include <unistd.h>

#include <fstream>

#include "alloy/huge_pages.h"

namespace alloy_test {
namespace {

const char kReservedCount[] = "/proc/sys/vm/nr_hugepages";

}  // namespace

void ExplicitHugePages::SetUp() {
  if (alloy_huge_pages_free() >= 2 || geteuid() != 0) return;
  std::ifstream in(kReservedCount);
  if (!(in >> previous_)) return;
  std::ofstream out(kReservedCount);
  out << previous_ + 2;
  out.close();
  changed_ = true;
}

void ExplicitHugePages::TearDown() {
  if (!changed_) return;
  std::ofstream out(kReservedCount);
  out << previous_;
}

}  // namespace alloy_test
