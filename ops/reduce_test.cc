#include "ops/reduce.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>
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
using testing::Random;
using testing::Run1;

// Reference: reduce a (2, 3, 4) tensor over a set of axes with `combine`.
std::vector<double> Reference(
    const Tensor& x, std::vector<int> axes, double init,
    const std::function<double(double, double)>& combine) {
  const Dims s = x.dims();
  std::vector<int64_t> out_shape;
  for (int d = 0; d < s.size(); ++d) {
    out_shape.push_back(
        std::find(axes.begin(), axes.end(), d) != axes.end() ? 1 : s[d]);
  }
  Dims os(out_shape);
  std::vector<double> out(os.product(), init);
  for (int64_t i = 0; i < s[0]; ++i) {
    for (int64_t j = 0; j < s[1]; ++j) {
      for (int64_t k = 0; k < s[2]; ++k) {
        int64_t oi = out_shape[0] == 1 ? 0 : i;
        int64_t oj = out_shape[1] == 1 ? 0 : j;
        int64_t ok = out_shape[2] == 1 ? 0 : k;
        double& o = out[(oi * out_shape[1] + oj) * out_shape[2] + ok];
        o = combine(o, x.GetAsDouble((i * s[1] + j) * s[2] + k));
      }
    }
  }
  return out;
}

class ReduceAxesTest
    : public ::testing::TestWithParam<std::tuple<std::vector<int>, DType>> {};

TEST_P(ReduceAxesTest, SumMaxMinProdMean) {
  const auto& [axes, dtype] = GetParam();
  Var x = tensor3("x", dtype);
  Tensor xv = Random(dtype, {2, 3, 4}, 5, 0.5, 1.5);
  const double tol = dtype == DType::kFloat32 ? 1e-5 : 1e-12;
  auto plus = [](double a, double b) { return a + b; };
  std::vector<double> sums = Reference(xv, axes, 0, plus);
  EXPECT_TRUE(
      AllClose(Run1({x}, sum(x, AxisList(axes), true), {xv}), sums, tol, tol));
  EXPECT_TRUE(
      AllClose(Run1({x}, max(x, AxisList(axes), true), {xv}),
               Reference(xv, axes, -1e300,
                         [](double a, double b) { return std::max(a, b); }),
               tol, tol));
  EXPECT_TRUE(
      AllClose(Run1({x}, min(x, AxisList(axes), true), {xv}),
               Reference(xv, axes, 1e300,
                         [](double a, double b) { return std::min(a, b); }),
               tol, tol));
  EXPECT_TRUE(
      AllClose(Run1({x}, prod(x, AxisList(axes), true), {xv}),
               Reference(xv, axes, 1, [](double a, double b) { return a * b; }),
               tol, tol));
  int64_t count = 1;
  for (int a : axes) count *= xv.dims()[a];
  std::vector<double> means = sums;
  for (double& m : means) m /= count;
  EXPECT_TRUE(AllClose(Run1({x}, mean(x, AxisList(axes), true), {xv}), means,
                       tol, tol));
  // Without keepdims the reduced axes disappear.
  Tensor dropped = Run1({x}, sum(x, AxisList(axes)), {xv});
  EXPECT_EQ(dropped.ndim(), 3 - static_cast<int>(axes.size()));
  EXPECT_TRUE(AllClose(dropped, sums, tol, tol));
}

INSTANTIATE_TEST_SUITE_P(
    Axes, ReduceAxesTest,
    ::testing::Combine(::testing::Values(std::vector<int>{0},
                                         std::vector<int>{1},
                                         std::vector<int>{2},
                                         std::vector<int>{0, 2},
                                         std::vector<int>{0, 1, 2}),
                       ::testing::Values(DType::kFloat32, DType::kFloat64)));

