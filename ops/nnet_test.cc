#include "ops/nnet.h"

#include <cmath>

#include "compile/debugprint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::Random;
using testing::Run1;

std::vector<double> SoftmaxRows(const Tensor& x, bool log) {
  const int64_t rows = x.dims()[0], cols = x.dims()[1];
  std::vector<double> out(rows * cols);
  for (int64_t i = 0; i < rows; ++i) {
    double m = -1e300;
    for (int64_t j = 0; j < cols; ++j)
      m = std::max(m, x.GetAsDouble(i * cols + j));
    double s = 0;
    for (int64_t j = 0; j < cols; ++j)
      s += std::exp(x.GetAsDouble(i * cols + j) - m);
    for (int64_t j = 0; j < cols; ++j) {
      const double v = x.GetAsDouble(i * cols + j) - m;
      out[i * cols + j] = log ? v - std::log(s) : std::exp(v) / s;
    }
  }
  return out;
}

// Theano's nnet.softmax example: a random 20x16 matrix; every row sums to 1.
TEST(NnetTest, SoftmaxOfRandom20x16RowsSumToOne) {
  Var x = dmatrix("x");
  Tensor xv = Random(DType::kFloat64, {20, 16}, 2024, -5, 5);
  Tensor p = Run1({x}, nnet::softmax(x), {xv});
  EXPECT_EQ(p.dims(), Dims({20, 16}));
  for (int64_t i = 0; i < 20; ++i) {
    double s = 0;
    for (int64_t j = 0; j < 16; ++j) s += p.GetAsDouble(i * 16 + j);
    EXPECT_NEAR(s, 1.0, 1e-12) << "row " << i;
  }
  EXPECT_TRUE(AllClose(p, SoftmaxRows(xv, false), 1e-12, 1e-15));
}

TEST(NnetTest, SoftmaxIsStableForLargeInputs) {
  Var x = fmatrix("x");
  Tensor xv(std::vector<float>{1000, 1001, 1002, -1000, -1001, -1002}, {2, 3});
  Tensor p = Run1({x}, nnet::softmax(x), {xv});
  EXPECT_TRUE(AllClose(p, SoftmaxRows(xv, false), 1e-5, 1e-7));
  Tensor lp = Run1({x}, nnet::log_softmax(x), {xv});
  EXPECT_TRUE(AllClose(lp, SoftmaxRows(xv, true), 1e-5, 1e-5));
}

TEST(NnetTest, SoftmaxOfAVectorIsOverItsOnlyAxis) {
  Var v = dvector("v");
  Tensor p =
      Run1({v}, nnet::softmax(v), {Tensor(std::vector<double>{1, 2, 3})});
  const double s = std::exp(1) + std::exp(2) + std::exp(3);
  EXPECT_TRUE(AllClose(p, {std::exp(1) / s, std::exp(2) / s, std::exp(3) / s}));
}

TEST(NnetTest, CrossentropyWithLabelsAndOneHotTargets) {
  Var x = dmatrix("x");
  Var y = ivector("y");
  Var t = dmatrix("t");
  Tensor xv = Random(DType::kFloat64, {4, 5}, 3, -3, 3);
  Tensor yv(std::vector<int32_t>{1, 4, 0, 2});
  Tensor tv(DType::kFloat64, {4, 5});
  for (int i = 0; i < 4; ++i)
    tv.data<double>()[i * 5 + yv.data<int32_t>()[i]] = 1;
  std::vector<double> ls = SoftmaxRows(xv, true);
  std::vector<double> expected;
  for (int i = 0; i < 4; ++i)
    expected.push_back(-ls[i * 5 + yv.data<int32_t>()[i]]);
  Var p = nnet::softmax(x);
  EXPECT_TRUE(
      AllClose(Run1({x, y}, nnet::categorical_crossentropy(p, y), {xv, yv}),
               expected, 1e-12, 1e-12));
  EXPECT_TRUE(
      AllClose(Run1({x, t}, nnet::categorical_crossentropy(p, t), {xv, tv}),
               expected, 1e-12, 1e-12));
  // On probabilities that are not a softmax's output: -log p[label].
  Var q = dmatrix("q");
  Tensor qv(std::vector<double>{0.25, 0.75, 0.5, 0.5}, {2, 2});
  EXPECT_TRUE(AllClose(Run1({q, y}, nnet::categorical_crossentropy(q, y),
                            {qv, Tensor(std::vector<int32_t>{1, 0})}),
                       {-std::log(0.75), -std::log(0.5)}, 1e-12, 1e-12));
}

TEST(NnetTest, CrossentropyOfSoftmaxIsOneFusedStableOp) {
  Var x = fmatrix("x");
  Var y = ivector("y");
  Var loss = nnet::categorical_crossentropy(nnet::softmax(x), y);
  EXPECT_THAT(debugprint(loss), HasSubstr("CrossentropySoftmax1Hot"));
  // Scores so large that softmax underflows to 0 for the true class.
  Tensor xv(std::vector<float>{0, 200}, {1, 2});
  Tensor out = Run1({x, y}, loss, {xv, Tensor(std::vector<int32_t>{0})});
  EXPECT_NEAR(out.GetAsDouble(0), 200.0, 1e-3);
}

TEST(NnetTest, CrossentropyLabelOutOfRangeIsAnError) {
  Var x = dmatrix("x");
  Var y = ivector("y");
  Function f =
      function({x, y}, {nnet::categorical_crossentropy(nnet::softmax(x), y)});
  std::string message = ErrorOf([&] {
    f({Tensor(DType::kFloat64, {2, 3}), Tensor(std::vector<int32_t>{0, 3})});
  });
  EXPECT_THAT(message, HasSubstr("categorical_crossentropy: label 3 at row 1 "
                                 "is out of range [0, 3)"));
}

TEST(NnetTest, BinaryCrossentropy) {
  Var p = dvector("p");
  Var t = dvector("t");
  Tensor out = Run1({p, t}, nnet::binary_crossentropy(p, t),
                    {Tensor(std::vector<double>{0.9, 0.2}),
                     Tensor(std::vector<double>{1, 0})});
  EXPECT_TRUE(AllClose(out, {-std::log(0.9), -std::log(0.8)}, 1e-12, 1e-12));
}

}  // namespace
}  // namespace theta
