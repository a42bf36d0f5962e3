#include "tests/support/support.h"

#include <cstdlib>
#include <cstring>

namespace alloy_test {

FaultRecorder::FaultRecorder() { alloy_fault_set_handler(&FaultRecorder::Record, this); }

FaultRecorder::~FaultRecorder() { alloy_fault_set_handler(nullptr, nullptr); }

void FaultRecorder::Record(const alloy_fault *fault, void *context) {
  auto *self = static_cast<FaultRecorder *>(context);
  self->faults_.push_back(*fault);
  char message[512];
  alloy_fault_format(fault, message, sizeof message);
  self->last_message_ = message;
}

size_t FaultRecorder::count(alloy_status kind) const {
  size_t n = 0;
  for (const alloy_fault &fault : faults_) n += fault.kind == kind;
  return n;
}

bool UnderValgrind() {
  const char *flag = std::getenv("ALLOY_UNDER_VALGRIND");
  return flag != nullptr && std::strcmp(flag, "0") != 0;
}

double Scale() {
  double scale = 1.0;
  if (const char *text = std::getenv("ALLOY_TEST_SCALE")) {
    double parsed = std::atof(text);
    if (parsed > 0) scale = parsed;
  }
  if (UnderValgrind()) scale /= 10;
  return scale;
}

size_t Scaled(size_t n, size_t minimum) {
  size_t scaled = static_cast<size_t>(static_cast<double>(n) * Scale());
  return scaled < minimum ? minimum : scaled;
}

static uint8_t PatternByte(size_t i, uint32_t seed) {
  uint32_t x = static_cast<uint32_t>(i) * 2654435761u ^ seed;
  return static_cast<uint8_t>(x ^ (x >> 13));
}

void Fill(void *ptr, size_t size, uint32_t seed) {
  auto *bytes = static_cast<uint8_t *>(ptr);
  for (size_t i = 0; i < size; ++i) bytes[i] = PatternByte(i, seed);
}

bool Check(const void *ptr, size_t size, uint32_t seed) {
  const auto *bytes = static_cast<const uint8_t *>(ptr);
  for (size_t i = 0; i < size; ++i)
    if (bytes[i] != PatternByte(i, seed)) return false;
  return true;
}

}  // namespace alloy_test
