// Benchmarks of the symbolic core (issue: graph IR, ops, functions):
// - the overhead of calling a compiled one-op function on 16 floats;
// - softmax forward at 20x16, 256x1000 and 4096x1024 (bytes moved per second);
// - compile time of graphs of 1,000 and 100,000 nodes (rewrites stay near
//   linear in graph size);
// - a chain of five elementwise ops fused into one kernel against the same
//   ops unfused.
//
//   bazel run //benchmarks:core_bench
#include <benchmark/benchmark.h>

#include <cstdio>

#include "backends/registry.h"
#include "benchmarks/bench_util.h"
#include "compile/function.h"
#include "graph/shared.h"
#include "ops/ops.h"

namespace theta {
namespace {

void BM_CallOneOpFunctionOn16Floats(benchmark::State& state) {
  Var x = fvector("x");
  Function f = function({x}, {x + 1.0f});
  std::vector<Tensor> inputs = {Tensor(DType::kFloat32, {16})};
  std::vector<Tensor> outputs;
  f.Call(inputs, outputs);
  for (auto _ : state) {
    f.Call(inputs, outputs);
    benchmark::DoNotOptimize(outputs[0].raw_data());
  }
  state.counters["launches"] = f.stats().kernel_launches;
}
BENCHMARK(BM_CallOneOpFunctionOn16Floats);

void BM_SoftmaxForward(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  Var x = fmatrix("x");
  Function f = function({x}, {nnet::softmax(x)});
  std::vector<Tensor> inputs = {
      bench::RandomTensor(DType::kFloat32, {rows, cols}, 1)};
  std::vector<Tensor> outputs;
  f.Call(inputs, outputs);
  for (auto _ : state) {
    f.Call(inputs, outputs);
    benchmark::DoNotOptimize(outputs[0].raw_data());
  }
  // The kernel reads and writes each element once; the call also copies
  // the input in and the output out (twice more each on the CPU backend).
  const double kernel_bytes = 2.0 * rows * cols * sizeof(float);
  state.counters["kernel_GB/s"] = benchmark::Counter(
      kernel_bytes * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SoftmaxForward)
    ->Args({20, 16})
    ->Args({256, 1000})
    ->Args({4096, 1024})
    ->Unit(benchmark::kMicrosecond);

// Just the kernel, through a function whose input is already on the device
// (a shared variable), for the GB/s of the softmax kernel itself.
void BM_SoftmaxKernelOnly(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  SharedVar x =
      shared(bench::RandomTensor(DType::kFloat32, {rows, cols}, 1), "x");
  SharedVar y = shared(Tensor(DType::kFloat32, {rows, cols}), "y");
  Function f = function({}, {}, {.updates = {{y, nnet::softmax(x)}}});
  f(std::span<const Tensor>());
  for (auto _ : state) f(std::span<const Tensor>());
  const double bytes = 2.0 * rows * cols * sizeof(float);
  state.counters["GB/s"] = benchmark::Counter(bytes * state.iterations() / 1e9,
                                              benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SoftmaxKernelOnly)
    ->Args({20, 16})
    ->Args({256, 1000})
    ->Args({4096, 1024})
    ->Unit(benchmark::kMicrosecond);

// A graph of about `nodes` nodes: layers of dot, bias add and tanh, with a
// reduction every few layers, as deep networks look.
Var DeepGraph(const Var& x, const Var& w, const Var& b, int64_t nodes) {
  Var h = x;
  int64_t built = 0;
  for (int64_t layer = 0; built < nodes; ++layer) {
    h = tanh(dot(h, w) + b);  // dot, dimshuffle, add, tanh
    built += 4;
    if (layer % 8 == 7) {
      h = h - mean(h, {1}, true);  // sum, div, sub and shape arithmetic
      built += 5;
    }
  }
  return sum(h);
}

void BM_CompileGraph(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  Var x = fmatrix("x"), w = fmatrix("w"), b = fvector("b");
  Var cost = DeepGraph(x, w, b, nodes);
  for (auto _ : state) {
    Function f = function({x, w, b}, {cost});
    benchmark::DoNotOptimize(f.defined());
  }
  state.counters["nodes"] = static_cast<double>(nodes);
  state.counters["us_per_node"] = benchmark::Counter(
      static_cast<double>(nodes) * state.iterations(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CompileGraph)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);

// The first call plans memory and prepares every kernel call.
void BM_CompileAndPlanGraph(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  Var x = fmatrix("x"), w = fmatrix("w"), b = fvector("b");
  Var cost = DeepGraph(x, w, b, nodes);
  std::vector<Tensor> inputs = {bench::RandomTensor(DType::kFloat32, {2, 8}, 1),
                                bench::RandomTensor(DType::kFloat32, {8, 8}, 2),
                                bench::RandomTensor(DType::kFloat32, {8}, 3)};
  for (auto _ : state) {
    Function f = function({x, w, b}, {cost});
    benchmark::DoNotOptimize(f(inputs));
  }
}
BENCHMARK(BM_CompileAndPlanGraph)
    ->Arg(1000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);

void BM_FiveElementwiseOps(benchmark::State& state) {
  const bool fused = state.range(0) != 0;
  const int64_t n = 1 << 22;
  SharedVar a = shared(bench::RandomTensor(DType::kFloat32, {n}, 1), "a");
  SharedVar b = shared(bench::RandomTensor(DType::kFloat32, {n}, 2), "b");
  SharedVar out = shared(Tensor(DType::kFloat32, {n}), "out");
  Var y = exp(tanh(a * b + 1.0f) - a) * 0.5f;  // mul add tanh sub exp mul
  FunctionOptions options{.updates = {{out, y}}};
  if (!fused) options.excluded_rewrites = {"fusion"};
  Function f = function({}, {}, options);
  f(std::span<const Tensor>());
  for (auto _ : state) f(std::span<const Tensor>());
  state.counters["launches"] = f.stats().kernel_launches;
  state.SetLabel(fused ? "fused" : "unfused");
}
BENCHMARK(BM_FiveElementwiseOps)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace theta

int main(int argc, char** argv) {
  theta::bench::PrintContext();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
