// Each rewrite is shown to fire (the compiled graph is inspected) and to
// leave results unchanged (compared with the same function compiled without
// rewrites).
#include "compile/debugprint.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "graph/function_graph.h"
#include "gtest/gtest.h"
#include "ops/elementwise_op.h"
#include "ops/linalg_ops.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::CountOps;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Random;
using testing::Values;

bool Applied(const Function& f, const std::string& rewrite) {
  return testing::TimesApplied(f, rewrite) > 0;
}

TEST(RewriteTest, ConstantFolding) {
  Var x = dvector("x");
  Var c = exp(constant(1.0, DType::kFloat64)) * 2.0;
  Function f = function({x}, {x + c});
  EXPECT_TRUE(Applied(f, "constant_folding"));
  EXPECT_EQ(CountOps(f, "exp"), 0) << debugprint(f);
  testing::ExpectSameAsUnrewritten({x}, {x + c},
                                   {Tensor(std::vector<double>{1, 2})});
}

TEST(RewriteTest, MergeEqualSubgraphs) {
  Var x = dvector("x");
  Var a = exp(x) * 3.0;
  Var b = exp(x) * 3.0;  // built twice
  Function f = function({x}, {a + b}, {.excluded_rewrites = {"fusion"}});
  EXPECT_TRUE(Applied(f, "merge"));
  EXPECT_EQ(CountOps(f, "Elemwise{exp}"), 1) << debugprint(f);
  testing::ExpectSameAsUnrewritten({x}, {a + b},
                                   {Tensor(std::vector<double>{0.5, -1})});
}

TEST(RewriteTest, CanonicalizeRemovesIdentities) {
  Var x = dvector("x");
  Var y = -(-((x * 1.0) + 0.0));
  Function f = function({x}, {y});
  EXPECT_EQ(f.graph().TopologicalOrder().size(), 0u) << debugprint(f);
  EXPECT_TRUE(AllClose(f({Tensor(std::vector<double>{3, 4})})[0], {3, 4}));
}

TEST(RewriteTest, LogOfSoftmaxBecomesLogSoftmax) {
  Var x = dmatrix("x");
  Var y = log(nnet::softmax(x));
  Function f = function({x}, {y});
  EXPECT_TRUE(Applied(f, "log_softmax"));
  EXPECT_EQ(CountOps(f, "LogSoftmax"), 1) << debugprint(f);
  Tensor xv(std::vector<double>{0, 800, -800, 1}, {2, 2});
  Tensor out = f({xv})[0];
  // Without the rewrite log(0) = -inf; with it, exact.
  EXPECT_TRUE(AllClose(out, {-800, 0, -801, 0}, 1e-12, 1e-12));
}

TEST(RewriteTest, LogSigmoidBecomesSoftplus) {
  Var x = dvector("x");
  Var y = log(sigmoid(x)) + log(1.0 - sigmoid(x));
  Function f = function({x}, {y});
  EXPECT_TRUE(Applied(f, "log_sigmoid"));
  Tensor out = f({Tensor(std::vector<double>{-800, 800})})[0];
  EXPECT_TRUE(AllClose(out, {-800, -800}, 1e-9, 1e-9));
}

TEST(RewriteTest, DotPlusBiasBecomesOneGemm) {
  Var x = dmatrix("x");
  Var w = dmatrix("w");
  Var b = dvector("b");
  Var y = dot(x, w) * 2.0 + b;
  Function f = function({x, w, b}, {y}, {.excluded_rewrites = {"fusion"}});
  EXPECT_TRUE(Applied(f, "gemm"));
  EXPECT_EQ(CountOps(f, "Gemm{alpha=2,beta=1}"), 1) << debugprint(f);
  EXPECT_EQ(CountOps(f, "Elemwise"), 0) << debugprint(f);
  testing::ExpectSameAsUnrewritten(
      {x, w, b}, {y},
      {Random(DType::kFloat64, {3, 4}, 1), Random(DType::kFloat64, {4, 5}, 2),
       Random(DType::kFloat64, {5}, 3)});
}