TEST(ReduceTest, AllAxesByDefaultAndNegativeAxes) {
  Var x = dmatrix("x");
  Tensor xv(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor total = Run1({x}, sum(x), {xv});
  EXPECT_EQ(total.ndim(), 0);
  EXPECT_DOUBLE_EQ(total.item<double>(), 21);
  EXPECT_TRUE(AllClose(Run1({x}, sum(x, -1), {xv}), {6, 15}));
}

TEST(ReduceTest, VarianceAndStd) {
  Var x = dmatrix("x");
  Tensor xv(std::vector<double>{1, 2, 3, 4, 6, 8}, {2, 3});
  // Population variance per row: (2/3) and (8/3).
  EXPECT_TRUE(
      AllClose(Run1({x}, var(x, 1), {xv}), {2.0 / 3, 8.0 / 3}, 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(Run1({x}, std(x, 1), {xv}),
                       {std::sqrt(2.0 / 3), std::sqrt(8.0 / 3)}, 1e-12, 1e-12));
}

TEST(ReduceTest, ArgmaxArgminFirstOccurrence) {
  Var x = dmatrix("x");
  Tensor xv(std::vector<double>{3, 7, 7, 1, -1, 5, -1, 0}, {2, 4});
  Tensor am = Run1({x}, argmax(x, 1), {xv});
  EXPECT_EQ(am.dtype(), DType::kInt64);
  EXPECT_EQ(am.to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(Run1({x}, argmin(x, 1), {xv}).to_vector<int64_t>(),
            (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(Run1({x}, argmax(x, 0), {xv}).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(Run1({x}, argmax(x), {xv}).item<int64_t>(), 1);
}

TEST(ReduceTest, IntegerSumsAccumulateInInt64) {
  Var i = ivector("i");
  Var s = sum(i);
  EXPECT_EQ(s.dtype(), DType::kInt64);
  Tensor out =
      Run1({i}, s, {Tensor(std::vector<int32_t>{2000000000, 2000000000})});
  EXPECT_EQ(out.item<int64_t>(), 4000000000LL);
  Var m = mean(i);
  EXPECT_EQ(m.dtype(), DType::kFloat64);
}

TEST(ReduceTest, EmptyReductions) {
  Var x = dmatrix("x");
  Tensor empty(DType::kFloat64, {0, 3});
  EXPECT_TRUE(AllClose(Run1({x}, sum(x, 0), {empty}), {0, 0, 0}));
  EXPECT_TRUE(AllClose(Run1({x}, prod(x, 0), {empty}), {1, 1, 1}));
  Function f = function({x}, {argmax(x, 0)});
  EXPECT_THAT(ErrorOf([&] { f({empty}); }), HasSubstr("empty dimension 0"));
}

// The maximum of nothing is an error (NumPy and Theano raise), not -inf;
// reducing over a non-empty axis of an empty tensor is still fine.
TEST(ReduceTest, MaxAndMinOfAnEmptyAxisAreErrors) {
  Var x = dmatrix("x");
  Tensor empty(DType::kFloat64, {0, 3});
  for (const auto& [name, reduce] :
       std::vector<std::pair<std::string, std::function<Var(Var, AxisList)>>>{
           {"max", [](Var v, AxisList a) { return max(v, a); }},
           {"min", [](Var v, AxisList a) { return min(v, a); }}}) {
    SCOPED_TRACE(name);
    Function along0 = function({x}, {reduce(x, 0)});
    std::string message = ErrorOf([&] { along0({empty}); });
    EXPECT_THAT(message, HasSubstr(name + " of zero elements"));
    EXPECT_THAT(message, HasSubstr("empty dimension 0: input shape (0, 3)"));
    Function all = function({x}, {reduce(x, {})});
    EXPECT_THAT(ErrorOf([&] { all({empty}); }),
                HasSubstr("input shape (0, 3), reducing axes (0, 1)"));
    // Over axis 1 there are zero rows to reduce: an empty result.
    EXPECT_EQ(Run1({x}, reduce(x, 1), {empty}).size(), 0);
    // The function still works on a good input afterwards.
    EXPECT_TRUE(AllClose(
        along0({Tensor(std::vector<double>{1, 5, 3, 4, 2, 6}, {2, 3})})[0],
        name == "max" ? std::vector<double>{4, 5, 6}
                      : std::vector<double>{1, 2, 3}));
  }
  // A vector whose length is known only at run time, float32 and int32.
  Var v = fvector("v");
  EXPECT_THAT(
      ErrorOf([&] { Run1({v}, max(v), {Tensor(DType::kFloat32, {0})}); }),
      HasSubstr("input shape (0)"));
  Var iv = ivector("iv");
  EXPECT_THAT(
      ErrorOf([&] { Run1({iv}, min(iv), {Tensor(DType::kInt32, {0})}); }),
      HasSubstr("min of zero elements"));
}

TEST(ReduceTest, BadAxisIsABuildError) {
  Var x = matrix("x");
  EXPECT_THAT(ErrorOf([&] { sum(x, 2); }),
              HasSubstr("axis 2 out of range for rank 2"));
  EXPECT_THAT(ErrorOf([&] { sum(x, {0, 0}); }), HasSubstr("repeated"));
}

}  // namespace
}  // namespace theta
