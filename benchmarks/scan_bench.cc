// Benchmarks of scan:
// - an RNN x_t = tanh(x_{t-1} A + b), A 64x64, T = 1000, batch 1, forward
//   plus the gradient of sum(x_T) with respect to A and b, against a
//   hand-written C++ loop calling the CPU plugin's kernels directly, and a
//   raw host loop calling cblas sgemv / sger with no plugin (target: at most
//   1.5x the raw loop; per-step overhead under 2 us);
// - an LSTM training step written with scan and grad, (T=50, B=32, I=128,
//   H=256) and (T=100, B=64, I=256, H=512), float32, with a linear head to
//   128 outputs and cross-entropy on every step, in ms per step beside the
//   GEMM-only lower bound (its GEMM FLOPs divided by the sgemm rate measured
//   in the same run; target within 1.2x), and the same step as a
//   hand-written loop of direct kernel calls (hand_written_lstm.h);
// - the compile time of that training step (grad, rewrites, plan; target
//   under 100 ms).
//
//   bazel run //benchmarks:scan_bench [-- --lstm_min_time=2 --bound_rounds=7]
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "autodiff/grad.h"
#include "backends/registry.h"
#include "benchmarks/bench_util.h"
#include "benchmarks/direct_kernels.h"
#include "benchmarks/hand_written_lstm.h"
#include "benchmarks/lstm_step.h"
#include "compile/function.h"
#include "graph/function_graph.h"
#include "graph/shared.h"
#include "ops/linalg_ops.h"
#include "ops/ops.h"
#include "scan/scan.h"
#include "scan/scan_op.h"

namespace theta {
namespace {

constexpr int64_t kRnnSize = 64;
// Rounds of sgemm measured before and after the timed LSTM steps, for the
// GEMM-only bound (--bound_rounds).
int g_bound_rounds = 7;
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
  explicit HandWrittenRnn(backends::Backend& backend) : k_(backend) {
    const uint64_t row = kRnnSize * sizeof(float);
    states_ = k_.Alloc((kRnnSteps + 1) * row);
    z_ = k_.Alloc(row);
    a_ = k_.Alloc(kRnnSize * row);
    bias_ = k_.Alloc(row);
    da_ = k_.Alloc(kRnnSize * row);
    db_ = k_.Alloc(row);
    dx_ = k_.Alloc(row);
    dz_ = k_.Alloc(row);
    k_.Upload(a_.data(),
              bench::RandomTensor(DType::kFloat32, {kRnnSize, kRnnSize}, 1));
    k_.Upload(bias_.data(),
              bench::RandomTensor(DType::kFloat32, {kRnnSize}, 2));
  }

