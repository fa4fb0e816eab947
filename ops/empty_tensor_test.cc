// 0-size tensors through every op family give NumPy's results: empty in,
// empty (or the reduction's identity) out, never a crash or a read of
// uninitialised memory. Reductions with no identity (max, min, argmax,
// argmin) raise an error naming the op.
#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::Run1;

Tensor Empty(std::vector<int64_t> shape) {
  return Tensor(DType::kFloat64, std::span<const int64_t>(shape));
}

TEST(EmptyTensorTest, ElementwiseKeepsTheEmptyShape) {
  Var x = dmatrix("x");
  Tensor out = Run1({x}, tanh(x * 2.0 + 1.0) / (exp(x) + 1.0), {Empty({0, 3})});
  EXPECT_EQ(out.dims(), Dims({0, 3}));
  Var b = dvector("b");
  Tensor broadcast =
      Run1({x, b}, x + dimshuffle(b, {kNewAxis, 0}),
           {Empty({0, 3}), Tensor(std::vector<double>{1, 2, 3})});
  EXPECT_EQ(broadcast.dims(), Dims({0, 3}));
}

TEST(EmptyTensorTest, ReductionsWithAnIdentity) {
  Var x = dmatrix("x");
  EXPECT_TRUE(AllClose(Run1({x}, sum(x, {0}), {Empty({0, 3})}), {0, 0, 0}));
  EXPECT_TRUE(AllClose(Run1({x}, prod(x, {0}), {Empty({0, 3})}), {1, 1, 1}));
  EXPECT_EQ(Run1({x}, sum(x, {1}), {Empty({0, 3})}).dims(), Dims({0}));
  EXPECT_EQ(Run1({x}, sum(x), {Empty({0, 3})}).GetAsDouble(0), 0);
  // NumPy: the mean of nothing is NaN (0 / 0).
  EXPECT_TRUE(std::isnan(Run1({x}, mean(x), {Empty({0, 3})}).GetAsDouble(0)));
}

TEST(EmptyTensorTest, ReductionsWithoutAnIdentityRaise) {
  Var x = dmatrix("x");
  EXPECT_THAT(ErrorOf([&] {
                Run1({x}, max(x), {Empty({0, 3})});
              }),
              HasSubstr("max"));
  EXPECT_THAT(ErrorOf([&] {
                Run1({x}, min(x, {0}), {Empty({0, 3})});
              }),
              HasSubstr("min"));
  EXPECT_THAT(ErrorOf([&] {
                Run1({x}, argmax(x, 0), {Empty({0, 3})});
              }),
              HasSubstr("argmax"));
  // Over the axis that is not empty there is nothing to reduce per row.
  EXPECT_EQ(Run1({x}, max(x, {1}), {Empty({0, 3})}).dims(), Dims({0}));
}

// A product over an empty inner dimension is all zeros, even where the
// output's memory held something else before (beta = 0 must not multiply).
TEST(EmptyTensorTest, DotOverAnEmptyInnerDimensionIsZero) {
  Var a = dmatrix("a");
  Var b = dmatrix("b");
  Var c = dmatrix("c");
  // c * 0 + nan: the output buffer of the first product is reused garbage
  // unless the product writes every element.
  std::vector<Tensor> out =
      testing::Run({a, b, c}, {dot(a, b), dot(a, b) + c},
                   {Empty({2, 0}), Empty({0, 3}),
                    Tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3})});
  EXPECT_TRUE(AllClose(out[0], {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(AllClose(out[1], {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Run1({a, b}, dot(a, b), {Empty({0, 4}), Empty({4, 3})}).dims(),
            Dims({0, 3}));
}

TEST(EmptyTensorTest, SoftmaxAndCrossEntropyOfNoRows) {
  Var x = dmatrix("x");
  Var y = ivector("y");
  EXPECT_EQ(Run1({x}, nnet::softmax(x), {Empty({0, 5})}).dims(), Dims({0, 5}));
  EXPECT_EQ(Run1({x}, nnet::log_softmax(x), {Empty({0, 5})}).dims(),
            Dims({0, 5}));
  Tensor no_labels(DType::kInt32, {0});
  EXPECT_EQ(Run1({x, y}, nnet::categorical_crossentropy(nnet::softmax(x), y),
                 {Empty({0, 5}), no_labels})
                .dims(),
            Dims({0}));
}

TEST(EmptyTensorTest, ShapeOps) {
  Var x = dmatrix("x");
  Var y = dmatrix("y");
  EXPECT_EQ(Run1({x}, reshape(x, {3, 0}), {Empty({0, 3})}).dims(),
            Dims({3, 0}));
  EXPECT_EQ(Run1({x}, transpose(x), {Empty({0, 3})}).dims(), Dims({3, 0}));
  EXPECT_EQ(Run1({x}, flatten(x), {Empty({0, 3})}).dims(), Dims({0}));
  Tensor joined =
      Run1({x, y}, concatenate({x, y}, 0),
           {Empty({0, 2}), Tensor(std::vector<double>{1, 2}, {1, 2})});
  EXPECT_TRUE(AllClose(joined, {1, 2}));
  EXPECT_EQ(joined.dims(), Dims({1, 2}));
}

TEST(EmptyTensorTest, IndexingEmptyRangesAndTakingNothing) {
  Var x = dmatrix("x");
  Tensor rows(std::vector<double>{1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(Run1({x}, x(range(1, 1)), {rows}).dims(), Dims({0, 2}));
  EXPECT_EQ(Run1({x}, x(range(0, 2), range(2, 2)), {rows}).dims(),
            Dims({2, 0}));
  Var idx = lvector("idx");
  EXPECT_EQ(
      Run1({x, idx}, take(x, idx), {rows, Tensor(DType::kInt64, {0})}).dims(),
      Dims({0, 2}));
  Tensor updated = Run1({x}, inc_subtensor(x(range(0, 0)), 1.0), {rows});
  EXPECT_TRUE(AllClose(updated, {1, 2, 3, 4}));
}

}  // namespace
}  // namespace theta
