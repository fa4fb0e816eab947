// Benchmarks of the backend plugin ABI (issue: backend plugins):
// - float32 GEMM through the plugin against cblas_sgemm called directly, at
//   64, 256 and 1024 (the plugin should add under 2% at 256);
// - the CPU plugin's GEMM providers side by side (OpenBLAS, oneDNN and the
//   automatic choice) at the shapes the LSTM, MLP and scan workloads run,
//   the measurements behind backends/cpu/gemm_provider.cc's policy; and
//   the same products with B prepared once (ABI 1.2), on each library and
//   on the CPU plugin's packed kernel (backends/cpu/packed_gemm.h), and
//   what preparing a B costs;
// - a fused elementwise program of three ops over 16M floats, and one-op
//   programs of exp, log, tanh and sigmoid over 16M floats, in GB/s, beside
//   a memcpy of the same bytes;
// - the cost of one tiny kernel call through the ABI (a fill of one float
//   and a one-op program over 16 floats; target under 100 ns);
// - float32 reductions (sum and max to a scalar, sum and argmax along the
//   rows, sum down the columns) over 16M floats, in GB/s, beside a memcpy
//   of as many bytes read and written;
// - float32 softmax along the last axis at 20x16, 256x1000 and 4096x1024, in
//   GB/s (one read of the input, one write of the output) beside a memcpy of
//   the same bytes (target: at least 80% of it; 20x16 measures the call).
//
//   bazel run //benchmarks:backend_bench -- [--backend=cuda]
//
// GEMM is compared single-threaded: THETA_NUM_THREADS defaults to 1 here
// (set it to compare threaded runs; cblas then uses as many threads).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/kernel_args.h"
#include "backends/registry.h"
#include "benchmarks/bench_util.h"
#include "benchmarks/direct_kernels.h"

namespace theta {
namespace {

backends::Backend& B() { return backends::current(); }

void Check(theta_status* status, const char* what) {
  if (status == nullptr) return;
  std::fprintf(stderr, "%s failed: %s\n", what,
               B().api().status_message(status));
  std::exit(1);
}

// A device buffer of `n` floats holding `value`s.
backends::Buffer DeviceFloats(int64_t n, float value) {
  absl::StatusOr<backends::Buffer> buffer = B().Allocate(n * sizeof(float));
  if (!buffer.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(buffer.status().message()).c_str());
    std::exit(1);
  }
  std::vector<float> host(static_cast<size_t>(n), value);
  if (!B().CopyToDevice(buffer->data(), host.data(), n * sizeof(float)).ok()) {
    std::exit(1);
  }
  return std::move(*buffer);
}

// A device buffer of `n` floats drawn from [lo, hi) by a fixed LCG.
backends::Buffer DeviceUniformFloats(int64_t n, float lo, float hi) {
  std::vector<float> host(static_cast<size_t>(n));
  uint32_t seed = 12345;
  for (float& v : host) {
    seed = seed * 1664525u + 1013904223u;
    v = lo + static_cast<float>(seed >> 8) * 0x1p-24f * (hi - lo);
  }
  backends::Buffer buffer = DeviceFloats(n, 0);
  if (!B().CopyToDevice(buffer.data(), host.data(), n * sizeof(float)).ok()) {
    std::exit(1);
  }
  return buffer;
}

// memcpy of `n` floats per iteration, the bandwidth reference of the
// kernels that read and write as many.
void TimeMemcpy(benchmark::State& state, int64_t n) {
  std::vector<float> x(static_cast<size_t>(n), 0.5f), y(x.size(), 0);
  for (auto _ : state) {
    std::memcpy(y.data(), x.data(), static_cast<size_t>(n) * sizeof(float));
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * 2 * n * int64_t{sizeof(float)});
}

int ThreadCount() {
  const char* env = std::getenv("THETA_NUM_THREADS");
  return env != nullptr ? std::atoi(env) : 1;
}

void BM_GemmThroughPlugin(benchmark::State& state) {
  const int64_t n = state.range(0);
  backends::Buffer a = DeviceFloats(n * n, 0.5f),
                   b = DeviceFloats(n * n, 0.25f), c = DeviceFloats(n * n, 0);
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.m = g.n = g.k = n;
  g.alpha = 1;
  g.beta = 0;
  g.a = a.data();
  g.b = b.data();
  g.c = c.data();
  g.lda = g.ldb = g.ldc = n;
  g.batch = 1;
  for (auto _ : state) {
    Check(B().api().gemm(B().stream(), &g), "gemm");
    Check(B().api().stream_synchronize(B().stream()), "synchronize");
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * n * n * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemmThroughPlugin)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond);

void BM_GemmCblasDirect(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n, 0);
  openblas_set_num_threads(ThreadCount());
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f,
                a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  openblas_set_num_threads(1);  // as the CPU plugin keeps it
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * n * n * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemmCblasDirect)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond);

