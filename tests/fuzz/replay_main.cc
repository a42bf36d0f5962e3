// main() for fuzz targets outside the fuzz config: replays every file of the
// corpus directories named on the command line (the checked-in seeds and
// regression inputs, in name order), then feeds a deterministic stream of
// pseudo-random inputs through LLVMFuzzerTestOneInput, so every config runs
// the same harness (and sanitizers and memcheck watch it).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

size_t ReplayDirectory(const char *directory) {
  std::vector<std::filesystem::path> files;
  for (const auto &entry : std::filesystem::recursive_directory_iterator(directory))
    if (entry.is_regular_file()) files.push_back(entry.path());
  if (files.empty()) {
    std::fprintf(stderr, "corpus %s holds no inputs\n", directory);
    std::exit(1);
  }
  std::sort(files.begin(), files.end());
  for (const auto &file : files) {
    std::ifstream stream(file, std::ios::binary);
    std::vector<uint8_t> input((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  return files.size();
}

}  // namespace

// Arguments: corpus directories, and --generated=N for the number of
// generated inputs (3000 by default; targets whose every input is costly
// ask for fewer).
int main(int argc, char **argv) {
  size_t replayed = 0, directories = 0;
  size_t inputs = 3000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--generated=", 12) == 0) {
      inputs = std::strtoul(argv[i] + 12, nullptr, 10);
      continue;
    }
    replayed += ReplayDirectory(argv[i]);
    ++directories;
  }
  if (directories > 0) std::printf("replayed %zu corpus inputs\n", replayed);

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
