// Injected faults (backends/testing/faulty_plugin.h): a function whose
// backend fails an allocation, a kernel launch or a transfer raises an Error
// naming the failing call, leaks nothing, works again on the next call, and
// leaves every shared variable as it was (updates are all or nothing).
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "autodiff/grad.h"
#include "backends/registry.h"
#include "backends/testing/faulty_plugin.h"
#include "base/error.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "graph/shared.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"
#include "scan/scan.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;

std::string FaultyPath() {
  const char* root = std::getenv("TEST_SRCDIR");
  return std::string(root != nullptr ? root : ".") +
         "/theta/backends/testing/libtheta_faulty.so";
}

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<backends::Backend*> b = backends::GetBackend(FaultyPath());
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = *b;
    control_ =
        static_cast<const theta_faulty_control*>(backend_->api().get_extension(
            backend_->plugin(), kFaultyControlExtension));
    ASSERT_NE(control_, nullptr);
  }
  void TearDown() override { Disarm(); }

  void Disarm() {
    for (int kind = 0; kind < THETA_FAULT_KIND_COUNT; ++kind) {
      control_->fail_at(kind, 0);
    }
  }
  // Calls of `kind` that one run of `call` makes.
  template <typename Call>
  int64_t CallsOf(int kind, Call&& call) {
    const int64_t before = control_->calls(kind);
    call();
    return control_->calls(kind) - before;
  }
  // Runs `call` with the k-th call of `kind` failing; returns its error.
  template <typename Call>
  std::string FailingAt(int kind, int64_t k, Call&& call) {
    control_->fail_at(kind, k);
    std::string message = ErrorOf(call);
    Disarm();
    return message;
  }

  backends::Backend* backend_ = nullptr;
  const theta_faulty_control* control_ = nullptr;
};

Tensor Vec(std::vector<double> v) { return Tensor(v); }

std::vector<double> Values(const Tensor& t) {
  std::vector<double> values;
  for (int64_t i = 0; i < t.size(); ++i) values.push_back(t.GetAsDouble(i));
  return values;
}

TEST_F(FaultInjectionTest, EveryKernelFailureIsReportedAndTheNextCallWorks) {
  Var x = dvector("x");
  Var y = dvector("y");
  Var out = nnet::softmax(exp(x) * y + 1.0) * sum(x);
  Function f = function({x, y}, {out}, {.name = "f", .backend = FaultyPath()});
  Tensor xv = Vec({0.5, -1, 2});
  Tensor yv = Vec({1, 2, 3});
  const Tensor expected = f({xv, yv})[0];
  const int64_t kernels = CallsOf(THETA_FAULT_KERNEL, [&] { f({xv, yv}); });
  ASSERT_GE(kernels, 2);
  for (int64_t k = 1; k <= kernels; ++k) {
    const std::string message = FailingAt(THETA_FAULT_KERNEL, k, [&] {
      f({xv, yv});
    });
    EXPECT_THAT(message, HasSubstr("function 'f'")) << k;
    EXPECT_THAT(message, HasSubstr("injected failure of kernel launch")) << k;
    EXPECT_THAT(message, HasSubstr("fault_injection_test.cc:")) << message;
    EXPECT_TRUE(AllClose(f({xv, yv})[0], Values(expected))) << k;
  }
}

TEST_F(FaultInjectionTest, AllocationFailureWhilePlanningLeaksNothing) {
  Var x = dmatrix("x");
  Function f = function({x}, {dot(x, x) + 1.0}, {.name = "square"});
  Function g = function({x}, {dot(x, x) + 1.0},
                        {.name = "square", .backend = FaultyPath()});
  Tensor small = Tensor(std::vector<double>{1, 2, 3, 4}, {2, 2});
  Tensor large = Tensor(std::vector<double>(9, 1.0), {3, 3});
  g({small});
  // New shapes: the plan is built and allocates; each allocation fails once.
  Function counted =
      function({x}, {dot(x, x) + 1.0}, {.backend = FaultyPath()});
  const int64_t allocations =
      CallsOf(THETA_FAULT_ALLOCATION, [&] { counted({large}); });
  ASSERT_GE(allocations, 1);
  const backends::AllocationStats before = backend_->allocation_stats();
  for (int64_t k = 1; k <= allocations; ++k) {
    Function h = function({x}, {dot(x, x) + 1.0},
                          {.name = "h", .backend = FaultyPath()});
    const std::string message =
        FailingAt(THETA_FAULT_ALLOCATION, k, [&] { h({large}); });
    EXPECT_THAT(message, HasSubstr("function 'h'")) << k;
    EXPECT_THAT(message, HasSubstr("injected failure of allocation")) << k;
    EXPECT_TRUE(AllClose(h({large})[0], Values(f({large})[0]))) << k;
  }
  // Every function made in the loop is gone, with its buffers.
  EXPECT_EQ(backend_->allocation_stats().bytes_in_use, before.bytes_in_use);
  EXPECT_TRUE(AllClose(g({small})[0], Values(f({small})[0])));
}

