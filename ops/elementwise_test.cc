#include "ops/elementwise.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "backends/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/elementwise_op.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::Map;
using testing::Random;
using testing::Run1;
using testing::Values;

struct UnaryCase {
  const char* name;
  std::function<Var(const Var&)> build;
  std::function<double(double)> reference;
  double lo, hi;
};

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

std::vector<UnaryCase> UnaryCases() {
  return {
      {"neg", [](const Var& x) { return -x; }, [](double x) { return -x; }, -3,
       3},
      {"abs", [](const Var& x) { return abs(x); },
       [](double x) { return std::fabs(x); }, -3, 3},
      {"sign", [](const Var& x) { return sign(x); },
       [](double x) { return double((x > 0) - (x < 0)); }, -3, 3},
      {"exp", [](const Var& x) { return exp(x); },
       [](double x) { return std::exp(x); }, -5, 5},
      {"log", [](const Var& x) { return log(x); },
       [](double x) { return std::log(x); }, 0.01, 10},
      {"log1p", [](const Var& x) { return log1p(x); },
       [](double x) { return std::log1p(x); }, -0.9, 5},
      {"expm1", [](const Var& x) { return expm1(x); },
       [](double x) { return std::expm1(x); }, -3, 3},
      {"sqrt", [](const Var& x) { return sqrt(x); },
       [](double x) { return std::sqrt(x); }, 0, 9},
      {"rsqrt", [](const Var& x) { return rsqrt(x); },
       [](double x) { return 1 / std::sqrt(x); }, 0.1, 9},
      {"square", [](const Var& x) { return square(x); },
       [](double x) { return x * x; }, -3, 3},
      {"reciprocal", [](const Var& x) { return reciprocal(x); },
       [](double x) { return 1 / x; }, 0.1, 3},
      {"tanh", [](const Var& x) { return tanh(x); },
       [](double x) { return std::tanh(x); }, -4, 4},
      {"sigmoid", [](const Var& x) { return sigmoid(x); }, Sigmoid, -8, 8},
      {"softplus", [](const Var& x) { return softplus(x); },
       [](double x) { return std::log1p(std::exp(x)); }, -8, 8},
      {"relu", [](const Var& x) { return relu(x); },
       [](double x) { return x > 0 ? x : 0; }, -3, 3},
      {"sin", [](const Var& x) { return sin(x); },
       [](double x) { return std::sin(x); }, -3, 3},
      {"cos", [](const Var& x) { return cos(x); },
       [](double x) { return std::cos(x); }, -3, 3},
      {"floor", [](const Var& x) { return floor(x); },
       [](double x) { return std::floor(x); }, -3, 3},
      {"ceil", [](const Var& x) { return ceil(x); },
       [](double x) { return std::ceil(x); }, -3, 3},
      {"round", [](const Var& x) { return round(x); },
       [](double x) { return std::nearbyint(x); }, -3, 3},
      {"trunc", [](const Var& x) { return trunc(x); },
       [](double x) { return std::trunc(x); }, -3, 3},
      {"erf", [](const Var& x) { return erf(x); },
       [](double x) { return std::erf(x); }, -2, 2},
  };
}

class UnaryTest : public ::testing::TestWithParam<std::tuple<int, DType>> {};

TEST_P(UnaryTest, MatchesReference) {
  const UnaryCase c = UnaryCases()[std::get<0>(GetParam())];
  const DType dtype = std::get<1>(GetParam());
  SCOPED_TRACE(c.name);
  Var x = matrix("x", dtype);
  Tensor value = Random(dtype, {7, 33}, 3, c.lo, c.hi);
  Tensor out = Run1({x}, c.build(x), {value});
  EXPECT_EQ(out.dtype(), dtype);
  EXPECT_EQ(out.dims(), value.dims());
  const double rtol = dtype == DType::kFloat32 ? 2e-5 : 1e-12;
  EXPECT_TRUE(AllClose(out, Map(value, c.reference), rtol, rtol));
}

INSTANTIATE_TEST_SUITE_P(
    AllOps, UnaryTest,
    ::testing::Combine(::testing::Range(0,
                                        static_cast<int>(UnaryCases().size())),
                       ::testing::Values(DType::kFloat32, DType::kFloat64)));

struct BinaryCase {
  const char* name;
  std::function<Var(const Var&, const Var&)> build;
  std::function<double(double, double)> reference;
  double lo, hi;
};

