// Every point of scan/SEMANTICS.md, each checked against values
// computed here with a plain loop.
#include "scan/scan.h"

#include <cmath>

#include "autodiff/grad.h"
#include "compile/debugprint.h"
#include "gmock/gmock.h"
#include "graph/shared.h"
#include "graph/warning.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"
#include "scan/scan_op.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::Run1;

using Args = std::vector<Var>;

Tensor Vec(std::vector<double> v) { return Tensor(v); }
Tensor Scalar(double v) { return Tensor::Scalar<double>(v); }

TEST(ScanSemantics, BareSequenceHasTapZeroAndBareInitialHasTapMinusOne) {
  Var s = dvector("s");
  Var x0 = dscalar("x0");
  ScanResult r =
      scan([](const Args& in) { return StepResult{{in[0] * 10.0 + in[1]}}; },
           {.sequences = {s}, .outputs_info = {x0}});
  // fn(s[t], x[t-1]); x_t = 10 s_t + x_{t-1}
  EXPECT_TRUE(AllClose(Run1({s, x0}, r.outputs[0], {Vec({1, 2, 3}), Scalar(5)}),
                       {15, 35, 65}));
}

TEST(ScanSemantics, ExplicitTapMinusOneTakesOneStepInitialLikeBare) {
  // Theano's dict(initial=h0, taps=[-1]) is the same loop as a bare h0: the
  // initial value has the step's shape, not a time axis.
  Var u = dmatrix("u");
  Var h0 = dvector("h0");
  auto step = [](const Args& in) {  // fn(u[t], h[t-1])
    return StepResult{{in[1] * 0.5 + in[0]}};
  };
  ScanResult tapped =
      scan(step, {.sequences = {u}, .outputs_info = {OutputInfo(h0, {-1})}});
  ScanResult bare = scan(step, {.sequences = {u}, .outputs_info = {h0}});
  Tensor u_value({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {3, 2});
  Tensor h0_value = Vec({10, 20});
  // h_0 = (5 + 1, 10 + 2), h_1 = (3 + 3, 6 + 4), h_2 = (3 + 5, 5 + 6).
  EXPECT_TRUE(AllClose(Run1({u, h0}, tapped.outputs[0], {u_value, h0_value}),
                       {6, 12, 6, 10, 8, 11}));
  EXPECT_TRUE(AllClose(Run1({u, h0}, bare.outputs[0], {u_value, h0_value}),
                       {6, 12, 6, 10, 8, 11}));
  // The gradient with respect to the initial value has its shape: 0.5^3.
  Var g = grad(sum(tapped.outputs[0]), h0);
  EXPECT_TRUE(AllClose(Run1({u, h0}, g, {u_value, h0_value}), {0.875, 0.875}));
  // A rank mismatch says that a single tap takes one step.
  EXPECT_THAT(ErrorOf([&] {
                scan([](const Args& in) { return StepResult{{sum(in[0])}}; },
                     {.outputs_info = {OutputInfo(h0, {-1})}, .n_steps = 2});
              }),
              HasSubstr("output 0 ('h0'): the initial value has rank 1 but fn "
                        "returns rank 0 for this output (with the single tap "
                        "[-1] the initial value is one step"));
}

TEST(ScanSemantics, MultiTapInitialRowsAreStatesBeforeTimeZero) {
  // Fibonacci: x_t = x_{t-1} + x_{t-2}; init row 0 = x_{-2}, row 1 = x_{-1}.
  Var init = dvector("init");
  ScanResult r =
      scan([](const Args& in) { return StepResult{{in[0] + in[1]}}; },
           {.outputs_info = {OutputInfo(init, {-2, -1})}, .n_steps = 6});
  // fn(x[t-2], x[t-1]).
  EXPECT_TRUE(
      AllClose(Run1({init}, r.outputs[0], {Vec({0, 1})}), {1, 2, 3, 5, 8, 13}));
}

TEST(ScanSemantics, TapsArePassedInListedOrder) {
  Var init = dvector("init");
  // x_t = 10 * x[t-1] - x[t-3], taps listed [-1, -3].
  ScanResult r =
      scan([](const Args& in) { return StepResult{{in[0] * 10.0 - in[1]}}; },
           {.outputs_info = {OutputInfo(init, {-1, -3})}, .n_steps = 3});
  // x_{-3} = 1, x_{-2} = 2, x_{-1} = 3.
  // x0 = 30 - 1 = 29; x1 = 290 - 2 = 288; x2 = 2880 - 3 = 2877.
  EXPECT_TRUE(
      AllClose(Run1({init}, r.outputs[0], {Vec({1, 2, 3})}), {29, 288, 2877}));
}

TEST(ScanSemantics, MapOutputGetsNoArgument) {
  Var s = dvector("s");
  int args_seen = -1;
  ScanResult r = scan(
      [&](const Args& in) {
        args_seen = static_cast<int>(in.size());
        return StepResult{{square(in[0])}};
      },
      {.sequences = {s}, .outputs_info = {OutputInfo::None()}});
  EXPECT_EQ(args_seen, 1);
  EXPECT_TRUE(AllClose(Run1({s}, r.outputs[0], {Vec({1, 2, 3})}), {1, 4, 9}));
}

TEST(ScanSemantics, InitialValueWithEmptyTapsIsNotFedBackAndWarns) {
  Var s = dvector("s");
  Var x0 = dscalar("x0");
  int args_seen = -1;
  ::testing::internal::CaptureStderr();
  ScanResult r = scan(
      [&](const Args& in) {
        args_seen = static_cast<int>(in.size());
        return StepResult{{in[0] * 2.0}};
      },
      {.sequences = {s}, .outputs_info = {OutputInfo(x0, {})}});
  std::string warning = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(args_seen, 1);
  EXPECT_THAT(warning, HasSubstr("initial value is unused"));
  EXPECT_TRUE(AllClose(Run1({s}, r.outputs[0], {Vec({1, 2})}), {2, 4}));
  // A program's warning handler receives it instead of stderr.
  std::vector<std::string> seen;
  {
    ScopedWarningHandler capture(
        [&](std::string_view message) { seen.emplace_back(message); });
    ::testing::internal::CaptureStderr();
    scan([](const Args& in) { return StepResult{{in[0] * 2.0}}; },
         {.sequences = {s}, .outputs_info = {OutputInfo(x0, {})}});
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_THAT(seen[0], HasSubstr("scan: output 0 ('x0') has an initial value "
                                 "but no taps; it is not fed back and the "
                                 "initial value is unused"));
}

TEST(ScanSemantics, GeneralFormArgumentOrderAndSteps) {
  Var s1 = dvector("S1"), s2 = dvector("S2"), s3 = dvector("S3");
  Var o1 = dvector("O1"), o3 = dscalar("O3");
  Var a1 = dscalar("A1"), a2 = dscalar("A2");
  std::vector<std::string> names;
  ScanResult r = scan(
      [&](const Args& in) {
        for (const Var& v : in) names.push_back(v.name());
        // fn(S1[t-3], S1[t+2], S1[t-1], S2[t], S3[t+3], y1[t-3], y1[t-5],
        //    y3[t-1], A1, A2)
        Var y1 =
            in[0] + in[1] * 10.0 + in[2] * 100.0 + in[5] * 0.5 + in[6] * 0.25;
        Var y2 = in[3] + in[4] + in[8];
        Var y3 = in[7] + in[9];
        return StepResult{{y1, y2, y3}};
      },
      {.sequences = {Sequence(s1, {-3, 2, -1}), s2, Sequence(s3, {3})},
       .outputs_info = {OutputInfo(o1, {-3, -5}), OutputInfo::None(), o3},
       .non_sequences = {a1, a2}});
  ASSERT_EQ(names.size(), 10u);
  EXPECT_EQ(names[0], "S1[t-3]");
  EXPECT_EQ(names[1], "S1[t+2]");
  EXPECT_EQ(names[2], "S1[t-1]");
  EXPECT_EQ(names[3], "S2[t]");
  EXPECT_EQ(names[4], "S3[t+3]");
  EXPECT_EQ(names[5], "O1[t-3]");
  EXPECT_EQ(names[6], "O1[t-5]");
  EXPECT_EQ(names[7], "O3[t-1]");
  EXPECT_EQ(names[8], "A1");
  EXPECT_EQ(names[9], "A2");
  std::vector<double> v1(12), v2(10), v3(11), init1 = {1, 2, 3, 4, 5};
  for (int i = 0; i < 12; ++i) v1[i] = i + 1;
  for (int i = 0; i < 10; ++i) v2[i] = 100 * (i + 1);
  for (int i = 0; i < 11; ++i) v3[i] = 1000 * (i + 1);
  std::vector<Tensor> outs =
      testing::Run({s1, s2, s3, o1, o3, a1, a2}, r.outputs,
                   {Vec(v1), Vec(v2), Vec(v3), Vec(init1), Scalar(7),
                    Scalar(0.5), Scalar(2)});
  // N = min(12 - 5, 10, 11 - 3) = 7.
  const int n = 7;
  ASSERT_EQ(outs[0].size(), n);
  // Reference loop. S1's taps [-3, 2, -1]: lo = -3, so tap k reads row t+k+3.
  std::vector<double> y1(init1.begin(), init1.end());  // y1[-5..-1]
  std::vector<double> e1, e2, e3;
  double y3 = 7;
  for (int t = 0; t < n; ++t) {
    auto y1_at = [&](int time) { return y1[time + 5]; };
    double v = v1[t] + v1[t + 5] * 10 + v1[t + 2] * 100 + y1_at(t - 3) * 0.5 +
               y1_at(t - 5) * 0.25;
    y1.push_back(v);
    e1.push_back(v);
    e2.push_back(v2[t] + v3[t + 3] + 0.5);
    y3 = y3 + 2;
    e3.push_back(y3);
  }
  EXPECT_TRUE(AllClose(outs[0], e1, 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(outs[1], e2));
  EXPECT_TRUE(AllClose(outs[2], e3));
}

// The rows each tap pattern reads from [1..5].
std::vector<double> Reads(std::vector<int> taps, bool backwards = false,
                          std::optional<int64_t> n_steps = std::nullopt) {
  Var s = dvector("s");
  ScanOptions options{.sequences = {Sequence(s, taps)},
                      .go_backwards = backwards};
  if (n_steps) options.n_steps = *n_steps;
  ScanResult r = scan(
      [](const Args& in) {
        Var v = in[0];
        for (size_t i = 1; i < in.size(); ++i) v = v * 100.0 + in[i];
        return StepResult{{v}};
      },
      options);
  return testing::Values(Run1({s}, r.outputs[0], {Vec({1, 2, 3, 4, 5})}));
}

TEST(ScanSemantics, SequenceTapsReadTheDocumentedRows) {
  EXPECT_EQ(Reads({2}), (std::vector<double>{3, 4, 5}));
  EXPECT_EQ(Reads({-2}), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(Reads({-1, 1}), (std::vector<double>{103, 204, 305}));
  // Too short for its taps: zero steps, not an error.
  EXPECT_TRUE(Reads({-5, 1}).empty());
}

TEST(ScanSemantics, ShortestSequenceDecidesTheSteps) {
  Var a = dvector("a"), b = dvector("b");
  ScanResult r =
      scan([](const Args& in) { return StepResult{{in[0] + in[1]}}; },
           {.sequences = {a, b}});
  EXPECT_TRUE(AllClose(
      Run1({a, b}, r.outputs[0], {Vec({1, 2, 3, 4, 5}), Vec({10, 20, 30})}),
      {11, 22, 33}));
}

TEST(ScanSemantics, NStepsCutsSequencesAndKeepsTheTimeAxis) {
  EXPECT_EQ(Reads({0}, false, 2), (std::vector<double>{1, 2}));
  Var s = dvector("s");
  for (int64_t n : {int64_t{0}, int64_t{1}}) {
    ScanResult r =
        scan([](const Args& in) { return StepResult{{in[0] * 2.0}}; },
             {.sequences = {s}, .n_steps = n});
    Tensor out = Run1({s}, r.outputs[0], {Vec({1, 2, 3})});
    EXPECT_EQ(out.dims(), Dims({n})) << "n_steps " << n;
  }
  Var m = dmatrix("m");
  ScanResult zero = scan([](const Args& in) { return StepResult{{in[0]}}; },
                         {.sequences = {m}, .n_steps = 0});
  EXPECT_EQ(
      Run1({m}, zero.outputs[0], {Tensor(DType::kFloat64, {4, 3})}).dims(),
      Dims({0, 3}));
}

TEST(ScanSemantics, SymbolicNSteps) {
  Var n = lscalar("n");
  Var x0 = dscalar("x0");
  ScanResult r = scan([](const Args& in) { return StepResult{{in[0] * 2.0}}; },
                      {.outputs_info = {x0}, .n_steps = n});
  Function f = function({n, x0}, {r.outputs[0]});
  EXPECT_TRUE(
      AllClose(f({Tensor::Scalar<int64_t>(4), Scalar(1)})[0], {2, 4, 8, 16}));
  EXPECT_TRUE(AllClose(f({Tensor::Scalar<int64_t>(2), Scalar(3)})[0], {6, 12}));
  EXPECT_THAT(ErrorOf([&] {
                f({Tensor::Scalar<int64_t>(-1), Scalar(1)});
              }),
              HasSubstr("n_steps is -1; it must not be negative"));
}

TEST(ScanSemantics, SequenceTooShortForNStepsIsARunTimeError) {
  Var s = dvector("s");
  Var n = lscalar("n");
  ScanResult r = scan([](const Args& in) { return StepResult{{in[0]}}; },
                      {.sequences = {Sequence(s, {-1, 1})}, .n_steps = n});
  Function f = function({s, n}, {r.outputs[0]});
  std::string message = ErrorOf([&] {
    f({Vec({1, 2, 3, 4}), Tensor::Scalar<int64_t>(3)});
  });
  EXPECT_THAT(message, HasSubstr("sequence 0 ('s') has 4 rows"));
  EXPECT_THAT(message, HasSubstr("3 steps with taps [-1, 1] need 5"));
}

TEST(ScanSemantics, GoBackwardsReadsFromTheEndKeepingTapMeaning) {
  EXPECT_EQ(Reads({-1, 1}, true), (std::vector<double>{305, 204, 103}));
  EXPECT_EQ(Reads({0}, true, 2), (std::vector<double>{5, 4}));
  Var s = dvector("s");
  Var x0 = dscalar("x0");
  ScanResult r =
      scan([](const Args& in) { return StepResult{{in[1] * 10.0 + in[0]}}; },
           {.sequences = {s}, .outputs_info = {x0}, .go_backwards = true});
  EXPECT_TRUE(
      AllClose(Run1({s, x0}, r.outputs[0], {Vec({1, 2, 3, 4, 5}), Scalar(0)}),
               {5, 54, 543, 5432, 54321}));
}

TEST(ScanSemantics, MatrixStatesAndNonSequences) {
  Var a = dmatrix("A");
  Var b = dvector("b");
  Var x0 = dvector("x0");
  ScanResult r = scan(
      [](const Args& in) {
        return StepResult{{tanh(dot(in[1], in[0]) + in[2])}};
      },
      {.outputs_info = {x0}, .non_sequences = {a, b}, .n_steps = 4});
  Tensor av = testing::Random(DType::kFloat64, {3, 3}, 1);
  Tensor bv = testing::Random(DType::kFloat64, {3}, 2);
  Tensor xv = testing::Random(DType::kFloat64, {3}, 3);
  std::vector<double> x = testing::Values(xv), expected;
  for (int t = 0; t < 4; ++t) {
    std::vector<double> next(3);
    for (int i = 0; i < 3; ++i) {
      double s = bv.GetAsDouble(i);
      for (int j = 0; j < 3; ++j) s += av.GetAsDouble(i * 3 + j) * x[j];
      next[i] = std::tanh(s);
    }
    x = next;
    expected.insert(expected.end(), x.begin(), x.end());
  }
  Tensor out = Run1({a, b, x0}, r.outputs[0], {av, bv, xv});
  EXPECT_EQ(out.dims(), Dims({4, 3}));
  EXPECT_TRUE(AllClose(out, expected, 1e-12, 1e-12));
}

TEST(ScanSemantics, SharedVariablesImplicitAndUpdated) {
  SharedVar scale = shared(Scalar(3), "scale");
  SharedVar count = shared(Scalar(0), "count");
  Var s = dvector("s");
  ScanResult r = scan(
      [&](const Args& in) {
        // `scale` is used without being passed: an implicit non-sequence.
        return StepResult({in[0] * scale}, {{count, count + 1.0}});
      },
      {.sequences = {s}});
  ASSERT_EQ(r.updates.size(), 1u);
  Function f = function({s}, {r.outputs[0]}, {.updates = r.updates});
  EXPECT_TRUE(AllClose(f({Vec({1, 2, 3})})[0], {3, 6, 9}));
  EXPECT_DOUBLE_EQ(count.get_value().item<double>(), 3);
  f({Vec({1, 2})});
  EXPECT_DOUBLE_EQ(count.get_value().item<double>(), 5);
  std::string strict = ErrorOf([&] {
    scan([&](const Args& in) { return StepResult{{in[0] * scale}}; },
         {.sequences = {s}, .strict = true});
  });
  EXPECT_THAT(strict, HasSubstr("shared variable 'scale'"));
  EXPECT_THAT(strict, HasSubstr("strict"));
}

TEST(ScanSemantics, LoopInvariantWorkIsHoisted) {
  Var w = dmatrix("W");
  Var s = dmatrix("s");
  ScanResult r = scan(
      [&](const Args& in) { return StepResult{{dot(in[0], exp(w) * 2.0)}}; },
      {.sequences = {s}});
  const Node* node = r.outputs[0].owner();
  ASSERT_NE(node, nullptr);
  // exp(W) * 2 is computed once outside: the body has no exp.
  std::string body = debugprint(std::span<const Var>(
      static_cast<const Scan&>(node->op()).spec().inner_outputs));
  EXPECT_THAT(body, ::testing::Not(HasSubstr("exp")));
}

TEST(ScanSemantics, TruncateGradientExample) {
  Var u = dvector("u");
  Var x0 = dscalar("x0");
  ScanResult r =
      scan([](const Args& in) { return StepResult{{in[1] * 0.9 + in[0]}}; },
           {.sequences = {u}, .outputs_info = {x0}, .truncate_gradient = 2});
  Var loss = sum(r.outputs[0]);
  std::vector<Var> g = grad(loss, {u, x0});
  std::vector<Tensor> out =
      testing::Run({u, x0}, g, {Vec({1, 2, 3, 4, 5}), Scalar(0.5)});
  EXPECT_TRUE(AllClose(out[0], {0, 0, 0, 1.9, 1}, 1e-12, 1e-12));
  EXPECT_DOUBLE_EQ(out[1].item<double>(), 0);
}

TEST(ScanSemantics, UntilStopsTheLoopAndOutputsHaveTheStepsRun) {
  // Doubles x until it exceeds a limit; at most 10 steps.
  Var x0 = dscalar("x0");
  Var limit = dscalar("limit");
  ScanResult r = scan(
      [&](const Args& in) {
        Var next = in[0] * 2.0;
        return StepResult({next}, {}, next > in[1]);
      },
      {.outputs_info = {x0}, .non_sequences = {limit}, .n_steps = 10});
  Function f = function({x0, limit}, {r.outputs[0]});
  EXPECT_TRUE(AllClose(f({Scalar(1), Scalar(10)})[0], {2, 4, 8, 16}));
  EXPECT_TRUE(AllClose(f({Scalar(1), Scalar(3)})[0], {2, 4}));
  EXPECT_TRUE(AllClose(f({Scalar(1), Scalar(3)})[0], {2, 4}));
  // Never true: all 10 steps.
  EXPECT_EQ(f({Scalar(1), Scalar(1e9)})[0].size(), 10);
  // Rows used further on.
  Function g = function({x0, limit}, {sum(r.outputs[0])});
  EXPECT_DOUBLE_EQ(g({Scalar(1), Scalar(10)})[0].item<double>(), 30);
  EXPECT_THAT(ErrorOf([&] {
                scan(
                    [&](const Args& in) {
                      return StepResult({in[0]}, {}, in[0] * 1.0);
                    },
                    {.outputs_info = {x0}, .n_steps = 3});
              }),
              HasSubstr("until must be a bool or integer scalar"));
}

TEST(ScanSemantics, ConstructionErrorsNameTheOutput) {
  Var x0 = dscalar("x0");
  Var init = dvector("init");
  Var s = dvector("s");
  auto body = [](const Args& in) { return StepResult{{in[0] * 1.0}}; };
  EXPECT_THAT(ErrorOf([&] { scan(body, {.outputs_info = {x0}}); }),
              HasSubstr("give sequences or n_steps"));
  EXPECT_THAT(ErrorOf([&] {
                scan(body,
                     {.outputs_info = {OutputInfo(init, {0})}, .n_steps = 2});
              }),
              HasSubstr("output 0 ('init'): tap 0 is not negative"));
  EXPECT_THAT(ErrorOf([&] {
                scan(body, {.outputs_info = {OutputInfo(init, {-1, -1})},
                            .n_steps = 2});
              }),
              HasSubstr("tap -1 is repeated"));
  EXPECT_THAT(ErrorOf([&] {
                scan(body,
                     {.outputs_info = {OutputInfo(Var(), {-1})}, .n_steps = 2});
              }),
              HasSubstr("has taps [-1] but no initial value"));
  // Rank: a single tap needs the step's rank; several taps one more.
  EXPECT_THAT(ErrorOf([&] {
                scan([](const Args& in) { return StepResult{{sum(in[0])}}; },
                     {.outputs_info = {init}, .n_steps = 2});
              }),
              HasSubstr("the initial value has rank 1"));
  EXPECT_THAT(ErrorOf([&] {
                scan(
                    [](const Args& in) { return StepResult{{in[0] + in[1]}}; },
                    {.outputs_info = {OutputInfo(x0, {-2, -1})}, .n_steps = 2});
              }),
              HasSubstr("needs a leading time axis"));
  // Dtype: an upcast in fn is the usual cause.
  Var f0 = fscalar("f0");
  std::string dtype = ErrorOf([&] {
    scan([](const Args& in) { return StepResult{{in[0] * dscalar("d")}}; },
         {.outputs_info = {f0}, .n_steps = 2});
  });
  EXPECT_THAT(
      dtype, HasSubstr("output 0 ('f0'): the initial value has dtype float32"));
  EXPECT_THAT(dtype, HasSubstr("upcast"));
  EXPECT_THAT(ErrorOf([&] {
                scan(
                    [](const Args& in) {
                      return StepResult{{in[0], in[0]}};
                    },
                    {.outputs_info = {x0}, .n_steps = 2});
              }),
              HasSubstr("fn returned 2 outputs but outputs_info has 1 entry"));
  EXPECT_THAT(
      ErrorOf([&] { scan(body, {.sequences = {s}, .n_steps = dvector("v")}); }),
      HasSubstr("n_steps must be an integer scalar"));
  EXPECT_THAT(ErrorOf([&] { scan(body, {.sequences = {s}, .n_steps = -2}); }),
              HasSubstr("n_steps is -2; it must not be negative"));
  EXPECT_THAT(ErrorOf([&] {
                scan(body, {.outputs_info = {OutputInfo(
                                tensor(DType::kFloat64, {1}), {-2, -1})},
                            .n_steps = 2});
              }),
              HasSubstr("need m = 2 rows of initial value; 1 was given"));
  // Errors carry where the scan was built.
  EXPECT_THAT(ErrorOf([&] { scan(body, {.outputs_info = {x0}}); }),
              HasSubstr("scan_test.cc:"));
}

TEST(ScanSemantics, RunTimeErrorsForShortInitialValuesAndChangingStates) {
  Var init = dvector("init");
  ScanResult r =
      scan([](const Args& in) { return StepResult{{in[0] + in[1]}}; },
           {.outputs_info = {OutputInfo(init, {-3, -1})}, .n_steps = 2});
  Function f = function({init}, {r.outputs[0]});
  EXPECT_THAT(
      ErrorOf([&] {
        f({Vec({1, 2})});
      }),
      HasSubstr("the initial value has 2 rows but taps [-3, -1] need m = 3"));
  Var v0 = dvector("v0");
  ScanResult grow = scan(
      [](const Args& in) {
        return StepResult{{concatenate({in[0], in[0]})}};
      },
      {.outputs_info = {v0}, .n_steps = 2});
  Function g = function({v0}, {grow.outputs[0]});
  std::string message = ErrorOf([&] { g({Vec({1, 2})}); });
  EXPECT_THAT(message, HasSubstr("state has shape (2,)"));
  EXPECT_THAT(message, HasSubstr("fn returned shape (4,)"));
}

Var DecayStep(Var u_t, Var h_prev) { return h_prev * 0.5 + u_t; }

TEST(ScanCallable, NamedVarParametersInFnOrder) {
  Var u = dvector("u");
  Var h0 = dscalar("h0");
  Var w = dscalar("w");
  // h_t = w h_{t-1} + u_t: fn(u[t], h[t-1], w).
  ScanResult r =
      scan([](Var u_t, Var h_prev, Var w) { return h_prev * w + u_t; },
           {.sequences = {u}, .outputs_info = {h0}, .non_sequences = {w}});
  EXPECT_TRUE(AllClose(
      Run1({u, h0, w}, r.outputs[0], {Vec({1, 2, 3}), Scalar(10), Scalar(2)}),
      {21, 44, 91}));
  // const Var& parameters and a plain function work too.
  ScanResult by_ref =
      scan([](const Var& u_t, const Var& h_prev) { return h_prev * 0.5 + u_t; },
           {.sequences = {u}, .outputs_info = {h0}});
  ScanResult by_function =
      scan(DecayStep, {.sequences = {u}, .outputs_info = {h0}});
  for (const Var& out : {by_ref.outputs[0], by_function.outputs[0]}) {
    // 0.5 * 10 + 1 = 6, 3 + 2 = 5, 2.5 + 3 = 5.5.
    EXPECT_TRUE(AllClose(Run1({u, h0}, out, {Vec({1, 2, 3}), Scalar(10)}),
                         {6, 5, 5.5}));
  }
}

TEST(ScanCallable, SeveralOutputsAsABracedListOrAVector) {
  Var u = dvector("u");
  Var a0 = dscalar("a0");
  // a_t = a_{t-1} + u_t (fed back); b_t = 2 a_t (a map output).
  ScanResult braced = scan(
      [](Var u_t, Var a_prev) -> StepResult {
        Var a = a_prev + u_t;
        return {a, a * 2.0};
      },
      {.sequences = {u}, .outputs_info = {a0, OutputInfo::None()}});
  ScanResult vector = scan(
      [](Var u_t, Var a_prev) {
        Var a = a_prev + u_t;
        return std::vector<Var>{a, a * 2.0};
      },
      {.sequences = {u}, .outputs_info = {a0, OutputInfo::None()}});
  for (const ScanResult* r : {&braced, &vector}) {
    std::vector<Tensor> outs =
        testing::Run({u, a0}, r->outputs, {Vec({1, 2, 3}), Scalar(1)});
    EXPECT_TRUE(AllClose(outs[0], {2, 4, 7}));
    EXPECT_TRUE(AllClose(outs[1], {4, 8, 14}));
  }
}

TEST(ScanCallable, ParameterCountMustMatchTheArguments) {
  Var u = dvector("u");
  Var h0 = dscalar("h0");
  Var w = dscalar("w");
  std::string fewer = ErrorOf([&] {
    scan([](Var u_t, Var h_prev) { return h_prev + u_t; },
         {.sequences = {u}, .outputs_info = {h0}, .non_sequences = {w}});
  });
  EXPECT_THAT(fewer, HasSubstr("fn has 2 parameters but scan passes it 3 "
                               "arguments (u[t], h0[t-1], w)"));
  EXPECT_THAT(fewer, HasSubstr("scan_test.cc:"));
  EXPECT_THAT(ErrorOf([&] {
                scan([](Var u_t, Var h_prev) { return h_prev + u_t; },
                     {.outputs_info = {h0}, .n_steps = 3});
              }),
              HasSubstr("fn has 2 parameters but scan passes it 1 argument "
                        "(h0[t-1])"));
}

}  // namespace
}  // namespace theta