// A shared variable that lives on another backend moves to the function's
// at its first call; when that fails, the variable keeps its value.
TEST_F(FaultInjectionTest, AFailedMoveBetweenBackendsKeepsTheValue) {
  SharedVar w = shared(Vec({1, 2, 3}), "w");
  Var x = dvector("x");
  Function on_cpu = function({x}, {w * x});
  on_cpu({Vec({1, 1, 1})});  // w now lives on the CPU plugin
  Function on_faulty =
      function({x}, {w + x}, {.name = "g", .backend = FaultyPath()});
  for (int kind : {THETA_FAULT_ALLOCATION, THETA_FAULT_TRANSFER}) {
    const std::string message = FailingAt(kind, 1, [&] {
      on_faulty({Vec({1, 1, 1})});
    });
    EXPECT_THAT(message, HasSubstr("injected failure")) << kind;
    if (kind == THETA_FAULT_ALLOCATION) {
      EXPECT_THAT(message, HasSubstr("shared variable 'w'"));
    }
    EXPECT_TRUE(AllClose(w.get_value(), {1, 2, 3})) << kind;
    EXPECT_TRUE(AllClose(on_cpu({Vec({2, 2, 2})})[0], {2, 4, 6})) << kind;
  }
  EXPECT_TRUE(AllClose(on_faulty({Vec({1, 1, 1})})[0], {2, 3, 4}));
  EXPECT_TRUE(AllClose(w.get_value(), {1, 2, 3}));
}

// A training step: outputs and several updates. Whatever call of the step
// fails, no shared variable changes; the next good call updates them all.
TEST_F(FaultInjectionTest, UpdatesAreAllOrNothing) {
  SharedVar w = shared(Tensor(std::vector<double>{1, 2, 3, 4}, {2, 2}), "w");
  SharedVar b = shared(Vec({0.5, -0.5}), "b");
  SharedVar steps = shared(Tensor::Scalar<double>(0), "steps");
  Var x = dmatrix("x");
  Var cost = sum(square(dot(x, w) + b));
  Var gw = 2.0 * dot(transpose(x), dot(x, w) + b);
  Var gb = 2.0 * sum(dot(x, w) + b, 0);
  Function step = function({x}, {cost},
                           {.updates = {{w, w - 0.01 * gw},
                                        {b, b - 0.01 * gb},
                                        {steps, steps + 1.0}},
                            .name = "step",
                            .backend = FaultyPath()});
  Tensor xv = Tensor(std::vector<double>{1, 0, 0.5, 2}, {2, 2});
  step({xv});  // plans
  const Tensor w0 = w.get_value();
  const Tensor b0 = b.get_value();
  const double steps0 = steps.get_value().item<double>();
  for (int kind : {THETA_FAULT_KERNEL, THETA_FAULT_TRANSFER}) {
    // Count on a copy of the values, then put them back.
    const int64_t calls = CallsOf(kind, [&] { step({xv}); });
    w.set_value(w0);
    b.set_value(b0);
    steps.set_value(Tensor::Scalar<double>(steps0));
    ASSERT_GE(calls, 1);
    for (int64_t k = 1; k <= calls; ++k) {
      const std::string message = FailingAt(kind, k, [&] { step({xv}); });
      EXPECT_THAT(message, HasSubstr("injected failure")) << kind << " " << k;
      EXPECT_TRUE(AllClose(w.get_value(), Values(w0))) << kind << " " << k;
      EXPECT_TRUE(AllClose(b.get_value(), Values(b0))) << kind << " " << k;
      EXPECT_EQ(steps.get_value().item<double>(), steps0) << kind << " " << k;
    }
  }
  // The next good call updates every variable once.
  Function reference = function({x}, {w - 0.01 * gw, b - 0.01 * gb});
  const std::vector<Tensor> want = reference({xv});
  step({xv});
  EXPECT_TRUE(AllClose(w.get_value(), Values(want[0])));
  EXPECT_TRUE(AllClose(b.get_value(), Values(want[1])));
  EXPECT_EQ(steps.get_value().item<double>(), steps0 + 1);
}

