// Benchmarks of symbolic differentiation:
// - building and compiling the gradient of a 10,000-node graph (target:
//   under 100 ms);
// - an MLP training step (784-512-10, batch 256, float32) whose backward
//   pass comes from grad, against the same step with a hand-written
//   backward graph (target: within 10%);
// - a softmax-regression training step (784-10, batch 256).
//
//   bazel run //benchmarks:autodiff_bench
#include <benchmark/benchmark.h>

#include "autodiff/grad.h"
#include "benchmarks/bench_util.h"
#include "compile/function.h"
#include "graph/function_graph.h"
#include "graph/shared.h"
#include "ops/ops.h"

namespace theta {
namespace {

// A forward graph of about `nodes` nodes (layers of dot, bias and tanh).
Var LargeCost(const Var& x, const Var& w, const Var& b, int64_t nodes) {
  Var h = x;
  int64_t built = 0;
  for (int layer = 0; built < nodes; ++layer) {
    h = tanh(dot(h, w) + b);
    built += 4;
    if (layer % 8 == 7) {
      h = h * sigmoid(h);
      built += 2;
    }
  }
  return mean(square(h));
}

// grad() and function() together: the target.
void BM_GradOfLargeGraph(benchmark::State& state) {
  Var x = fmatrix("x"), w = fmatrix("w"), b = fvector("b");
  Var cost = LargeCost(x, w, b, state.range(0));
  for (auto _ : state) {
    std::vector<Var> g = grad(cost, {w, b});
    Function f = function({x, w, b}, g);
    benchmark::DoNotOptimize(f.defined());
  }
  state.counters["forward_nodes"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_GradOfLargeGraph)->Arg(10000)->Unit(benchmark::kMillisecond);

// The two parts separately.
void BM_GradOnly(benchmark::State& state) {
  Var x = fmatrix("x"), w = fmatrix("w"), b = fvector("b");
  Var cost = LargeCost(x, w, b, state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(grad(cost, {w, b}));
}
BENCHMARK(BM_GradOnly)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_CompileGradient(benchmark::State& state) {
  Var x = fmatrix("x"), w = fmatrix("w"), b = fvector("b");
  Var cost = LargeCost(x, w, b, state.range(0));
  std::vector<Var> g = grad(cost, {w, b});
  state.counters["gradient_graph_nodes"] =
      static_cast<double>(TopologicalNodes(g).size());
  for (auto _ : state) {
    Function f = function({x, w, b}, g);
    benchmark::DoNotOptimize(f.defined());
  }
}
BENCHMARK(BM_CompileGradient)->Arg(10000)->Unit(benchmark::kMillisecond);

struct Mlp {
  Var x = fmatrix("x");
  Var y = ivector("y");
  SharedVar w1 =
      shared(bench::RandomTensor(DType::kFloat32, {784, 512}, 1), "w1");
  SharedVar b1 = shared(Tensor(DType::kFloat32, {512}), "b1");
  SharedVar w2 =
      shared(bench::RandomTensor(DType::kFloat32, {512, 10}, 2), "w2");
  SharedVar b2 = shared(Tensor(DType::kFloat32, {10}), "b2");
};

// Times `step` on one batch of 256 random 784-pixel images and their labels
// (0..9), after one untimed call that plans it.
void TimeStepOnImages(benchmark::State& state, Function& step) {
  std::vector<Tensor> batch = {
      bench::RandomTensor(DType::kFloat32, {256, 784}, 3),
      bench::RandomLabels(256, 10, 4)};
  std::vector<Tensor> outputs;
  step.Call(batch, outputs);
  for (auto _ : state) {
    step.Call(batch, outputs);
    benchmark::DoNotOptimize(outputs[0].raw_data());
  }
}

void BM_MlpTrainingStep(benchmark::State& state) {
  const bool automatic = state.range(0) != 0;
  Mlp m;
  const float lr = 0.01f;
  Var h = relu(dot(m.x, m.w1) + m.b1);
  Var logits = dot(h, m.w2) + m.b2;
  Var cost = mean(nnet::categorical_crossentropy(nnet::softmax(logits), m.y));
  FunctionOptions options;
  if (automatic) {
    std::vector<Var> params = {m.w1, m.b1, m.w2, m.b2};
    std::vector<Var> g = grad(cost, params);
    for (size_t i = 0; i < params.size(); ++i) {
      options.updates.push_back({params[i], params[i] - lr * g[i]});
    }
  } else {
    // d cost / d logits = (softmax - one_hot) / n, then back by hand.
    Var n = cast(shape_i(m.x, 0), DType::kFloat32);
    Var dlogits =
        (nnet::softmax(logits) - one_hot(m.y, 10, DType::kFloat32)) / n;
    Var dh = dot(dlogits, transpose(m.w2)) * cast(h > 0.0f, DType::kFloat32);
    options.updates = {{m.w1, m.w1 - lr * dot(transpose(m.x), dh)},
                       {m.b1, m.b1 - lr * sum(dh, 0)},
                       {m.w2, m.w2 - lr * dot(transpose(h), dlogits)},
                       {m.b2, m.b2 - lr * sum(dlogits, 0)}};
  }
  Function step = function({m.x, m.y}, {cost}, options);
  TimeStepOnImages(state, step);
  // GEMM work per step: forward 2 products, backward 3 (no dx).
  const double flops = 2.0 * 256 * (784 * 512 + 512 * 10) +
                       2.0 * 256 * (512 * 10 * 2 + 784 * 512);
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["launches"] = step.stats().kernel_launches;
  state.SetLabel(automatic ? "grad" : "hand-written backward");
}
BENCHMARK(BM_MlpTrainingStep)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// Softmax regression (784 -> 10, batch 256, float32): one SGD step of the
// mean cross-entropy, its gradient from grad. The peers' scripts measure the
// same step (benchmarks/peers/).
void BM_SoftmaxRegressionTrainingStep(benchmark::State& state) {
  Var x = fmatrix("x");
  Var y = ivector("y");
  SharedVar w =
      shared(bench::UniformTensor(DType::kFloat32, {784, 10}, 0.087, 1), "w");
  SharedVar b = shared(Tensor(DType::kFloat32, {10}), "b");
  Var cost =
      mean(nnet::categorical_crossentropy(nnet::softmax(dot(x, w) + b), y));
  std::vector<Var> g = grad(cost, {w, b});
  Function step =
      function({x, y}, {cost},
               {.updates = {{w, w - 0.01f * g[0]}, {b, b - 0.01f * g[1]}}});
  TimeStepOnImages(state, step);
  state.counters["launches"] = step.stats().kernel_launches;
}
BENCHMARK(BM_SoftmaxRegressionTrainingStep)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace theta

int main(int argc, char** argv) {
  theta::bench::PrintContext();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
