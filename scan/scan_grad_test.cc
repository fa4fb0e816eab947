// Gradients through scan, checked numerically (verify_grad) and against
// closed forms.
#include <cmath>

#include "autodiff/grad.h"
#include "autodiff/verify_grad.h"
#include "gmock/gmock.h"
#include "graph/shared.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"
#include "scan/scan.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::Random;
using testing::Run1;
using Args = std::vector<Var>;

Tensor R(std::vector<int64_t> shape, uint64_t seed, double lo = -1,
         double hi = 1) {
  return Random(DType::kFloat64, std::move(shape), seed, lo, hi);
}

TEST(ScanGradTest, SequenceTapsAndNonSequence) {
  VerifyGradResult r = verify_grad(
      [](const Args& x) {
        // y_t = tanh(w * (s[t-1] + 2 s[t+1]) + y_{t-1})
        return scan(
                   [](const Args& in) {
                     return StepResult{
                         {tanh(in[3] * (in[0] + in[1] * 2.0) + in[2])}};
                   },
                   {.sequences = {Sequence(x[0], {-1, 1})},
                    .outputs_info = {x[1]},
                    .non_sequences = {x[2]}})
            .outputs[0];
      },
      {R({6, 2}, 1), R({2}, 2), R({2}, 3)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ScanGradTest, MultiTapOutputsAndTheirInitialRows) {
  VerifyGradResult r = verify_grad(
      [](const Args& x) {
        // y_t = sin(0.5 y_{t-3} - y_{t-1}) + x_t
        return scan(
                   [](const Args& in) {
                     return StepResult{{sin(in[1] * 0.5 - in[2]) + in[0]}};
                   },
                   {.sequences = {x[0]},
                    .outputs_info = {OutputInfo(x[1], {-3, -1})}})
            .outputs[0];
      },
      {R({5, 2}, 4), R({4, 2}, 5)});  // 4 rows: only the first 3 are read
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ScanGradTest, MatrixRecurrenceWithWeights) {
  VerifyGradResult r = verify_grad(
      [](const Args& x) {
        return scan(
                   [](const Args& in) {
                     return StepResult{{tanh(dot(in[1], in[2]) + in[0])}};
                   },
                   {.sequences = {x[0]},
                    .outputs_info = {x[1]},
                    .non_sequences = {x[2]}})
            .outputs[0];
      },
      {R({4, 3, 2}, 6), R({3, 2}, 7), R({2, 2}, 8)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ScanGradTest, GoBackwards) {
  VerifyGradResult r = verify_grad(
      [](const Args& x) {
        return scan(
                   [](const Args& in) {
                     return StepResult{{in[2] * in[1] + square(in[0])}};
                   },
                   {.sequences = {Sequence(x[0], {0, 1})},
                    .outputs_info = {x[1]},
                    .go_backwards = true})
            .outputs[0];
      },
      {R({6}, 9), R({}, 10)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ScanGradTest, MapOutputsAndSeveralOutputs) {
  VerifyGradResult r = verify_grad(
      [](const Args& x) {
        ScanResult s = scan(
            [](const Args& in) {
              Var h = tanh(in[0] + in[1] * in[2]);
              return StepResult{{h, h * in[0]}};  // recurrent, map
            },
            {.sequences = {x[0]},
             .outputs_info = {x[1], OutputInfo::None()},
             .non_sequences = {x[2]}});
        return s.outputs[0] * 2.0 + s.outputs[1];
      },
      {R({5, 3}, 11), R({3}, 12), R({3}, 13)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ScanGradTest, TruncatedGradientOnlyCoversTheLastSteps) {
  VerifyGradResult ok = verify_grad(
      [](const Args& x) {
        return scan(
                   [](const Args& in) {
                     return StepResult{{in[1] * 0.5 + in[0]}};
                   },
                   {.sequences = {x[0]},
                    .outputs_info = {x[1]},
                    .truncate_gradient = 10})
            .outputs[0];
      },
      {R({4}, 14), R({}, 15)});
  EXPECT_TRUE(ok.ok) << ok.message;  // k >= N: exact
}

TEST(ScanGradTest, SharedUpdateStateGradient) {
  // A state kept only at its end (like a shared update) still carries its
  // gradient back through every step.
  Var x = dvector("x");
  SharedVar acc = shared(Tensor::Scalar<double>(2), "acc");
  ScanResult s = scan(
      [&](const Args& in) {
        return StepResult({in[0] * acc}, {{acc, acc * in[0]}});
      },
      {.sequences = {x}});
  Var final_acc = s.updates[0].second;
  Var g = grad(final_acc, x);  // acc_final = 2 * prod(x)
  Tensor out = Run1({x}, g, {Tensor(std::vector<double>{2, 3, 5})});
  EXPECT_TRUE(AllClose(out, {30, 20, 12}, 1e-12, 1e-12));
}

// An LSTM cell in (timesteps, samples, features) layout.
Var Lstm(const Var& x, const Var& h0, const Var& c0, const Var& w, const Var& u,
         const Var& b, int hidden) {
  ScanResult r = scan(
      [&](const Args& in) {
        // in = {x_t, h_{t-1}, c_{t-1}, W, U, b}
        Var gates = dot(in[0], in[3]) + dot(in[1], in[4]) + in[5];
        auto part = [&](int k) {
          return slice(gates,
                       {Slice::All(), Slice(k * hidden, (k + 1) * hidden)});
        };
        Var i = sigmoid(part(0)), f = sigmoid(part(1)), o = sigmoid(part(2));
        Var g = tanh(part(3));
        Var c = f * in[2] + i * g;
        Var h = o * tanh(c);
        return StepResult{{h, c}};
      },
      {.sequences = {x}, .outputs_info = {h0, c0}, .non_sequences = {w, u, b}});
  return r.outputs[0];
}

TEST(ScanGradTest, LstmGradientsAreNumericallyRight) {
  const int t = 4, batch = 2, in = 3, hidden = 2;
  VerifyGradResult r = verify_grad(
      [&](const Args& x) {
        return Lstm(x[0], x[1], x[2], x[3], x[4], x[5], hidden);
      },
      {R({t, batch, in}, 20), R({batch, hidden}, 21), R({batch, hidden}, 22),
       R({in, 4 * hidden}, 23), R({hidden, 4 * hidden}, 24),
       R({4 * hidden}, 25)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ScanGradTest, HessianVectorProductOfAShortRnn) {
  // d/dw (grad(w) . v) against differences of the gradient.
  Var x = dvector("x");
  Var w = dscalar("w");
  Var v = dscalar("v");
  Var h0 = dscalar("h0");
  Var hs = scan(
               [](const Args& in) {
                 return StepResult{{tanh(in[2] * in[1] + in[0])}};
               },
               {.sequences = {x}, .outputs_info = {h0}, .non_sequences = {w}})
               .outputs[0];
  Var cost = sum(square(hs));
  Var gw = grad(cost, w);
  Var hv = grad(gw * v, w);
  Tensor xv = R({4}, 30);
  Function g = function({x, w, h0}, {gw});
  const double eps = 1e-6, w0 = 0.7;
  double plus =
      g({xv, Tensor::Scalar<double>(w0 + eps), Tensor::Scalar<double>(0.1)})[0]
          .item<double>();
  double minus =
      g({xv, Tensor::Scalar<double>(w0 - eps), Tensor::Scalar<double>(0.1)})[0]
          .item<double>();
  Tensor analytic =
      Run1({x, w, v, h0}, hv,
           {xv, Tensor::Scalar<double>(w0), Tensor::Scalar<double>(1.0),
            Tensor::Scalar<double>(0.1)});
  EXPECT_NEAR(analytic.item<double>(), (plus - minus) / (2 * eps), 1e-6);
}

TEST(ScanGradTest, JacobianAndHessianOfUnknownSizeUseScan) {
  Var x = dvector("x");  // size unknown statically
  Var j = jacobian(exp(x) * 2.0, x);
  Tensor out = Run1({x}, j, {Tensor(std::vector<double>{0, 1})});
  EXPECT_TRUE(AllClose(out, {2, 0, 0, 2 * std::exp(1.0)}, 1e-12, 1e-12));
  Var h = hessian(sum(x * x * x), x);  // diag(6 x)
  Tensor hv = Run1({x}, h, {Tensor(std::vector<double>{1, 2})});
  EXPECT_TRUE(AllClose(hv, {6, 0, 0, 12}, 1e-12, 1e-12));
}

}  // namespace
}  // namespace theta