  void Run() {
    const uint64_t row = kRnnSize * sizeof(float);
    char* states = static_cast<char*>(states_.data());
    k_.Zero(states, row);
    for (int64_t t = 0; t < kRnnSteps; ++t) {
      k_.Gemm(states + t * row, a_.data(), z_.data(), false, false, 1, kRnnSize,
              kRnnSize, 0.0);
      // x_{t+1} = tanh(z + b)
      static const theta_ew_instr kForward[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                                {THETA_EW_LOAD, 1, 1, 0, 0},
                                                {THETA_EW_ADD, 0, 0, 1, 0},
                                                {THETA_EW_TANH, 0, 0, 0, 0},
                                                {THETA_EW_STORE, 0, 0, 0, 0}};
      Elementwise(kForward, 2, {z_.data(), bias_.data()},
                  states + (t + 1) * row);
    }
    // Backward: dx = d sum(x_T) / d x_T = 1.
    k_.Zero(da_.data(), kRnnSize * row);
    k_.Zero(db_.data(), row);
    theta_array dx{dx_.data(), THETA_DTYPE_F32, 1, &shape_, &stride_};
    k_.Check(k_.backend().api().fill(k_.backend().stream(), &dx, 1.0), "fill");
    for (int64_t t = kRnnSteps; t >= 1; --t) {
      // dz = dx * (1 - x_t^2)
      static const theta_ew_instr kTanhGrad[] = {
          {THETA_EW_LOAD, 0, 0, 0, 0},   {THETA_EW_LOAD, 1, 1, 0, 0},
          {THETA_EW_SQUARE, 1, 1, 0, 0}, {THETA_EW_PARAM, 2, 0, 0, 0},
          {THETA_EW_SUB, 1, 2, 1, 0},    {THETA_EW_MUL, 0, 0, 1, 0},
          {THETA_EW_STORE, 0, 0, 0, 0}};
      Elementwise(kTanhGrad, 3, {dx_.data(), states + t * row}, dz_.data(),
                  1.0);
      // dA += x_{t-1}^T dz; db += dz; dx = dz A^T
      k_.Gemm(states + (t - 1) * row, dz_.data(), da_.data(), true, false,
              kRnnSize, kRnnSize, 1, 1.0);
      static const theta_ew_instr kAdd[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                            {THETA_EW_LOAD, 1, 1, 0, 0},
                                            {THETA_EW_ADD, 0, 0, 1, 0},
                                            {THETA_EW_STORE, 0, 0, 0, 0}};
      Elementwise(kAdd, 2, {db_.data(), dz_.data()}, db_.data());
      k_.Gemm(dz_.data(), a_.data(), dx_.data(), false, true, 1, kRnnSize,
              kRnnSize, 0.0);
    }
    k_.Synchronize();
  }

 private:
  // A program over vectors of kRnnSize elements.
  template <size_t N>
  void Elementwise(const theta_ew_instr (&code)[N], uint32_t registers,
                   std::initializer_list<void*> inputs, void* output,
                   double param = 0) {
    theta_ew_operand in[2];
    int i = 0;
    for (void* p : inputs) in[i++] = bench::F32Operand(p, {&stride_, 1});
    const theta_ew_operand out = bench::F32Operand(output, {&stride_, 1});
    k_.Elementwise(code, registers, {&shape_, 1}, {in, static_cast<size_t>(i)},
                   {&out, 1}, {&param, 1});
  }

  bench::DirectKernels k_;
  backends::Buffer states_, z_, a_, bias_, da_, db_, dx_, dz_;
  int64_t shape_ = kRnnSize;
  int64_t stride_ = 1;
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

// The same RNN as a plain C++ loop on the host calling OpenBLAS's cblas
// sgemv and sger directly, with no plugin or graph in between: the floor
// the recurrence target is stated against (Theta at most 1.5x).
class RawCblasRnn {
 public:
  RawCblasRnn()
      : states_((kRnnSteps + 1) * kRnnSize),
        z_(kRnnSize),
        a_(bench::RandomTensor(DType::kFloat32, {kRnnSize, kRnnSize}, 1)
               .to_vector<float>()),
        bias_(bench::RandomTensor(DType::kFloat32, {kRnnSize}, 2)
                  .to_vector<float>()),
        da_(kRnnSize * kRnnSize),
        db_(kRnnSize),
        dx_(kRnnSize),
        dz_(kRnnSize) {}

  void Run() {
    const int n = static_cast<int>(kRnnSize);
    std::fill(states_.begin(), states_.begin() + n, 0.0f);
    for (int64_t t = 0; t < kRnnSteps; ++t) {
      const float* x = &states_[t * n];
      float* next = &states_[(t + 1) * n];
      // z = x A (row-major A: z = A^T x).
      cblas_sgemv(CblasRowMajor, CblasTrans, n, n, 1.0f, a_.data(), n, x, 1,
                  0.0f, z_.data(), 1);
      for (int j = 0; j < n; ++j) next[j] = std::tanh(z_[j] + bias_[j]);
    }
    std::fill(da_.begin(), da_.end(), 0.0f);
    std::fill(db_.begin(), db_.end(), 0.0f);
    std::fill(dx_.begin(), dx_.end(), 1.0f);
    for (int64_t t = kRnnSteps; t >= 1; --t) {
      const float* x = &states_[t * n];
      for (int j = 0; j < n; ++j) {
        dz_[j] = dx_[j] * (1.0f - x[j] * x[j]);
        db_[j] += dz_[j];
      }
      // dA += x_{t-1}^T dz; dx = dz A^T (= A dz).
      cblas_sger(CblasRowMajor, n, n, 1.0f, &states_[(t - 1) * n], 1,
                 dz_.data(), 1, da_.data(), n);
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0f, a_.data(), n,
                  dz_.data(), 1, 0.0f, dx_.data(), 1);
    }
  }

