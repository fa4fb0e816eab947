#include "optim/rmsprop.h"

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

struct Hypers {
  double lr, rho, eps;
};

// a <- rho a + (1 - rho) g^2; p <- p - lr g / sqrt(a + eps) (Lasagne).
std::vector<Vector> Reference(const std::vector<Hypers>& hs) {
  Vector a(testing::kP0.size(), 0.0);
  return HandTrajectory(hs.size(), [&](int k, const Vector& g, Vector& p) {
    const Hypers& h = hs[k];
    for (size_t i = 0; i < p.size(); ++i) {
      a[i] = h.rho * a[i] + (1 - h.rho) * g[i] * g[i];
      p[i] -= h.lr * g[i] / std::sqrt(a[i] + h.eps);
    }
  });
}

TEST(RmsPropTest, MatchesHandTrajectory) {
  RmsProp opt({.lr = 0.01, .rho = 0.9, .eps = 1e-6});
  ExpectTrajectory(Trajectory(opt, 5, nullptr),
                   Reference(std::vector<Hypers>(5, {0.01, 0.9, 1e-6})));
  ASSERT_EQ(opt.state().size(), 1u);
  EXPECT_EQ(opt.state()[0].name(), "p.accu");
}

// eps sits inside the square root: with a large eps the step differs from
// PyTorch's g / (sqrt(a) + eps), and the reference above is Lasagne's.
TEST(RmsPropTest, SharedHyperparametersChangeBetweenCalls) {
  SharedVar lr = SharedScalar(0, "lr");
  SharedVar rho = SharedScalar(0, "rho");
  SharedVar eps = SharedScalar(0, "eps");
  const std::vector<Hypers> hs = {
      {0.01, 0.9, 1e-6}, {0.05, 0.5, 1.0}, {0.02, 0.99, 4.0}, {0.1, 0.0, 0.0}};
  RmsProp opt({.lr = lr, .rho = rho, .eps = eps});
  ExpectTrajectory(Trajectory(opt, 4,
                              [&](int k) {
                                Set(lr, hs[k].lr);
                                Set(rho, hs[k].rho);
                                Set(eps, hs[k].eps);
                              }),
                   Reference(hs));
}

}  // namespace
}  // namespace theta::optim
