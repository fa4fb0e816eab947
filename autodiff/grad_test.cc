#include "autodiff/grad.h"

#include <array>
#include <cmath>
#include <utility>

#include "autodiff/verify_grad.h"
#include "compile/debugprint.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "graph/function_graph.h"
#include "graph/op.h"
#include "graph/shared.h"
#include "graph/warning.h"
#include "gtest/gtest.h"
#include "ops/elemwise_op.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::Random;
using testing::Run1;
using testing::Values;

// Logistic regression: d/dw mean(-y log p - (1-y) log(1-p)) with
// p = sigmoid(X w + b) is X^T (p - y) / n, and d/db is mean(p - y).
TEST(GradTest, LogisticRegressionMatchesClosedForm) {
  Var x = dmatrix("x");
  Var y = dvector("y");
  Var w = dvector("w");
  Var b = dscalar("b");
  Var p = sigmoid(dot(x, w) + b);
  Var cost = mean(nnet::binary_crossentropy(p, y));
  std::vector<Var> g = grad(cost, {w, b});
  Tensor xv = Random(DType::kFloat64, {6, 3}, 1);
  Tensor yv(std::vector<double>{1, 0, 1, 1, 0, 0});
  Tensor wv = Random(DType::kFloat64, {3}, 2);
  Tensor bv = Tensor::Scalar<double>(0.3);
  std::vector<Tensor> out = testing::Run({x, y, w, b}, g, {xv, yv, wv, bv});
  std::vector<double> gw(3, 0.0);
  double gb = 0;
  for (int i = 0; i < 6; ++i) {
    double z = 0.3;
    for (int j = 0; j < 3; ++j)
      z += xv.GetAsDouble(i * 3 + j) * wv.GetAsDouble(j);
    const double err = 1 / (1 + std::exp(-z)) - yv.GetAsDouble(i);
    for (int j = 0; j < 3; ++j) gw[j] += xv.GetAsDouble(i * 3 + j) * err / 6;
    gb += err / 6;
  }
  EXPECT_TRUE(AllClose(out[0], gw, 1e-10, 1e-12));
  EXPECT_NEAR(out[1].item<double>(), gb, 1e-12);
}

// A two-layer MLP with tanh and softmax cross-entropy, against the
// hand-derived backward pass.
TEST(GradTest, TwoLayerMlpMatchesHandDerivedBackprop) {
  Var x = dmatrix("x");
  Var y = ivector("y");
  Var w1 = dmatrix("w1"), b1 = dvector("b1"), w2 = dmatrix("w2"),
      b2 = dvector("b2");
  Var h = tanh(dot(x, w1) + b1);
  Var cost =
      mean(nnet::categorical_crossentropy(nnet::softmax(dot(h, w2) + b2), y));
  std::vector<Var> g = grad(cost, {w1, b1, w2, b2});
  // Hand-written backward graph.
  Var n = cast(shape_i(x, 0), DType::kFloat64);
  Var dz2 = (nnet::softmax(dot(h, w2) + b2) -
             one_hot(y, shape_i(w2, 1), DType::kFloat64)) /
            n;
  Var gw2 = dot(transpose(h), dz2);
  Var gb2 = sum(dz2, 0);
  Var dz1 = dot(dz2, transpose(w2)) * (1.0 - h * h);
  Var gw1 = dot(transpose(x), dz1);
  Var gb1 = sum(dz1, 0);
  std::vector<Tensor> inputs = {Random(DType::kFloat64, {5, 4}, 1),
                                Tensor(std::vector<int32_t>{0, 2, 1, 2, 0}),
                                Random(DType::kFloat64, {4, 6}, 2),
                                Random(DType::kFloat64, {6}, 3),
                                Random(DType::kFloat64, {6, 3}, 4),
                                Random(DType::kFloat64, {3}, 5)};
  std::vector<Tensor> auto_grads =
      testing::Run({x, y, w1, b1, w2, b2}, g, inputs);
  std::vector<Tensor> hand =
      testing::Run({x, y, w1, b1, w2, b2}, {gw1, gb1, gw2, gb2}, inputs);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(AllClose(auto_grads[i], Values(hand[i]), 1e-10, 1e-12))
        << "gradient " << i;
  }
}

