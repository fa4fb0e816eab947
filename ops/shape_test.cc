#include "ops/shape.h"

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
using testing::Values;

Tensor Iota(std::vector<int64_t> shape) {
  Tensor t(DType::kFloat64, shape);
  for (int64_t i = 0; i < t.size(); ++i)
    t.data<double>()[i] = static_cast<double>(i);
  return t;
}

TEST(ShapeTest, DimshuffleTransposesAndAddsAxes) {
  Var x = dmatrix("x");
  Var y = dimshuffle(x, {1, kNewAxis, 0});
  EXPECT_EQ(y.type().ToString(), "float64(?, 1, ?)");
  Tensor out = Run1({x}, y, {Iota({2, 3})});
  EXPECT_EQ(out.dims(), Dims({3, 1, 2}));
  EXPECT_TRUE(AllClose(out, {0, 3, 1, 4, 2, 5}));
}

TEST(ShapeTest, DimshuffleDropsOnlyBroadcastableDims) {
  Var r = drow("r");
  Tensor out = Run1({r}, dimshuffle(r, {1}), {Iota({1, 4})});
  EXPECT_EQ(out.dims(), Dims({4}));
  Var x = dmatrix("x");
  EXPECT_THAT(ErrorOf([&] { dimshuffle(x, {1}); }), HasSubstr("is dropped"));
}

TEST(ShapeTest, TransposeDefaultReversesAxes) {
  Var x = dtensor3("x");
  Tensor out = Run1({x}, transpose(x), {Iota({2, 3, 4})});
  EXPECT_EQ(out.dims(), Dims({4, 3, 2}));
  EXPECT_EQ(out.GetAsDouble(1), 12);  // element (0, 0, 1) of the result
}

TEST(ShapeTest, ReshapeWithInferredAndSymbolicSizes) {
  Var x = dmatrix("x");
  Tensor xv = Iota({4, 6});
  EXPECT_EQ(Run1({x}, reshape(x, {3, -1}), {xv}).dims(), Dims({3, 8}));
  EXPECT_EQ(Run1({x}, reshape(x, {shape_i(x, 1), -1}), {xv}).dims(),
            Dims({6, 4}));
  EXPECT_EQ(Run1({x}, flatten(x), {xv}).dims(), Dims({24}));
  Function f = function({x}, {reshape(x, {5, -1})});
  EXPECT_THAT(ErrorOf([&] { f({xv}); }),
              HasSubstr("cannot reshape an array of shape (4, 6)"));
}

TEST(ShapeTest, ReshapeOfATransposeCopies) {
  Var x = dmatrix("x");
  Tensor out = Run1({x}, reshape(transpose(x), {-1}), {Iota({2, 3})});
  EXPECT_TRUE(AllClose(out, {0, 3, 1, 4, 2, 5}));
}

TEST(ShapeTest, ShapeIsAnInt64Vector) {
  Var x = dtensor3("x");
  Tensor s = Run1({x}, shape(x), {Iota({2, 3, 4})});
  EXPECT_EQ(s.dtype(), DType::kInt64);
  EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{2, 3, 4}));
}

TEST(ShapeTest, ConcatenateStackSplit) {
  Var a = dmatrix("a");
  Var b = dmatrix("b");
  Tensor av = Iota({2, 2});
  Tensor bv = Iota({2, 3});
  Tensor cat = Run1({a, b}, concatenate({a, b}, 1), {av, bv});
  EXPECT_EQ(cat.dims(), Dims({2, 5}));
  EXPECT_TRUE(AllClose(cat, {0, 1, 0, 1, 2, 2, 3, 3, 4, 5}));
  Tensor st = Run1({a}, stack({a, a * 2.0}, 0), {av});
  EXPECT_EQ(st.dims(), Dims({2, 2, 2}));
  EXPECT_TRUE(AllClose(st, {0, 1, 2, 3, 0, 2, 4, 6}));
  std::vector<Var> parts = split(b, {1, 2}, 1);
  EXPECT_TRUE(AllClose(Run1({b}, parts[1], {bv}), {1, 2, 4, 5}));
  Function f = function({a, b}, {concatenate({a, b}, 0)});
  EXPECT_THAT(ErrorOf([&] {
                f({av, bv});
              }),
              HasSubstr("may differ only in dimension 0"));
}