TEST(RewriteTest, SumOfProductsAccumulatesIntoOneGemm) {
  Var a = dmatrix("a");
  Var b = dmatrix("b");
  Var y = dot(a, b) + dot(b, a);
  Function f = function({a, b}, {y});
  EXPECT_EQ(CountOps(f, "Gemm"), 1) << debugprint(f);
  EXPECT_EQ(CountOps(f, "Dot"), 1) << debugprint(f);
  testing::ExpectSameAsUnrewritten(
      {a, b}, {y},
      {Random(DType::kFloat64, {3, 3}, 1), Random(DType::kFloat64, {3, 3}, 2)});
}

// The gradient of a matrix through four column slices (the gates of an
// LSTM) is a sum of four increments of zeros; the increments go into one
// buffer instead, one after another.
TEST(RewriteTest, SumOfIncrementsOfZerosBecomesOneChainOfIncrements) {
  Var x = dmatrix("x");
  Var d = dmatrix("d");  // (rows, 2), one slice's gradient
  Var z = zeros_like(x);
  Var y = inc_subtensor(slice(z, {Slice::All(), Slice(0, 2)}), d) +
          inc_subtensor(slice(z, {Slice::All(), Slice(2, 4)}), exp(d)) +
          set_subtensor(slice(z, {Slice::All(), Slice(4, 6)}), d * 2.0) +
          inc_subtensor(slice(z, {Slice::All(), Slice(6, 8)}), -d);
  // (place_in_zeros would turn the first increment into a PlaceInZeros.)
  Function f = function({x, d}, {y}, {.excluded_rewrites = {"place_in_zeros"}});
  EXPECT_TRUE(Applied(f, "add_of_increments"));
  EXPECT_EQ(CountOps(f, "Alloc"), 1) << debugprint(f);
  EXPECT_EQ(CountOps(f, "IncSubtensor"), 4) << debugprint(f);
  EXPECT_EQ(CountOps(f, "Elemwise{add}"), 0) << debugprint(f);
  EXPECT_EQ(CountOps(f, "Composite{add"), 0) << debugprint(f);
  testing::ExpectSameAsUnrewritten(
      {x, d}, {y},
      {Random(DType::kFloat64, {3, 8}, 1), Random(DType::kFloat64, {3, 2}, 2)});
}

// Zeros of different shapes (here, of x and of the broadcast y) are not
// merged: the addition must keep its shape check.
TEST(RewriteTest, IncrementsOfZerosOfOtherShapesAreStillAdded) {
  Var x = dmatrix("x");
  Var w = dmatrix("w");
  Var d = dmatrix("d");
  Var y = inc_subtensor(slice(zeros_like(x), {Slice::All(), Slice(0, 2)}), d) +
          inc_subtensor(slice(zeros_like(w), {Slice::All(), Slice(0, 2)}), d);
  Function f = function({x, w, d}, {y});
  EXPECT_FALSE(Applied(f, "add_of_increments"));
  EXPECT_THROW(
      f({Random(DType::kFloat64, {3, 4}, 1), Random(DType::kFloat64, {3, 5}, 2),
         Random(DType::kFloat64, {3, 2}, 3)}),
      Error);
}