  const std::vector<float>& da() const { return da_; }

 private:
  std::vector<float> states_, z_, a_, bias_, da_, db_, dx_, dz_;
};

void BM_RnnForwardBackward_RawCblas(benchmark::State& state) {
  RawCblasRnn rnn;
  rnn.Run();
  for (auto _ : state) {
    rnn.Run();
    benchmark::DoNotOptimize(rnn.da().data());
  }
  state.counters["us_per_step"] = benchmark::Counter(
      static_cast<double>(kRnnSteps) * state.iterations(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RnnForwardBackward_RawCblas)->Unit(benchmark::kMillisecond);

// sgemm rate of the plugin for (m, k) x (k, n), in FLOP/s: the best of
// `rounds` rounds.
double MeasureSgemmRate(int64_t m, int64_t k, int64_t n, int rounds) {
  bench::DirectKernels kernels(backends::current());
  backends::Buffer a = kernels.Alloc(m * k * sizeof(float));
  backends::Buffer b = kernels.Alloc(k * n * sizeof(float));
  backends::Buffer out = kernels.Alloc(m * n * sizeof(float));
  // Defined operands: fresh buffers may hold old data, and subnormal or NaN
  // entries slow sgemm down (measured rates fell to 150-220 GFLOP/s from
  // about 350 while the training steps around them ran at full speed).
  kernels.Upload(a.data(), Tensor(std::vector<float>(m * k, 0.5f), {m * k}));
  kernels.Upload(b.data(), Tensor(std::vector<float>(k * n, 0.25f), {k * n}));
  auto call = [&] {
    kernels.Gemm(a.data(), b.data(), out.data(), false, false, m, n, k, 0.0);
  };
  const auto first = std::chrono::steady_clock::now();
  call();
  kernels.Synchronize();
  const double once = Seconds(first, std::chrono::steady_clock::now());
  // Rounds of at least 10 calls and about 20 ms (small products vary much
  // from call to call): the bound is what sgemm can do here, and a single
  // round on a shared machine can be several times slower.
  const int reps = std::max(10, static_cast<int>(0.02 / std::max(once, 1e-7)));
  double best = 0;
  for (int round = 0; round < rounds; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) call();
    kernels.Synchronize();
    const double seconds = Seconds(start, std::chrono::steady_clock::now());
    best = std::max(best, 2.0 * m * n * k * reps / seconds);
  }
  return best;
}

bench::LstmConfig LstmConfigOf(const benchmark::State& state) {
  return {.t = state.range(0),
          .b = state.range(1),
          .i = state.range(2),
          .h = state.range(3)};
}

// The sgemm rate at the LSTM's dominant shape: all T*B rows at once (the
// rate the bound uses for every product of the step).
double MeasureSgemmRate(const bench::LstmConfig& c, int rounds) {
  return MeasureSgemmRate(c.t * c.b, c.h, 4 * c.h, rounds);
}

// Counters of an LSTM training step benchmark: ms per step, and the GEMM-only
// bound at the best sgemm rate seen (`sgemm`, or one measured now).
void ReportAgainstBound(benchmark::State& state, const bench::LstmConfig& c,
                        double sgemm) {
  sgemm = std::max(sgemm, MeasureSgemmRate(c, g_bound_rounds));
  state.counters["gemm_floor_ms"] = c.GemmFlops() / sgemm * 1e3;
  state.counters["sgemm_GFLOP/s"] = sgemm / 1e9;
  state.counters["ms_per_step"] = benchmark::Counter(
      state.iterations() * 1e-3,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_LstmTrainingStep(benchmark::State& state) {
  const bench::LstmConfig c = LstmConfigOf(state);
  const bench::LstmBatch batch = bench::RandomLstmBatch(c);
  bench::LstmStep s = bench::BuildLstmStep(c, bench::InitialLstmParameters(c));
  const std::vector<Tensor> inputs = {batch.x, batch.y};
  std::vector<Tensor> outputs;
  const auto first = std::chrono::steady_clock::now();
  s.step.Call(inputs, outputs);  // plans
  const double first_call = Seconds(first, std::chrono::steady_clock::now());
  // The rate is the best of rounds before, between and after the timed
  // steps: on a shared machine a measurement can be several times too slow
  // for seconds at a time, which would flatter the ratio.
  double sgemm = MeasureSgemmRate(c, g_bound_rounds);
  int64_t steps = 0;
  for (auto _ : state) {
    s.step.Call(inputs, outputs);
    benchmark::DoNotOptimize(outputs[0].raw_data());
    if (++steps % 4 == 0) {
      state.PauseTiming();
      sgemm = std::max(sgemm, MeasureSgemmRate(c, 1));
      state.ResumeTiming();
    }
  }
  ReportAgainstBound(state, c, sgemm);
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

// The same training step as a hand-written loop of direct kernel calls: what
// the compiled step's kernels cost without the framework around them.
void BM_LstmTrainingStep_HandWrittenLoop(benchmark::State& state) {
  const bench::LstmConfig c = LstmConfigOf(state);
  bench::HandWrittenLstm lstm(backends::current(), c,
                              bench::InitialLstmParameters(c),
                              bench::RandomLstmBatch(c));
  lstm.Step();
  double sgemm = MeasureSgemmRate(c, g_bound_rounds);
  int64_t steps = 0;
  for (auto _ : state) {
    lstm.Step();
    benchmark::DoNotOptimize(lstm.Cost());
    if (++steps % 4 == 0) {
      state.PauseTiming();
      sgemm = std::max(sgemm, MeasureSgemmRate(c, 1));
      state.ResumeTiming();
    }
  }
  ReportAgainstBound(state, c, sgemm);
}
// The LSTM steps are registered in main(), with --lstm_min_time.
void RegisterLstmBenchmarks(double min_time) {
  for (auto [name, fn] :
       {std::pair{"BM_LstmTrainingStep", &BM_LstmTrainingStep},
        std::pair{"BM_LstmTrainingStep_HandWrittenLoop",
                  &BM_LstmTrainingStep_HandWrittenLoop}}) {
    benchmark::RegisterBenchmark(name, fn)
        ->Args({50, 32, 128, 256})
        ->Args({100, 64, 256, 512})
        ->Unit(benchmark::kMillisecond)
        ->MinTime(min_time);
  }
}

}  // namespace
}  // namespace theta

int main(int argc, char** argv) {
  // --lstm_min_time=SECONDS (default 2): the minimum time of each LSTM step
  // benchmark; --bound_rounds=N (default 7): the sgemm rounds measured for
  // its bound (the benchmark suite's --quick lowers both). The rest goes to
  // Google Benchmark.
  double lstm_min_time = 2.0;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--lstm_min_time=", 16) == 0) {
      lstm_min_time = std::atof(argv[i] + 16);
    } else if (std::strncmp(argv[i], "--bound_rounds=", 15) == 0) {
      theta::g_bound_rounds = std::max(1, std::atoi(argv[i] + 15));
    } else {
      args.push_back(argv[i]);
    }
  }
  theta::RegisterLstmBenchmarks(lstm_min_time);
  theta::bench::PrintContext();
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
