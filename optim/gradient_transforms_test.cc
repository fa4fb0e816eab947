#include "optim/gradient_transforms.h"

#include <cmath>

#include "compile/function.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"
#include "optim/sgd.h"
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

// SGD on clipped then decayed gradients (PyTorch's order).
// (max_norm of step k from `norms`; l2 from `l2s`, 0 when it is empty.)
std::vector<Vector> Reference(double lr, const std::vector<double>& norms,
                              const std::vector<double>& l2s) {
  return HandTrajectory(norms.size(), [&](int k, const Vector& g, Vector& p) {
    double norm = 0;
    for (double x : g) norm += x * x;
    norm = std::sqrt(norm);
    const double scale = std::min(1.0, norms[k] / (norm + 1e-6));
    const double l2 = l2s.empty() ? 0.0 : l2s[k];
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] -= lr * (g[i] * scale + l2 * p[i]);
    }
  });
}

TEST(GradientTransformsTest, ClipsToTheGlobalNorm) {
  // The first gradient's norm is about 9.9: clipped to 2; later ones too.
  Sgd sgd({.lr = 0.05});
  ExpectTrajectory(Trajectory(sgd, 4, nullptr, {.max_norm = 2.0}),
                   Reference(0.05, {2, 2, 2, 2}, {}));
}

TEST(GradientTransformsTest, SharedMaxNormChangesBetweenCalls) {
  SharedVar max_norm = SharedScalar(1, "max_norm");
  const std::vector<double> norms = {1.0, 100.0, 0.5, 3.0};
  Sgd sgd({.lr = 0.05});
  ExpectTrajectory(Trajectory(sgd, 4, [&](int k) { Set(max_norm, norms[k]); },
                              {.max_norm = max_norm}),
                   Reference(0.05, norms, {}));
}

TEST(GradientTransformsTest, ClipThenL2) {
  Sgd sgd({.lr = 0.05});
  ExpectTrajectory(Trajectory(sgd, 4, nullptr, {.max_norm = 3.0, .l2 = 0.2}),
                   Reference(0.05, {3, 3, 3, 3}, {0.2, 0.2, 0.2, 0.2}));
}

TEST(GradientTransformsTest, L2AsASharedScalar) {
  SharedVar l2 = SharedScalar(0.0, "l2");
  const std::vector<double> l2s = {0.0, 0.5, 1.0};
  Sgd sgd({.lr = 0.05});
  // The reference without clipping: max_norm beyond any gradient's norm.
  ExpectTrajectory(
      Trajectory(sgd, 3, [&](int k) { Set(l2, l2s[k]); }, {.l2 = l2}),
      Reference(0.05, {1e300, 1e300, 1e300}, l2s));
}

TEST(GradientTransformsTest, GlobalNormOfSeveralGradients) {
  Var a = constant(Tensor(std::vector<double>{3, 0}));
  Var b = constant(Tensor(std::vector<double>{4}));
  EXPECT_NEAR(global_norm({a, b}).eval().GetAsDouble(0), 5.0, 1e-12);
}

TEST(GradientTransformsTest, Errors) {
  Var g = dvector("g");
  EXPECT_EQ(ErrorOf([&] { clip_by_global_norm({g}, 0.0); }),
            "clip_by_global_norm: max_norm must be in (0, inf), got 0");
  EXPECT_EQ(ErrorOf([&] { clip_by_global_norm({}, 1.0); }),
            "clip_by_global_norm: no gradients");
  Var n = ivector("n");
  EXPECT_EQ(ErrorOf([&] {
              global_norm({g, n});
            }),
            "global_norm: gradient 1 ('n') is int32; gradients must be float");
  SharedVar w = shared(Tensor(std::vector<double>{1}), "w");
  EXPECT_EQ(ErrorOf([&] { add_l2({g}, {w}, -0.5); }),
            "add_l2: l2 must be in [0, inf), got -0.5");
}

}  // namespace
}  // namespace theta::optim