// args: provider (0 automatic, 1 OpenBLAS, 2 oneDNN), m, n, k, trans_a,
// trans_b. The CPU plugin only; C is accumulated into (beta 1), as the
// recurrent loops do.
// Sets the CPU plugin's GEMM selection ("" automatic, THETA_CPU_GEMM's
// values) for one benchmark, or skips it with the reason; the destructor
// restores the automatic choice.
class ScopedCpuGemm {
 public:
  ScopedCpuGemm(benchmark::State& state, const char* selection)
      : set_(reinterpret_cast<SetFn>(
            B().api().get_extension(B().plugin(), "cpu.set_gemm_provider"))) {
    if (set_ == nullptr) {
      state.SkipWithError("not the CPU plugin (no cpu.set_gemm_provider)");
    } else if (set_(B().plugin(), selection) != 0) {
      state.SkipWithError("cpu.set_gemm_provider refused the selection");
      set_ = nullptr;
    }
  }
  ~ScopedCpuGemm() {
    if (set_ != nullptr) set_(B().plugin(), "");
  }
  bool ok() const { return set_ != nullptr; }

 private:
  using SetFn = int32_t (*)(theta_plugin*, const char*);
  SetFn set_;
};

void BM_GemmProvider(benchmark::State& state) {
  static const char* const kProviders[] = {"", "openblas", "onednn"};
  const char* provider = kProviders[state.range(0)];
  ScopedCpuGemm selected(state, provider);
  if (!selected.ok()) return;
  const int64_t m = state.range(1), n = state.range(2), k = state.range(3);
  const bool ta = state.range(4) != 0, tb = state.range(5) != 0;
  backends::Buffer a = DeviceFloats(m * k, 0.5f),
                   b = DeviceFloats(k * n, 0.25f), c = DeviceFloats(m * n, 0);
  bench::DirectKernels kernels(B());
  for (auto _ : state) {
    kernels.Gemm(a.data(), b.data(), c.data(), ta, tb, m, n, k, /*beta=*/1.0);
  }
  kernels.Synchronize();
  state.SetLabel(state.range(0) == 0 ? "automatic" : provider);
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * m * n * k * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

// {m, n, k, trans_a, trans_b} of the products the workloads run.
constexpr int64_t kProviderShapes[][5] = {
    {32, 1024, 256, 0, 0},    // LSTM S: a step's h U
    {32, 256, 1024, 0, 1},    // LSTM S: a backward step's dG U^T
    {256, 1024, 32, 1, 0},    // LSTM S: a backward step's h^T dG
    {1600, 1024, 128, 0, 0},  // LSTM S: the input projection of all rows
    {64, 2048, 512, 0, 0},    // LSTM L: h U
    {64, 512, 2048, 0, 1},    // LSTM L: dG U^T
    {512, 2048, 64, 1, 0},    // LSTM L: h^T dG
    {64, 512, 128, 0, 0},     // Fashion-MNIST LSTM (batch 64, H 128): h U
    {64, 128, 512, 0, 1},     // Fashion-MNIST LSTM: dG U^T
    {128, 512, 64, 1, 0},     // Fashion-MNIST LSTM: h^T dG
    {256, 512, 784, 0, 0},    // MLP 784-512-10, batch 256: first layer
    {784, 512, 256, 1, 0},    // MLP: its weight gradient
    {1, 64, 64, 0, 0},        // scan recurrence 64x64: A x per step
    {64, 1, 64, 0, 0},        // the same as a column
    {64, 64, 1, 1, 0},        // scan recurrence: the outer product of a step
    {1024, 1024, 1024, 0, 0},
};

void GemmProviderArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"provider", "m", "n", "k", "ta", "tb"});
  for (const auto& s : kProviderShapes) {
    for (int64_t provider : {1, 2, 0}) {
      b->Args({provider, s[0], s[1], s[2], s[3], s[4]});
    }
  }
}
BENCHMARK(BM_GemmProvider)
    ->Apply(GemmProviderArgs)
    ->Unit(benchmark::kMicrosecond);

