#include "optim/adam.h"

#include <cmath>

#include "gtest/gtest.h"
#include "ops/test_util.h"
#include "optim/test_problem.h"

namespace theta::optim {
namespace {

using testing::ExpectTrajectory;
using testing::HandTrajectory;
using testing::Set;
using testing::SharedScalar;
using testing::Trajectory;
using testing::Vector;
using theta::testing::ErrorOf;

struct Hypers {
  double lr, beta1, beta2, eps;
};

// Kingma & Ba, Algorithm 1, eps after sqrt(v_hat) (PyTorch).
std::vector<Vector> Reference(const std::vector<Hypers>& hs) {
  Vector m(testing::kP0.size(), 0.0), v(testing::kP0.size(), 0.0);
  return HandTrajectory(hs.size(), [&](int k, const Vector& g, Vector& p) {
    const Hypers& h = hs[k];
    const int t = k + 1;
    for (size_t i = 0; i < p.size(); ++i) {
      m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
      v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
      const double m_hat = m[i] / (1 - std::pow(h.beta1, t));
      const double v_hat = v[i] / (1 - std::pow(h.beta2, t));
      p[i] -= h.lr * m_hat / (std::sqrt(v_hat) + h.eps);
    }
  });
}

TEST(AdamTest, MatchesHandTrajectory) {
  Adam opt({.lr = 0.1});
  ExpectTrajectory(Trajectory(opt, 6, nullptr),
                   Reference(std::vector<Hypers>(6, {0.1, 0.9, 0.999, 1e-8})));
  std::vector<std::string> names;
  for (const SharedVar& s : opt.state()) names.push_back(s.name());
  EXPECT_EQ(names, (std::vector<std::string>{"p.m", "p.v", "p.step"}));
  EXPECT_EQ(opt.state()[2].get_value().GetAsDouble(0), 6.0);
}

// A large eps shows where it is added (after the square root).
TEST(AdamTest, SharedHyperparametersChangeBetweenCalls) {
  SharedVar lr = SharedScalar(0, "lr");
  SharedVar beta1 = SharedScalar(0, "beta1");
  SharedVar beta2 = SharedScalar(0, "beta2");
  SharedVar eps = SharedScalar(0, "eps");
  const std::vector<Hypers> hs = {{0.1, 0.9, 0.999, 1e-8},
                                  {0.05, 0.5, 0.9, 0.5},
                                  {0.2, 0.0, 0.99, 1e-3},
                                  {0.1, 0.8, 0.5, 2.0}};
  Adam opt({.lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps});
  ExpectTrajectory(Trajectory(opt, 4,
                              [&](int k) {
                                Set(lr, hs[k].lr);
                                Set(beta1, hs[k].beta1);
                                Set(beta2, hs[k].beta2);
                                Set(eps, hs[k].eps);
                              }),
                   Reference(hs));
}

TEST(AdamTest, BetaOutOfRangeIsAnError) {
  EXPECT_EQ(ErrorOf([] { Adam opt({.beta2 = 1.5}); }),
            "Adam: beta2 must be in [0, 1), got 1.5");
}

}  // namespace
}  // namespace theta::optim
