// Helper of checkpoint_kill_test: saves a large checkpoint slowly (a pause
// after each 4 MB chunk) to argv[1], printing "writing" once the first chunk
// is on disk, so that the test can kill it in the middle of the write.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "models/checkpoint.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: checkpoint_kill_writer PATH\n";
    return 2;
  }
  theta::SharedVar w = theta::shared(
      theta::Tensor(theta::DType::kFloat32, {8 << 20}), "W");  // 32 MB
  bool announced = false;
  absl::Status s = theta::models::SaveCheckpoint(
      argv[1], {w}, {}, {.progress = [&](int64_t written, int64_t total) {
        if (!announced) {
          std::cout << "writing" << std::endl;
          announced = true;
        }
        ::usleep(500'000);
      }});
  std::cout << (s.ok() ? "done" : std::string(s.message())) << std::endl;
  return s.ok() ? 0 : 1;
}