// BM_GemmProvider's products with B prepared once (gemm_prepare, outside
// the timed loop) and passed as prepared_b, as the scan loop runs its
// loop-invariant weights. args: selection (0 automatic, 1 OpenBLAS, 2
// oneDNN: each with the plain B; 3 the packed kernel), then the shape. The
// label says "unprepared" when the plugin declined to prepare B.
void BM_GemmPrepared(benchmark::State& state) {
  static const char* const kSelections[] = {"", "openblas", "onednn", "packed"};
  const char* selection = kSelections[state.range(0)];
  ScopedCpuGemm selected(state, selection);
  if (!selected.ok()) return;
  const int64_t m = state.range(1), n = state.range(2), k = state.range(3);
  const bool ta = state.range(4) != 0, tb = state.range(5) != 0;
  backends::Buffer a = DeviceUniformFloats(m * k, -1, 1),
                   b = DeviceUniformFloats(k * n, -1, 1),
                   c = DeviceFloats(m * n, 0);
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = 1;
  g.beta = 1;
  g.a = a.data();
  g.lda = ta ? m : k;
  g.b = b.data();
  g.ldb = tb ? k : n;
  g.c = c.data();
  g.ldc = n;
  g.batch = 1;
  const theta_gemm_prepare_args p = backends::GemmPrepareArgsFor(g);
  theta_gemm_operand* prepared = nullptr;
  Check(B().api().gemm_prepare(B().stream(), &p, &prepared), "gemm_prepare");
  g.prepared_b = prepared;
  for (auto _ : state) {
    Check(B().api().gemm(B().stream(), &g), "gemm");
  }
  Check(B().api().stream_synchronize(B().stream()), "synchronize");
  B().api().gemm_operand_free(B().stream(), prepared);
  std::string label = state.range(0) == 0 ? "automatic" : selection;
  if (prepared == nullptr) label += " unprepared";
  state.SetLabel(label);
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * m * n * k * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void GemmPreparedArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"selection", "m", "n", "k", "ta", "tb"});
  for (const auto& s : kProviderShapes) {
    for (int64_t selection : {1, 2, 3, 0}) {
      b->Args({selection, s[0], s[1], s[2], s[3], s[4]});
    }
  }
}
BENCHMARK(BM_GemmPrepared)
    ->Apply(GemmPreparedArgs)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// The one-off cost that BM_GemmPrepared leaves out of its loop: preparing
