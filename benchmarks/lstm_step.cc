#include "benchmarks/lstm_step.h"

#include <chrono>
#include <cmath>

#include "autodiff/grad.h"
#include "benchmarks/bench_util.h"
#include "ops/linalg_ops.h"
#include "ops/ops.h"
#include "scan/scan.h"

namespace theta::bench {

double LstmConfig::GemmFlops() const {
  const double rows = static_cast<double>(t * b);
  const double forward = 2 * rows * (i * 4 * h + h * 4 * h + h * kClasses);
  const double backward =
      2 * rows * (i * 4 * h + 2 * h * 4 * h + 2 * h * kClasses);
  return forward + backward;
}

LstmParameters InitialLstmParameters(const LstmConfig& c) {
  // Weights in [-1, 1) instead saturate the gates (x W alone has a standard
  // deviation of 4 to 5) and fill the backward pass with subnormal numbers,
  // which slowed its products down by up to 2x: a step no sensibly
  // initialised model takes.
  auto glorot = [](int64_t fan_in, int64_t fan_out) {
    return std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  };
  return {
      .w = UniformTensor(DType::kFloat32, {c.i, 4 * c.h}, glorot(c.i, 4 * c.h),
                         1),
      .u = UniformTensor(DType::kFloat32, {c.h, 4 * c.h},
                         1.0 / std::sqrt(static_cast<double>(c.h)), 2),
      .b = Tensor(DType::kFloat32, {4 * c.h}),
      .wo = UniformTensor(DType::kFloat32, {c.h, LstmConfig::kClasses},
                          glorot(c.h, LstmConfig::kClasses), 3),
      .bo = Tensor(DType::kFloat32, {LstmConfig::kClasses}),
  };
}

LstmBatch RandomLstmBatch(const LstmConfig& c) {
  return {RandomTensor(DType::kFloat32, {c.t, c.b, c.i}, 4),
          RandomLabels(c.t * c.b, LstmConfig::kClasses, 5).reshape({c.t, c.b})};
}

LstmStep BuildLstmStep(const LstmConfig& c, const LstmParameters& initial) {
  const auto start = std::chrono::steady_clock::now();
  Var x = ftensor3("x");  // (T, B, I)
  Var y = imatrix("y");   // (T, B) labels
  SharedVar w = shared(initial.w, "W");
  SharedVar u = shared(initial.u, "U");
  SharedVar b = shared(initial.b, "b");
  SharedVar wo = shared(initial.wo, "Wo");
  SharedVar bo = shared(initial.bo, "bo");
  const int64_t hidden = c.h;
  Var h0 = zeros({shape_i(x, 1), hidden}, DType::kFloat32);
  ScanResult r = scan(
      [&](const std::vector<Var>& in) {
        // in = {x_t, h_{t-1}, c_{t-1}, W, U, b}
        Var gates = dot(in[0], in[3]) + dot(in[1], in[4]) + in[5];
        auto part = [&](int k) {
          return slice(gates,
                       {Slice::All(), Slice(k * hidden, (k + 1) * hidden)});
        };
        Var cell = sigmoid(part(1)) * in[2] + sigmoid(part(0)) * tanh(part(3));
        return StepResult{{sigmoid(part(2)) * tanh(cell), cell}};
      },
      {.sequences = {x},
       .outputs_info = {h0, h0},
       .non_sequences = {w, u, b},
       .name = "lstm"});
  Var hs = reshape(r.outputs[0], {-1, hidden});  // (T*B, H)
  Var logits = dot(hs, wo) + bo;
  Var cost =
      mean(nnet::categorical_crossentropy(nnet::softmax(logits), flatten(y)));
  std::vector<SharedVar> parameters = {w, u, b, wo, bo};
  std::vector<Var> g = grad(cost, {w, u, b, wo, bo});
  FunctionOptions options{.name = "lstm_training_step"};
  for (size_t p = 0; p < parameters.size(); ++p) {
    options.updates.push_back(
        {parameters[p], parameters[p] - c.learning_rate * g[p]});
  }
  Function step = function({x, y}, {cost}, options);
  const auto compiled = std::chrono::steady_clock::now();
  return {step, std::chrono::duration<double>(compiled - start).count(),
          parameters};
}

}  // namespace theta::bench