// inc_subtensor and set_subtensor into zeros: no zeros are computed first.
TEST(RewriteTest, IncrementOfZerosIsPlacedWithoutComputingTheZeros) {
  Var x = dmatrix("x");
  Var d = dmatrix("d");  // (2, cols)
  Var row = dvector("row");
  Var k = lscalar("k");
  Var z = zeros_like(x);
  std::vector<Var> outputs = {
      inc_subtensor(slice(z, {Slice(1, 3)}), d),
      set_subtensor(slice(z, {Slice(k, k + 2)}), d * 2.0),
      inc_subtensor(slice(z, {Slice::All(), Slice::Index(1)}), row),
      // d[0] broadcast over rows 3 and 1.
      inc_subtensor(slice(z, {Slice(kNone, kNone, -2)}),
                    slice(d, {Slice::Index(0)}))};
  Function f = function({x, d, row, k}, outputs);
  EXPECT_TRUE(Applied(f, "place_in_zeros"));
  EXPECT_EQ(CountOps(f, "Alloc"), 0) << debugprint(f);
  EXPECT_EQ(CountOps(f, "PlaceInZeros"), 4) << debugprint(f);
  testing::ExpectSameAsUnrewritten(
      {x, d, row, k}, outputs,
      {Random(DType::kFloat64, {4, 3}, 1), Random(DType::kFloat64, {2, 3}, 2),
       Random(DType::kFloat64, {4}, 3), Tensor::Scalar<int64_t>(2)});
}

// A value covering the whole result (here through bounds known only when
// the function runs, as a loop gradient's are) is the result: no kernel
// writes zeros or copies it.
TEST(RewriteTest, IncrementCoveringAllOfTheZerosIsAView) {
  Var x = dmatrix("x");
  Var n = shape_i(x, 0);
  Var y = inc_subtensor(slice(zeros_like(x), {Slice(n - n, n)}), x * 3.0);
  Function f = function({x}, {y * 2.0}, {.excluded_rewrites = {"fusion"}});
  f({Random(DType::kFloat64, {4, 3}, 1)});
  EXPECT_THAT(f.DescribePlan(), Not(HasSubstr("PlaceInZeros")))
      << f.DescribePlan();
  EXPECT_EQ(f.stats().kernel_launches, 2) << f.DescribePlan();
  testing::ExpectSameAsUnrewritten({x}, {y * 2.0},
                                   {Random(DType::kFloat64, {4, 3}, 2)});
}

// The gradient through slices of one tensor, as an LSTM's gates: increments
// of a placement into zeros become one placement of every part. Parts that
// cover the result, parts that leave a gap (which stays zero), parts that
// overlap (which add), and parts with run-time bounds, an integer index and
// a negative step all give what the increments give.
TEST(RewriteTest, IncrementsOfAPlacementMergeIntoOnePlacement) {
  Var x = dmatrix("x");  // (rows, cols): the shape of the zeros
  Var a = dmatrix("a");  // (rows, 2)
  Var k = lscalar("k");
  Var row = dvector("row");  // (cols)
  auto placed = [&](std::vector<std::vector<Slice>> parts,
                    std::vector<Var> values) {
    Var y = zeros_like(x);
    for (size_t p = 0; p < parts.size(); ++p) {
      y = p == 0 ? set_subtensor(slice(y, parts[p]), values[p])
                 : inc_subtensor(slice(y, parts[p]), values[p]);
    }
    return y;
  };
  const Slice all = Slice::All();
  std::vector<Var> outputs = {
      // Columns 0:2, 4:6, 2:4 of 6: they cover the result.
      placed({{all, Slice(0, 2)}, {all, Slice(4, 6)}, {all, Slice(2, 4)}},
             {a, a * 2.0, a * 3.0}),
      // (Each output's first value differs: shared placements would be read
      // twice and are not merged.)
      // Columns 0:2 and 3:5 of 6: columns 2 and 5 stay zero.
      placed({{all, Slice(0, 2)}, {all, Slice(3, 5)}}, {a * 7.0, a * 2.0}),
      // Columns 0:2 and 1:3 overlap: column 1 holds the sum.
      placed({{all, Slice(0, 2)}, {all, Slice(1, 3)}}, {a * 11.0, a * 2.0}),
      // Bounds known when the function runs, a row, reversed columns.
      placed({{all, Slice(k, k + 2)},
              {Slice::Index(1)},
              {all, Slice(kNone, kNone, -3)}},
             {a, row, a * 5.0})};
  Function f = function({x, a, k, row}, outputs);
  EXPECT_TRUE(Applied(f, "merge_placements"));
  EXPECT_EQ(CountOps(f, "IncSubtensor"), 0) << debugprint(f);
  EXPECT_EQ(CountOps(f, "PlaceInZeros"), 4) << debugprint(f);
  EXPECT_EQ(CountOps(f, " | "), 4) << debugprint(f);  // every one merged
  testing::ExpectSameAsUnrewritten(
      {x, a, k, row}, outputs,
      {Random(DType::kFloat64, {3, 6}, 1), Random(DType::kFloat64, {3, 2}, 2),
       Tensor::Scalar<int64_t>(3), Random(DType::kFloat64, {6}, 3)});
}

