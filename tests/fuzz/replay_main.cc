// main() for fuzz targets outside the fuzz config: feeds a deterministic
// stream of pseudo-random inputs through LLVMFuzzerTestOneInput, so every
// config runs the same harness (and sanitizers and memcheck watch it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main() {
  size_t inputs = 3000;
  if (const char *scale = std::getenv("ALLOY_TEST_SCALE")) inputs = static_cast<size_t>(inputs * std::atof(scale));
  if (const char *valgrind = std::getenv("ALLOY_UNDER_VALGRIND"); valgrind && std::strcmp(valgrind, "0") != 0)
    inputs /= 10;
  uint64_t state = 0x9E3779B97F4A7C15ull;
  std::vector<uint8_t> input;
  for (size_t n = 0; n < inputs; ++n) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    input.resize(state % 768);
    for (uint8_t &byte : input) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      byte = static_cast<uint8_t>(state >> 32);
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("replayed %zu generated inputs\n", inputs);
  return 0;
}
