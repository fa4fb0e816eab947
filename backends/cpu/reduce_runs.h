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

// 256-bit lanes of T: float (8) or double (4).
template <typename T>
struct Lanes;

template <>
struct Lanes<float> {
  using Reg = __m256;
  static constexpr int64_t kWidth = 8;
  static Reg Load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg Set(float v) { return _mm256_set1_ps(v); }
  static Reg Max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static Reg Min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  static Reg Or(Reg a, Reg b) { return _mm256_or_ps(a, b); }
  static Reg Unordered(Reg a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static Reg Equal(Reg a, Reg b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static int Bits(Reg m) { return _mm256_movemask_ps(m); }
  static void Store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
};

template <>
struct Lanes<double> {
  using Reg = __m256d;
  static constexpr int64_t kWidth = 4;
  static Reg Load(const double* p) { return _mm256_loadu_pd(p); }
  static Reg Set(double v) { return _mm256_set1_pd(v); }
  static Reg Max(Reg a, Reg b) { return _mm256_max_pd(a, b); }
  static Reg Min(Reg a, Reg b) { return _mm256_min_pd(a, b); }
  static Reg Or(Reg a, Reg b) { return _mm256_or_pd(a, b); }
  static Reg Unordered(Reg a) { return _mm256_cmp_pd(a, a, _CMP_UNORD_Q); }
  static Reg Equal(Reg a, Reg b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
  static int Bits(Reg m) { return _mm256_movemask_pd(m); }
  static void Store(double* p, Reg v) { _mm256_storeu_pd(p, v); }
};

// Over the whole vectors of p[0, n): returns how many elements they hold
// (n rounded down to the lane width), with *extreme their largest value
// (kMax) or smallest, or -1 when any of them is NaN (*extreme then
// unspecified). Equal values of either sign of zero may give either.
template <bool kMax, typename T>
int64_t Extreme(const T* p, int64_t n, T* extreme) {
  using L = Lanes<T>;
  constexpr int64_t kW = L::kWidth;
  const int64_t whole = n / kW * kW;
  if (whole == 0) return 0;
  typename L::Reg e = L::Load(p), nan = L::Unordered(e);
  for (int64_t t = kW; t < whole; t += kW) {
    const typename L::Reg x = L::Load(p + t);
    e = kMax ? L::Max(x, e) : L::Min(x, e);
    nan = L::Or(nan, L::Unordered(x));
  }
  if (L::Bits(nan) != 0) return -1;
  T lane[kW];
  L::Store(lane, e);
  T best = lane[0];
  for (int64_t j = 1; j < kW; ++j) {
    best = (kMax ? lane[j] > best : lane[j] < best) ? lane[j] : best;
  }
  *extreme = best;
  return whole;
}

// The first i in [0, n) with p[i] == v (so +0 and -0 match each other), or
// n.
template <typename T>
int64_t FirstEqual(const T* p, int64_t n, T v) {
  using L = Lanes<T>;
  const typename L::Reg vv = L::Set(v);
  int64_t i = 0;
  for (; i + L::kWidth <= n; i += L::kWidth) {
    const int bits = L::Bits(L::Equal(L::Load(p + i), vv));
    if (bits != 0) return i + __builtin_ctz(bits);
  }
  for (; i < n; ++i) {
    if (p[i] == v) return i;
  }
  return n;
}

}  // namespace theta::cpu::reduce_runs

#endif  // THETA_BACKENDS_CPU_REDUCE_RUNS_H_
