#include "ops/subtensor.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/subtensor_ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::Run1;

Tensor Iota(std::vector<int64_t> shape) {
  Tensor t(DType::kFloat64, shape);
  for (int64_t i = 0; i < t.size(); ++i)
    t.data<double>()[i] = static_cast<double>(i);
  return t;
}

TEST(SubtensorTest, CallSyntaxReadsLikeTheanoIndexing) {
  Var z = dmatrix("z");
  Tensor zv = Iota({3, 4});  // rows 0..3, 4..7, 8..11
  // z[:, 0:2], z[1], z[-1, 1:], z[::-1, 3], z[i] with a symbolic i.
  EXPECT_TRUE(
      AllClose(Run1({z}, z(all, range(0, 2)), {zv}), {0, 1, 4, 5, 8, 9}));
  EXPECT_TRUE(AllClose(Run1({z}, z(1), {zv}), {4, 5, 6, 7}));
  EXPECT_TRUE(AllClose(Run1({z}, z(-1, range(1, kNone)), {zv}), {9, 10, 11}));
  EXPECT_TRUE(
      AllClose(Run1({z}, z(range(kNone, kNone, -1), 3), {zv}), {11, 7, 3}));
  Var i = lscalar("i");
  Tensor row =
      testing::Run({z, i}, {z(i)}, {zv, Tensor::Scalar<int64_t>(2)})[0];
  EXPECT_TRUE(AllClose(row, {8, 9, 10, 11}));
  // The same nodes as slice() and index(): an index drops the dimension.
  Var xs = dtensor3("xs");
  EXPECT_EQ(xs(-1).ndim(), 2);
  EXPECT_EQ(xs(all, all, 0).ndim(), 2);
  EXPECT_EQ(xs(all, range(0, 2), all).ndim(), 3);
  EXPECT_EQ(z(all, range(0, 2)).owner()->op().name(),
            slice(z, {Slice::All(), Slice(0, 2)}).owner()->op().name());
  EXPECT_EQ(z(-1).owner()->op().name(), index(z, -1).owner()->op().name());
  // Errors carry the caller's location, as slice() does.
  std::string message = ErrorOf([&] { z(0, 0, 0); });
  EXPECT_THAT(message, HasSubstr("too many indices"));
  EXPECT_THAT(message, HasSubstr("subtensor_test.cc:"));
}

