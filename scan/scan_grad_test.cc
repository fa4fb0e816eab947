// Gradients through scan, checked numerically (verify_grad) and against
// closed forms.
#include <cmath>
#include <vector>

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

// The backward loop reads the states themselves (the product's gradient is
// the other factor), so it must read the initial value's first m rows, as
// the forward loop does: with the last m rows it computed a wrong gradient
// (before this test) whenever the initial value had more rows than m.
TEST(ScanGradTest, StatesReadFromAnInitialValueLongerThanItsTaps) {
  VerifyGradResult r = verify_grad(
      [](const Args& x) {
        // y_t = y_{t-2} * y_{t-1} + x_t
        return scan(
                   [](const Args& in) {
                     return StepResult{{in[1] * in[2] + in[0]}};
                   },
                   {.sequences = {x[0]},
                    .outputs_info = {OutputInfo(x[1], {-2, -1})}})
            .outputs[0];
      },
      {R({4, 2}, 6), R({3, 2}, 7)});  // 3 rows: only the first 2 are read
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

// h_t = tanh(h_{t-1} W + x_t) over N = 5 steps, gradient of sum(h_N)
// truncated to the last 2 steps: dW sums h_{t-1}^T dz_t over those steps
// only (the backward loop reads h_{t-1} from the forward's rows, offset by
// the steps it skips). The expected values come from a plain loop.
TEST(ScanGradTest, TruncatedGradientOfRecurrentWeightsCoversTheLastSteps) {
  constexpr int kSteps = 5, kBatch = 2, kHidden = 3, kTruncate = 2;
  Var x = dtensor3("x");
  Var h0 = dmatrix("h0");
  Var w = dmatrix("w");
  ScanResult r = scan(
      [](const Args& in) {
        return StepResult{{tanh(dot(in[1], in[2]) + in[0])}};
      },
      {.sequences = {x},
       .outputs_info = {h0},
       .non_sequences = {w},
       .truncate_gradient = kTruncate});
  Var dw = grad(sum(index(r.outputs[0], -1)), w);
  const Tensor xv = R({kSteps, kBatch, kHidden}, 21);
  const Tensor h0v = R({kBatch, kHidden}, 22);
  const Tensor wv = R({kHidden, kHidden}, 23);
  Tensor got = Run1({x, h0, w}, dw, {xv, h0v, wv});

  // Forward: h[t + 1] = tanh(h[t] W + x[t]).
  std::vector<std::vector<double>> h(kSteps + 1,
                                     std::vector<double>(kBatch * kHidden));
  for (int i = 0; i < kBatch * kHidden; ++i) h[0][i] = h0v.GetAsDouble(i);
  auto at = [](int b, int j) { return b * kHidden + j; };
  for (int t = 0; t < kSteps; ++t) {
    for (int b = 0; b < kBatch; ++b) {
      for (int j = 0; j < kHidden; ++j) {
        double z = xv.GetAsDouble((t * kBatch + b) * kHidden + j);
        for (int k = 0; k < kHidden; ++k) {
          z += h[t][at(b, k)] * wv.GetAsDouble(k * kHidden + j);
        }
        h[t + 1][at(b, j)] = std::tanh(z);
      }
    }
  }
  // Backward over the last kTruncate steps only.
  std::vector<double> expected(kHidden * kHidden, 0.0);
  std::vector<double> dh(kBatch * kHidden, 1.0);  // d sum(h_N) / d h_N
  for (int t = kSteps - 1; t >= kSteps - kTruncate; --t) {
    std::vector<double> dz(kBatch * kHidden);
    for (int i = 0; i < kBatch * kHidden; ++i) {
      dz[i] = dh[i] * (1 - h[t + 1][i] * h[t + 1][i]);
    }
    for (int k = 0; k < kHidden; ++k) {
      for (int j = 0; j < kHidden; ++j) {
        for (int b = 0; b < kBatch; ++b) {
          expected[k * kHidden + j] += h[t][at(b, k)] * dz[at(b, j)];
        }
      }
    }
    for (int b = 0; b < kBatch; ++b) {
      for (int k = 0; k < kHidden; ++k) {
        double sum = 0;
        for (int j = 0; j < kHidden; ++j) {
          sum += dz[at(b, j)] * wv.GetAsDouble(k * kHidden + j);
        }
        dh[at(b, k)] = sum;
      }
    }
  }
  EXPECT_TRUE(AllClose(got, expected, 1e-10, 1e-12));
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
