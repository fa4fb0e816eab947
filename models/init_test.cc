// Initialisers: their statistics, orthogonality, seeding and shape errors.
#include "models/init.h"

#include <cmath>

#include "base/error.h"
#include "gtest/gtest.h"

namespace theta::models {
namespace {

TEST(InitTest, GlorotUniformStaysWithinItsLimitAndFillsIt) {
  Rng rng(7);
  Tensor w = GlorotUniform({300, 200}, rng);
  const double limit = std::sqrt(6.0 / 500);
  double max_abs = 0, sum = 0;
  for (float v : w.to_vector<float>()) {
    max_abs = std::max(max_abs, std::abs(double(v)));
    sum += v;
  }
  EXPECT_LE(max_abs, limit);
  EXPECT_GT(max_abs, 0.99 * limit);
  EXPECT_NEAR(sum / w.size(), 0.0, 0.01 * limit);
}

TEST(InitTest, HeNormalHasVarianceTwoOverFanIn) {
  Rng rng(7);
  Tensor w = HeNormal({400, 300}, rng);
  double sq = 0;
  for (float v : w.to_vector<float>()) sq += double(v) * v;
  EXPECT_NEAR(sq / w.size(), 2.0 / 400, 0.05 * 2.0 / 400);
}

// Q^T Q = I for each n x n block of an (n, k n) orthogonal initialisation.
TEST(InitTest, OrthogonalBlocksAreOrthonormal) {
  Rng rng(3);
  const int64_t n = 6, k = 4;
  Tensor u = Orthogonal({n, k * n}, rng);
  const float* p = u.data<float>();
  for (int64_t block = 0; block < k; ++block) {
    for (int64_t a = 0; a < n; ++a) {
      for (int64_t b = 0; b < n; ++b) {
        double d = 0;
        for (int64_t i = 0; i < n; ++i) {
          d += double(p[i * k * n + block * n + a]) *
               p[i * k * n + block * n + b];
        }
        EXPECT_NEAR(d, a == b ? 1.0 : 0.0, 1e-5)
            << "block " << block << " columns " << a << ", " << b;
      }
    }
  }
  // Tall: orthonormal columns.
  Tensor tall = Orthogonal({10, 3}, rng);
  const float* q = tall.data<float>();
  for (int64_t a = 0; a < 3; ++a) {
    for (int64_t b = 0; b < 3; ++b) {
      double d = 0;
      for (int64_t i = 0; i < 3; ++i) d += double(q[i * 3 + a]) * q[i * 3 + b];
      EXPECT_NEAR(d, a == b ? 1.0 : 0.0, 1e-5);
    }
  }
}

TEST(InitTest, SameSeedSameValuesOtherSeedOtherValues) {
  Rng a(11), b(11), c(12);
  EXPECT_EQ(GlorotUniform({5, 4}, a).to_vector<float>(),
            GlorotUniform({5, 4}, b).to_vector<float>());
  EXPECT_NE(Orthogonal({4, 4}, a).to_vector<float>(),
            Orthogonal({4, 4}, c).to_vector<float>());
}

TEST(InitTest, NonMatrixShapeIsAnErrorNamingTheInitialiser) {
  Rng rng(1);
  try {
    Orthogonal({3, 4, 5}, rng);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "Orthogonal: expected a (fan_in, fan_out) shape of two "
                 "positive sizes, given (3, 4, 5)");
  }
  EXPECT_THROW(HeNormal({0, 4}, rng), Error);
}

TEST(InitTest, ConstantFillsEveryElement) {
  Tensor t = Constant({2, 3}, 1.5);
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 1.5f);
}

}  // namespace
}  // namespace theta::models
