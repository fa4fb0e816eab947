#include "optim/adadelta.h"

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

// Zeiler's Adadelta as Lasagne writes it (adadelta.h).
std::vector<Vector> Reference(const std::vector<Hypers>& hs) {
  Vector a(testing::kP0.size(), 0.0), d(testing::kP0.size(), 0.0);
  return HandTrajectory(hs.size(), [&](int k, const Vector& g, Vector& p) {
    const Hypers& h = hs[k];
    for (size_t i = 0; i < p.size(); ++i) {
      a[i] = h.rho * a[i] + (1 - h.rho) * g[i] * g[i];
      const double dx =
          g[i] * std::sqrt(d[i] + h.eps) / std::sqrt(a[i] + h.eps);
      p[i] -= h.lr * dx;
      d[i] = h.rho * d[i] + (1 - h.rho) * dx * dx;
    }
  });
}

TEST(AdadeltaTest, MatchesHandTrajectory) {
  // A large eps makes the first steps visible (with 1e-6 they are ~1e-3).
  Adadelta opt({.lr = 1.0, .rho = 0.9, .eps = 1e-2});
  ExpectTrajectory(Trajectory(opt, 5, nullptr),
                   Reference(std::vector<Hypers>(5, {1.0, 0.9, 1e-2})));
  ASSERT_EQ(opt.state().size(), 2u);
  EXPECT_EQ(opt.state()[0].name(), "p.accu");
  EXPECT_EQ(opt.state()[1].name(), "p.delta_accu");
}

TEST(AdadeltaTest, SharedHyperparametersChangeBetweenCalls) {
  SharedVar lr = SharedScalar(0, "lr");
  SharedVar rho = SharedScalar(0, "rho");
  SharedVar eps = SharedScalar(0, "eps");
  const std::vector<Hypers> hs = {
      {1.0, 0.9, 1e-2}, {0.5, 0.5, 1e-1}, {2.0, 0.99, 1e-3}, {1.0, 0.0, 0.3}};
  Adadelta opt({.lr = lr, .rho = rho, .eps = eps});
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
