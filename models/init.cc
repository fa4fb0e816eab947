#include "models/init.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/error.h"

namespace theta::models {
namespace {

void CheckMatrixShape(const char* initialiser,
                      const std::vector<int64_t>& shape) {
  if (shape.size() != 2 || shape[0] < 1 || shape[1] < 1) {
    throw Error(absl::StrCat(initialiser,
                             ": expected a (fan_in, fan_out) shape of two "
                             "positive sizes, given (",
                             absl::StrJoin(shape, ", "), ")"));
  }
}

// An n x n orthogonal block: Gram-Schmidt (twice, for stability) on the
// columns of a Gaussian matrix, in double; the sign of each column follows
// the diagonal of R so the result is uniformly distributed (Haar).
std::vector<double> OrthogonalSquare(int64_t n, Rng& rng) {
  std::normal_distribution<double> gauss(0.0, 1.0);
  std::vector<double> a(n * n);  // column-major: column j at a[j * n]
  for (double& v : a) v = gauss(rng);
  for (int64_t j = 0; j < n; ++j) {
    double* col = &a[j * n];
    const double diagonal_sign = col[j] >= 0 ? 1.0 : -1.0;
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t k = 0; k < j; ++k) {
        const double* q = &a[k * n];
        double d = 0;
        for (int64_t i = 0; i < n; ++i) d += q[i] * col[i];
        for (int64_t i = 0; i < n; ++i) col[i] -= d * q[i];
      }
    }
    double norm = 0;
    for (int64_t i = 0; i < n; ++i) norm += col[i] * col[i];
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < n; ++i) col[i] *= diagonal_sign / norm;
  }
  return a;
}

}  // namespace

Tensor Uniform(const std::vector<int64_t>& shape, double limit, Rng& rng) {
  Tensor t(DType::kFloat32, shape);
  std::uniform_real_distribution<double> dist(-limit, limit);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.size(); ++i) p[i] = static_cast<float>(dist(rng));
  return t;
}

Tensor Normal(const std::vector<int64_t>& shape, double stddev, Rng& rng) {
  Tensor t(DType::kFloat32, shape);
  std::normal_distribution<double> dist(0.0, stddev);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.size(); ++i) p[i] = static_cast<float>(dist(rng));
  return t;
}

Tensor Constant(const std::vector<int64_t>& shape, double value) {
  Tensor t(DType::kFloat32, shape);
  std::fill_n(t.data<float>(), t.size(), static_cast<float>(value));
  return t;
}

Tensor GlorotUniform(const std::vector<int64_t>& shape, Rng& rng) {
  CheckMatrixShape("GlorotUniform", shape);
  return Uniform(
      shape, std::sqrt(6.0 / static_cast<double>(shape[0] + shape[1])), rng);
}

Tensor HeNormal(const std::vector<int64_t>& shape, Rng& rng) {
  CheckMatrixShape("HeNormal", shape);
  return Normal(shape, std::sqrt(2.0 / static_cast<double>(shape[0])), rng);
}

Tensor Orthogonal(const std::vector<int64_t>& shape, Rng& rng) {
  CheckMatrixShape("Orthogonal", shape);
  const int64_t rows = shape[0], cols = shape[1];
  Tensor t(DType::kFloat32, shape);
  float* p = t.data<float>();
  // Square blocks of side min(rows, cols) tile the longer side; a last,
  // partial block keeps the first columns (or rows) of a full one.
  const int64_t n = std::min(rows, cols);
  if (cols >= rows) {
    for (int64_t first = 0; first < cols; first += n) {
      const std::vector<double> q = OrthogonalSquare(n, rng);
      for (int64_t j = 0; j < std::min(n, cols - first); ++j) {
        for (int64_t i = 0; i < n; ++i) {
          p[i * cols + first + j] = static_cast<float>(q[j * n + i]);
        }
      }
    }
  } else {
    for (int64_t first = 0; first < rows; first += n) {
      const std::vector<double> q = OrthogonalSquare(n, rng);
      for (int64_t i = 0; i < std::min(n, rows - first); ++i) {
        for (int64_t j = 0; j < n; ++j) {
          p[(first + i) * cols + j] = static_cast<float>(q[j * n + i]);
        }
      }
    }
  }
  return t;
}

Tensor Initialize(WeightInit init, const std::vector<int64_t>& shape,
                  Rng& rng) {
  switch (init) {
    case WeightInit::kGlorotUniform:
      return GlorotUniform(shape, rng);
    case WeightInit::kHeNormal:
      return HeNormal(shape, rng);
    case WeightInit::kOrthogonal:
      return Orthogonal(shape, rng);
  }
  throw Error("Initialize: unknown WeightInit");
}

}  // namespace theta::models