// (and freeing) a B. args: k, n, trans (B stored transposed). The CPU
// plugin packs a float32 B of 4096 elements or more; bytes counted are
// B's, read once.
void BM_GemmPrepare(benchmark::State& state) {
  const int64_t k = state.range(0), n = state.range(1);
  const bool trans = state.range(2) != 0;
  backends::Buffer b = DeviceUniformFloats(k * n, -1, 1);
  const theta_gemm_prepare_args p = backends::GemmPrepareArgs(
      THETA_DTYPE_F32, trans, k, n, b.data(), trans ? k : n);
  bool prepared_any = false;
  for (auto _ : state) {
    theta_gemm_operand* prepared = nullptr;
    Check(B().api().gemm_prepare(B().stream(), &p, &prepared), "gemm_prepare");
    Check(B().api().stream_synchronize(B().stream()), "synchronize");
    prepared_any = prepared != nullptr;
    B().api().gemm_operand_free(B().stream(), prepared);
  }
  if (!prepared_any) state.SetLabel("unprepared");
  state.SetBytesProcessed(state.iterations() * k * n * int64_t{sizeof(float)});
}
BENCHMARK(BM_GemmPrepare)
    ->ArgNames({"k", "n", "trans"})
    ->Args({256, 1024, 0})  // LSTM S: U for h U
    ->Args({1024, 256, 1})  // LSTM S: U^T for dG U^T
    ->Args({512, 2048, 0})  // LSTM L
    ->Args({2048, 512, 1})
    ->Args({128, 512, 0})  // Fashion-MNIST LSTM
    ->Args({512, 128, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

constexpr int64_t kStreamFloats = int64_t{16} << 20;

// out = max(x * 2 + 1, 0): three ops, one read and one write per element.
void BM_FusedThreeOpsOver16MFloats(benchmark::State& state) {
  backends::Buffer x = DeviceFloats(kStreamFloats, 0.5f),
                   y = DeviceFloats(kStreamFloats, 0);
  const theta_ew_instr code[] = {
      {THETA_EW_LOAD, 0, 0, 0, 0}, {THETA_EW_PARAM, 1, 0, 0, 0},
      {THETA_EW_MUL, 0, 0, 1, 0},  {THETA_EW_PARAM, 1, 1, 0, 0},
      {THETA_EW_ADD, 0, 0, 1, 0},  {THETA_EW_PARAM, 1, 2, 0, 0},
      {THETA_EW_MAX, 0, 0, 1, 0},  {THETA_EW_STORE, 0, 0, 0, 0}};
  const theta_ew_program program =
      backends::EwProgram(THETA_DTYPE_F32, 2, code);
  const int64_t shape[] = {kStreamFloats}, unit[] = {1};
  const double params[] = {2.0, 1.0, 0.0};
  const theta_ew_operand in{x.data(), THETA_DTYPE_F32, unit};
  const theta_ew_operand out{y.data(), THETA_DTYPE_F32, unit};
  const theta_elementwise_args a =
      backends::ElementwiseArgs(program, shape, {&in, 1}, {&out, 1}, params);
  for (auto _ : state) {
    Check(B().api().elementwise(B().stream(), &a), "elementwise");
    Check(B().api().stream_synchronize(B().stream()), "synchronize");
  }
  state.SetBytesProcessed(state.iterations() * 2 * kStreamFloats *
                          int64_t{sizeof(float)});
}
BENCHMARK(BM_FusedThreeOpsOver16MFloats)->Unit(benchmark::kMillisecond);

// out = op(x) over 16M floats drawn from [lo, hi) (a fixed LCG): one
// transcendental per element, one read and one write; args: the opcode,
// lo and hi.
void BM_OneOpOver16MFloats(benchmark::State& state, int op, float lo,
                           float hi) {
  backends::Buffer x = DeviceUniformFloats(kStreamFloats, lo, hi),
                   y = DeviceFloats(kStreamFloats, 0);
  const theta_ew_instr code[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                 {static_cast<uint16_t>(op), 0, 0, 0, 0},
                                 {THETA_EW_STORE, 0, 0, 0, 0}};
  const theta_ew_program program =
      backends::EwProgram(THETA_DTYPE_F32, 1, code);
  const int64_t shape[] = {kStreamFloats}, unit[] = {1};
  const theta_ew_operand in{x.data(), THETA_DTYPE_F32, unit};
  const theta_ew_operand out{y.data(), THETA_DTYPE_F32, unit};
  const theta_elementwise_args a =
      backends::ElementwiseArgs(program, shape, {&in, 1}, {&out, 1});
  for (auto _ : state) {
    Check(B().api().elementwise(B().stream(), &a), "elementwise");
    Check(B().api().stream_synchronize(B().stream()), "synchronize");
  }
  state.SetBytesProcessed(state.iterations() * 2 * kStreamFloats *
                          int64_t{sizeof(float)});
  state.SetItemsProcessed(state.iterations() * kStreamFloats);
}
BENCHMARK_CAPTURE(BM_OneOpOver16MFloats, exp, THETA_EW_EXP, -8.0f, 8.0f)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OneOpOver16MFloats, log, THETA_EW_LOG, 0.01f, 16.0f)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OneOpOver16MFloats, tanh, THETA_EW_TANH, -8.0f, 8.0f)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OneOpOver16MFloats, sigmoid, THETA_EW_SIGMOID, -8.0f, 8.0f)
    ->Unit(benchmark::kMillisecond);

