#include "optim/momentum.h"

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

// v <- mu_k v - lr_k g; p <- p + v.
std::vector<Vector> Reference(const std::vector<double>& lrs,
                              const std::vector<double>& mus) {
  Vector v(testing::kP0.size(), 0.0);
  return HandTrajectory(lrs.size(), [&](int k, const Vector& g, Vector& p) {
    for (size_t i = 0; i < p.size(); ++i) {
      v[i] = mus[k] * v[i] - lrs[k] * g[i];
      p[i] += v[i];
    }
  });
}

TEST(MomentumTest, MatchesHandTrajectory) {
  Momentum opt({.lr = 0.05, .momentum = 0.9});
  ExpectTrajectory(
      Trajectory(opt, 5, nullptr),
      Reference({0.05, 0.05, 0.05, 0.05, 0.05}, {0.9, 0.9, 0.9, 0.9, 0.9}));
  ASSERT_EQ(opt.state().size(), 1u);
  EXPECT_EQ(opt.state()[0].name(), "p.velocity");
}

TEST(MomentumTest, SharedHyperparametersChangeBetweenCalls) {
  SharedVar lr = SharedScalar(0, "lr");
  SharedVar mu = SharedScalar(0, "mu");
  const std::vector<double> lrs = {0.05, 0.02, 0.08, 0.01};
  const std::vector<double> mus = {0.5, 0.9, 0.0, 0.7};
  Momentum opt({.lr = lr, .momentum = mu});
  ExpectTrajectory(Trajectory(opt, 4,
                              [&](int k) {
                                Set(lr, lrs[k]);
                                Set(mu, mus[k]);
                              }),
                   Reference(lrs, mus));
}

TEST(MomentumTest, MomentumOfOneIsAnError) {
  EXPECT_EQ(ErrorOf([] { Momentum opt({.lr = 0.1, .momentum = 1.0}); }),
            "Momentum: momentum must be in [0, 1), got 1");
}

}  // namespace
}  // namespace theta::optim