std::vector<BinaryCase> BinaryCases() {
  return {
      {"add", [](const Var& a, const Var& b) { return a + b; },
       [](double a, double b) { return a + b; }, -3, 3},
      {"sub", [](const Var& a, const Var& b) { return a - b; },
       [](double a, double b) { return a - b; }, -3, 3},
      {"mul", [](const Var& a, const Var& b) { return a * b; },
       [](double a, double b) { return a * b; }, -3, 3},
      {"div", [](const Var& a, const Var& b) { return a / b; },
       [](double a, double b) { return a / b; }, 0.5, 3},
      {"pow", [](const Var& a, const Var& b) { return pow(a, b); },
       [](double a, double b) { return std::pow(a, b); }, 0.5, 2},
      {"maximum", [](const Var& a, const Var& b) { return maximum(a, b); },
       [](double a, double b) { return std::max(a, b); }, -3, 3},
      {"minimum", [](const Var& a, const Var& b) { return minimum(a, b); },
       [](double a, double b) { return std::min(a, b); }, -3, 3},
      {"mod", [](const Var& a, const Var& b) { return mod(a, b); },
       [](double a, double b) {
         double r = std::fmod(a, b);
         return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
       },
       0.5, 3},
      {"atan2", [](const Var& a, const Var& b) { return atan2(a, b); },
       [](double a, double b) { return std::atan2(a, b); }, -3, 3},
  };
}

class BinaryTest : public ::testing::TestWithParam<std::tuple<int, DType>> {};

TEST_P(BinaryTest, MatchesReferenceWithRowBroadcasting) {
  const BinaryCase c = BinaryCases()[std::get<0>(GetParam())];
  const DType dtype = std::get<1>(GetParam());
  SCOPED_TRACE(c.name);
  Var a = matrix("a", dtype);
  Var b = row("b", dtype);  // (1, n): broadcasts over rows
  Tensor av = Random(dtype, {5, 9}, 1, c.lo, c.hi);
  Tensor bv = Random(dtype, {1, 9}, 2, c.lo, c.hi);
  Tensor out = Run1({a, b}, c.build(a, b), {av, bv});
  std::vector<double> expected;
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t j = 0; j < 9; ++j) {
      expected.push_back(
          c.reference(av.GetAsDouble(i * 9 + j), bv.GetAsDouble(j)));
    }
  }
  const double rtol = dtype == DType::kFloat32 ? 2e-5 : 1e-12;
  EXPECT_TRUE(AllClose(out, expected, rtol, rtol));
}

INSTANTIATE_TEST_SUITE_P(
    AllOps, BinaryTest,
    ::testing::Combine(::testing::Range(0,
                                        static_cast<int>(BinaryCases().size())),
                       ::testing::Values(DType::kFloat32, DType::kFloat64)));

TEST(ElementwiseTest, BvectorIsBoolLikeComparisons) {
  // b is bool in Theta (int8 in Theano): a bvector holds a comparison.
  Var x = dvector("x");
  Var mask = bvector("mask");
  EXPECT_EQ(mask.dtype(), DType::kBool);
  EXPECT_EQ((x > 0.0).dtype(), mask.dtype());
  EXPECT_EQ(bscalar("s").dtype(), DType::kBool);
  EXPECT_EQ(bmatrix("m").dtype(), DType::kBool);
  Tensor xv(std::vector<double>{-1, 2});
  EXPECT_TRUE(AllClose(Run1({x}, switch_(x > 0.0, x, 0.0), {xv}), {0, 2}));
}

TEST(ElementwiseTest, ColumnAndRowBroadcastTogether) {
  Var c = col("c", DType::kFloat64);
  Var r = row("r", DType::kFloat64);
  Tensor cv(std::vector<double>{1, 2, 3}, {3, 1});
  Tensor rv(std::vector<double>{10, 20}, {1, 2});
  Tensor out = Run1({c, r}, c * r, {cv, rv});
  EXPECT_EQ(out.dims(), Dims({3, 2}));
  EXPECT_TRUE(AllClose(out, {10, 20, 20, 40, 30, 60}));
}

TEST(ElementwiseTest, RankAlignmentAddsLeadingBroadcastDims) {
  Var m = matrix("m", DType::kFloat64);
  Var v = vector("v", DType::kFloat64);
  Var y = m + v;  // v becomes (1, n)
  EXPECT_EQ(y.ndim(), 2);
  Tensor out = Run1({m, v}, y,
                    {Tensor(std::vector<double>{1, 2, 3, 4}, {2, 2}),
                     Tensor(std::vector<double>{10, 20})});
  EXPECT_TRUE(AllClose(out, {11, 22, 13, 24}));
}

