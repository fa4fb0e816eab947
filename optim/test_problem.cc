#include "optim/test_problem.h"

#include <cmath>

#include "compile/function.h"
#include "gtest/gtest.h"
#include "ops/ops.h"

namespace theta::optim::testing {

std::vector<double> HandGrad(const std::vector<double>& p) {
  std::vector<double> g(p.size());
  for (size_t i = 0; i < p.size(); ++i) g[i] = p[i] * p[i] * p[i] + kB[i];
  return g;
}

SharedVar SharedScalar(double value, const std::string& name) {
  return shared(Tensor::Scalar<double>(value), name);
}

void Set(const SharedVar& scalar, double value) {
  scalar.set_value(Tensor::Scalar<double>(value));
}

std::vector<std::vector<double>> Trajectory(
    Optimizer& opt, int steps, const std::function<void(int)>& before_step,
    const GradientOptions& options) {
  SharedVar p = shared(Tensor(kP0), "p");
  Var b = constant(Tensor(kB));
  Var cost = sum(pow(p, 4.0)) / 4.0 + sum(b * p);
  Function f =
      function({}, {cost}, {.updates = opt.minimize(cost, {p}, options)});
  std::vector<std::vector<double>> out;
  for (int k = 0; k < steps; ++k) {
    if (before_step) before_step(k);
    f({});
    out.push_back(p.get_value().to_vector<double>());
  }
  return out;
}

std::vector<Vector> HandTrajectory(int steps, const HandStep& step) {
  Vector p = kP0;
  std::vector<Vector> out;
  for (int k = 0; k < steps; ++k) {
    step(k, HandGrad(p), p);
    out.push_back(p);
  }
  return out;
}

void ExpectTrajectory(const std::vector<std::vector<double>>& actual,
                      const std::vector<std::vector<double>>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t k = 0; k < actual.size(); ++k) {
    ASSERT_EQ(actual[k].size(), expected[k].size());
    for (size_t i = 0; i < actual[k].size(); ++i) {
      EXPECT_NEAR(actual[k][i], expected[k][i],
                  1e-12 * std::max(1.0, std::abs(expected[k][i])))
          << "step " << k << ", element " << i;
    }
  }
}

UnitGradientProblem::UnitGradientProblem(Optimizer& opt, double p0)
    : p_(shared(Tensor(std::vector<double>{p0}), "p")) {
  Var cost = sum(p_);
  step_ = function({}, {cost}, {.updates = opt.minimize(cost, {p_})});
}

double UnitGradientProblem::Step() {
  step_({});
  return p_.get_value().GetAsDouble(0);
}

}  // namespace theta::optim::testing
