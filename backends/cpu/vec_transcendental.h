// Log, Tanh and Sigmoid on the AVX2 vectors of vec_math.h, for the CPU
// plugin's elementwise kernels; their accuracy (kMaxUlp below) is measured
// by vec_transcendental_test against long double.
//
//   using V = simd::Vec<float>;
//   V::Reg y = simd::Tanh<float>(V::Load(x));  // 8 lanes
//   V::Store(out, y);
#ifndef THETA_BACKENDS_CPU_VEC_TRANSCENDENTAL_H_
#define THETA_BACKENDS_CPU_VEC_TRANSCENDENTAL_H_

#include <cstddef>

#include "backends/cpu/vec_math.h"

namespace theta::cpu::simd {

// c[0] x^(N-1) + ... + c[N-1], Horner with FMA.
template <typename T, size_t N>
[[gnu::always_inline]] inline typename Vec<T>::Reg Horner(
    typename Vec<T>::Reg x, const T (&c)[N]) {
  using V = Vec<T>;
  typename V::Reg p = V::Set(c[0]);
  for (size_t k = 1; k < N; ++k) p = V::Fma(p, x, V::Set(c[k]));
  return p;
}

// Coefficients, highest degree first. Log: FreeBSD's (fdlibm's) e_logf.c
// and e_log.c, log(1+f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f).
template <typename T>
struct Coefficients;
template <>
struct Coefficients<float> {
  static constexpr float kLog[] = {0xf89e26.0p-26f, 0x91e9ee.0p-25f,
                                   0xccce13.0p-25f, 0xaaaaaa.0p-24f};
  static constexpr float kLn2Hi = 6.9313812256e-01f;  // 17 bits
  static constexpr float kLn2Lo = 9.0580006145e-06f;
};
template <>
struct Coefficients<double> {
  static constexpr double kLog[] = {
      1.479819860511658591e-01, 1.531383769920937332e-01,
      1.818357216161805012e-01, 2.222219843214978396e-01,
      2.857142874366239149e-01, 3.999999999940941908e-01,
      6.666666666666735130e-01};
  static constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 bits
  static constexpr double kLn2Lo = 1.90821492927058770002e-10;
};

// The largest error of each function in ulp of T over the ranges below, as
// vec_transcendental_test asserts. Measured there (dense sweeps) and, for
// float, over every float of the range: log 0.83 (F64 0.84), tanh 2.61
// (F64 2.31; q rounded once is up to 2 ulp of q / (q + 2) when the two lie
// in different binades), sigmoid 1.97 (F64 1.81; likewise the error of
// exp(-|x|), up to 0.89 ulp of e, in ulp of e / (1 + e)).
template <typename T>
struct MaxUlp;
template <>
struct MaxUlp<float> {
  static constexpr double kLog = 1.0;
  static constexpr double kTanh = 3.0;
  static constexpr double kSigmoid = 2.0;
};
template <>
struct MaxUlp<double> {
  static constexpr double kLog = 1.0;
  static constexpr double kTanh = 3.0;
  static constexpr double kSigmoid = 2.5;
};

// Log(x) per lane: for a positive normal x (FLT_MIN / DBL_MIN <= x <= max)
// log(x) within MaxUlp<T>::kLog ulp; otherwise (0, negative, subnormal,
// inf, NaN) unspecified: callers recompute those lanes.
// Method: x = 2^k m, m in [sqrt(1/2), sqrt(2)), f = m - 1, and
// log(x) = k ln2 + log(1 + f) with ln2 in two parts (fdlibm's).
template <typename T>
inline typename Vec<T>::Reg Log(typename Vec<T>::Reg x) {
  using V = Vec<T>;
  using C = Coefficients<T>;
  typename V::Reg k;
  const typename V::Reg f = V::Sub(V::LogReduce(x, &k), V::Set(T(1)));
  const typename V::Reg s = V::Div(f, V::Add(V::Set(T(2)), f));
  const typename V::Reg z = V::Mul(s, s);
  const typename V::Reg r = V::Mul(z, Horner<T>(z, C::kLog));
  const typename V::Reg hfsq = V::Mul(V::Set(T(0.5)), V::Mul(f, f));
  // s (hfsq + r) + k ln2_lo - hfsq + f + k ln2_hi, in that order.
  typename V::Reg y = V::Fma(s, V::Add(hfsq, r), V::Mul(k, V::Set(C::kLn2Lo)));
  y = V::Add(V::Sub(y, hfsq), f);
  return V::Fma(k, V::Set(C::kLn2Hi), y);
}

// num / (a + b) for |a| >= |b|, the rounding error of a + b compensated
// (Fast2Sum), so that the result is rounded about once.
template <typename T>
[[gnu::always_inline]] inline typename Vec<T>::Reg DivideBySum(
    typename Vec<T>::Reg num, typename Vec<T>::Reg a, typename Vec<T>::Reg b) {
  using V = Vec<T>;
  const typename V::Reg s = V::Add(a, b);
  const typename V::Reg c = V::Add(V::Sub(a, s), b);  // a + b = s + c exactly
  const typename V::Reg q = V::Div(num, s);
  // num / (s + c) = q (1 - c / s + ...); c / s needs only a few bits.
  return V::Sub(q, V::Mul(V::Mul(q, c), V::ApproxRecip(s)));
}

// Tanh(x) per lane, every x: within MaxUlp<T>::kTanh ulp; tanh(+-0) = +-0,
// subnormal x gives x, +-inf gives +-1, NaN gives NaN.
// Method: q = expm1(2|x|) (relative to x near 0), tanh|x| = q / (q + 2),
// 2|x| capped at 40 (where tanh is 1 in double), the sign of x restored.
// (A polynomial below 0.55 and 1 - 2 / (exp(2|x|) + 1) above, compensated,
// was within 1.1 ulp but half as fast as this, slower than Eigen's.)
template <typename T>
inline typename Vec<T>::Reg Tanh(typename Vec<T>::Reg x) {
  using V = Vec<T>;
  const typename V::Reg ax = V::Abs(x);
  // Min returns its second operand for NaN, so NaN reaches Expm1.
  const typename V::Reg q = V::Expm1(V::Min(V::Set(T(40)), V::Add(ax, ax)));
  return V::CopySign(V::Div(q, V::Add(q, V::Set(T(2)))), x);
}

// Sigmoid(x) = 1 / (1 + exp(-x)) per lane: for x >= Vec<T>::kExpLo (+inf
// included) within MaxUlp<T>::kSigmoid ulp; below it +0 (the results there
// are at most about the smallest normal: callers recompute them); NaN gives
// NaN.
// Method: e = exp(-|x|) (no overflow), then 1 / (1 + e) for x >= 0 and
// e / (1 + e) for x < 0, as the reference (elementwise_semantics.h).
template <typename T>
inline typename Vec<T>::Reg Sigmoid(typename Vec<T>::Reg x) {
  using V = Vec<T>;
  const typename V::Reg one = V::Set(T(1));
  const typename V::Reg e = V::Exp(V::Sub(V::Zero(), V::Abs(x)));
  const typename V::Reg num = V::Select(V::Less(x, V::Zero()), e, one);
  return DivideBySum<T>(num, one, e);
}

}  // namespace theta::cpu::simd

#endif  // THETA_BACKENDS_CPU_VEC_TRANSCENDENTAL_H_
