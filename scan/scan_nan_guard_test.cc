// The NaN guard (compile/nan_guard.h) inside a loop: the body is guarded
// too, and the error names the step, the body's node and the line in the
// user's step function that built it.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"
#include "scan/scan.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;

using Args = std::vector<Var>;

int g_step_line = 0;

// h_t = h_{t-1} + log(s_t): -inf at the first s_t == 0.
ScanResult LogLoop(const Var& s, const Var& h0) {
  return scan(
      [](const Args& in) {
        g_step_line = __LINE__ + 1;
        Var step = log(in[0]);
        return StepResult{{in[1] + step}};
      },
      {.sequences = {s}, .outputs_info = {h0}, .name = "logloop"});
}

TEST(ScanNanGuardTest, ErrorNamesTheStepAndTheLineInTheStepFunction) {
  Var s = dvector("s");
  Var h0 = dscalar("h0");
  ScanResult r = LogLoop(s, h0);
  Function f =
      function({s, h0}, {r.outputs[0]}, {.name = "f", .nan_guard = true});
  const std::string message = ErrorOf([&] {
    f({Tensor(std::vector<double>{1, 2, 0, 3}), Tensor::Scalar<double>(0)});
  });
  EXPECT_THAT(message, HasSubstr("step 2"));
  EXPECT_THAT(message,
              HasSubstr(absl::StrCat("scan_nan_guard_test.cc:", g_step_line)));
  EXPECT_THAT(message, HasSubstr("holds -inf that none of its inputs held"));
  EXPECT_THAT(message, HasSubstr("function 'f'"));
  // Good input runs.
  EXPECT_TRUE(AllClose(
      f({Tensor(std::vector<double>{1, 1, 1}), Tensor::Scalar<double>(2)})[0],
      {2, 2, 2}));
}

TEST(ScanNanGuardTest, WithoutTheGuardTheLoopRunsThrough) {
  Var s = dvector("s");
  Var h0 = dscalar("h0");
  ScanResult r = LogLoop(s, h0);
  Function f = function({s, h0}, {r.outputs[0]});
  Tensor out =
      f({Tensor(std::vector<double>{1, 0, 1}), Tensor::Scalar<double>(0)})[0];
  EXPECT_EQ(out.data<double>()[0], 0);
  EXPECT_EQ(out.data<double>()[2], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(f.stats().nan_guard_launches, 0);
}

TEST(ScanNanGuardTest, AnInfinityCarriedInTheStateIsNoError) {
  // Once h holds -inf, later steps only pass it on: no new error.
  Var s = dvector("s");
  Var h0 = dscalar("h0");
  ScanResult r = LogLoop(s, h0);
  Function f = function({s, h0}, {r.outputs[0]}, {.nan_guard = true});
  const double inf = std::numeric_limits<double>::infinity();
  Tensor out = f(
      {Tensor(std::vector<double>{1, 2, 3}), Tensor::Scalar<double>(-inf)})[0];
  EXPECT_EQ(out.data<double>()[2], -inf);
}

}  // namespace
}  // namespace theta
