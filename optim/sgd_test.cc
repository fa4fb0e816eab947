#include "optim/sgd.h"

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

// p <- p - lr_k g, with lr_k the rate of step k.
std::vector<Vector> Reference(const std::vector<double>& lrs) {
  return HandTrajectory(lrs.size(), [&](int k, const Vector& g, Vector& p) {
    for (size_t i = 0; i < p.size(); ++i) p[i] -= lrs[k] * g[i];
  });
}

TEST(SgdTest, MatchesHandTrajectory) {
  Sgd sgd({.lr = 0.05});
  ExpectTrajectory(Trajectory(sgd, 4, nullptr),
                   Reference({0.05, 0.05, 0.05, 0.05}));
  EXPECT_TRUE(sgd.state().empty());
}

TEST(SgdTest, SharedLearningRateChangesBetweenCalls) {
  SharedVar lr = SharedScalar(0.05, "lr");
  const std::vector<double> lrs = {0.05, 0.1, 0.02, 0.0};
  Sgd sgd({.lr = lr});
  ExpectTrajectory(Trajectory(sgd, 4, [&](int k) { Set(lr, lrs[k]); }),
                   Reference(lrs));
}

TEST(SgdTest, NegativeLearningRateIsAnError) {
  EXPECT_EQ(ErrorOf([] { Sgd sgd({.lr = -0.1}); }),
            "Sgd: lr must be in [0, inf), got -0.1");
}

}  // namespace
}  // namespace theta::optim
