// Benchmarks of scan:
// - an RNN x_t = tanh(x_{t-1} A + b), A 64x64, T = 1000, batch 1, forward
//   plus the gradient of sum(x_T) with respect to A and b, against a
//   hand-written C++ loop calling the CPU plugin's kernels directly (target:
//   at most 1.5x that loop; per-step overhead under 2 us);
// - an LSTM training step written with scan and grad, (T=50, B=32, I=128,
//   H=256) and (T=100, B=64, I=256, H=512), float32, with a linear head to
//   128 outputs and cross-entropy on every step, in ms per step beside the
//   GEMM-only lower bound (its GEMM FLOPs divided by the sgemm rate measured
//   in the same run; target within 1.2x);
// - the compile time of that training step (grad, rewrites, plan; target
//   under 100 ms).
//
//   bazel run //benchmarks:scan_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "autodiff/grad.h"
#include "backends/registry.h"
#include "benchmarks/bench_util.h"
#include "graph/function.h"
#include "graph/function_graph.h"
#include "graph/shared.h"
#include "ops/linalg_ops.h"
#include "ops/ops.h"
#include "scan/scan.h"
#include "scan/scan_op.h"

namespace theta {
namespace {

constexpr int64_t kRnnSize = 64;
constexpr int64_t kRnnSteps = 1000;

double Seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

Function BuildRnn() {
  SharedVar a = shared(
      bench::RandomTensor(DType::kFloat32, {kRnnSize, kRnnSize}, 1), "A");
  SharedVar b =
      shared(bench::RandomTensor(DType::kFloat32, {kRnnSize}, 2), "b");
  Var x0 = constant(Tensor(DType::kFloat32, {1, kRnnSize}));
  ScanResult r = scan(
      [](const std::vector<Var>& in) {
        return StepResult{{tanh(dot(in[0], in[1]) + in[2])}};
      },
      {.outputs_info = {x0},
       .non_sequences = {a, b},
       .n_steps = kRnnSteps,
       .name = "rnn"});
  Var cost = sum(index(r.outputs[0], -1));
  std::vector<Var> g = grad(cost, {a, b});
  return function({}, {cost, g[0], g[1]}, {.name = "rnn_step"});
}

void BM_RnnForwardBackward_Theta(benchmark::State& state) {
  Function f = BuildRnn();
  std::vector<Tensor> outputs;
  f.Call({}, outputs);
  for (auto _ : state) {
    f.Call({}, outputs);
    benchmark::DoNotOptimize(outputs[1].raw_data());
  }
  state.counters["us_per_step"] = benchmark::Counter(
      static_cast<double>(kRnnSteps) * state.iterations(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RnnForwardBackward_Theta)->Unit(benchmark::kMillisecond);

// The same computation as a C++ loop over the plugin's kernels: per step a
// GEMM and a fused elementwise program forward; an elementwise program, two
// GEMMs and an in-place add backward.
class HandWrittenRnn {
 public:
  explicit HandWrittenRnn(backends::Backend& backend) : b_(backend) {
    const uint64_t row = kRnnSize * sizeof(float);
    states_ = Alloc((kRnnSteps + 1) * row);
    z_ = Alloc(row);
    a_ = Alloc(kRnnSize * row);
    bias_ = Alloc(row);
    da_ = Alloc(kRnnSize * row);
    db_ = Alloc(row);
    dx_ = Alloc(row);
    dz_ = Alloc(row);
    Tensor a = bench::RandomTensor(DType::kFloat32, {kRnnSize, kRnnSize}, 1);
    Tensor bias = bench::RandomTensor(DType::kFloat32, {kRnnSize}, 2);
    Check(b_.CopyToDevice(a_.data(), a.raw_data(), a.nbytes()));
    Check(b_.CopyToDevice(bias_.data(), bias.raw_data(), bias.nbytes()));
    Check(b_.Synchronize());
    shape_ = kRnnSize;
    stride_ = 1;
  }

  void Run() {
    const uint64_t row = kRnnSize * sizeof(float);
    char* states = static_cast<char*>(states_.data());
    Check(b_.Check(b_.api().memset(b_.stream(), states, 0, row), "memset"));
    for (int64_t t = 0; t < kRnnSteps; ++t) {
      Gemm(states + t * row, a_.data(), z_.data(), false, false, 1, kRnnSize,
           kRnnSize, 0.0);
      // x_{t+1} = tanh(z + b)
      static const theta_ew_instr kForward[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                                {THETA_EW_LOAD, 1, 1, 0, 0},
                                                {THETA_EW_ADD, 0, 0, 1, 0},
                                                {THETA_EW_TANH, 0, 0, 0, 0},
                                                {THETA_EW_STORE, 0, 0, 0, 0}};
      Elementwise(kForward, 5, 2, {z_.data(), bias_.data()},
                  states + (t + 1) * row);
    }
    // Backward: dx = d sum(x_T) / d x_T = 1.
    Check(b_.Check(b_.api().memset(b_.stream(), da_.data(), 0, kRnnSize * row),
                   "memset"));
    Check(b_.Check(b_.api().memset(b_.stream(), db_.data(), 0, row), "memset"));
    theta_array dx{dx_.data(), THETA_DTYPE_F32, 1, &shape_, &stride_};
    Check(b_.Check(b_.api().fill(b_.stream(), &dx, 1.0), "fill"));
    for (int64_t t = kRnnSteps; t >= 1; --t) {
      // dz = dx * (1 - x_t^2)
      static const theta_ew_instr kTanhGrad[] = {
          {THETA_EW_LOAD, 0, 0, 0, 0},   {THETA_EW_LOAD, 1, 1, 0, 0},
          {THETA_EW_SQUARE, 1, 1, 0, 0}, {THETA_EW_PARAM, 2, 0, 0, 0},
          {THETA_EW_SUB, 1, 2, 1, 0},    {THETA_EW_MUL, 0, 0, 1, 0},
          {THETA_EW_STORE, 0, 0, 0, 0}};
      Elementwise(kTanhGrad, 7, 3, {dx_.data(), states + t * row}, dz_.data(),
                  1.0);
      // dA += x_{t-1}^T dz; db += dz; dx = dz A^T
      Gemm(states + (t - 1) * row, dz_.data(), da_.data(), true, false,
           kRnnSize, kRnnSize, 1, 1.0);
      static const theta_ew_instr kAdd[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                            {THETA_EW_LOAD, 1, 1, 0, 0},
                                            {THETA_EW_ADD, 0, 0, 1, 0},
                                            {THETA_EW_STORE, 0, 0, 0, 0}};
      Elementwise(kAdd, 4, 2, {db_.data(), dz_.data()}, db_.data());
      Gemm(dz_.data(), a_.data(), dx_.data(), false, true, 1, kRnnSize,
           kRnnSize, 0.0);
    }
    Check(b_.Synchronize());
  }

 private:
  static void Check(const absl::Status& s) {
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      std::abort();
    }
  }
  backends::Buffer Alloc(uint64_t bytes) {
    absl::StatusOr<backends::Buffer> buffer = b_.Allocate(bytes);
    Check(buffer.status());
    return *std::move(buffer);
  }
  // C (m x n) = A (m x k, or its transpose) * B (k x n, or transpose).
  void Gemm(const void* a, const void* b, void* c, bool ta, bool tb, int64_t m,
            int64_t n, int64_t k, double beta) {
    theta_gemm_args g;
    std::memset(&g, 0, sizeof(g));
    g.struct_size = sizeof(g);
    g.dtype = THETA_DTYPE_F32;
    g.trans_a = ta;
    g.trans_b = tb;
    g.m = m;
    g.n = n;
    g.k = k;
    g.alpha = 1.0;
    g.beta = beta;
    g.a = a;
    g.lda = ta ? m : k;
    g.b = b;
    g.ldb = tb ? k : n;
    g.c = c;
    g.ldc = n;
    g.batch = 1;
    Check(b_.Check(b_.api().gemm(b_.stream(), &g), "gemm"));
  }
  void Elementwise(const theta_ew_instr* instrs, uint32_t count,
                   uint32_t registers, std::initializer_list<void*> inputs,
                   void* output, double param = 0) {
    theta_ew_program program{sizeof(theta_ew_program), THETA_DTYPE_F32,
                             registers, count, instrs};
    theta_ew_operand in[2];
    int i = 0;
    for (void* p : inputs) in[i++] = {p, THETA_DTYPE_F32, &stride_};
    theta_ew_operand out{output, THETA_DTYPE_F32, &stride_};
    theta_elementwise_args args{sizeof(theta_elementwise_args),
                                &program,
                                1,
                                &shape_,
                                i,
                                in,
                                1,
                                &out,
                                1,
                                &param};
    Check(b_.Check(b_.api().elementwise(b_.stream(), &args), "elementwise"));
  }

  backends::Backend& b_;
  backends::Buffer states_, z_, a_, bias_, da_, db_, dx_, dz_;
  int64_t shape_;
  int64_t stride_;
};

void BM_RnnForwardBackward_HandWrittenLoop(benchmark::State& state) {
  HandWrittenRnn rnn(backends::current());
  rnn.Run();
  for (auto _ : state) rnn.Run();
  state.counters["us_per_step"] = benchmark::Counter(
      static_cast<double>(kRnnSteps) * state.iterations(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RnnForwardBackward_HandWrittenLoop)->Unit(benchmark::kMillisecond);

struct LstmConfig {
  int64_t t, b, i, h;
  static constexpr int64_t kClasses = 128;
  // GEMM FLOPs of one training step: forward input projection, recurrent
  // products and head; backward the same products' gradients (the input
  // is data: no gradient for x).
  double GemmFlops() const {
    const double rows = static_cast<double>(t * b);
    const double forward = 2 * rows * (i * 4 * h + h * 4 * h + h * kClasses);
    const double backward =
        2 * rows * (i * 4 * h + 2 * h * 4 * h + 2 * h * kClasses);
    return forward + backward;
  }
};

struct LstmStep {
  Function step;
  double compile_seconds;
  std::vector<Tensor> batch;
};

LstmStep BuildLstmStep(const LstmConfig& c) {
  const auto start = std::chrono::steady_clock::now();
  Var x = ftensor3("x");  // (T, B, I)
  Var y = imatrix("y");   // (T, B) labels
  // Initialised as //models:train_fashion_mnist initialises its LSTM
  // (Glorot for W and Wo, 1/sqrt(H) for U). Weights in [-1, 1) instead
  // saturate the gates (x W alone has a standard deviation of 4 to 5) and
  // fill the backward pass with subnormal numbers, which slowed its products
  // down by up to 2x: a step no sensibly initialised model takes.
  auto glorot = [](int64_t fan_in, int64_t fan_out) {
    return std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  };
  SharedVar w = shared(bench::UniformTensor(DType::kFloat32, {c.i, 4 * c.h},
                                            glorot(c.i, 4 * c.h), 1),
                       "W");
  SharedVar u =
      shared(bench::UniformTensor(DType::kFloat32, {c.h, 4 * c.h},
                                  1.0 / std::sqrt(static_cast<double>(c.h)), 2),
             "U");
  SharedVar b = shared(Tensor(DType::kFloat32, {4 * c.h}), "b");
  SharedVar wo =
      shared(bench::UniformTensor(DType::kFloat32, {c.h, LstmConfig::kClasses},
                                  glorot(c.h, LstmConfig::kClasses), 3),
             "Wo");
  SharedVar bo = shared(Tensor(DType::kFloat32, {LstmConfig::kClasses}), "bo");
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
  std::vector<Var> params = {w, u, b, wo, bo};
  std::vector<Var> g = grad(cost, params);
  FunctionOptions options{.name = "lstm_training_step"};
  for (size_t p = 0; p < params.size(); ++p) {
    options.updates.push_back({params[p], params[p] - 0.01f * g[p]});
  }
  Function step = function({x, y}, {cost}, options);
  const auto compiled = std::chrono::steady_clock::now();
  std::vector<Tensor> batch = {
      bench::RandomTensor(DType::kFloat32, {c.t, c.b, c.i}, 4),
      bench::RandomLabels(c.t * c.b, LstmConfig::kClasses, 5)
          .reshape({c.t, c.b})};
  return {step, Seconds(start, compiled), batch};
}

// sgemm rate of the plugin for (m, k) x (k, n), in FLOP/s: the best of
// `rounds` rounds.
double MeasureSgemmRate(int64_t m, int64_t k, int64_t n, int rounds) {
  backends::Backend& backend = backends::current();
  absl::StatusOr<backends::Buffer> a = backend.Allocate(m * k * sizeof(float));
  absl::StatusOr<backends::Buffer> b = backend.Allocate(k * n * sizeof(float));
  absl::StatusOr<backends::Buffer> out =
      backend.Allocate(m * n * sizeof(float));
  if (!a.ok() || !b.ok() || !out.ok()) return 0;
  // Defined operands: fresh buffers may hold old data, and subnormal or NaN
  // entries slow sgemm down (measured rates fell to 150-220 GFLOP/s from
  // about 350 while the training steps around them ran at full speed).
  const std::vector<float> a_values(m * k, 0.5f), b_values(k * n, 0.25f);
  if (!backend.CopyToDevice(a->data(), a_values.data(), m * k * sizeof(float))
           .ok() ||
      !backend.CopyToDevice(b->data(), b_values.data(), k * n * sizeof(float))
           .ok()) {
    return 0;
  }
  theta_gemm_args g;
  std::memset(&g, 0, sizeof(g));
  g = {sizeof(g), THETA_DTYPE_F32,
       0,         0,
       m,         n,
       k,         1.0,
       0.0,       a->data(),
       k,         0,
       b->data(), n,
       0,         out->data(),
       n,         0,
       1};
  auto call = [&] {
    (void)backend.Check(backend.api().gemm(backend.stream(), &g), "gemm");
  };
  const auto first = std::chrono::steady_clock::now();
  call();
  (void)backend.Synchronize();
  const double once = Seconds(first, std::chrono::steady_clock::now());
  // Rounds of at least 10 calls and about 20 ms (small products vary much
  // from call to call): the bound is what sgemm can do here, and a single
  // round on a shared machine can be several times slower.
  const int reps = std::max(10, static_cast<int>(0.02 / std::max(once, 1e-7)));
  double best = 0;
  for (int round = 0; round < rounds; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) call();
    (void)backend.Synchronize();
    const double seconds = Seconds(start, std::chrono::steady_clock::now());
    best = std::max(best, 2.0 * m * n * k * reps / seconds);
  }
  return best;
}

// The sgemm rate at the LSTM's dominant shape: all T*B rows at once (the
// rate the bound uses for every product of the step).
double MeasureSgemmRate(const LstmConfig& c, int rounds) {
  return MeasureSgemmRate(c.t * c.b, c.h, 4 * c.h, rounds);
}

void BM_LstmTrainingStep(benchmark::State& state) {
  const LstmConfig c{state.range(0), state.range(1), state.range(2),
                     state.range(3)};
  LstmStep s = BuildLstmStep(c);
  std::vector<Tensor> outputs;
  const auto first = std::chrono::steady_clock::now();
  s.step.Call(s.batch, outputs);  // plans
  const double first_call = Seconds(first, std::chrono::steady_clock::now());
  // The rate is the best of rounds before, between and after the timed
  // steps: on a shared machine a measurement can be several times too slow
  // for seconds at a time, which would flatter the ratio.
  double sgemm = MeasureSgemmRate(c, 7);
  int64_t steps = 0;
  for (auto _ : state) {
    s.step.Call(s.batch, outputs);
    benchmark::DoNotOptimize(outputs[0].raw_data());
    if (++steps % 4 == 0) {
      state.PauseTiming();
      sgemm = std::max(sgemm, MeasureSgemmRate(c, 1));
      state.ResumeTiming();
    }
  }
  sgemm = std::max(sgemm, MeasureSgemmRate(c, 7));
  const double floor_ms = c.GemmFlops() / sgemm * 1e3;
  state.counters["gemm_floor_ms"] = floor_ms;
  state.counters["sgemm_GFLOP/s"] = sgemm / 1e9;
  state.counters["ms_per_step"] = benchmark::Counter(
      state.iterations() * 1e-3,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["compile_ms"] = s.compile_seconds * 1e3;
  state.counters["first_call_ms"] = first_call * 1e3;
  state.counters["launches"] = s.step.stats().kernel_launches;
  // The loops left after rewriting (the forward loop and its gradient's
  // augmented copy merge into one) and the products inside them.
  int loops = 0, loop_products = 0;
  for (Node* n : s.step.graph().TopologicalOrder()) {
    if (const Scan* loop = AsScan(n)) {
      ++loops;
      for (Node* m : TopologicalNodes(loop->spec().inner_outputs)) {
        loop_products += AsGemm(m) != nullptr;
      }
    }
  }
  state.counters["loops"] = loops;
  state.counters["products_in_loops"] = loop_products;
}
BENCHMARK(BM_LstmTrainingStep)
    ->Args({50, 32, 128, 256})
    ->Args({100, 64, 256, 512})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

}  // namespace
}  // namespace theta

int main(int argc, char** argv) {
  theta::bench::PrintContext();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