TEST_F(FaultInjectionTest, AFailureInALateScanStepNamesTheStep) {
  SharedVar total = shared(Tensor::Scalar<double>(0), "total");
  Var s = dvector("s");
  Var h0 = dscalar("h0");
  ScanResult r = scan(
      [](const std::vector<Var>& in) {
        return StepResult{{exp(in[0]) * 0.5 + in[1]}};
      },
      {.sequences = {s}, .outputs_info = {h0}});
  Var last = r.outputs[0](-1);
  Function f = function({s, h0}, {last},
                        {.updates = {{total, total + last}},
                         .name = "loop",
                         .backend = FaultyPath()});
  Tensor sv = Vec({0, 0.1, 0.2, 0.3, 0.4});
  Tensor h0v = Tensor::Scalar<double>(1);
  const double expected = f({sv, h0v})[0].item<double>();
  const double total0 = total.get_value().item<double>();
  const int64_t kernels = CallsOf(THETA_FAULT_KERNEL, [&] { f({sv, h0v}); });
  total.set_value(Tensor::Scalar<double>(total0));
  ASSERT_GE(kernels, 5);
  // The last kernel of the step loop: a late step.
  bool named_a_step = false;
  for (int64_t k = kernels; k >= 1 && !named_a_step; --k) {
    const std::string message = FailingAt(THETA_FAULT_KERNEL, k, [&] {
      f({sv, h0v});
    });
    EXPECT_THAT(message, HasSubstr("injected failure of kernel launch"));
    named_a_step = message.find("step 4") != std::string::npos;
    EXPECT_EQ(total.get_value().item<double>(), total0) << k;
  }
  EXPECT_TRUE(named_a_step);
  EXPECT_DOUBLE_EQ(f({sv, h0v})[0].item<double>(), expected);
  EXPECT_DOUBLE_EQ(total.get_value().item<double>(), total0 + expected);
}

TEST_F(FaultInjectionTest, AFailedPreparationOfALoopsWeightsReleasesAll) {
  // Two loop-invariant GEMM operands (U forward, U^T in the gradient's
  // loop), prepared when each loop starts: any kernel call failing, the
  // preparations among them, leaves no prepared operand behind.
  SharedVar u =
      shared(Tensor(std::vector<float>(16 * 16, 0.01f), {16, 16}), "U");
  Var x = ftensor3("x");
  Var h0 = fmatrix("h0");
  ScanResult r = scan(
      [](const std::vector<Var>& in) {
        return StepResult{{tanh(in[0] + dot(in[1], in[2]))}};
      },
      {.sequences = {x}, .outputs_info = {h0}, .non_sequences = {u}});
  Var cost = sum(r.outputs[0]);
  Function f = function({x, h0}, {cost, grad(cost, u)},
                        {.name = "rnn", .backend = FaultyPath()});
  Tensor xv(std::vector<float>(3 * 2 * 16, 0.5f), {3, 2, 16});
  Tensor h0v(std::vector<float>(2 * 16, 0.25f), {2, 16});
  const double expected = f({xv, h0v})[0].GetAsDouble(0);
  const int64_t kernels = CallsOf(THETA_FAULT_KERNEL, [&] { f({xv, h0v}); });
  const int64_t requests = backend_->prepared_operand_stats().requests;
  bool named_prepare = false;
  for (int64_t k = 1; k <= kernels; ++k) {
    const std::string message = FailingAt(THETA_FAULT_KERNEL, k, [&] {
      f({xv, h0v});
    });
    EXPECT_THAT(message, HasSubstr("injected failure of kernel launch"));
    named_prepare |= message.find("gemm_prepare") != std::string::npos;
    EXPECT_EQ(backend_->prepared_operand_stats().live, 0) << k;
  }
  EXPECT_TRUE(named_prepare);
  EXPECT_GE(requests, 2);
  EXPECT_FLOAT_EQ(f({xv, h0v})[0].GetAsDouble(0), expected);
}

}  // namespace
}  // namespace theta
