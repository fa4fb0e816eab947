// Runs a libFuzzer harness (LLVMFuzzerTestOneInput) over every file of the
// corpus directories given as arguments, without libFuzzer: the seed corpus
// and every crash once found become regression tests that run in
// `bazel test` (and under --config=asan). Fails when a directory holds no
// file, so that a corpus that went missing cannot pass silently.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::error_code error;
    std::filesystem::directory_iterator files(argv[i], error);
    if (error) {
      std::fprintf(stderr, "cannot read corpus directory %s: %s\n", argv[i],
                   error.message().c_str());
      return 1;
    }
    int ran = 0;
    for (const auto& entry : files) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                 std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++ran;
    }
    if (ran == 0) {
      std::fprintf(stderr, "corpus directory %s holds no file\n", argv[i]);
      return 1;
    }
    std::printf("%s: %d inputs ran\n", argv[i], ran);
  }
  return 0;
}