TEST(ElementwiseTest, WeakNumbersKeepTheTensorDtype) {
  Var x = fvector("x");
  EXPECT_EQ((x * 2.5).dtype(), DType::kFloat32);
  EXPECT_EQ((2 * x).dtype(), DType::kFloat32);
  Var i = ivector("i");
  EXPECT_EQ((i + 1).dtype(), DType::kInt32);
  EXPECT_EQ((i / 2).dtype(), DType::kFloat64);  // true division
  EXPECT_EQ(floor_div(i, 2).dtype(), DType::kInt32);
  EXPECT_EQ((i > 0).dtype(), DType::kBool);
  EXPECT_EQ((x + dvector("d")).dtype(), DType::kFloat64);
  EXPECT_EQ((i + fvector("f")).dtype(), DType::kFloat64);  // Theano's upcast
  EXPECT_EQ(exp(i).dtype(), DType::kFloat64);
}

TEST(ElementwiseTest, IntegerArithmeticFollowsPython) {
  Var a = lvector("a");
  Var b = lvector("b");
  Tensor av(std::vector<int64_t>{7, -7, 7, -7, 5});
  Tensor bv(std::vector<int64_t>{2, 2, -2, -2, 0});
  EXPECT_TRUE(
      AllClose(Run1({a, b}, floor_div(a, b), {av, bv}), {3, -4, -4, 3, 0}));
  EXPECT_TRUE(AllClose(Run1({a, b}, mod(a, b), {av, bv}), {1, 1, -1, -1, 0}));
  EXPECT_TRUE(AllClose(Run1({a, b}, pow(a, b), {av, bv}), {49, 49, 0, 0, 1}));
}

TEST(ElementwiseTest, ComparisonsLogicSwitchAndClip) {
  Var x = dvector("x");
  Tensor xv(std::vector<double>{-2, -0.5, 0, 0.5, 2});
  EXPECT_TRUE(AllClose(Run1({x}, x > 0.0, {xv}), {0, 0, 0, 1, 1}));
  EXPECT_TRUE(AllClose(Run1({x}, x <= 0.0, {xv}), {1, 1, 1, 0, 0}));
  EXPECT_TRUE(AllClose(Run1({x}, eq(x, 0.5), {xv}), {0, 0, 0, 1, 0}));
  EXPECT_TRUE(AllClose(Run1({x}, neq(x, 0.5), {xv}), {1, 1, 1, 0, 1}));
  EXPECT_TRUE(AllClose(Run1({x}, logical_and(x > -1.0, x < 1.0), {xv}),
                       {0, 1, 1, 1, 0}));
  EXPECT_TRUE(
      AllClose(Run1({x}, logical_or(x<-1.0, x> 1.0), {xv}), {1, 0, 0, 0, 1}));
  EXPECT_TRUE(
      AllClose(Run1({x}, logical_xor(x<1.0, x> - 1.0), {xv}), {1, 0, 0, 0, 1}));
  EXPECT_TRUE(AllClose(Run1({x}, !(x > 0.0), {xv}), {1, 1, 1, 0, 0}));
  EXPECT_TRUE(AllClose(Run1({x}, switch_(x > 0.0, x, 0.1 * x), {xv}),
                       {-0.2, -0.05, 0, 0.5, 2}));
  EXPECT_TRUE(
      AllClose(Run1({x}, clip(x, -1.0, 1.0), {xv}), {-1, -0.5, 0, 0.5, 1}));
}

TEST(ElementwiseTest, NanAndInfPropagate) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Var x = dvector("x");
  Tensor xv(std::vector<double>{nan, inf, -inf, 1});
  EXPECT_TRUE(AllClose(Run1({x}, maximum(x, 0.0), {xv}), {nan, inf, 0, 1}));
  EXPECT_TRUE(AllClose(Run1({x}, relu(x), {xv}), {nan, inf, 0, 1}));
  EXPECT_TRUE(AllClose(Run1({x}, exp(x), {xv}), {nan, inf, 0, std::exp(1.0)}));
  EXPECT_TRUE(AllClose(Run1({x}, isnan(x), {xv}), {1, 0, 0, 0}));
  EXPECT_TRUE(AllClose(Run1({x}, isinf(x), {xv}), {0, 1, 1, 0}));
}

TEST(ElementwiseTest, CastsTruncateTowardZero) {
  Var x = dvector("x");
  Tensor xv(std::vector<double>{-2.7, -0.5, 0.5, 2.7});
  Tensor out = Run1({x}, cast(x, DType::kInt32), {xv});
  EXPECT_EQ(out.dtype(), DType::kInt32);
  EXPECT_EQ(out.to_vector<int32_t>(), (std::vector<int32_t>{-2, 0, 0, 2}));
  Tensor b = Run1({x}, cast(x, DType::kBool), {xv});
  EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{true, true, true, true}));
  Var i = ivector("i");
  Tensor f = Run1({i}, cast(i, DType::kFloat32) / 2.0f,
                  {Tensor(std::vector<int32_t>{1, 3})});
  EXPECT_TRUE(AllClose(f, {0.5, 1.5}));
}

