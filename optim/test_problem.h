// Shared by the optimizer tests: a small float64 problem whose gradient the
// tests compute by hand, and a runner that records the parameter after each
// step of an optimizer's compiled update.
//
//   cost(p) = sum(p^4) / 4 + sum(b * p),   d cost / dp = p^3 + b
#ifndef THETA_OPTIM_TEST_PROBLEM_H_
#define THETA_OPTIM_TEST_PROBLEM_H_

#include <functional>
#include <vector>

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

// Expects every element of `actual` within 1e-12 (relative) of `expected`.
void ExpectTrajectory(const std::vector<std::vector<double>>& actual,
                      const std::vector<std::vector<double>>& expected);

}  // namespace theta::optim::testing

#endif  // THETA_OPTIM_TEST_PROBLEM_H_
