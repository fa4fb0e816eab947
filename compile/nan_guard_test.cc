// The NaN / Inf guard (compile/nan_guard.h): the first kernel whose output
// holds a NaN or Inf its inputs did not hold fails the call with an error
// naming the node, its op, its inputs and the line that built it; values
// that were already in the inputs pass; off by default and then free.
#include "compile/nan_guard.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "graph/shared.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;
using ::testing::Not;

Tensor Vec(std::vector<double> v) { return Tensor(v); }

std::string Line(int line) { return absl::StrCat("nan_guard_test.cc:", line); }

TEST(NanGuardTest, LogOfZeroNamesTheNodeItsInputsAndTheLine) {
  Var x = dvector("x");
  const int line = __LINE__ + 1;
  Var y = log(x);
  Function f = function({x}, {y}, {.name = "f", .nan_guard = true});
  const std::string message = ErrorOf([&] { f({Vec({1, 0, 2})}); });
  EXPECT_THAT(message, HasSubstr("function 'f'"));
  EXPECT_THAT(message, HasSubstr("log"));
  EXPECT_THAT(message, HasSubstr(Line(line)));
  EXPECT_THAT(message, HasSubstr("holds -inf that none of its inputs held"));
  EXPECT_THAT(message, HasSubstr("inputs: 'x' (float64"));
  // The function still works on good input.
  EXPECT_TRUE(AllClose(f({Vec({1, std::exp(1.0)})})[0], {0, 1}));
}

TEST(NanGuardTest, ZeroOverZeroIsNaN) {
  Var a = dvector("a");
  Var b = dvector("b");
  const int line = __LINE__ + 1;
  Var q = a / b;
  Function f = function({a, b}, {q}, {.name = "ratio", .nan_guard = true});
  const std::string message = ErrorOf([&] { f({Vec({1, 0}), Vec({2, 0})}); });
  EXPECT_THAT(message, HasSubstr("function 'ratio'"));
  EXPECT_THAT(message, HasSubstr(Line(line)));
  EXPECT_THAT(message, HasSubstr("holds NaN"));
  EXPECT_THAT(message, HasSubstr("'a' (float64"));
  EXPECT_THAT(message, HasSubstr("'b' (float64"));
  EXPECT_TRUE(AllClose(f({Vec({1, 3}), Vec({2, 4})})[0], {0.5, 0.75}));
}

TEST(NanGuardTest, OverflowToInfinityIsReported) {
  Var x = dvector("x");
  const int line = __LINE__ + 1;
  Var z = sum(exp(x));
  Function f = function({x}, {z}, {.nan_guard = true});
  const std::string message = ErrorOf([&] { f({Vec({1, 1000})}); });
  EXPECT_THAT(message, HasSubstr(Line(line)));
  EXPECT_THAT(message, HasSubstr("+inf"));
}

TEST(NanGuardTest, ChecksReversedAndBroadcastViews) {
  Var x = dvector("x");
  Var m = dmatrix("m");
  Var reversed = slice(x, {Slice(kNone, kNone, -1)});
  Function f = function({x, m}, {log(reversed) + m}, {.nan_guard = true});
  Tensor mv(std::vector<double>{0, 0, 0, 1, 1, 1}, {2, 3});
  EXPECT_TRUE(
      AllClose(f({Vec({1, 1, std::exp(2.0)}), mv})[0], {2, 0, 0, 3, 1, 1}));
  EXPECT_THAT(ErrorOf([&] { f({Vec({0, 1, 1}), mv}); }), HasSubstr("-inf"));
}

TEST(NanGuardTest, NaNAlreadyInTheInputIsNoError) {
  Var x = dvector("x");
  Var y = x * 2.0 + 1.0;
  Function f = function({x}, {y}, {.nan_guard = true});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor out = f({Vec({nan, 1})})[0];
  EXPECT_TRUE(std::isnan(out.data<double>()[0]));
  EXPECT_EQ(out.data<double>()[1], 3);
  const double inf = std::numeric_limits<double>::infinity();
  out = f({Vec({-inf, 1})})[0];
  EXPECT_EQ(out.data<double>()[0], -inf);
}

TEST(NanGuardTest, NaNInASharedVariableIsNoError) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  SharedVar w = shared(Vec({nan, 2}), "w");
  Var x = dvector("x");
  Function f = function({x}, {w * x}, {.nan_guard = true});
  Tensor out = f({Vec({1, 1})})[0];
  EXPECT_TRUE(std::isnan(out.data<double>()[0]));
}

