// One call of softmax on a small tensor through LibTorch's C++ API: the
// per-call cost the issue compares with a compiled Theta call (a 20x16
// softmax). Built and run by libtorch_softmax_call.sh against the peers'
// venv (its torch wheel carries LibTorch's headers and libraries); the
// library itself never needs it.
//
//   libtorch_softmax_call [rows cols [min_seconds [threads]]]
//
// Prints "libtorch_softmax_call rows x cols: N ns per call (threads T)".
// Each round times batches of calls, doubling until one lasts min_seconds,
// as Google Benchmark and run_peer.py do; the fastest of five rounds is
// reported.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

double SecondsPerCall(const torch::Tensor& x, torch::Tensor& out,
                      double min_seconds) {
  for (int64_t iterations = 1;; iterations *= 2) {
    const auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iterations; ++i) {
      at::softmax_out(out, x, /*dim=*/1);
    }
    const double elapsed = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - start)
                               .count();
    if (elapsed >= min_seconds) return elapsed / iterations;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 20;
  const int64_t cols = argc > 2 ? std::atoll(argv[2]) : 16;
  const double min_seconds = argc > 3 ? std::atof(argv[3]) : 0.5;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 1;
  if (rows <= 0 || cols <= 0 || min_seconds <= 0 || threads <= 0) {
    std::fprintf(stderr,
                 "usage: %s [rows cols [min_seconds [threads]]], all > 0\n",
                 argv[0]);
    return 2;
  }
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  c10::InferenceMode inference;
  const torch::Tensor x = torch::rand({rows, cols}) * 2 - 1;
  torch::Tensor out = torch::empty_like(x);
  at::softmax_out(out, x, 1);  // warm-up
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    best = std::min(best, SecondsPerCall(x, out, min_seconds));
  }
  std::printf("libtorch_softmax_call %lld x %lld: %.1f ns per call (threads %d, "
              "torch %s)\n",
              static_cast<long long>(rows), static_cast<long long>(cols),
              best * 1e9, threads, TORCH_VERSION);
  return 0;
}