TEST(SubtensorTest, SlicesWithStepsAndNegativeIndices) {
  Var x = dvector("x");
  Tensor xv = Iota({10});
  EXPECT_TRUE(AllClose(Run1({x}, slice(x, {Slice(2, 8, 2)}), {xv}), {2, 4, 6}));
  EXPECT_TRUE(
      AllClose(Run1({x}, slice(x, {Slice(-3, kNone)}), {xv}), {7, 8, 9}));
  EXPECT_TRUE(
      AllClose(Run1({x}, slice(x, {Slice(kNone, -7)}), {xv}), {0, 1, 2}));
  EXPECT_TRUE(AllClose(Run1({x}, slice(x, {Slice(kNone, kNone, -1)}), {xv}),
                       {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_TRUE(
      AllClose(Run1({x}, slice(x, {Slice(8, 1, -3)}), {xv}), {8, 5, 2}));
  EXPECT_TRUE(
      AllClose(Run1({x}, slice(x, {Slice(5, 100)}), {xv}), {5, 6, 7, 8, 9}));
  EXPECT_EQ(Run1({x}, slice(x, {Slice(7, 3)}), {xv}).size(), 0);
  EXPECT_DOUBLE_EQ(Run1({x}, index(x, -1), {xv}).item<double>(), 9);
}

TEST(SubtensorTest, MatrixRowsColumnsAndSymbolicBounds) {
  Var x = dmatrix("x");
  Var k = lscalar("k");
  Tensor xv = Iota({3, 4});
  EXPECT_TRUE(AllClose(
      Run1({x}, slice(x, {Slice::All(), Slice::Index(1)}), {xv}), {1, 5, 9}));
  EXPECT_TRUE(
      AllClose(Run1({x, k}, slice(x, {Slice(k, kNone), Slice(kNone, k)}),
                    {xv, Tensor::Scalar<int64_t>(1)}),
               {4, 8}));
  EXPECT_TRUE(AllClose(
      Run1({x}, slice(x, {Slice(kNone, kNone, -1), Slice(1, 3)}), {xv}),
      {9, 10, 5, 6, 1, 2}));
}

TEST(SubtensorTest, IndexOutOfRangeIsARunTimeError) {
  Var x = dvector("x");
  Function f = function({x}, {index(x, 5)});
  std::string message = ErrorOf([&] { f({Iota({3})}); });
  EXPECT_THAT(message,
              HasSubstr("index 5 is out of bounds for dimension 0 of size 3"));
  EXPECT_THAT(message, HasSubstr("subtensor_test.cc:"));
}

TEST(SubtensorTest, SetAndIncSubtensorLeaveTheInputAlone) {
  Var x = dmatrix("x");
  Var y = dvector("y");
  Tensor xv = Iota({2, 3});
  Tensor yv(std::vector<double>{10, 20});
  Var sub = slice(x, {Slice::All(), Slice(1, 3)});
  std::vector<Tensor> outs = testing::Run(
      {x, y}, {set_subtensor(sub, y), inc_subtensor(sub, y), x}, {xv, yv});
  EXPECT_TRUE(AllClose(outs[0], {0, 10, 20, 3, 10, 20}));
  EXPECT_TRUE(AllClose(outs[1], {0, 11, 22, 3, 14, 25}));
  EXPECT_TRUE(AllClose(outs[2], {0, 1, 2, 3, 4, 5}));
}

TEST(SubtensorTest, IncSubtensorWithNegativeStep) {
  Var x = dvector("x");
  Var y = dvector("y");
  Var out = inc_subtensor(slice(x, {Slice(kNone, kNone, -2)}), y);
  Tensor r = Run1({x, y}, out,
                  {Iota({5}), Tensor(std::vector<double>{100, 200, 300})});
  // Positions 4, 2, 0 get 100, 200, 300.
  EXPECT_TRUE(AllClose(r, {300, 1, 202, 3, 104}));
}

TEST(SubtensorTest, TakeGathersRowsForEmbeddings) {
  Var e = dmatrix("E");
  Var ids = lvector("ids");
  Tensor ev = Iota({4, 2});
  Tensor out = Run1({e, ids}, take(e, ids),
                    {ev, Tensor(std::vector<int64_t>{3, 0, 3, -1})});
  EXPECT_EQ(out.dims(), Dims({4, 2}));
  EXPECT_TRUE(AllClose(out, {6, 7, 0, 1, 6, 7, 6, 7}));
  Var m = lmatrix("m");
  Tensor cols = Run1({e, m}, take(e, m, 1),
                     {ev, Tensor(std::vector<int64_t>{1, 0}, {1, 2})});
  EXPECT_EQ(cols.dims(), Dims({4, 1, 2}));
  Function f = function({e, ids}, {take(e, ids)});
  EXPECT_THAT(ErrorOf([&] {
                f({ev, Tensor(std::vector<int64_t>{4})});
              }),
              HasSubstr("out of range"));
}

TEST(SubtensorTest, IncSubtensorThroughTakeAccumulatesDuplicates) {
  Var e = dmatrix("E");
  Var ids = lvector("ids");
  Var d = dmatrix("d");
  Var out = inc_subtensor(take(e, ids), d);
  Tensor r = Run1(
      {e, ids, d}, out,
      {Tensor(DType::kFloat64, {3, 2}), Tensor(std::vector<int64_t>{2, 0, 2}),
       Tensor(std::vector<double>{1, 1, 2, 2, 3, 3}, {3, 2})});
  EXPECT_TRUE(AllClose(r, {2, 2, 0, 0, 4, 4}));
}

TEST(SubtensorTest, OneHot) {
  Var y = ivector("y");
  Tensor out =
      Run1({y}, one_hot(y, 4), {Tensor(std::vector<int32_t>{2, 0, 3})});
  EXPECT_EQ(out.dtype(), floatX());
  EXPECT_TRUE(AllClose(out, {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(SubtensorTest, SetSubtensorNeedsASubtensor) {
  Var x = dmatrix("x");
  EXPECT_THAT(ErrorOf([&] { set_subtensor(exp(x), 1.0); }),
              HasSubstr("must be the result of slice()"));
}

}  // namespace
}  // namespace theta

namespace theta {
namespace {

// A part of a (4, 6) array: rows [r0, r1), columns [c0, c1) with step.
ResolvedIndex Part(int64_t r0, int64_t r1, int64_t c0, int64_t c1,
                   int64_t step = 1) {
  IndexEntry rows{.start = r0, .stop = r1};
  IndexEntry cols{.start = c0, .stop = c1, .step = step};
  absl::StatusOr<ResolvedIndex> r = ResolveIndex({rows, cols}, {4, 6}, {});
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

TEST(LayOutPartsTest, PartsThatCoverEveryElementOnceTile) {
  const ResolvedIndex parts[] = {Part(0, 4, 0, 2), Part(0, 4, 4, 6),
                                 Part(0, 2, 2, 4), Part(2, 4, 2, 4)};
  const PartsLayout layout = LayOutParts(parts, {4, 6});
  EXPECT_FALSE(layout.overlap);
  EXPECT_TRUE(layout.tiles);
}

TEST(LayOutPartsTest, AGapIsNotATiling) {
  const ResolvedIndex parts[] = {Part(0, 4, 0, 2), Part(0, 4, 3, 6)};
  const PartsLayout layout = LayOutParts(parts, {4, 6});
  EXPECT_FALSE(layout.overlap);
  EXPECT_FALSE(layout.tiles);
}

TEST(LayOutPartsTest, PartsSharingAnElementOverlap) {
  // As many elements as the array, but element (1, 2) twice.
  const ResolvedIndex parts[] = {Part(0, 4, 0, 3), Part(0, 4, 2, 5)};
  const PartsLayout layout = LayOutParts(parts, {4, 6});
  EXPECT_TRUE(layout.overlap);
  EXPECT_FALSE(layout.tiles);
  // Touching is not overlapping; an index part is one row.
  IndexEntry row{.is_index = true, .start = 3};
  absl::StatusOr<ResolvedIndex> last_row = ResolveIndex({row}, {4, 6}, {});
  ASSERT_TRUE(last_row.ok());
  const ResolvedIndex rows[] = {Part(0, 3, 0, 6), *last_row};
  EXPECT_TRUE(LayOutParts(rows, {4, 6}).tiles);
}

TEST(LayOutPartsTest, InterleavedStepsCountAsOverlapping) {
  // Even and odd columns: disjoint, but their extents overlap, so the
  // layout is judged conservatively (zeros are written, parts added).
  const ResolvedIndex parts[] = {Part(0, 4, 0, 6, 2), Part(0, 4, 1, 6, 2)};
  const PartsLayout layout = LayOutParts(parts, {4, 6});
  EXPECT_TRUE(layout.overlap);
  EXPECT_FALSE(layout.tiles);
}

TEST(LayOutPartsTest, EmptyPartsOverlapNothing) {
  const ResolvedIndex parts[] = {Part(0, 4, 0, 6), Part(0, 4, 3, 3)};
  const PartsLayout layout = LayOutParts(parts, {4, 6});
  EXPECT_FALSE(layout.overlap);
  EXPECT_TRUE(layout.tiles);
}

}  // namespace
}  // namespace theta
