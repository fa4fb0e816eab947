// NaN and Inf inputs to softmax, log-softmax, cross-entropy and reductions
// give the results NumPy and PyTorch give (checked against PyTorch 2.x):
// a NaN anywhere in a row makes that row's softmax, log-softmax and
// cross-entropy NaN; +Inf beside finite values makes a softmax row NaN
// (Inf - Inf); -Inf entries get probability 0 (log-probability -Inf); a row
// of only -Inf is NaN. Reductions propagate NaN (sum, mean, max, min), and
// argmax/argmin return the index of the first NaN.
#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::Run1;
using testing::Values;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// Rows: a NaN, a +Inf, a -Inf, only -Inf, two +Inf.
Tensor NonFiniteRows() {
  return Tensor(std::vector<double>{1, kNan, 2,           //
                                    kInf, 0, 1,           //
                                    -kInf, 0, 1,          //
                                    -kInf, -kInf, -kInf,  //
                                    kInf, kInf, 0},
                {5, 3});
}

TEST(NonFiniteValuesTest, Softmax) {
  Var x = dmatrix("x");
  const double e = std::exp(1.0);
  EXPECT_TRUE(AllClose(Run1({x}, nnet::softmax(x), {NonFiniteRows()}),
                       {kNan, kNan, kNan,             //
                        kNan, kNan, kNan,             //
                        0, 1 / (1 + e), e / (1 + e),  //
                        kNan, kNan, kNan,             //
                        kNan, kNan, kNan},
                       1e-12, 1e-15));
}

TEST(NonFiniteValuesTest, LogSoftmax) {
  Var x = dmatrix("x");
  const double lse = std::log(1 + std::exp(1.0));
  EXPECT_TRUE(AllClose(Run1({x}, nnet::log_softmax(x), {NonFiniteRows()}),
                       {kNan, kNan, kNan,      //
                        kNan, kNan, kNan,      //
                        -kInf, -lse, 1 - lse,  //
                        kNan, kNan, kNan,      //
                        kNan, kNan, kNan},
                       1e-12, 1e-15));
}

// Cross-entropy in the fused form (softmax + crossentropy) and in a form the
// fusion does not take (clipped probabilities).
TEST(NonFiniteValuesTest, CrossEntropy) {
  Var x = dmatrix("x");
  Var y = ivector("y");
  Tensor labels(std::vector<int32_t>{0, 1, 1, 0, 2});
  const double lse = std::log(1 + std::exp(1.0));
  const std::vector<double> expected = {kNan, kNan, lse, kNan, kNan};
  EXPECT_TRUE(
      AllClose(Run1({x, y}, nnet::categorical_crossentropy(nnet::softmax(x), y),
                    {NonFiniteRows(), labels}),
               expected, 1e-12, 1e-15));
  Tensor mean_loss =
      Run1({x, y}, mean(nnet::categorical_crossentropy(nnet::softmax(x), y)),
           {NonFiniteRows(), labels});
  EXPECT_TRUE(std::isnan(mean_loss.GetAsDouble(0)));
}

TEST(NonFiniteValuesTest, ReductionsPropagateNan) {
  Var v = dvector("v");
  Tensor with_nan(std::vector<double>{1, kNan, 3, -2});
  for (const Var& reduced : {sum(v), mean(v), max(v), min(v), prod(v)}) {
    EXPECT_TRUE(std::isnan(Run1({v}, reduced, {with_nan}).GetAsDouble(0)))
        << reduced.name();
  }
  EXPECT_EQ(Run1({v}, argmax(v), {with_nan}).GetAsDouble(0), 1);
  EXPECT_EQ(Run1({v}, argmin(v), {with_nan}).GetAsDouble(0), 1);
}

TEST(NonFiniteValuesTest, ReductionsOfInfinities) {
  Var v = dvector("v");
  Tensor infinities(std::vector<double>{kInf, -kInf, 1});
  EXPECT_TRUE(std::isnan(Run1({v}, sum(v), {infinities}).GetAsDouble(0)));
  EXPECT_EQ(Run1({v}, max(v), {infinities}).GetAsDouble(0), kInf);
  EXPECT_EQ(Run1({v}, min(v), {infinities}).GetAsDouble(0), -kInf);
  EXPECT_EQ(Run1({v}, argmax(v), {infinities}).GetAsDouble(0), 0);
  EXPECT_EQ(Run1({v}, argmin(v), {infinities}).GetAsDouble(0), 1);
  EXPECT_EQ(Run1({v}, prod(v), {infinities}).GetAsDouble(0), -kInf);
}

// A NaN in one column of a row-wise max reaches only that row.
TEST(NonFiniteValuesTest, RowMaxKeepsNanInItsRow) {
  Var x = dmatrix("x");
  Tensor rows(std::vector<double>{1, kNan, 2, 3, 4, 5}, {2, 3});
  EXPECT_TRUE(AllClose(Run1({x}, max(x, {1}), {rows}), {kNan, 5}));
  EXPECT_TRUE(AllClose(Run1({x}, argmax(x, 1), {rows}), {1, 2}));
}

}  // namespace
}  // namespace theta