TEST(GradTest, SharedParametersAndUpdatesAsUsersHoldThem) {
  SharedVar W = shared(Tensor({1.0, 2.0}, {2}), "W");
  SharedVar b = shared(Tensor::Scalar<double>(0.5), "b");
  std::vector<SharedVar> params = {W, b};
  Var x = dvector("x");
  Var cost = sum(x * W) + b;  // d/dW = x, d/db = 1
  std::vector<Var> g = grad(cost, params);
  ASSERT_EQ(g.size(), 2u);
  std::vector<std::pair<SharedVar, Var>> updates;
  for (size_t i = 0; i < params.size(); ++i) {
    updates.push_back({params[i], params[i] - 0.5 * g[i]});
  }
  Function step = function({x}, {cost}, {.updates = updates});
  EXPECT_DOUBLE_EQ(step({Tensor({2.0, 4.0}, {2})})[0].item<double>(), 10.5);
  EXPECT_TRUE(AllClose(W.get_value(), {0, 0}));  // (1, 2) - 0.5 (2, 4)
  EXPECT_DOUBLE_EQ(b.get_value().item<double>(), 0);
  // One pair of a shared variable and its new value, and an array of them.
  Function bump =
      function({}, {}, {.updates = {std::pair<SharedVar, Var>(b, b + 1.0)}});
  bump(std::span<const Tensor>());
  EXPECT_DOUBLE_EQ(b.get_value().item<double>(), 1);
  std::array<SharedVar, 1> only_b = {b};
  EXPECT_TRUE(AllClose(Run1({}, grad(b * 3.0, only_b)[0], {}), {3}));
}

TEST(GradTest, SoftmaxCrossentropyGradientIsSoftmaxMinusOneHot) {
  Var x = fmatrix("x");
  Var y = ivector("y");
  Var cost = sum(nnet::categorical_crossentropy(nnet::softmax(x), y));
  Function f = function({x, y}, {grad(cost, x)});
  // One fused elementwise kernel computes exp(log_softmax) - one_hot: no
  // softmax gradient (no reduction) in the backward pass.
  int elemwise = 0, reductions = 0;
  for (Node* node : f.graph().TopologicalOrder()) {
    const std::string name = node->op().name();
    if (name.find("Elemwise") != std::string::npos) ++elemwise;
    if (name.find("Sum") != std::string::npos) ++reductions;
  }
  EXPECT_EQ(elemwise, 1) << debugprint(f);
  EXPECT_EQ(reductions, 0) << debugprint(f);
  // And it is right where softmax underflows.
  Tensor gx = f({Tensor(std::vector<float>{0, 200, 5, 5}, {2, 2}),
                 Tensor(std::vector<int32_t>{0, 1})})[0];
  EXPECT_TRUE(AllClose(gx, {-1, 1, 0.5, -0.5}, 1e-5, 1e-6));
}

TEST(GradTest, QuadraticFormHessianIsAPlusATranspose) {
  Var a = tensor(DType::kFloat64, {3, 3}, "a");
  Var x = tensor(DType::kFloat64, {3}, "x");
  Var cost = dot(x, dot(a, x));
  Var h = hessian(cost, x);
  Tensor av = Random(DType::kFloat64, {3, 3}, 1);
  Tensor hv = Run1({a, x}, h, {av, Random(DType::kFloat64, {3}, 2)});
  std::vector<double> expected;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j)
      expected.push_back(av.GetAsDouble(i * 3 + j) + av.GetAsDouble(j * 3 + i));
  }
  EXPECT_EQ(hv.dims(), Dims({3, 3}));
  EXPECT_TRUE(AllClose(hv, expected, 1e-12, 1e-12));
}

TEST(GradTest, JacobianOfElementwiseIsDiagonal) {
  Var x = tensor(DType::kFloat64, {3}, "x");
  Tensor j =
      Run1({x}, jacobian(exp(x), x), {Tensor(std::vector<double>{0, 1, 2})});
  EXPECT_TRUE(AllClose(j, {1, 0, 0, 0, std::exp(1.0), 0, 0, 0, std::exp(2.0)},
                       1e-12, 1e-12));
}

