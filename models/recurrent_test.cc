// Lstm, BidirectionalLstm and Gru: gradients (verify_grad on small sizes),
// masks, initial states, stacking, direction, and input errors.
#include <vector>

#include "autodiff/verify_grad.h"
#include "base/error.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/gru.h"
#include "models/lstm.h"
#include "ops/ops.h"

namespace theta::models {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kT = 4, kB = 2, kI = 3, kH = 2;

Tensor Random64(std::vector<int64_t> shape, uint64_t seed, double limit = 1) {
  Rng rng(seed);
  return Uniform(shape, limit, rng).astype(DType::kFloat64);
}

// Sample 0 has all 4 steps, sample 1 only the first 2.
Tensor Mask64() { return Tensor({1., 1., 1., 1., 1., 0., 1., 0.}, {kT, kB}); }

TEST(LstmTest, ForgetGateBiasStartsAtOne) {
  Rng rng(1);
  Lstm lstm(kI, 3, rng);
  EXPECT_EQ(lstm.b().get_value().to_vector<float>(),
            (std::vector<float>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(LstmTest, GradientsOfAllOutputsMatchCentralDifferences) {
  Rng rng(1);
  Lstm lstm(kI, kH, rng);
  std::vector<Tensor> values = {
      Random64({kT, kB, kI}, 1), Random64({kI, 4 * kH}, 2),
      Random64({kH, 4 * kH}, 3), Random64({4 * kH}, 4),
      Random64({kB, kH}, 5),     Random64({kB, kH}, 6)};
  VerifyGradResult r = verify_grad(
      [&](const std::vector<Var>& in) {
        RecurrentOutput o =
            lstm.Apply(in[0], in[1], in[2], in[3], {.h0 = in[4], .c0 = in[5]});
        return sum(o.sequence, {0}) + o.last + o.last_cell;
      },
      values);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(LstmTest, MaskedGradientMatchesCentralDifferences) {
  Rng rng(1);
  for (bool backwards : {false, true}) {
    Lstm lstm(kI, kH, rng, {.go_backwards = backwards});
    Tensor mask = Mask64();
    VerifyGradResult r = verify_grad(
        [&](const std::vector<Var>& in) {
          RecurrentOutput o =
              lstm.Apply(in[0], in[1], in[2], in[3], {.mask = constant(mask)});
          return o.last + o.last_cell;
        },
        {Random64({kT, kB, kI}, 1), Random64({kI, 4 * kH}, 2),
         Random64({kH, 4 * kH}, 3), Random64({4 * kH}, 4)});
    EXPECT_TRUE(r.ok) << (backwards ? "backwards: " : "") << r.message;
  }
}

// A masked step carries the state: sample 1's last state (2 valid steps of
// 4) equals the last state of the same layer run on its first 2 steps, and
// its sequence repeats that state over the masked steps.
TEST(LstmTest, MaskedStepsCarryTheStateThrough) {
  Rng rng(5);
  Lstm lstm(kI, kH, rng);
  Var x = ftensor3("x"), m = fmatrix("m");
  RecurrentOutput masked = lstm(x, {.mask = m});
  Function f = function({x, m}, {masked.last, masked.sequence});
  RecurrentOutput plain = lstm(x);
  Function g = function({x}, {plain.last});
  Tensor xs = Uniform({kT, kB, kI}, 1.0, rng);
  Tensor mask = Mask64().astype(DType::kFloat32);
  std::vector<Tensor> out = f({xs, mask});
  Tensor first_two(DType::kFloat32, {2, kB, kI});
  std::copy_n(xs.data<float>(), 2 * kB * kI, first_two.data<float>());
  Tensor short_last = g({first_two})[0];
  Tensor full_last = g({xs})[0];
  for (int64_t j = 0; j < kH; ++j) {
    EXPECT_NEAR(out[0].at<float>({1, j}), short_last.at<float>({1, j}), 1e-6);
    EXPECT_NEAR(out[0].at<float>({0, j}), full_last.at<float>({0, j}), 1e-6);
    EXPECT_EQ(out[1].at<float>({3, 1, j}), out[1].at<float>({1, 1, j}));
  }
}

// Two stacked layers, and a bidirectional layer whose backwards half reads
// the sequence reversed: its last state is a forwards layer's (same
// weights) last state on the reversed input.
TEST(LstmTest, StacksAndRunsBothDirections) {
  Rng rng(9);
  Lstm first(kI, 5, rng, {.name = "first"});
  Lstm second(5, kH, rng, {.name = "second"});
  BidirectionalLstm both(kI, kH, rng, "both");
  Lstm reader(kI, kH, rng, {.name = "reader"});
  for (int p = 0; p < 3; ++p) {
    reader.params()[p].set_value(both.backwards().params()[p].get_value());
  }
  Var x = ftensor3("x"), reversed = ftensor3("reversed");
  RecurrentOutput stacked = second(first(x).sequence);
  RecurrentOutput bi = both(x);
  Function f = function({x, reversed},
                        {stacked.sequence, bi.sequence, bi.last,
                         reader(reversed).last, reader(reversed).sequence});
  Tensor xs = Uniform({kT, kB, kI}, 1.0, rng);
  Tensor rev(DType::kFloat32, {kT, kB, kI});
  for (int64_t t = 0; t < kT; ++t) {
    std::copy_n(xs.data<float>() + (kT - 1 - t) * kB * kI, kB * kI,
                rev.data<float>() + t * kB * kI);
  }
  std::vector<Tensor> out = f({xs, rev});
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{kT, kB, kH}));
  EXPECT_EQ(out[1].shape(), (std::vector<int64_t>{kT, kB, 2 * kH}));
  for (int64_t b = 0; b < kB; ++b) {
    for (int64_t j = 0; j < kH; ++j) {
      EXPECT_NEAR(out[2].at<float>({b, kH + j}), out[3].at<float>({b, j}),
                  1e-6);
      // The backwards half of the sequence is in the input's time order:
      // at step 0 it holds the state after reading the whole sequence.
      EXPECT_NEAR(out[1].at<float>({0, b, kH + j}),
                  out[4].at<float>({kT - 1, b, j}), 1e-6);
    }
  }
}

TEST(LstmTest, WrongInputNamesTheLayerTheExpectedAndTheGivenShape) {
  Rng rng(1);
  Lstm lstm(28, 8, rng, {.name = "encoder"});
  try {
    lstm(tensor(DType::kFloat64, {kUnknownDim, kUnknownDim, 30}, "x"));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "lstm \"encoder\": input must be float32 (timesteps, "
                 "samples, features) = (?, ?, 28); given float64(?, ?, 30)");
  }
  EXPECT_THAT([&] { lstm(fmatrix("x")); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("lstm \"encoder\": input must be float32 "
                            "(timesteps, samples, features)")));
  EXPECT_THAT(
      [&] {
        lstm(ftensor3("x"), {.h0 = fmatrix("h0"), .mask = ftensor3("m")});
      },
      ::testing::ThrowsMessage<Error>(
          HasSubstr("lstm \"encoder\" mask: input must be float32 (timesteps, "
                    "samples) = (?, ?); given float32(?, ?, ?)")));
  EXPECT_THAT(
      [&] {
        lstm(ftensor3("x"), {.h0 = tensor(DType::kFloat32, {2, 9})});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr(
          "lstm \"encoder\" h0: input must be float32 (samples, hidden) = "
          "(?, 8); given float32(2, 9)")));
}

TEST(GruTest, GradientsMatchCentralDifferencesWithAndWithoutMask) {
  Rng rng(1);
  Gru gru(kI, kH, rng);
  std::vector<Tensor> values = {
      Random64({kT, kB, kI}, 1), Random64({kI, 3 * kH}, 2),
      Random64({kH, 3 * kH}, 3), Random64({3 * kH}, 4), Random64({kB, kH}, 5)};
  VerifyGradResult r = verify_grad(
      [&](const std::vector<Var>& in) {
        RecurrentOutput o =
            gru.Apply(in[0], in[1], in[2], in[3], {.h0 = in[4]});
        return sum(o.sequence, {0}) + o.last;
      },
      values);
  EXPECT_TRUE(r.ok) << r.message;
  Tensor mask = Mask64();
  values.pop_back();
  r = verify_grad(
      [&](const std::vector<Var>& in) {
        return gru.Apply(in[0], in[1], in[2], in[3], {.mask = constant(mask)})
            .last;
      },
      values);
  EXPECT_TRUE(r.ok) << r.message;
}

// One step by hand: h = (1 - z) n + z h0 with PyTorch's equations.
TEST(GruTest, OneStepFollowsPyTorchsEquations) {
  Rng rng(1);
  Gru gru(1, 1, rng);
  Var x = ftensor3("x"), h0 = fmatrix("h0");
  Var w = constant(Tensor({0.5f, -1.f, 2.f}, {1, 3}));
  Var u = constant(Tensor({1.f, 0.5f, -0.5f}, {1, 3}));
  Var b = constant(Tensor({0.1f, 0.2f, 0.3f}, {3}));
  Function f = function({x, h0}, {gru.Apply(x, w, u, b, {.h0 = h0}).last});
  const float xv = 0.8f, hv = -0.4f;
  Tensor h = f({Tensor({xv}, {1, 1, 1}), Tensor({hv}, {1, 1})})[0];
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double r = sig(0.5 * xv + 0.1 + 1.0 * hv);
  const double z = sig(-1.0 * xv + 0.2 + 0.5 * hv);
  const double n = std::tanh(2.0 * xv + 0.3 + r * (-0.5 * hv));
  EXPECT_NEAR(h.at<float>({0, 0}), (1 - z) * n + z * hv, 1e-6);
}

TEST(GruTest, CellStateIsAnError) {
  Rng rng(1);
  Gru gru(kI, kH, rng, {.name = "g"});
  EXPECT_THAT([&] { gru(ftensor3("x"), {.c0 = fmatrix("c0")}); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("gru \"g\": a GRU has no cell state; c0 given")));
}

}  // namespace
}  // namespace theta::models
