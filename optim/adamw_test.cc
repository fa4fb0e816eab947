#include "optim/adamw.h"

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
  double lr, wd;
};

// torch.optim.AdamW: p <- p (1 - lr wd), then Adam's step (betas 0.9,
// 0.999, eps 1e-8) with the gradient at the undecayed p.
std::vector<Vector> Reference(const std::vector<Hypers>& hs) {
  Vector m(testing::kP0.size(), 0.0), v(testing::kP0.size(), 0.0);
  return HandTrajectory(hs.size(), [&](int k, const Vector& g, Vector& p) {
    const Hypers& h = hs[k];
    const int t = k + 1;
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] *= 1 - h.lr * h.wd;
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      const double m_hat = m[i] / (1 - std::pow(0.9, t));
      const double v_hat = v[i] / (1 - std::pow(0.999, t));
      p[i] -= h.lr * m_hat / (std::sqrt(v_hat) + 1e-8);
    }
  });
}

TEST(AdamWTest, MatchesHandTrajectory) {
  AdamW opt({.adam = {.lr = 0.1}, .weight_decay = 0.5});
  ExpectTrajectory(Trajectory(opt, 6, nullptr),
                   Reference(std::vector<Hypers>(6, {0.1, 0.5})));
  EXPECT_EQ(opt.state().size(), 3u);
  EXPECT_EQ(opt.name(), "AdamW");
}

TEST(AdamWTest, SharedHyperparametersChangeBetweenCalls) {
  SharedVar lr = SharedScalar(0, "lr");
  SharedVar wd = SharedScalar(0, "wd");
  const std::vector<Hypers> hs = {
      {0.1, 0.5}, {0.05, 0.0}, {0.2, 1.0}, {0.1, 2.0}};
  AdamW opt({.adam = {.lr = lr}, .weight_decay = wd});
  ExpectTrajectory(Trajectory(opt, 4,
                              [&](int k) {
                                Set(lr, hs[k].lr);
                                Set(wd, hs[k].wd);
                              }),
                   Reference(hs));
}

TEST(AdamWTest, NegativeWeightDecayIsAnError) {
  EXPECT_EQ(ErrorOf([] { AdamW opt({.weight_decay = -1.0}); }),
            "AdamW: weight_decay must be in [0, inf), got -1");
}

}  // namespace
}  // namespace theta::optim
