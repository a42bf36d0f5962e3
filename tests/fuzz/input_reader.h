// Reads a fuzz input as a stream of operands: bytes and little-endian words,
// zero once the input is used up, so every input decodes to some program.
#ifndef ALLOY_TESTS_FUZZ_INPUT_READER_H
#define ALLOY_TESTS_FUZZ_INPUT_READER_H

#include <cstddef>
#include <cstdint>

namespace alloy_fuzz {

class Reader {
 public:
  Reader(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return offset_ >= size_; }
  uint8_t Byte() { return offset_ < size_ ? data_[offset_++] : 0; }
  uint16_t Word() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }

 private:
  const uint8_t *data_;
  size_t size_;
  size_t offset_ = 0;
};

}  // namespace alloy_fuzz

#endif  // ALLOY_TESTS_FUZZ_INPUT_READER_H
