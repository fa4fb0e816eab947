#include "optim/adagrad.h"

#include <cmath>

#include "gtest/gtest.h"
#include "optim/test_problem.h"

namespace theta::optim {
namespace {

using testing::ExpectTrajectory;
using testing::HandTrajectory;
using testing::Set;
using testing::SharedScalar;
using testing::Trajectory;
using testing::Vector;

// a <- a + g^2; p <- p - lr_k g / sqrt(a + eps_k).
std::vector<Vector> Reference(const std::vector<double>& lrs,
                              const std::vector<double>& epss) {
  Vector a(testing::kP0.size(), 0.0);
  return HandTrajectory(lrs.size(), [&](int k, const Vector& g, Vector& p) {
    for (size_t i = 0; i < p.size(); ++i) {
      a[i] += g[i] * g[i];
      p[i] -= lrs[k] * g[i] / std::sqrt(a[i] + epss[k]);
    }
  });
}

TEST(AdagradTest, MatchesHandTrajectory) {
  Adagrad opt({.lr = 0.3, .eps = 1e-6});
  ExpectTrajectory(
      Trajectory(opt, 5, nullptr),
      Reference({0.3, 0.3, 0.3, 0.3, 0.3}, {1e-6, 1e-6, 1e-6, 1e-6, 1e-6}));
  ASSERT_EQ(opt.state().size(), 1u);
  EXPECT_EQ(opt.state()[0].name(), "p.accu");
}

TEST(AdagradTest, SharedHyperparametersChangeBetweenCalls) {
  SharedVar lr = SharedScalar(0, "lr");
  SharedVar eps = SharedScalar(0, "eps");
  const std::vector<double> lrs = {0.3, 0.1, 0.5, 0.2};
  const std::vector<double> epss = {1e-6, 0.5, 2.0, 0.0};
  Adagrad opt({.lr = lr, .eps = eps});
  ExpectTrajectory(Trajectory(opt, 4,
                              [&](int k) {
                                Set(lr, lrs[k]);
                                Set(eps, epss[k]);
                              }),
                   Reference(lrs, epss));
}

}  // namespace
}  // namespace theta::optim
