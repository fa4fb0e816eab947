// Shared by the optimizer tests: a small float64 problem whose gradient the
// tests compute by hand, a runner that records the parameter after each
// step of an optimizer's compiled update, the same loop for the hand-written
// reference, and a one-parameter problem of gradient 1.
//
//   cost(p) = sum(p^4) / 4 + sum(b * p),   d cost / dp = p^3 + b
//
//   Sgd sgd({.lr = 0.1});
//   ExpectTrajectory(Trajectory(sgd, 4, nullptr),
//                    HandTrajectory(4, [](int, const Vector& g, Vector& p) {
//                      for (size_t i = 0; i < 3; ++i) p[i] -= 0.1 * g[i];
//                    }));
#ifndef THETA_OPTIM_TEST_PROBLEM_H_
#define THETA_OPTIM_TEST_PROBLEM_H_

#include <functional>
#include <vector>

#include "compile/function.h"
#include "graph/shared.h"
#include "optim/optimizer.h"

namespace theta::optim::testing {

inline const std::vector<double> kP0 = {0.5, -1.2, 2.0};
inline const std::vector<double> kB = {0.3, -0.1, 0.7};

// p^3 + b, elementwise.
std::vector<double> HandGrad(const std::vector<double>& p);

// A float64 rank-0 shared variable holding `value`.
SharedVar SharedScalar(double value, const std::string& name);
void Set(const SharedVar& scalar, double value);

// Compiles one step of `opt` on the problem above (parameter "p" from kP0)
// and runs `steps` of them, calling before_step(k) before step k; returns
// the parameter after each step.
std::vector<std::vector<double>> Trajectory(
    Optimizer& opt, int steps, const std::function<void(int)>& before_step,
    const GradientOptions& options = {});

using Vector = std::vector<double>;

// One step of a hand-written optimizer: changes p given g = HandGrad(p) at
// step k (from 0); its state (moments, accumulators) lives in its captures.
using HandStep = std::function<void(int k, const Vector& g, Vector& p)>;

// The parameter after each of `steps` hand-written steps from kP0.
std::vector<Vector> HandTrajectory(int steps, const HandStep& step);

// Expects every element of `actual` within 1e-12 (relative) of `expected`.
void ExpectTrajectory(const std::vector<std::vector<double>>& actual,
                      const std::vector<std::vector<double>>& expected);

// cost = sum(p) for a float64 parameter "p" = {p0}: its gradient is 1, so a
// step of SGD with rate lr subtracts lr. Compiles one step of `opt`, which
// must outlive it.
class UnitGradientProblem {
 public:
  explicit UnitGradientProblem(Optimizer& opt, double p0 = 0.0);
  // Runs one step; returns p after it.
  double Step();
  const Function& step_function() const { return step_; }

 private:
  SharedVar p_;
  Function step_;
};

}  // namespace theta::optim::testing

#endif  // THETA_OPTIM_TEST_PROBLEM_H_
