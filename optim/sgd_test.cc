#include "optim/sgd.h"

#include "gtest/gtest.h"
#include "optim/test_problem.h"

namespace theta::optim {
namespace {

using testing::ExpectTrajectory;
using testing::HandGrad;
using testing::kP0;
using testing::Set;
using testing::SharedScalar;
using testing::Trajectory;

// p <- p - lr_k g, with lr_k the rate of step k.
std::vector<std::vector<double>> Reference(const std::vector<double>& lrs) {
  std::vector<double> p = kP0;
  std::vector<std::vector<double>> out;
  for (double lr : lrs) {
    std::vector<double> g = HandGrad(p);
    for (size_t i = 0; i < p.size(); ++i) p[i] -= lr * g[i];
    out.push_back(p);
  }
  return out;
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
  try {
    Sgd sgd({.lr = -0.1});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Sgd: lr must be in [0, inf), got -0.1");
  }
}

}  // namespace
}  // namespace theta::optim
