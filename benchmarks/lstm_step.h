// The LSTM training step of //benchmarks:scan_bench, written with scan and
// grad: an LSTM over x (T, B, I), a linear head to kClasses outputs on
// every step, the mean cross-entropy against labels y (T, B), and plain SGD
// updates of all five parameters. HandWrittenLstm (hand_written_lstm.h)
// computes the same step with direct kernel calls.
#ifndef THETA_BENCHMARKS_LSTM_STEP_H_
#define THETA_BENCHMARKS_LSTM_STEP_H_

#include <cstdint>
#include <vector>

#include "compile/function.h"
#include "graph/shared.h"
#include "graph/tensor.h"

namespace theta::bench {

struct LstmConfig {
  int64_t t, b, i, h;  // timesteps, samples, input features, hidden units
  float learning_rate = 0.01f;
  static constexpr int64_t kClasses = 128;

  // GEMM FLOPs of one training step: forward the input projection, the
  // recurrent products and the head; backward the same products' gradients
  // (the input is data: no gradient for x).
  double GemmFlops() const;
};

// The parameters' initial values. The gates are packed along the columns of
// W (I, 4H), U (H, 4H) and b (4H) in the order input, forget, output, cell
// candidate; the head is Wo (H, kClasses) and bo (kClasses).
struct LstmParameters {
  Tensor w, u, b, wo, bo;
};

// Initialised as //models:train_fashion_mnist initialises its LSTM: Glorot
// for W and Wo, 1/sqrt(H) for U, zero biases (fixed seeds).
LstmParameters InitialLstmParameters(const LstmConfig& c);

struct LstmBatch {
  Tensor x;  // (T, B, I) float32, uniform in [-1, 1)
  Tensor y;  // (T, B) int32 labels in [0, kClasses)
};
LstmBatch RandomLstmBatch(const LstmConfig& c);

struct LstmStep {
  Function step;  // (x, y) -> {cost}; updates the parameters
  double compile_seconds = 0;
  std::vector<SharedVar> parameters;  // W, U, b, Wo, bo
};
LstmStep BuildLstmStep(const LstmConfig& c, const LstmParameters& initial);

}  // namespace theta::bench

#endif  // THETA_BENCHMARKS_LSTM_STEP_H_
