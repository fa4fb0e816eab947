// AVX2 loops over contiguous runs for reduce.cc's float and double
// reductions. Each gives bitwise the result of the element-by-element
// loop it replaces: sums keep its order of double additions, and the
// extremum of a run is only a search aid (the caller takes the first
// element equal to it, or falls back to the plain loop when a NaN is seen).
//
//   double acc = 0;
//   reduce_runs::Sum(acc, p, n);            // acc += p[0] + ... + p[n - 1]
//   reduce_runs::AddRows(a, p, rs, 4, len);  // a[u] += p[r * rs + u]
#ifndef THETA_BACKENDS_CPU_REDUCE_RUNS_H_
#define THETA_BACKENDS_CPU_REDUCE_RUNS_H_

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/vec_math.h"

namespace theta::cpu::reduce_runs {

// Four elements widened to double.
inline __m256d Load4(const float* p) {
  return _mm256_cvtps_pd(_mm_loadu_ps(p));
}
inline __m256d Load4(const double* p) { return _mm256_loadu_pd(p); }

// acc += the sum of p[0, n), in a fixed order: 16 double lanes, lane j
// adding p[j], p[j + 16], ... over the whole blocks of 16; then lane j + 8
// into lane j, j + 4, j + 2 and j + 1 (lane 0 holds the sum), added to acc;
// then the tail one element at a time. Four 4-lane accumulators keep the
// adds' latency and the float-to-double conversions (one block of 16 per
// four conversions) below the memory's pace.
template <typename T>
void Sum(double& acc, const T* p, int64_t n) {
  int64_t t = 0;
  if (n >= 16) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    for (; t + 16 <= n; t += 16) {
      a0 = _mm256_add_pd(a0, Load4(p + t));
      a1 = _mm256_add_pd(a1, Load4(p + t + 4));
      a2 = _mm256_add_pd(a2, Load4(p + t + 8));
      a3 = _mm256_add_pd(a3, Load4(p + t + 12));
    }
    a0 = _mm256_add_pd(_mm256_add_pd(a0, a2), _mm256_add_pd(a1, a3));
    const __m128d h =
        _mm_add_pd(_mm256_castpd256_pd128(a0), _mm256_extractf128_pd(a0, 1));
    acc += _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  }
  for (; t < n; ++t) acc += static_cast<double>(p[t]);
}

// a[u] += p[r * rs + u] for r = 0, 1, ..., rows - 1 in turn (so each a[u]
// sees the same additions in the same order as row-by-row passes), u in
// [0, len): the "accumulate" order of a sum, several rows per pass over a,
// so a is loaded and stored once per `rows` rows.
template <typename T>
void AddRows(double* a, const T* p, int64_t rs, int64_t rows, int64_t len) {
  int64_t u = 0;
  for (; u + 4 <= len; u += 4) {
    __m256d s = _mm256_loadu_pd(a + u);
    for (int64_t r = 0; r < rows; ++r) {
      s = _mm256_add_pd(s, Load4(p + r * rs + u));
    }
    _mm256_storeu_pd(a + u, s);
  }
  for (; u < len; ++u) {
    for (int64_t r = 0; r < rows; ++r)
      a[u] += static_cast<double>(p[r * rs + u]);
  }
}

// Over the whole vectors of p[0, n): returns how many elements they hold
// (n rounded down to the lane width), with *extreme their largest value
// (kMax) or smallest, or -1 when any of them is NaN (*extreme then
// unspecified). Equal values of either sign of zero may give either.
template <bool kMax, typename T>
int64_t Extreme(const T* p, int64_t n, T* extreme) {
  using V = simd::Vec<T>;
  constexpr int64_t kW = V::kWidth;
  const int64_t whole = n / kW * kW;
  if (whole == 0) return 0;
  typename V::Reg e = V::Load(p), nan = V::IsNan(e);
  for (int64_t t = kW; t < whole; t += kW) {
    const typename V::Reg x = V::Load(p + t);
    e = kMax ? V::Max(x, e) : V::Min(x, e);
    nan = V::Or(nan, V::IsNan(x));
  }
  if (V::MaskBits(nan) != 0) return -1;
  *extreme = kMax ? V::MaxLane(e) : V::MinLane(e);
  return whole;
}

// The first i in [0, n) with p[i] == v (so +0 and -0 match each other), or
// n.
template <typename T>
int64_t FirstEqual(const T* p, int64_t n, T v) {
  using V = simd::Vec<T>;
  const typename V::Reg vv = V::Set(v);
  int64_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) {
    const int bits = V::MaskBits(V::Equal(V::Load(p + i), vv));
    if (bits != 0) return i + __builtin_ctz(bits);
  }
  for (; i < n; ++i) {
    if (p[i] == v) return i;
  }
  return n;
}

}  // namespace theta::cpu::reduce_runs

#endif  // THETA_BACKENDS_CPU_REDUCE_RUNS_H_
