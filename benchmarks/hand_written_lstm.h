// The LSTM training step of lstm_step.h written by hand: a C++ loop of
// direct calls to the backend's kernels, with the fusions an engineer would
// write for this one model. It is the reference scan_bench measures the
// compiled step against, and the test checks that both compute the same.
//
// Per timestep it makes two calls forward (h U into the step's projection
// row, then one fused gate kernel that adds the bias and writes the gates,
// c and h) and two backward (one fused kernel for every gate's gradient and
// dc, then dG U^T into the previous step's dh). The input projection, the
// head and the weight gradients are one product each over all T*B rows.
#ifndef THETA_BENCHMARKS_HAND_WRITTEN_LSTM_H_
#define THETA_BENCHMARKS_HAND_WRITTEN_LSTM_H_

#include <cstdint>

#include "backends/backend.h"
#include "benchmarks/direct_kernels.h"
#include "benchmarks/lstm_step.h"
#include "graph/tensor.h"

namespace theta::bench {

class HandWrittenLstm {
 public:
  // Copies the parameters and the batch to `backend` and allocates every
  // buffer a step uses: Step allocates nothing.
  HandWrittenLstm(backends::Backend& backend, const LstmConfig& config,
                  const LstmParameters& initial, const LstmBatch& batch);

  // One training step on the batch: forward, backward, SGD update. Returns
  // without waiting for the device.
  void Step();

  // The cost the last Step computed (before its update); synchronizes.
  float Cost();
  // The parameters' current values; synchronizes.
  LstmParameters Parameters();

 private:
  void Forward();
  void Backward();
  void Update();
  // sums (columns) = the column sums of matrix (rows, columns).
  void ColumnSums(backends::Buffer& matrix, int64_t rows, int64_t columns,
                  backends::Buffer& sums);

  DirectKernels k_;
  LstmConfig c_;
  int64_t rows_;  // T * B
  // Parameters and their gradients.
  backends::Buffer w_, u_, b_, wo_, bo_;
  backends::Buffer dw_, du_, db_, dwo_, dbo_;
  // The batch: x, and the labels as indices into the flattened (T*B,
  // kClasses) probabilities (row * kClasses + label).
  backends::Buffer x_, picked_index_;
  // Forward: gate pre-activations, then activations (T, B, 4H); h and c for
  // t = 0..T, (T+1, B, H), row 0 the zero initial state; probabilities
  // (T*B, kClasses); the probability of each label and the cost.
  backends::Buffer gates_, hs_, cs_, probs_, picked_, cost_;
  // Backward: d logits, dh (T, B, H), dc of the current step (B, H), the
  // gates' pre-activation gradients (T, B, 4H), and -1/(T*B) per row.
  backends::Buffer dlogits_, dhs_, dc_, dgates_, minus_inv_rows_;
};

}  // namespace theta::bench

#endif  // THETA_BENCHMARKS_HAND_WRITTEN_LSTM_H_
