// lift_subtensor: a part of an elementwise result is computed from the
// parts of its inputs. Each case checks whether the rewrite fired and that
// results match the function compiled without rewrites.
#include "compile/debugprint.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::CountOps;
using testing::ErrorOf;
using testing::ExpectSameAsUnrewritten;
using ::testing::HasSubstr;
using testing::Random;

int Lifts(const Function& f) {
  return testing::TimesApplied(f, "lift_subtensor");
}

bool Lifted(const Function& f) { return Lifts(f) > 0; }

TEST(SubtensorLiftTest, SliceOfAnElementwiseResultSlicesItsInputs) {
  Var x = dmatrix("x"), y = dmatrix("y");
  Var z = slice(exp(x) * y, {Slice(1, 3)});
  Function f = function({x, y}, {z});
  EXPECT_TRUE(Lifted(f)) << debugprint(f);
  // Both inputs are sliced, and the product and exp of the parts fuse.
  EXPECT_EQ(CountOps(f, "Subtensor"), 2) << debugprint(f);
  EXPECT_EQ(CountOps(f, "Elemwise"), 1) << debugprint(f);
  ExpectSameAsUnrewritten(
      {x, y}, {z},
      {Random(DType::kFloat64, {4, 3}, 1), Random(DType::kFloat64, {4, 3}, 2)});
}

// The LSTM's case: a bias added to a whole row whose four parts are read by
// different gates. The parts do not overlap, so the sum is computed part by
// part inside the one fused kernel, and never over the whole row.
TEST(SubtensorLiftTest, DisjointPartsOfOneResultAreEachLifted) {
  Var x = dmatrix("x"), b = dvector("b");
  Var s = x + b;
  auto part = [&](int k) {
    return slice(s, {Slice::All(), Slice(2 * k, 2 * k + 2)});
  };
  Var z = sigmoid(part(0)) * tanh(part(1)) + part(2) - part(3);
  Function f = function({x, b}, {z});
  EXPECT_TRUE(Lifted(f)) << debugprint(f);
  EXPECT_EQ(CountOps(f, "Elemwise"), 1) << debugprint(f);
  ExpectSameAsUnrewritten(
      {x, b}, {z},
      {Random(DType::kFloat64, {3, 8}, 3), Random(DType::kFloat64, {8}, 4)});
}

TEST(SubtensorLiftTest, OverlappingPartsAreNotLifted) {
  Var x = dmatrix("x"), y = dmatrix("y");
  Var s = x * y;
  Var z = slice(s, {Slice::All(), Slice(0, 3)}) +
          slice(s, {Slice::All(), Slice(1, 4)});
  Function f = function({x, y}, {z});
  EXPECT_FALSE(Lifted(f)) << debugprint(f);
  ExpectSameAsUnrewritten(
      {x, y}, {z},
      {Random(DType::kFloat64, {2, 4}, 5), Random(DType::kFloat64, {2, 4}, 6)});
}

// Parts counted from the end, or with bounds known only at run time, are
// not shown to be disjoint: with several readers nothing is lifted. A
// single reader is lifted whatever its bounds.
TEST(SubtensorLiftTest, PartsNotShownDisjointAreNotLifted) {
  Var x = dmatrix("x"), y = dmatrix("y");
  Var s = x - y;
  Var z = slice(s, {Slice(0, 1)}) + slice(s, {Slice(-1, kNone)});
  Function f = function({x, y}, {z});
  EXPECT_FALSE(Lifted(f)) << debugprint(f);
  ExpectSameAsUnrewritten(
      {x, y}, {z},
      {Random(DType::kFloat64, {3, 2}, 7), Random(DType::kFloat64, {3, 2}, 8)});
}

TEST(SubtensorLiftTest, ResultAlsoReadWholeIsNotLifted) {
  Var x = dvector("x");
  Var e = exp(x);
  Function f = function({x}, {slice(e, {Slice(0, 2)}), e});
  EXPECT_FALSE(Lifted(f)) << debugprint(f);
}

TEST(SubtensorLiftTest, ReversedSliceIsACopyAndIsNotLifted) {
  Var x = dvector("x");
  Function f = function({x}, {slice(exp(x), {Slice(kNone, kNone, -1)})});
  EXPECT_FALSE(Lifted(f)) << debugprint(f);
}

// Inputs broadcast along an indexed dimension keep it (a range) or take
// element 0 (an index); bounds may be run-time values.
TEST(SubtensorLiftTest, BroadcastInputsAndRunTimeBounds) {
  Var x = dmatrix("x"), r = drow("r"), c = dcol("c");
  Var i = lscalar("i");
  Var by_index = index(x * r, i);
  Var by_column = slice(x + c, {Slice::All(), Slice::Index(2)});
  Var by_range = slice(x - r + c, {Slice(i, kNone), Slice(1, 3)});
  const std::vector<Var> inputs = {x, r, c, i};
  const std::vector<Var> outputs = {by_index, by_column, by_range};
  Function f = function(inputs, outputs);
  // x - r + c lifts through both of its ops.
  EXPECT_EQ(Lifts(f), 4) << debugprint(f);
  ExpectSameAsUnrewritten(
      inputs, outputs,
      {Random(DType::kFloat64, {3, 4}, 9), Random(DType::kFloat64, {1, 4}, 10),
       Random(DType::kFloat64, {3, 1}, 11), Tensor::Scalar(int64_t{1})});
}

// The bounds are still checked, by an input that has the result's size.
TEST(SubtensorLiftTest, IndexOutOfRangeIsStillAnError) {
  Var x = dmatrix("x"), r = drow("r");
  Function f = function({x, r}, {index(x + r, 5)});
  EXPECT_TRUE(Lifted(f)) << debugprint(f);
  std::string message = ErrorOf([&] {
    f({Random(DType::kFloat64, {3, 4}, 12),
       Random(DType::kFloat64, {1, 4}, 13)});
  });
  EXPECT_THAT(message,
              HasSubstr("index 5 is out of bounds for dimension 0 of size 3"));
}

}  // namespace
}  // namespace theta
