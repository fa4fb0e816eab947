// Every differentiable op of the op library through verify_grad, in
// float64, with broadcasting where the op broadcasts.
#include <functional>
#include <string>
#include <vector>

#include "autodiff/grad.h"
#include "autodiff/verify_grad.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::Random;

struct GradCase {
  std::string name;
  std::function<Var(const std::vector<Var>&)> fn;
  std::vector<Tensor> inputs;
};

Tensor R(std::vector<int64_t> shape, uint64_t seed, double lo = -1,
         double hi = 1) {
  return Random(DType::kFloat64, std::move(shape), seed, lo, hi);
}

using V = std::vector<Var>;

std::vector<GradCase> Cases() {
  std::vector<GradCase> c;
  auto unary = [&](std::string name, std::function<Var(const Var&)> f,
                   double lo, double hi) {
    c.push_back(
        {name, [f](const V& x) { return f(x[0]); }, {R({3, 4}, 1, lo, hi)}});
  };
  unary(
      "neg", [](const Var& x) { return -x; }, -2, 2);
  unary(
      "abs", [](const Var& x) { return abs(x); }, 0.1, 2);
  unary(
      "exp", [](const Var& x) { return exp(x); }, -2, 2);
  unary(
      "log", [](const Var& x) { return log(x); }, 0.2, 3);
  unary(
      "log1p", [](const Var& x) { return log1p(x); }, -0.5, 3);
  unary(
      "expm1", [](const Var& x) { return expm1(x); }, -2, 2);
  unary(
      "sqrt", [](const Var& x) { return sqrt(x); }, 0.2, 3);
  unary(
      "rsqrt", [](const Var& x) { return rsqrt(x); }, 0.2, 3);
  unary(
      "square", [](const Var& x) { return square(x); }, -2, 2);
  unary(
      "reciprocal", [](const Var& x) { return reciprocal(x); }, 0.5, 2);
  unary(
      "tanh", [](const Var& x) { return tanh(x); }, -2, 2);
  unary(
      "sigmoid", [](const Var& x) { return sigmoid(x); }, -3, 3);
  unary(
      "softplus", [](const Var& x) { return softplus(x); }, -3, 3);
  unary(
      "relu", [](const Var& x) { return relu(x); }, 0.1, 2);
  unary(
      "relu_negative", [](const Var& x) { return relu(x); }, -2, -0.1);
  unary(
      "sin", [](const Var& x) { return sin(x); }, -2, 2);
  unary(
      "cos", [](const Var& x) { return cos(x); }, -2, 2);
  unary(
      "erf", [](const Var& x) { return erf(x); }, -1, 1);
  unary(
      "floor_is_flat", [](const Var& x) { return floor(x) + x; }, 0.1, 0.9);

  auto binary = [&](std::string name,
                    std::function<Var(const Var&, const Var&)> f, double lo,
                    double hi) {
    // (3, 4) with (1, 4): the row's gradient sums over the broadcast rows.
    c.push_back({name + "_row",
                 [f](const V& x) { return f(x[0], x[1]); },
                 {R({3, 4}, 2, lo, hi), R({1, 4}, 3, lo, hi)}});
    c.push_back({name + "_col",
                 [f](const V& x) { return f(x[0], x[1]); },
                 {R({3, 1}, 4, lo, hi), R({3, 4}, 5, lo, hi)}});
  };
  binary(
      "add", [](const Var& a, const Var& b) { return a + b; }, -2, 2);
  binary(
      "sub", [](const Var& a, const Var& b) { return a - b; }, -2, 2);
  binary(
      "mul", [](const Var& a, const Var& b) { return a * b; }, -2, 2);
  binary(
      "div", [](const Var& a, const Var& b) { return a / b; }, 0.5, 2);
  binary(
      "pow", [](const Var& a, const Var& b) { return pow(a, b); }, 0.5, 2);
  binary(
      "maximum", [](const Var& a, const Var& b) { return maximum(a, b); }, -2,
      2);
  binary(
      "minimum", [](const Var& a, const Var& b) { return minimum(a, b); }, -2,
      2);
  binary(
      "atan2", [](const Var& a, const Var& b) { return atan2(a, b); }, 0.5, 2);
  c.push_back({"vector_plus_matrix",
               [](const V& x) { return x[0] + x[1]; },
               {R({4}, 6), R({3, 4}, 7)}});
  c.push_back({"clip",
               [](const V& x) { return clip(x[0], -0.5, 0.5); },
               {R({3, 4}, 8)}});
  c.push_back({"switch",
               [](const V& x) { return switch_(x[0] > 0.0, x[1], x[2] * 2.0); },
               {R({3, 4}, 9), R({3, 4}, 10), R({3, 4}, 11)}});
  c.push_back({"cast_float32_to_float64",
               [](const V& x) { return cast(x[0], DType::kFloat64) * 2.0; },
               {Random(DType::kFloat32, {2, 3}, 12)}});

  // Reductions.
  c.push_back(
      {"sum_axis0", [](const V& x) { return sum(x[0], 0); }, {R({3, 4}, 13)}});
  c.push_back(
      {"sum_all", [](const V& x) { return sum(x[0]); }, {R({3, 4}, 14)}});
  c.push_back({"mean_keepdims",
               [](const V& x) { return mean(x[0], {1}, true); },
               {R({3, 4}, 15)}});
  c.push_back({"prod",
               [](const V& x) { return prod(x[0], 1); },
               {R({3, 4}, 16, 0.5, 2)}});
  c.push_back(
      {"max", [](const V& x) { return max(x[0], 1); }, {R({3, 4}, 17)}});
  c.push_back(
      {"min_all", [](const V& x) { return min(x[0]); }, {R({3, 4}, 18)}});
  c.push_back(
      {"var", [](const V& x) { return var(x[0], 0); }, {R({3, 4}, 19)}});
  c.push_back(
      {"std", [](const V& x) { return std(x[0], 1); }, {R({3, 4}, 20)}});

  // Shape ops.
  c.push_back({"dimshuffle",
               [](const V& x) {
                 return dimshuffle(x[0], {1, kNewAxis, 0});
               },
               {R({3, 4}, 21)}});
  c.push_back({"reshape",
               [](const V& x) {
                 return reshape(x[0], {2, -1});
               },
               {R({3, 4}, 22)}});
  c.push_back({"reshape_of_transpose",
               [](const V& x) { return reshape(transpose(x[0]), {-1}); },
               {R({3, 4}, 23)}});
  c.push_back({"concatenate",
               [](const V& x) {
                 return concatenate({x[0], x[1]}, 1);
               },
               {R({2, 3}, 24), R({2, 2}, 25)}});
  c.push_back({"stack",
               [](const V& x) {
                 return stack({x[0], x[1]}, 0);
               },
               {R({2, 3}, 26), R({2, 3}, 27)}});
  c.push_back({"alloc",
               [](const V& x) {
                 return alloc(x[0], {3, 4});
               },
               {R({4}, 28)}});

  // Indexing.
  c.push_back({"slice",
               [](const V& x) {
                 return slice(x[0], {Slice(1, 3), Slice(0, 4, 2)});
               },
               {R({4, 5}, 29)}});
  c.push_back(
      {"index", [](const V& x) { return index(x[0], -1); }, {R({4, 5}, 30)}});
  c.push_back({"set_subtensor",
               [](const V& x) {
                 return set_subtensor(slice(x[0], {Slice(1, 3)}), x[1]);
               },
               {R({4, 3}, 31), R({2, 3}, 32)}});
  c.push_back({"inc_subtensor_broadcast",
               [](const V& x) {
                 return inc_subtensor(slice(x[0], {Slice(0, 2)}), x[1]);
               },
               {R({4, 3}, 33), R({3}, 34)}});
  c.push_back(
      {"take",
       [](const V& x) {
         return take(x[0], constant(Tensor(std::vector<int64_t>{2, 0, 2})));
       },
       {R({3, 2}, 35)}});
  c.push_back({"take_inc",
               [](const V& x) {
                 return inc_subtensor(
                     take(x[0], constant(Tensor(std::vector<int64_t>{1, 1}))),
                     x[1]);
               },
               {R({3, 2}, 36), R({2, 2}, 37)}});

  // Linear algebra.
  c.push_back({"dot_mm",
               [](const V& x) { return dot(x[0], x[1]); },
               {R({3, 4}, 38), R({4, 2}, 39)}});
  c.push_back({"dot_mv",
               [](const V& x) { return dot(x[0], x[1]); },
               {R({3, 4}, 40), R({4}, 41)}});
  c.push_back({"dot_vv",
               [](const V& x) { return dot(x[0], x[1]); },
               {R({4}, 42), R({4}, 43)}});
  c.push_back({"dot_transposed",
               [](const V& x) { return dot(transpose(x[0]), x[1]); },
               {R({4, 3}, 44), R({4, 2}, 45)}});
  c.push_back({"dot_3d",
               [](const V& x) { return dot(x[0], x[1]); },
               {R({2, 3, 4}, 46), R({4, 2}, 47)}});
  c.push_back({"batched_dot",
               [](const V& x) { return batched_dot(x[0], x[1]); },
               {R({2, 3, 4}, 48), R({2, 4, 2}, 49)}});
  c.push_back({"outer",
               [](const V& x) { return outer(x[0], x[1]); },
               {R({3}, 50), R({2}, 51)}});
  c.push_back({"tensordot",
               [](const V& x) { return tensordot(x[0], x[1], 1); },
               {R({2, 3}, 52), R({3, 4}, 53)}});

  // nnet.
  c.push_back({"softmax",
               [](const V& x) { return nnet::softmax(x[0]); },
               {R({3, 5}, 54, -3, 3)}});
  c.push_back({"log_softmax",
               [](const V& x) { return nnet::log_softmax(x[0]); },
               {R({3, 5}, 55, -3, 3)}});
  c.push_back({"crossentropy_softmax_labels",
               [](const V& x) {
                 return nnet::categorical_crossentropy(
                     nnet::softmax(x[0]),
                     constant(Tensor(std::vector<int32_t>{1, 4, 0})));
               },
               {R({3, 5}, 56, -3, 3)}});
  c.push_back({"crossentropy_onehot",
               [](const V& x) {
                 return nnet::categorical_crossentropy(nnet::softmax(x[0]),
                                                       x[1]);
               },
               {R({3, 5}, 57, -3, 3), R({3, 5}, 58, 0, 1)}});
  c.push_back({"crossentropy_probabilities",
               [](const V& x) {
                 return nnet::categorical_crossentropy(
                     x[0], constant(Tensor(std::vector<int32_t>{1, 0})));
               },
               {R({2, 3}, 59, 0.2, 1)}});
  c.push_back({"binary_crossentropy",
               [](const V& x) {
                 return nnet::binary_crossentropy(sigmoid(x[0]), x[1]);
               },
               {R({3, 4}, 60, -3, 3), R({3, 4}, 61, 0, 1)}});
  return c;
}

class OpGradientTest : public ::testing::TestWithParam<int> {};

TEST_P(OpGradientTest, MatchesCentralDifferences) {
  GradCase c = Cases()[GetParam()];
  SCOPED_TRACE(c.name);
  VerifyGradResult r = verify_grad(c.fn, c.inputs);
  EXPECT_TRUE(r.ok) << c.name << ": " << r.message;
}

INSTANTIATE_TEST_SUITE_P(EveryOp, OpGradientTest,
                         ::testing::Range(0, static_cast<int>(Cases().size())),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return Cases()[info.param].name;
                         });

}  // namespace
}  // namespace theta