void BM_MemcpyOf16MFloats(benchmark::State& state) {
  TimeMemcpy(state, kStreamFloats);
}
BENCHMARK(BM_MemcpyOf16MFloats)->Unit(benchmark::kMillisecond);

// Reductions through the plugin's reduce entry over the 16M floats as a
// kSide x kSide array drawn from [-1, 1) (a fixed LCG): `op` over the axes
// in `axes` (bit 0: rows, bit 1: columns). All: to a scalar; 2: along each
// row ("per output"); 1: down the columns (the "accumulate" order). Bytes:
// the input read once plus the output written once (ARGMAX: int64), per
// second of wall time (the pool's threads do the work). Mean has no entry
// of its own (the core scales a sum).
constexpr int64_t kSide = 4096;
static_assert(kSide * kSide == kStreamFloats);

int64_t ReduceOutputBytes(theta_reduce_op op, uint32_t axes) {
  const bool arg = op == THETA_REDUCE_ARGMAX || op == THETA_REDUCE_ARGMIN;
  const int64_t outputs = (axes & 1 ? 1 : kSide) * (axes & 2 ? 1 : kSide);
  return outputs * (arg ? 8 : 4);
}

void BM_ReduceF32(benchmark::State& state, theta_reduce_op op, uint32_t axes) {
  const bool arg = op == THETA_REDUCE_ARGMAX || op == THETA_REDUCE_ARGMIN;
  const int64_t out_bytes = ReduceOutputBytes(op, axes);
  backends::Buffer x = DeviceUniformFloats(kStreamFloats, -1, 1),
                   y = DeviceFloats(out_bytes / 4, 0);
  const int64_t shape[] = {kSide, kSide}, strides[] = {kSide, 1};
  const int64_t out_shape[] = {axes & 1 ? 1 : kSide, axes & 2 ? 1 : kSide};
  const int64_t out_strides[] = {out_shape[1], 1};
  theta_reduce_args a{};
  a.struct_size = sizeof(a);
  a.op = op;
  a.input = {x.data(), THETA_DTYPE_F32, 2, shape, strides};
  a.axes_mask = axes;
  a.output = {y.data(), arg ? THETA_DTYPE_I64 : THETA_DTYPE_F32, 2, out_shape,
              out_strides};
  for (auto _ : state) {
    Check(B().api().reduce(B().stream(), &a), "reduce");
    Check(B().api().stream_synchronize(B().stream()), "synchronize");
  }
  state.SetBytesProcessed(state.iterations() *
                          (kStreamFloats * int64_t{sizeof(float)} + out_bytes));
}
BENCHMARK_CAPTURE(BM_ReduceF32, sum_all, THETA_REDUCE_SUM, 3u)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReduceF32, max_all, THETA_REDUCE_MAX, 3u)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReduceF32, sum_rows, THETA_REDUCE_SUM, 2u)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReduceF32, argmax_rows, THETA_REDUCE_ARGMAX, 2u)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReduceF32, sum_cols, THETA_REDUCE_SUM, 1u)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The bandwidth reference for BM_ReduceF32: a memcpy that reads and writes,
// together, as many bytes as the reduction reads and writes (its input plus
// its output, in whole floats), so the ratio of the two GB/s figures is the
// ratio of the times to move those bytes. args: the output bytes. The
// memcpy runs on one thread whatever THETA_NUM_THREADS says.
void BM_MemcpyForReduceF32(benchmark::State& state) {
  const int64_t bytes = kStreamFloats * int64_t{sizeof(float)} + state.range(0);
  TimeMemcpy(state, bytes / (2 * int64_t{sizeof(float)}));
}
BENCHMARK(BM_MemcpyForReduceF32)
    ->Arg(ReduceOutputBytes(THETA_REDUCE_SUM, 3u))     // sum_all, max_all
    ->Arg(ReduceOutputBytes(THETA_REDUCE_SUM, 2u))     // sum_rows, sum_cols
    ->Arg(ReduceOutputBytes(THETA_REDUCE_ARGMAX, 2u))  // argmax_rows
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Softmax over rows x cols floats drawn from [-8, 8) (a fixed LCG).
void BM_SoftmaxF32(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1), n = rows * cols;
  backends::Buffer x = DeviceUniformFloats(n, -8.0f, 8.0f),
                   y = DeviceFloats(n, 0);
  const int64_t shape[] = {rows, cols}, strides[] = {cols, 1};
  theta_softmax_args a{};
  a.struct_size = sizeof(a);
  a.input = {x.data(), THETA_DTYPE_F32, 2, shape, strides};
  a.output = {y.data(), THETA_DTYPE_F32, 2, shape, strides};
  // The backend looked up once: the registry's lookup (environment, names)
  // costs more than a 20x16 softmax.
  backends::Backend& b = B();
  for (auto _ : state) {
    Check(b.api().softmax(b.stream(), &a), "softmax");
    Check(b.api().stream_synchronize(b.stream()), "synchronize");
  }
  state.SetBytesProcessed(state.iterations() * 2 * n * int64_t{sizeof(float)});
}
BENCHMARK(BM_SoftmaxF32)
    ->Args({20, 16})
    ->Args({256, 1000})
    ->Args({4096, 1024})
    ->Unit(benchmark::kMicrosecond);

