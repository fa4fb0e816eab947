#include "optim/schedule.h"

#include <cmath>
#include <numbers>

#include "gtest/gtest.h"
#include "ops/test_util.h"
#include "optim/sgd.h"
#include "optim/test_problem.h"

namespace theta::optim {
namespace {

using testing::UnitGradientProblem;
using theta::testing::ErrorOf;

TEST(ScheduleTest, StepDecay) {
  ScheduleFn f = step_decay(0.1, 3, 0.5);
  EXPECT_DOUBLE_EQ(f(0), 0.1);
  EXPECT_DOUBLE_EQ(f(2), 0.1);
  EXPECT_DOUBLE_EQ(f(3), 0.05);
  EXPECT_DOUBLE_EQ(f(7), 0.025);
}

TEST(ScheduleTest, ExponentialDecay) {
  ScheduleFn f = exponential_decay(2.0, 0.9);
  EXPECT_DOUBLE_EQ(f(0), 2.0);
  EXPECT_DOUBLE_EQ(f(3), 2.0 * 0.9 * 0.9 * 0.9);
}

TEST(ScheduleTest, CosineDecay) {
  ScheduleFn f = cosine_decay(1.0, 10, 0.1);
  EXPECT_DOUBLE_EQ(f(0), 1.0);
  EXPECT_DOUBLE_EQ(f(5), 0.1 + 0.9 * 0.5);
  EXPECT_NEAR(f(2), 0.1 + 0.9 * (1 + std::cos(std::numbers::pi * 0.2)) / 2,
              1e-15);
  EXPECT_DOUBLE_EQ(f(10), 0.1);
  EXPECT_DOUBLE_EQ(f(50), 0.1);
}

TEST(ScheduleTest, LinearWarmupThenCosine) {
  ScheduleFn f = linear_warmup(4, cosine_decay(0.8, 10));
  EXPECT_DOUBLE_EQ(f(0), 0.2);
  EXPECT_DOUBLE_EQ(f(1), 0.4);
  EXPECT_DOUBLE_EQ(f(3), 0.8);
  EXPECT_DOUBLE_EQ(f(4), 0.8);
  EXPECT_DOUBLE_EQ(f(9), 0.4);
  EXPECT_NEAR(f(14), 0.0, 1e-15);
}

// One compiled SGD step follows the schedule the loop advances.
TEST(ScheduleTest, AdvancesASharedRateWithoutRecompiling) {
  Schedule lr(step_decay(0.5, 2, 0.1), "lr");
  Sgd sgd({.lr = lr.var()});
  UnitGradientProblem problem(sgd, 1.0);  // each step subtracts the rate
  double expected = 1.0;
  for (int64_t step = 0; step < 5; ++step) {
    lr.advance(step);
    EXPECT_DOUBLE_EQ(lr.value(), lr.value_at(step));
    expected -= lr.value_at(step);
    EXPECT_NEAR(problem.Step(), expected, 1e-15) << step;
  }
  EXPECT_EQ(problem.step_function().stats().plans_built, 1);
  EXPECT_NEAR(expected, 1.0 - 0.5 - 0.5 - 0.05 - 0.05 - 0.005, 1e-15);
}

TEST(ScheduleTest, Float32Rate) {
  Schedule lr(constant_rate(0.25), "lr32", DType::kFloat32);
  EXPECT_EQ(lr.var().dtype(), DType::kFloat32);
  lr.advance(3);
  EXPECT_EQ(lr.var().get_value().GetAsDouble(0), 0.25);
}

TEST(ScheduleTest, Errors) {
  EXPECT_EQ(ErrorOf([] { step_decay(0.1, 0, 0.5); }),
            "step_decay: step_size must be > 0, got 0");
  EXPECT_EQ(ErrorOf([] { exponential_decay(-0.1, 0.5); }),
            "exponential_decay: lr must be finite and >= 0, got -0.1");
  EXPECT_EQ(ErrorOf([] { cosine_decay(0.1, -3); }),
            "cosine_decay: total_steps must be > 0, got -3");
  EXPECT_EQ(ErrorOf([] { linear_warmup(0, constant_rate(1)); }),
            "linear_warmup: warmup_steps must be > 0, got 0");
  Schedule lr(constant_rate(0.1), "lr");
  EXPECT_EQ(ErrorOf([&] { lr.advance(-1); }),
            "Schedule 'lr': step must be >= 0, got -1");
  Schedule blowup([](int64_t step) { return step == 2 ? INFINITY : 1.0; },
                  "blowup");
  EXPECT_EQ(ErrorOf([&] { blowup.advance(2); }),
            "Schedule 'blowup': the rate at step 2 is inf");
}

}  // namespace
}  // namespace theta::optim