TEST(ElementwiseTest, BuildTimeBroadcastErrorNamesShapesAndLocation) {
  Var a = tensor(DType::kFloat32, {3, 4}, "a");
  Var b = tensor(DType::kFloat32, {3, 5}, "b");
  std::string message = ErrorOf([&] { a + b; });
  EXPECT_THAT(message, HasSubstr("Elemwise{add}"));
  EXPECT_THAT(message, HasSubstr("shapes do not broadcast"));
  EXPECT_THAT(message, HasSubstr("size 5 in dimension 1"));
  EXPECT_THAT(message, HasSubstr("elementwise_test.cc:"));
}

TEST(ElementwiseTest, RunTimeShapeMismatchNamesTheNode) {
  Var a = matrix("a");
  Var b = matrix("b");
  Function f = function({a, b}, {a * b});
  std::string message = ErrorOf([&] {
    f({Tensor(DType::kFloat32, {2, 3}), Tensor(DType::kFloat32, {2, 4})});
  });
  EXPECT_THAT(message, HasSubstr("shape mismatch in dimension 1"));
  EXPECT_THAT(message, HasSubstr("size 3"));
  EXPECT_THAT(message, HasSubstr("size 4"));
  EXPECT_THAT(message, HasSubstr("elementwise_test.cc:"));
}

TEST(ElementwiseTest, SizeOneDimensionBroadcastsOnlyWhenItsTypeSaysSo) {
  Var a = matrix("a");
  Var b = matrix("b");  // not declared broadcastable
  Function f = function({a, b}, {a + b});
  std::string message = ErrorOf([&] {
    f({Tensor(DType::kFloat32, {2, 3}), Tensor(DType::kFloat32, {1, 3})});
  });
  EXPECT_THAT(message, HasSubstr("broadcasts only when its type says"));
}

TEST(ElementwiseTest, LargeInputsCrossKernelBlocks) {
  Var x = fvector("x");
  Tensor xv = Random(DType::kFloat32, {100003}, 9);
  Tensor out = Run1({x}, tanh(x) * 2.0f + 1.0f, {xv});
  EXPECT_TRUE(AllClose(
      out, Map(xv, [](double v) { return std::tanh(v) * 2 + 1; }), 2e-5, 2e-5));
}

// A program the backend's 16-bit register fields cannot encode is refused
// when the function is planned, with the limit named, instead of reaching a
// backend that would wrap its register numbers.
TEST(ElementwiseTest, ProgramsBeyondTheRegisterEncodingAreRefused) {
  Var x = dvector("x");
  ScalarProgram p = ScalarProgram::Single(THETA_EW_NEG, 1, DType::kFloat64);
  p.num_registers = THETA_EW_MAX_REGISTERS + 1;
  Var y = ApplyOp1(
      std::make_shared<Elementwise>(p, std::vector<DType>{DType::kFloat64}),
      {x}, std::source_location::current());
  Function f = function({x}, {y}, {.rewrite = false});
  EXPECT_THAT(ErrorOf([&] {
                f({Tensor(std::vector<double>{1, 2})});
              }),
              HasSubstr("elementwise program of 3 instructions uses 65537 "
                        "registers; the backend encoding allows 1 to 65536"));
  // A register read before any instruction writes it.
  ScalarProgram q = ScalarProgram::Single(THETA_EW_NEG, 1, DType::kFloat64);
  q.instrs[1].a = 1;
  Var z = ApplyOp1(
      std::make_shared<Elementwise>(q, std::vector<DType>{DType::kFloat64}),
      {x}, std::source_location::current());
  Function g = function({x}, {z}, {.rewrite = false});
  EXPECT_THAT(ErrorOf([&] {
                g({Tensor(std::vector<double>{1, 2})});
              }),
              HasSubstr("instruction 1 (neg) reads register 1 before any "
                        "instruction writes it"));
}

// A plugin's message names its kernel already; the backend's prefix does not
// name it again ("cpu: elementwise: elementwise: ..." before).
TEST(ElementwiseTest, PluginErrorsNameTheKernelOnce) {
  backends::Backend& backend = backends::current();
  theta_elementwise_args args;
  std::memset(&args, 0, sizeof(args));
  args.struct_size = sizeof(args);  // and no program
  absl::Status s = backend.Check(
      backend.api().elementwise(backend.stream(), &args), "elementwise");
  ASSERT_FALSE(s.ok());
  const std::string prefix = std::string(backend.name()) + ": elementwise: ";
  EXPECT_EQ(std::string(s.message()).rfind(prefix, 0), 0u) << s.message();
  EXPECT_THAT(s.message(),
              ::testing::Not(HasSubstr("elementwise: elementwise")));
}

}  // namespace
}  // namespace theta
