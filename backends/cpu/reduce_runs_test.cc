// reduce_runs.h against the element-by-element loops it stands in for:
// bitwise the same sums (every tail length), the extremum with a NaN in
// each lane, and the first of equal values across +0 and -0.
#include "backends/cpu/reduce_runs.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace theta::cpu::reduce_runs {
namespace {

template <typename T>
std::vector<T> Uniform(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> x(static_cast<size_t>(n));
  for (T& v : x) v = static_cast<T>(u(rng));
  return x;
}

// The order Sum documents, one element at a time.
template <typename T>
double SumInLanes(const T* p, int64_t n) {
  double acc = 0.25;  // as a caller's running sum
  int64_t t = 0;
  if (n >= 16) {
    double lane[16] = {};
    for (; t + 16 <= n; t += 16) {
      for (int j = 0; j < 16; ++j) lane[j] += p[t + j];
    }
    for (int w = 8; w > 0; w /= 2) {
      for (int j = 0; j < w; ++j) lane[j] += lane[j + w];
    }
    acc += lane[0];
  }
  for (; t < n; ++t) acc += p[t];
  return acc;
}

template <typename T>
void ExpectSumsInLaneOrder() {
  const std::vector<T> x = Uniform<T>(300, 1);
  for (int64_t n = 0; n <= 300; ++n) {
    double acc = 0.25;
    Sum(acc, x.data(), n);
    EXPECT_EQ(std::bit_cast<uint64_t>(acc),
              std::bit_cast<uint64_t>(SumInLanes(x.data(), n)))
        << "n " << n;
  }
}

TEST(ReduceRunsTest, SumKeepsTheLaneOrderAtEveryLength) {
  ExpectSumsInLaneOrder<float>();
  ExpectSumsInLaneOrder<double>();
}

template <typename T>
void ExpectRowsAddedInTurn() {
  const int64_t rs = 37;
  const std::vector<T> x = Uniform<T>(4 * rs, 2);
  for (int64_t rows = 1; rows <= 4; ++rows) {
    for (int64_t len = 0; len <= rs; ++len) {
      std::vector<double> got(static_cast<size_t>(len), 0.5), want = got;
      AddRows(got.data(), x.data(), rs, rows, len);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t u = 0; u < len; ++u) want[u] += x[r * rs + u];
      }
      ASSERT_EQ(got, want) << "rows " << rows << " len " << len;
    }
  }
}

TEST(ReduceRunsTest, AddRowsAddsEachRowInTurn) {
  ExpectRowsAddedInTurn<float>();
  ExpectRowsAddedInTurn<double>();
}

template <typename T>
void ExpectExtremes() {
  constexpr int64_t kW = simd::Vec<T>::kWidth;
  std::vector<T> x = Uniform<T>(5 * kW + 3, 3);
  T e = 0;
  // Only whole vectors count: the last three elements are the caller's.
  x.back() = 9;
  EXPECT_EQ(Extreme<true>(x.data(), x.size(), &e), 5 * kW);
  T want = x[0];
  for (int64_t i = 0; i < 5 * kW; ++i) want = std::max(want, x[i]);
  EXPECT_EQ(e, want);
  EXPECT_EQ(Extreme<true>(x.data(), kW - 1, &e), 0);
  // A NaN in any lane of any vector, and none in the tail's.
  for (int64_t i = 0; i < 5 * kW; ++i) {
    std::vector<T> y = x;
    y[i] = std::numeric_limits<T>::quiet_NaN();
    EXPECT_EQ(Extreme<true>(y.data(), y.size(), &e), -1) << i;
    EXPECT_EQ(Extreme<false>(y.data(), y.size(), &e), -1) << i;
  }
  x[5 * kW + 1] = std::numeric_limits<T>::quiet_NaN();
  EXPECT_EQ(Extreme<false>(x.data(), x.size(), &e), 5 * kW);
}

TEST(ReduceRunsTest, ExtremeOfWholeVectorsOrNan) {
  ExpectExtremes<float>();
  ExpectExtremes<double>();
}

template <typename T>
void ExpectFirstEqual() {
  std::vector<T> x(23, T(-1));
  EXPECT_EQ(FirstEqual(x.data(), 23, T(0)), 23);
  x[19] = 0;
  x[11] = T(-0.0);
  EXPECT_EQ(FirstEqual(x.data(), 23, T(0)), 11);     // -0 == +0
  EXPECT_EQ(FirstEqual(x.data(), 11, T(-0.0)), 11);  // not found in [0, 11)
  x[2] = T(-0.0);
  EXPECT_EQ(FirstEqual(x.data(), 23, T(0)), 2);
  EXPECT_EQ(FirstEqual(x.data(), 23, T(-1)), 0);
}

TEST(ReduceRunsTest, FirstEqualFindsTheFirstOfEitherZero) {
  ExpectFirstEqual<float>();
  ExpectFirstEqual<double>();
}

}  // namespace
}  // namespace theta::cpu::reduce_runs