// A placement that something else also reads stays as it is: the increment
// must not change the value that reader sees.
TEST(RewriteTest, PlacementReadElsewhereIsNotMerged) {
  Var x = dmatrix("x");
  Var a = dmatrix("a");
  Var first =
      set_subtensor(slice(zeros_like(x), {Slice::All(), Slice(0, 2)}), a);
  Var second = inc_subtensor(slice(first, {Slice::All(), Slice(2, 4)}), a);
  Function f = function({x, a}, {first, second});
  EXPECT_FALSE(Applied(f, "merge_placements"));
  EXPECT_EQ(CountOps(f, "IncSubtensor"), 1) << debugprint(f);
  testing::ExpectSameAsUnrewritten(
      {x, a}, {first, second},
      {Random(DType::kFloat64, {3, 4}, 1), Random(DType::kFloat64, {3, 2}, 2)});
}

// The same error with the rewrite (PlaceInZeros) and without (IncSubtensor).
TEST(RewriteTest, PlacedValueThatDoesNotFitIsAnError) {
  Var x = dmatrix("x");
  Var d = dmatrix("d");
  Var y = inc_subtensor(slice(zeros_like(x), {Slice(1, 3)}), d);
  for (bool rewrite : {true, false}) {
    FunctionOptions options;
    if (!rewrite) options.excluded_rewrites = {"place_in_zeros"};
    Function f = function({x, d}, {y}, options);
    EXPECT_EQ(CountOps(f, "PlaceInZeros"), rewrite ? 1 : 0) << debugprint(f);
    EXPECT_THAT(testing::ErrorOf([&] {
                  f({Random(DType::kFloat64, {4, 3}, 1),
                     Random(DType::kFloat64, {2, 5}, 2)});
                }),
                HasSubstr("value of shape (2, 5) does not fit the part of "
                          "shape (2, 3)"));
  }
}

// Zeros of a negative size: the same error with the rewrite and without.
TEST(RewriteTest, PlacedIntoZerosOfNegativeSizeIsAnError) {
  Var n = lscalar("n");
  Var d = dvector("d");
  Var y =
      inc_subtensor(slice(zeros({n, 3}, DType::kFloat64), {Slice(0, 1)}), d);
  for (bool rewrite : {true, false}) {
    FunctionOptions options;
    if (!rewrite) options.excluded_rewrites = {"place_in_zeros"};
    Function f = function({n, d}, {y}, options);
    EXPECT_EQ(CountOps(f, "PlaceInZeros"), rewrite ? 1 : 0) << debugprint(f);
    EXPECT_THAT(
        testing::ErrorOf([&] {
          f({Tensor::Scalar<int64_t>(-2), Random(DType::kFloat64, {3}, 1)});
        }),
        HasSubstr("negative size -2 for dimension 0"));
  }
}

TEST(RewriteTest, ElementwiseChainIsFusedIntoOneKernel) {
  Var x = dmatrix("x");
  Var y = dmatrix("y");
  Var z = tanh(x * y + 1.0) * sigmoid(y) - exp(-x);
  Function f = function({x, y}, {z});
  EXPECT_TRUE(Applied(f, "fusion"));
  EXPECT_EQ(CountOps(f, "Elemwise"), 1) << debugprint(f);
  f({Random(DType::kFloat64, {4, 4}, 1), Random(DType::kFloat64, {4, 4}, 2)});
  EXPECT_EQ(f.stats().kernel_launches, 1) << f.DescribePlan();
  testing::ExpectSameAsUnrewritten(
      {x, y}, {z},
      {Random(DType::kFloat64, {4, 4}, 1), Random(DType::kFloat64, {4, 4}, 2)});
}

