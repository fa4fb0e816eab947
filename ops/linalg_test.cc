#include "ops/linalg.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/linalg_ops.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::Random;
using testing::Run1;

// C = A (m x k) * B (k x n), row-major, in double.
std::vector<double> MatMul(const Tensor& a, const Tensor& b, bool ta = false,
                           bool tb = false) {
  const int64_t m = ta ? a.dims()[1] : a.dims()[0];
  const int64_t k = ta ? a.dims()[0] : a.dims()[1];
  const int64_t n = tb ? b.dims()[0] : b.dims()[1];
  std::vector<double> c(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) {
        const double av =
            ta ? a.GetAsDouble(p * m + i) : a.GetAsDouble(i * k + p);
        const double bv =
            tb ? b.GetAsDouble(j * k + p) : b.GetAsDouble(p * n + j);
        s += av * bv;
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

class DotTest : public ::testing::TestWithParam<DType> {};

TEST_P(DotTest, MatrixProductsAndTransposedOperands) {
  const DType dtype = GetParam();
  const double tol = dtype == DType::kFloat32 ? 1e-5 : 1e-12;
  Var a = matrix("a", dtype);
  Var b = matrix("b", dtype);
  Tensor av = Random(dtype, {5, 7}, 1);
  Tensor bv = Random(dtype, {7, 3}, 2);
  EXPECT_TRUE(
      AllClose(Run1({a, b}, dot(a, b), {av, bv}), MatMul(av, bv), tol, tol));
  // a^T b and a b^T read the operands transposed, without copies.
  Tensor at = Random(dtype, {7, 5}, 3);
  EXPECT_TRUE(AllClose(Run1({a, b}, dot(transpose(a), b), {at, bv}),
                       MatMul(at, bv, true, false), tol, tol));
  Tensor bt = Random(dtype, {3, 7}, 4);
  EXPECT_TRUE(AllClose(Run1({a, b}, dot(a, transpose(b)), {av, bt}),
                       MatMul(av, bt, false, true), tol, tol));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, DotTest,
                         ::testing::Values(DType::kFloat32, DType::kFloat64));

TEST(DotTest, VectorCasesFollowTheano) {
  Var m = dmatrix("m");
  Var v = dvector("v");
  Var w = dvector("w");
  Tensor mv = Random(DType::kFloat64, {3, 4}, 5);
  Tensor vv = Random(DType::kFloat64, {4}, 6);
  Tensor wv = Random(DType::kFloat64, {3}, 7);
  Tensor mvp = Run1({m, v}, dot(m, v), {mv, vv});
  EXPECT_EQ(mvp.dims(), Dims({3}));
  EXPECT_TRUE(AllClose(mvp, MatMul(mv, vv.reshape({4, 1})), 1e-12, 1e-12));
  Tensor vmp = Run1({w, m}, dot(w, m), {wv, mv});
  EXPECT_EQ(vmp.dims(), Dims({4}));
  EXPECT_TRUE(AllClose(vmp, MatMul(wv.reshape({1, 3}), mv), 1e-12, 1e-12));
  Tensor inner = Run1({v}, dot(v, v), {vv});
  EXPECT_EQ(inner.ndim(), 0);
  double expected = 0;
  for (int i = 0; i < 4; ++i) expected += vv.GetAsDouble(i) * vv.GetAsDouble(i);
  EXPECT_NEAR(inner.item<double>(), expected, 1e-12);
}

TEST(DotTest, ThreeDimensionalTimesMatrixMergesLeadingAxes) {
  Var x = dtensor3("x");
  Var w = dmatrix("w");
  Tensor xv = Random(DType::kFloat64, {2, 3, 4}, 8);
  Tensor wv = Random(DType::kFloat64, {4, 5}, 9);
  Tensor out = Run1({x, w}, dot(x, w), {xv, wv});
  EXPECT_EQ(out.dims(), Dims({2, 3, 5}));
  EXPECT_TRUE(AllClose(out, MatMul(xv.reshape({6, 4}), wv), 1e-12, 1e-12));
}

TEST(DotTest, BatchedOuterTensordot) {
  Var a = dtensor3("a");
  Var b = dtensor3("b");
  Tensor av = Random(DType::kFloat64, {2, 3, 4}, 10);
  Tensor bv = Random(DType::kFloat64, {2, 4, 5}, 11);
  Tensor out = Run1({a, b}, batched_dot(a, b), {av, bv});
  EXPECT_EQ(out.dims(), Dims({2, 3, 5}));
  std::vector<double> expected;
  for (int batch = 0; batch < 2; ++batch) {
    Tensor ai(DType::kFloat64, {3, 4}), bi(DType::kFloat64, {4, 5});
    for (int i = 0; i < 12; ++i)
      ai.data<double>()[i] = av.GetAsDouble(batch * 12 + i);
    for (int i = 0; i < 20; ++i)
      bi.data<double>()[i] = bv.GetAsDouble(batch * 20 + i);
    for (double x : MatMul(ai, bi)) expected.push_back(x);
  }
  EXPECT_TRUE(AllClose(out, expected, 1e-12, 1e-12));
  Var u = dvector("u");
  Var v = dvector("v");
  Tensor o = Run1({u, v}, outer(u, v),
                  {Tensor(std::vector<double>{1, 2}),
                   Tensor(std::vector<double>{3, 4, 5})});
  EXPECT_TRUE(AllClose(o, {3, 4, 5, 6, 8, 10}));
  // tensordot over a's last two axes and b's first two.
  Var c = dtensor3("c");
  Tensor cv = Random(DType::kFloat64, {3, 4, 2}, 12);
  Tensor td = Run1({a, c}, tensordot(a, c, 2), {av, cv});
  EXPECT_EQ(td.dims(), Dims({2, 2}));
  EXPECT_TRUE(AllClose(td, MatMul(av.reshape({2, 12}), cv.reshape({12, 2})),
                       1e-12, 1e-12));
}

TEST(DotTest, ShapeErrors) {
  Var a = tensor(DType::kFloat32, {2, 3}, "a");
  Var b = tensor(DType::kFloat32, {4, 5}, "b");
  EXPECT_THAT(ErrorOf([&] { dot(a, b); }),
              HasSubstr("inner dimensions differ"));
  Var m = matrix("m");
  Var n = matrix("n");
  Function f = function({m, n}, {dot(m, n)});
  EXPECT_THAT(
      ErrorOf([&] {
        f({Tensor(DType::kFloat32, {2, 3}), Tensor(DType::kFloat32, {4, 5})});
      }),
      HasSubstr("are not aligned"));
  Var i = imatrix("i");
  EXPECT_THAT(ErrorOf([&] { dot(i, i); }), HasSubstr("integer operands"));
}

}  // namespace
}  // namespace theta