// The bandwidth reference for BM_SoftmaxF32: a memcpy of rows x cols floats
// (the 16 MB shape exceeds the caches; 256x1000 does not).
void BM_MemcpyF32(benchmark::State& state) {
  TimeMemcpy(state, state.range(0) * state.range(1));
}
BENCHMARK(BM_MemcpyF32)
    ->Args({20, 16})
    ->Args({256, 1000})
    ->Args({4096, 1024})
    ->Unit(benchmark::kMicrosecond);

void BM_TinyFillCall(benchmark::State& state) {
  backends::Buffer x = DeviceFloats(1, 0);
  const int64_t one[] = {1};
  const theta_array array{x.data(), THETA_DTYPE_F32, 1, one, one};
  for (auto _ : state) {
    Check(B().api().fill(B().stream(), &array, 1.0), "fill");
  }
  Check(B().api().stream_synchronize(B().stream()), "synchronize");
}
BENCHMARK(BM_TinyFillCall);

void BM_TinyElementwiseCallOn16Floats(benchmark::State& state) {
  backends::Buffer x = DeviceFloats(16, 1), y = DeviceFloats(16, 0);
  const theta_ew_instr code[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                 {THETA_EW_NEG, 0, 0, 0, 0},
                                 {THETA_EW_STORE, 0, 0, 0, 0}};
  const theta_ew_program program =
      backends::EwProgram(THETA_DTYPE_F32, 1, code);
  const int64_t shape[] = {16}, unit[] = {1};
  const theta_ew_operand in{x.data(), THETA_DTYPE_F32, unit};
  const theta_ew_operand out{y.data(), THETA_DTYPE_F32, unit};
  const theta_elementwise_args a =
      backends::ElementwiseArgs(program, shape, {&in, 1}, {&out, 1});
  for (auto _ : state) {
    Check(B().api().elementwise(B().stream(), &a), "elementwise");
  }
  Check(B().api().stream_synchronize(B().stream()), "synchronize");
}
BENCHMARK(BM_TinyElementwiseCallOn16Floats);

}  // namespace
}  // namespace theta

int main(int argc, char** argv) {
  // --backend=NAME picks the backend (as THETA_BACKEND does); the rest goes
  // to Google Benchmark.
  std::vector<char*> args;
  std::string backend;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--backend=", 10) == 0) {
      backend = argv[i] + 10;
    } else {
      args.push_back(argv[i]);
    }
  }
  setenv("THETA_NUM_THREADS", "1", /*overwrite=*/0);
  try {
    if (!backend.empty()) theta::backends::use(backend);
    theta::bench::PrintContext();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "backend_bench: %s\n", e.what());
    return 1;
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