TEST(NanGuardTest, AFailedCallLeavesSharedVariablesAsTheyWere) {
  SharedVar w = shared(Vec({1, 2}), "w");
  SharedVar steps = shared(Tensor::Scalar<double>(0), "steps");
  Var x = dvector("x");
  Function f = function(
      {x}, {sum(w)},
      {.updates = {{steps, steps + 1.0}, {w, w + log(x)}}, .nan_guard = true});
  EXPECT_THAT(ErrorOf([&] { f({Vec({1, 0})}); }), HasSubstr("-inf"));
  EXPECT_TRUE(AllClose(w.get_value(), {1, 2}));
  EXPECT_EQ(steps.get_value().item<double>(), 0);
  f({Vec({1, 1})});
  EXPECT_TRUE(AllClose(w.get_value(), {1, 2}));
  EXPECT_EQ(steps.get_value().item<double>(), 1);
}

TEST(NanGuardTest, IntegerOutputsAreNotChecked) {
  Var x = dvector("x");
  Function f = function({x}, {argmax(x, 0)}, {.nan_guard = true});
  EXPECT_EQ(f({Vec({1, 3, 2})})[0].item<int64_t>(), 1);
  EXPECT_EQ(f.stats().nan_guard_launches, 0) << f.DescribePlan();
}

TEST(NanGuardTest, OffByDefaultAndThenThePlanIsUnchanged) {
  Var x = dvector("x");
  Var y = sum(log(x) * 3.0);
  Function by_default = function({x}, {y});
  Function off = function({x}, {y}, {.nan_guard = false});
  Function on = function({x}, {y}, {.nan_guard = true});
  // Without the guard -inf flows through, as in Theano.
  EXPECT_EQ(by_default({Vec({0, 1})})[0].item<double>(),
            -std::numeric_limits<double>::infinity());
  off({Vec({1, 2})});
  on({Vec({1, 2})});
  EXPECT_EQ(by_default.stats().nan_guard_launches, 0);
  EXPECT_EQ(off.stats().nan_guard_launches, 0);
  EXPECT_EQ(by_default.stats().kernel_launches, off.stats().kernel_launches);
  EXPECT_EQ(by_default.DescribePlan(), off.DescribePlan());
  EXPECT_THAT(off.DescribePlan(), Not(HasSubstr("nan guard")));
  // The guard adds its own launches and nothing else.
  EXPECT_GT(on.stats().nan_guard_launches, 0);
  EXPECT_EQ(on.stats().kernel_launches,
            off.stats().kernel_launches + on.stats().nan_guard_launches)
      << on.DescribePlan();
  EXPECT_THAT(on.DescribePlan(), HasSubstr("nan guard: outputs of"));
  EXPECT_EQ(on.stats().arena_bytes > off.stats().arena_bytes, true);
}

// Sets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    setenv(name, value, 1);
  }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(NanGuardTest, EnvironmentTurnsItOnForEveryFunction) {
  Var x = dvector("x");
  Var y = log(x);
  {
    ScopedEnv env("THETA_NAN_GUARD", "1");
    Function f = function({x}, {y});
    EXPECT_THAT(ErrorOf([&] { f({Vec({0})}); }), HasSubstr("NaN guard"));
  }
  {
    ScopedEnv env("THETA_NAN_GUARD", "0");
    Function f = function({x}, {y});
    EXPECT_EQ(f({Vec({0})})[0].data<double>()[0],
              -std::numeric_limits<double>::infinity());
  }
  {
    ScopedEnv env("THETA_NAN_GUARD", "yes");
    EXPECT_THAT(ErrorOf([&] { function({x}, {y}); }),
                HasSubstr("THETA_NAN_GUARD is 'yes'; it must be 1"));
  }
}

TEST(NanGuardTest, ParsesTheEnvironment) {
  unsetenv("THETA_NAN_GUARD");
  EXPECT_EQ(*NanGuardFromEnvironment(), false);
  ScopedEnv env("THETA_NAN_GUARD", "1");
  EXPECT_EQ(*NanGuardFromEnvironment(), true);
  setenv("THETA_NAN_GUARD", "2", 1);
  EXPECT_FALSE(NanGuardFromEnvironment().ok());
}

}  // namespace
}  // namespace theta