TEST(GradTest, LopAndRopAgreeWithJacobianProducts) {
  Var x = tensor(DType::kFloat64, {3}, "x");
  Var w = tensor(DType::kFloat64, {2, 3}, "w");
  Var f = tanh(dot(w, x));  // R^3 -> R^2
  Var u = tensor(DType::kFloat64, {2}, "u");
  Var v = tensor(DType::kFloat64, {3}, "v");
  Var lop = Lop({f}, {x}, {u})[0];
  Var rop = Rop({f}, {x}, {v})[0];
  Var j = jacobian(f, x);  // (2, 3)
  Tensor xv = Random(DType::kFloat64, {3}, 1),
         wv = Random(DType::kFloat64, {2, 3}, 2);
  Tensor uv = Random(DType::kFloat64, {2}, 3),
         vv = Random(DType::kFloat64, {3}, 4);
  std::vector<Tensor> out = testing::Run(
      {x, w, u, v}, {lop, rop, dot(u, j), dot(j, v)}, {xv, wv, uv, vv});
  EXPECT_TRUE(AllClose(out[0], Values(out[2]), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(out[1], Values(out[3]), 1e-12, 1e-12));
}

TEST(GradTest, HessianVectorProductOfMlpLoss) {
  // Gradient of a gradient: H v = d/dw (g(w) . v), checked numerically.
  Var x = dmatrix("x");
  Var w = dmatrix("w");
  Var v = dmatrix("v");
  Var cost = mean(square(tanh(dot(x, w))));
  Var gw = grad(cost, w);
  Var hv = grad(sum(gw * v), w);
  Tensor xv = Random(DType::kFloat64, {4, 3}, 1),
         wv = Random(DType::kFloat64, {3, 2}, 2);
  Tensor vv = Random(DType::kFloat64, {3, 2}, 3);
  Tensor analytic = Run1({x, w, v}, hv, {xv, wv, vv});
  // (g(w + eps v) - g(w - eps v)) / 2 eps
  Function g = function({x, w}, {gw});
  const double eps = 1e-6;
  Tensor plus = wv.clone(), minus = wv.clone();
  for (int i = 0; i < 6; ++i) {
    plus.data<double>()[i] += eps * vv.GetAsDouble(i);
    minus.data<double>()[i] -= eps * vv.GetAsDouble(i);
  }
  std::vector<double> gp = Values(g({xv, plus})[0]),
                      gm = Values(g({xv, minus})[0]);
  std::vector<double> numeric(6);
  for (int i = 0; i < 6; ++i) numeric[i] = (gp[i] - gm[i]) / (2 * eps);
  EXPECT_TRUE(AllClose(analytic, numeric, 1e-6, 1e-8));
}

TEST(GradTest, BroadcastInputsGetGradientsOfTheirOwnShape) {
  Var x = dmatrix("x");
  Var b = drow("b");
  Var g = grad(sum((x + b) * 2.0), b);
  EXPECT_EQ(g.type().ToString(), "float64(1, ?)");
  Tensor out =
      Run1({x, b}, g,
           {Tensor(DType::kFloat64, {3, 2}), Tensor(DType::kFloat64, {1, 2})});
  EXPECT_TRUE(AllClose(out, {6, 6}));
}

TEST(GradTest, KnownGradsAndConsiderConstant) {
  Var x = dvector("x");
  Var y = exp(x);
  Var gy = dvector("gy");
  GradOptions known;
  known.known_grads = {{y, gy}};
  Var gx = grad(Var(), std::vector<Var>{x}, known)[0];
  Tensor out = Run1(
      {x, gy}, gx,
      {Tensor(std::vector<double>{0, 1}), Tensor(std::vector<double>{2, 3})});
  EXPECT_TRUE(AllClose(out, {2, 3 * std::exp(1.0)}, 1e-12, 1e-12));
  Var z = x * y;
  GradOptions constant;
  constant.consider_constant = {y};
  Tensor gc = Run1({x}, grad(sum(z), std::vector<Var>{x}, constant)[0],
                   {Tensor(std::vector<double>{0, 1})});
  EXPECT_TRUE(AllClose(gc, {1, std::exp(1.0)}, 1e-12, 1e-12));  // d(x*c)/dx = c
}

TEST(GradTest, DisconnectedAndZeroGrad) {
  Var x = dvector("x");
  Var cost = sum(disconnected_grad(x) * x);
  Tensor xv(std::vector<double>{2, 3});
  EXPECT_TRUE(AllClose(Run1({x}, grad(cost, x), {xv}), {2, 3}));
  Var cost2 = sum(zero_grad(x) + x * 0.0);
  EXPECT_TRUE(AllClose(Run1({x}, grad(cost2, x), {xv}), {0, 0}));
  EXPECT_TRUE(AllClose(Run1({x}, sum(disconnected_grad(x)), {xv}), {5}));
}

TEST(GradTest, DisconnectedInputPolicy) {
  Var x = dvector("x");
  Var unused = dvector("unused");
  Var cost = sum(x * 2.0);
  std::string message = ErrorOf([&] { grad(cost, {x, unused}); });
  EXPECT_THAT(message, HasSubstr("does not depend on 'unused'"));
  EXPECT_THAT(message, HasSubstr("grad_test.cc:"));
  GradOptions ignore;
  ignore.disconnected_inputs = DisconnectedInputs::kIgnore;
  std::vector<Var> g = grad(cost, {x, unused}, ignore);
  // g[1] reads only unused's shape; x is deliberately unused.
  Tensor zero = Run1(
      {x, unused}, g[1],
      {Tensor(std::vector<double>{1}), Tensor(std::vector<double>{1, 2, 3})},
      {.on_unused_input = OnUnusedInput::kIgnore});
  EXPECT_TRUE(AllClose(zero, {0, 0, 0}));
  ignore.return_disconnected = ReturnDisconnected::kNone;
  EXPECT_FALSE(grad(cost, {x, unused}, ignore)[1].defined());
  GradOptions warn;
  warn.disconnected_inputs = DisconnectedInputs::kWarn;
  ::testing::internal::CaptureStderr();
  grad(cost, {unused}, warn);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("does not depend on 'unused'"));
  // The warning goes through the program's handler when it has one.
  std::vector<std::string> seen;
  {
    ScopedWarningHandler capture(
        [&](std::string_view message) { seen.emplace_back(message); });
    ::testing::internal::CaptureStderr();
    grad(cost, {unused}, warn);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_THAT(seen[0], HasSubstr("does not depend on 'unused'"));
}

TEST(GradTest, DiscreteOpsGiveZeroGradients) {
  Var x = dvector("x");
  Tensor xv(std::vector<double>{0.5, -1, 2});
  Var through_compare = sum(cast(x > 0.0, DType::kFloat64) * 3.0);
  EXPECT_TRUE(AllClose(Run1({x}, grad(through_compare, x), {xv}), {0, 0, 0}));
  Var through_argmax = cast(argmax(x), DType::kFloat64);
  EXPECT_TRUE(AllClose(Run1({x}, grad(through_argmax, x), {xv}), {0, 0, 0}));
  Var through_int = sum(cast(cast(x, DType::kInt32), DType::kFloat64));
  EXPECT_TRUE(AllClose(Run1({x}, grad(through_int, x), {xv}), {0, 0, 0}));
}

TEST(GradTest, Errors) {
  Var x = dvector("x");
  EXPECT_THAT(ErrorOf([&] { grad(x * 2.0, x); }),
              HasSubstr("the cost must be a scalar"));
  Var i = ivector("i");
  EXPECT_THAT(ErrorOf([&] { grad(sum(i), i); }),
              HasSubstr("the cost must be a float"));
  EXPECT_THAT(ErrorOf([&] { grad(sum(x) + cast(sum(i), DType::kFloat64), i); }),
              HasSubstr("integer variables are not differentiable"));
}

TEST(GradTest, GradientGraphsShareForwardWork) {
  Var x = dmatrix("x");
  Var w = dmatrix("w");
  Var h = tanh(dot(x, w));
  Var cost = sum(h);
  Function f = function({x, w}, {cost, grad(cost, w)});
  int tanh_nodes = 0;
  for (Node* node : f.graph().TopologicalOrder()) {
    if (node->op().name().find("tanh") != std::string::npos) ++tanh_nodes;
  }
  EXPECT_EQ(tanh_nodes, 1) << debugprint(f);
}

TEST(GradTest, MlpTrainingStepNeedsNoMoreKernelsThanHandWritten) {
  Var x = fmatrix("x");
  Var y = ivector("y");
  SharedVar w1 = shared(Random(DType::kFloat32, {8, 6}, 1), "w1");
  SharedVar b1 = shared(Random(DType::kFloat32, {6}, 2), "b1");
  SharedVar w2 = shared(Random(DType::kFloat32, {6, 3}, 3), "w2");
  SharedVar b2 = shared(Random(DType::kFloat32, {3}, 4), "b2");
  Var h = relu(dot(x, w1) + b1);
  Var cost =
      mean(nnet::categorical_crossentropy(nnet::softmax(dot(h, w2) + b2), y));
  std::vector<Var> params = {w1, b1, w2, b2};
  std::vector<Var> g = grad(cost, params);
  FunctionOptions auto_options;
  for (size_t i = 0; i < params.size(); ++i) {
    auto_options.updates.push_back({params[i], params[i] - 0.1f * g[i]});
  }
  // Hand-written backward pass of the same step.
  Var n = cast(shape_i(x, 0), DType::kFloat32);
  Var z2 = dot(h, w2) + b2;
  Var dz2 = (nnet::softmax(z2) - one_hot(y, 3, DType::kFloat32)) / n;
  Var dh = dot(dz2, transpose(w2)) * cast(h > 0.0f, DType::kFloat32);
  FunctionOptions hand_options;
  hand_options.updates = {{w1, w1 - 0.1f * dot(transpose(x), dh)},
                          {b1, b1 - 0.1f * sum(dh, 0)},
                          {w2, w2 - 0.1f * dot(transpose(h), dz2)},
                          {b2, b2 - 0.1f * sum(dz2, 0)}};
  Function automatic = function({x, y}, {cost}, auto_options);
  Function hand = function({x, y}, {cost}, hand_options);
  std::vector<Tensor> batch = {Random(DType::kFloat32, {5, 8}, 9),
                               Tensor(std::vector<int32_t>{0, 1, 2, 1, 0})};
  automatic(batch);
  hand(batch);
  EXPECT_LE(automatic.stats().kernel_launches, hand.stats().kernel_launches)
      << "grad:\n"
      << automatic.DescribePlan() << "\nhand-written:\n"
      << hand.DescribePlan();
}

// A recurrence unrolled without scan (h = tanh(0.5 h + x), thousands of
// steps), with its gradient: one long elementwise chain forward and one
// backward, whose values the backward chain reads. Fusion splits it into
// kernels of at most kMaxFusedOperations operations each. Unbounded, it
// re-fused whole groups into one kernel: at 17,500 steps that kernel needed
// more registers than the backend's 16-bit fields hold (so sum(h) came out
// 0), and compiling it took minutes. Values are checked against a
// reference computed here in double precision.
TEST(GradTest, LongUnrolledRecurrenceFusesIntoBoundedKernels) {
  constexpr int kSteps = 3000;
  Var x = dvector("x");
  Var h = x;
  for (int i = 0; i < kSteps; ++i) h = tanh(0.5 * h + x);
  Var total = sum(h);
  Function f = function({x}, {total, grad(total, x)});
  int kernels = 0;
  for (Node* node : f.graph().TopologicalOrder()) {
    const Elemwise* e = AsElemwise(*node);
    if (e == nullptr) continue;
    ++kernels;
    EXPECT_LE(e->program().num_operations(), kMaxFusedOperations);
  }
  EXPECT_LT(kernels, kSteps) << "the chain was not fused";
  const std::vector<double> x0 = {0.1, -0.7, 2.5};
  std::vector<Tensor> out = f({Tensor(x0)});
  // Forward in double, then the adjoint: dh_{i+1}/dh_i = 0.5 (1 - h_{i+1}^2)
  // and dh_{i+1}/dx = 1 - h_{i+1}^2, plus dh_0/dx = 1.
  double expected_total = 0;
  std::vector<double> expected_grad;
  for (double xi : x0) {
    std::vector<double> hs = {xi};
    for (int i = 0; i < kSteps; ++i)
      hs.push_back(std::tanh(0.5 * hs.back() + xi));
    expected_total += hs.back();
    double adjoint = 1, dx = 0;
    for (int i = kSteps; i >= 1; --i) {
      const double d = 1 - hs[i] * hs[i];
      dx += adjoint * d;
      adjoint *= 0.5 * d;
    }
    expected_grad.push_back(dx + adjoint);
  }
  EXPECT_NEAR(out[0].item<double>(), expected_total, 1e-12);
  EXPECT_TRUE(AllClose(out[1], expected_grad, 1e-12, 1e-12));
}

}  // namespace
}  // namespace theta