TEST(RewriteTest, FusionKeepsValuesUsedElsewhereAsExtraOutputs) {
  Var x = dmatrix("x");
  Var s = sigmoid(x);
  Var a = s * 2.0;
  Var total = sum(s);  // s is also read by a reduction
  Function f = function({x}, {a, total});
  EXPECT_EQ(CountOps(f, "Elemwise"), 1) << debugprint(f);
  testing::ExpectSameAsUnrewritten({x}, {a, total},
                                   {Random(DType::kFloat64, {3, 3}, 4)});
}

// A value that several elementwise nodes read, each result going on to an
// op that is not elementwise (an LSTM's backward step: the hidden state's
// gradient feeds every gate's gradient, and those are placed side by side):
// the value and all its readers become one kernel, whose outputs are the
// readers' results.
TEST(RewriteTest, FusionTakesInAllReadersOfASharedValue) {
  Var x = dmatrix("x");
  Var y = dmatrix("y");
  Var s = dmatrix("s");
  Var shared = x * y + 1.0;
  Var first = shared * s;
  Var second = (1.0 - s) * (shared * y);  // a reader of a reader
  Var third = tanh(shared) * 2.0;
  std::vector<Var> outputs = {concatenate({first, second}, 1), third * s};
  Function f = function({x, y, s}, outputs);
  EXPECT_EQ(CountOps(f, "Elemwise"), 1) << debugprint(f);
  testing::ExpectSameAsUnrewritten(
      {x, y, s}, outputs,
      {Random(DType::kFloat64, {3, 4}, 1), Random(DType::kFloat64, {3, 4}, 2),
       Random(DType::kFloat64, {3, 4}, 3)});
}

// A reader that needs a value computed from the group's own result cannot
// join it (it would feed itself): the readers stay separate kernels.
TEST(RewriteTest, FusionLeavesOutReadersThatDependOnTheGroupElsewhere) {
  Var x = dmatrix("x");
  Var shared = exp(x);
  Var total = sum(shared * 2.0, {1}, /*keepdims=*/true);  // not elementwise
  Var normalised = shared / total;  // reads shared and, through total, it too
  Var last = shared * 3.0 + normalised;
  Function f = function({x}, {last});
  testing::ExpectSameAsUnrewritten({x}, {last},
                                   {Random(DType::kFloat64, {3, 4}, 4)});
}

TEST(RewriteTest, FusionDoesNotRecomputeBroadcastValues) {
  // exp(b) is a row; fusing it into the matrix loop would compute it per row.
  Var x = dmatrix("x");
  Var b = drow("b");
  Var y = x * exp(b);
  Function f = function({x, b}, {y});
  EXPECT_EQ(CountOps(f, "Elemwise{exp}"), 1) << debugprint(f);
  testing::ExpectSameAsUnrewritten(
      {x, b}, {y},
      {Random(DType::kFloat64, {3, 4}, 1), Random(DType::kFloat64, {1, 4}, 2)});
}

TEST(RewriteTest, InPlaceOverDeadIntermediates) {
  Var x = dmatrix("x");
  // softmax may overwrite exp's buffer (the product keeps both in the
  // arena: an output itself would be computed in the caller's tensor).
  Var y = dot(nnet::softmax(exp(x)), transpose(x));
  Function f = function({x}, {y});
  f({Random(DType::kFloat64, {3, 4}, 1)});
  EXPECT_GE(f.stats().inplace_outputs, 1) << f.DescribePlan();
  EXPECT_THAT(f.DescribePlan(), HasSubstr("[in place]"));
}

}  // namespace
}  // namespace theta