TEST(ShapeTest, AllocZerosOnesFillArangeEye) {
  Var n = lscalar("n");
  Tensor three = Tensor::Scalar<int64_t>(3);
  Tensor z = Run1({n}, zeros({n, 2}), {three});
  EXPECT_EQ(z.dims(), Dims({3, 2}));
  EXPECT_TRUE(AllClose(z, std::vector<double>(6, 0)));
  EXPECT_TRUE(
      AllClose(Run1({n}, ones({2, n}), {three}), std::vector<double>(6, 1)));
  EXPECT_TRUE(AllClose(Run1({n}, fill({n}, 2.5), {three}), {2.5, 2.5, 2.5}));
  Var v = dvector("v");
  Tensor rows =
      Run1({v}, alloc(v, {2, 3}), {Tensor(std::vector<double>{1, 2, 3})});
  EXPECT_TRUE(AllClose(rows, {1, 2, 3, 1, 2, 3}));
  EXPECT_TRUE(AllClose(Run1({n}, arange(0, n), {three}), {0, 1, 2}));
  EXPECT_TRUE(AllClose(Run1({n}, arange(1, 10, n), {three}), {1, 4, 7}));
  EXPECT_TRUE(
      AllClose(Run1({n}, eye(n), {three}), {1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_TRUE(AllClose(Run1({n}, eye(n, 4, 1), {three}),
                       {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  Var x = dmatrix("x");
  Tensor like = Run1({x}, ones_like(x) + zeros_like(x), {Iota({2, 2})});
  EXPECT_TRUE(AllClose(like, {1, 1, 1, 1}));
}

constexpr int64_t k2to40 = int64_t{1} << 40;

TEST(ShapeTest, StaticShapesWhoseSizeOverflowsAreRejected) {
  Var x = fvector("x");
  EXPECT_THAT(ErrorOf([&] {
                reshape(x, {k2to40, k2to40});
              }),
              HasSubstr("shape (1099511627776, 1099511627776) of float32 is "
                        "too large: its size in bytes overflows int64"));
  EXPECT_THAT(ErrorOf([&] {
                zeros({k2to40, k2to40}, DType::kFloat32);
              }),
              HasSubstr("shape (1099511627776, 1099511627776) of float32"));
}

TEST(ShapeTest, RunTimeShapesWhoseSizeOverflowsAreRejected) {
  Var x = fvector("x");
  Var n = lscalar("n");
  Var m = lscalar("m");
  // 2^40 x 2^40 wraps to 0 elements, those of an empty x.
  Function view = function({x, n, m}, {reshape(x, {n, m})});
  const Tensor empty(DType::kFloat32, {0});
  const Tensor big = Tensor::Scalar<int64_t>(k2to40);
  EXPECT_THAT(ErrorOf([&] {
                view({empty, big, big});
              }),
              HasSubstr("shape (1099511627776, 1099511627776) of float32 is "
                        "too large: its size in bytes overflows int64"));
  // (2^62 + 1) x 4 wraps to 4 elements: a 16-byte buffer.
  Function filled = function({n, m}, {zeros({n, m}, DType::kFloat32)});
  EXPECT_THAT(ErrorOf([&] {
                filled({Tensor::Scalar<int64_t>((int64_t{1} << 62) + 1),
                        Tensor::Scalar<int64_t>(4)});
              }),
              HasSubstr("shape (4611686018427387905, 4) of float32 is too "
                        "large"));
  // Element counts that fit, byte sizes that do not.
  Function range = function({n}, {arange(0, n)});
  EXPECT_THAT(
      ErrorOf([&] { range({Tensor::Scalar<int64_t>(int64_t{1} << 61)}); }),
      HasSubstr("shape (2305843009213693952,) of int64 is too large"));
  // The function still works on sizes that fit.
  EXPECT_EQ(filled({Tensor::Scalar<int64_t>(2), Tensor::Scalar<int64_t>(3)})[0]
                .dims(),
            Dims({2, 3}));
}

TEST(ShapeTest, ShapeParameterMustBeKnownOnTheHost) {
  Var x = dvector("x");
  Var n = cast(sum(x), DType::kInt64);  // depends on data
  std::string message = ErrorOf([&] { function({x}, {zeros({n})}); });
  EXPECT_THAT(message, HasSubstr("determines the output's shape"));
  EXPECT_THAT(message, HasSubstr("depends on tensor data"));
}

}  // namespace
}  // namespace theta
