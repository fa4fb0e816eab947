// AVX2 vectors of float and double for the CPU kernels (which are compiled
// with -march=x86-64-v3): loads and stores, the tail of a row through a lane
// mask (nothing past the row is read or written), lane arithmetic, and a
// fused exp (and expm1) that needs no range pre-pass. Used by softmax and,
// with vec_transcendental.h, by the elementwise kernels; exp's accuracy is
// measured by vec_math_test against long double.
//
//   using V = simd::Vec<float>;
//   V::Reg e = V::Exp(V::Sub(V::Load(x), V::Set(m)));  // 8 lanes
//   V::Store(y, e);
#ifndef THETA_BACKENDS_CPU_VEC_MATH_H_
#define THETA_BACKENDS_CPU_VEC_MATH_H_

#include <immintrin.h>

#include <cstdint>

namespace theta::cpu::simd {

template <typename T>
struct Vec;

// Exp(t) per lane:
//   kExpLo <= t <= kExpHi: exp(t) within kExpMaxUlp ulp (a normal number);
//   t < kExpLo, -inf included: +0 (results that would be subnormal flush);
//   NaN: NaN;   t > kExpHi: unspecified (callers keep t <= kExpHi).
// Method: t = n ln2 + r with n = round(t / ln2), |r| <= ln2 / 2 (ln2 split
// in two, reduced with FMA); exp(r) by a polynomial, Horner with FMA (float:
// degree 6, minimax for relative error, 0.03 ulp; double: Taylor, degree 13,
// under 0.05 ulp); 2^n added to the exponent field.
template <>
struct Vec<float> {
  using Reg = __m256;
  using Mask = __m256i;
  static constexpr int64_t kWidth = 8;
  static constexpr float kExpLo = -87.33f;  // ln(FLT_MIN) = -87.3365
  static constexpr float kExpHi = 88.37f;   // n <= 127
  static constexpr double kExpMaxUlp = 1.0;

  static Reg Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg Set(float v) { return _mm256_set1_ps(v); }
  static Reg Sub(Reg a, Reg b) { return _mm256_sub_ps(a, b); }
  static Reg Mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg Zero() { return _mm256_setzero_ps(); }
  static Reg Max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  // Lanes [0, count) set, count in [0, 8].
  static Mask FirstLanes(int64_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  // p[i] where `mask` is set (only those are read), `fill` elsewhere.
  static Reg LoadFirst(const float* p, Mask mask, float fill) {
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, mask),
                            _mm256_castsi256_ps(mask));
  }
  static void StoreFirst(float* p, Mask mask, Reg v) {
    _mm256_maskstore_ps(p, mask, v);
  }
  // The largest lane; a NaN lane may or may not win.
  static float MaxLane(Reg v) {
    __m128 h =
        _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
  }
  // The smallest lane; likewise.
  static float MinLane(Reg v) {
    __m128 h =
        _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_min_ps(h, _mm_movehl_ps(h, h));
    h = _mm_min_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
  }
  static Reg Add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg Div(Reg a, Reg b) { return _mm256_div_ps(a, b); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg Abs(Reg a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  // The smaller lane; b where either is NaN.
  static Reg Min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  // All bits set in the lanes where a < b (false for NaN), as a Reg.
  static Reg Less(Reg a, Reg b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  // As Less: a == b (+0 equals -0), and the lanes that are NaN.
  static Reg Equal(Reg a, Reg b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static Reg IsNan(Reg a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static Reg Or(Reg a, Reg b) { return _mm256_or_ps(a, b); }
  // Bit i set where lane i of a mask (from Less, Equal, IsNan) is.
  static int MaskBits(Reg mask) { return _mm256_movemask_ps(mask); }
  // a where `mask` (from Less) is set, b elsewhere.
  static Reg Select(Reg mask, Reg a, Reg b) {
    return _mm256_blendv_ps(b, a, mask);
  }
  // 1 / a within 1.5 * 2^-12 relative (for corrections, not results).
  static Reg ApproxRecip(Reg a) { return _mm256_rcp_ps(a); }
  // |a| with the sign of b.
  static Reg CopySign(Reg a, Reg b) {
    const Reg sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, a), _mm256_and_ps(sign, b));
  }
  // Whether some lane is outside [lo, hi] or NaN.
  static bool AnyOutside(Reg x, Reg lo, Reg hi) {
    const Reg in = _mm256_and_ps(_mm256_cmp_ps(x, lo, _CMP_GE_OQ),
                                 _mm256_cmp_ps(x, hi, _CMP_LE_OQ));
    return _mm256_movemask_ps(in) != 0xff;
  }
  // x = 2^k m with m in [sqrt(1/2), sqrt(2)) for a positive normal x; *k
  // an integer-valued float.
  static Reg LogReduce(Reg x, Reg* k) {
    __m256i b = _mm256_add_epi32(_mm256_castps_si256(x),
                                 _mm256_set1_epi32(0x3f800000 - 0x3f3504f3));
    *k = _mm256_cvtepi32_ps(
        _mm256_sub_epi32(_mm256_srli_epi32(b, 23), _mm256_set1_epi32(127)));
    b = _mm256_add_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x007fffff)),
                         _mm256_set1_epi32(0x3f3504f3));
    return _mm256_castsi256_ps(b);
  }
  // sum + the lanes of v, widened to double (lanes 0-3 plus lanes 4-7).
  static __m256d AddToDouble(__m256d sum, Reg v) {
    sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    return _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  // sum + (lanes 0-3 + lanes 4-7 in float), widened: one rounding more
  // than AddToDouble, and half its conversions (which share the FMA pipes).
  static __m256d AddHalvesToDouble(__m256d sum, Reg v) {
    return _mm256_add_pd(
        sum, _mm256_cvtps_pd(_mm_add_ps(_mm256_castps256_ps128(v),
                                        _mm256_extractf128_ps(v, 1))));
  }

  // Exp's argument reduction: t = n ln2 + r with |r| <= ln2 / 2; returns r,
  // and n 2^23 in *n. Adding 1.5 2^46 rounds t / ln2 2^23 to a multiple of
  // 2^23 as adding 1.5 2^23 rounds t / ln2 to an integer. So scaled, n
  // needs no shift to reach the exponent field, and as the constants are
  // scaled by powers of two, r is bitwise that of the unscaled n.
  static Reg ExpReduce(Reg t, Reg* n) {
    const Reg magic = _mm256_set1_ps(0x1.8p46f);
    *n = _mm256_sub_ps(
        _mm256_fmadd_ps(t, _mm256_set1_ps(0x1.715476p+23f), magic), magic);
    const Reg r = _mm256_fnmadd_ps(*n, _mm256_set1_ps(0x1.62e430p-24f), t);
    return _mm256_fnmadd_ps(*n, _mm256_set1_ps(-0x1.05c610p-52f), r);
  }
  // c2 + c3 r + ... + c6 r^4, so that exp(r) = 1 + r + r^2 (this), c_k
  // minimax for relative error (Horner: Estrin's scheme was slower here and
  // less accurate).
  static Reg ExpTail(Reg r) {
    Reg p = _mm256_set1_ps(0x1.6a15fap-10f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.1239b0p-7f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.555906p-5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.555492p-3f));
    return _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.fffffcp-2f));
  }

  // exp(t) - 1 for 0 <= t <= 40 and NaN (NaN), as Tanh uses it (its
  // accuracy is measured through Tanh): Exp's reduction and polynomial less
  // its constant term, so that it stays relative to t near 0.
  static Reg Expm1(Reg t) {
    Reg n;
    const Reg r = ExpReduce(t, &n);
    const Reg p = _mm256_fmadd_ps(_mm256_mul_ps(r, r), ExpTail(r), r);
    // 2^n (exponent field of 1.0 plus n; for NaN, n converts to 0x80000000
    // and the scale to -1, and p is NaN).
    const Reg scale = _mm256_castsi256_ps(_mm256_add_epi32(
        _mm256_cvtps_epi32(n), _mm256_castps_si256(_mm256_set1_ps(1.0f))));
    return _mm256_fmadd_ps(scale, p,
                           _mm256_sub_ps(scale, _mm256_set1_ps(1.0f)));
  }

  // Exp(t) for t >= kExpLo or NaN, and unspecified below kExpLo (-inf
  // included): Exp less its flush, two operations of fifteen, for callers
  // that know their arguments' range (softmax, from a row's minimum) or
  // recompute the lanes outside it (the elementwise kernels).
  static Reg ExpAboveLo(Reg t) {
    Reg n;
    const Reg r = ExpReduce(t, &n);
    Reg p = _mm256_fmadd_ps(ExpTail(r), r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    // 2^n from a conversion, not from the bits of the rounded sum, so that a
    // NaN p stays NaN (NaN converts to 0x80000000, which flips only its
    // sign bit).
    return _mm256_castsi256_ps(
        _mm256_add_epi32(_mm256_castps_si256(p), _mm256_cvtps_epi32(n)));
  }
  // Lanes below kExpLo (whose exponent would wrap) and -inf (whose r is
  // NaN) are cleared by the mask.
  static Reg Exp(Reg t) {
    return _mm256_andnot_ps(
        _mm256_cmp_ps(t, _mm256_set1_ps(kExpLo), _CMP_LT_OQ), ExpAboveLo(t));
  }
};

template <>
struct Vec<double> {
  using Reg = __m256d;
  using Mask = __m256i;
  static constexpr int64_t kWidth = 4;
  static constexpr double kExpLo = -708.39;  // ln(DBL_MIN) = -708.3964
  static constexpr double kExpHi = 709.43;   // n <= 1023
  static constexpr double kExpMaxUlp = 1.0;

  static Reg Load(const double* p) { return _mm256_loadu_pd(p); }
  static void Store(double* p, Reg v) { _mm256_storeu_pd(p, v); }
  static Reg Set(double v) { return _mm256_set1_pd(v); }
  static Reg Sub(Reg a, Reg b) { return _mm256_sub_pd(a, b); }
  static Reg Mul(Reg a, Reg b) { return _mm256_mul_pd(a, b); }
  static Reg Zero() { return _mm256_setzero_pd(); }
  static Reg Max(Reg a, Reg b) { return _mm256_max_pd(a, b); }
  static Mask FirstLanes(int64_t count) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count),
                              _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static Reg LoadFirst(const double* p, Mask mask, double fill) {
    return _mm256_blendv_pd(_mm256_set1_pd(fill), _mm256_maskload_pd(p, mask),
                            _mm256_castsi256_pd(mask));
  }
  static void StoreFirst(double* p, Mask mask, Reg v) {
    _mm256_maskstore_pd(p, mask, v);
  }
  static double MaxLane(Reg v) {
    __m128d h =
        _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    h = _mm_max_sd(h, _mm_unpackhi_pd(h, h));
    return _mm_cvtsd_f64(h);
  }
  static double MinLane(Reg v) {
    __m128d h =
        _mm_min_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    h = _mm_min_sd(h, _mm_unpackhi_pd(h, h));
    return _mm_cvtsd_f64(h);
  }
  static Reg Add(Reg a, Reg b) { return _mm256_add_pd(a, b); }
  static __m256d AddToDouble(__m256d sum, Reg v) { return Add(sum, v); }
  static __m256d AddHalvesToDouble(__m256d sum, Reg v) { return Add(sum, v); }
  static Reg Div(Reg a, Reg b) { return _mm256_div_pd(a, b); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_pd(a, b, c); }
  static Reg Abs(Reg a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static Reg Min(Reg a, Reg b) { return _mm256_min_pd(a, b); }
  static Reg Less(Reg a, Reg b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  static Reg Equal(Reg a, Reg b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
  static Reg IsNan(Reg a) { return _mm256_cmp_pd(a, a, _CMP_UNORD_Q); }
  static Reg Or(Reg a, Reg b) { return _mm256_or_pd(a, b); }
  static int MaskBits(Reg mask) { return _mm256_movemask_pd(mask); }
  static Reg Select(Reg mask, Reg a, Reg b) {
    return _mm256_blendv_pd(b, a, mask);
  }
  static Reg ApproxRecip(Reg a) {
    return _mm256_cvtps_pd(_mm_rcp_ps(_mm256_cvtpd_ps(a)));
  }
  static Reg CopySign(Reg a, Reg b) {
    const Reg sign = _mm256_set1_pd(-0.0);
    return _mm256_or_pd(_mm256_andnot_pd(sign, a), _mm256_and_pd(sign, b));
  }
  static bool AnyOutside(Reg x, Reg lo, Reg hi) {
    const Reg in = _mm256_and_pd(_mm256_cmp_pd(x, lo, _CMP_GE_OQ),
                                 _mm256_cmp_pd(x, hi, _CMP_LE_OQ));
    return _mm256_movemask_pd(in) != 0xf;
  }
  // As for float; k = (bits >> 52) - 1023 converted by way of 2^52 + k
  // (AVX2 has no int64 to double conversion).
  static Reg LogReduce(Reg x, Reg* k) {
    constexpr int64_t kSqrtHalfHigh = int64_t{0x3fe6a09e} << 32;
    __m256i b = _mm256_add_epi64(
        _mm256_castpd_si256(x),
        _mm256_set1_epi64x((int64_t{0x3ff} << 52) - kSqrtHalfHigh));
    *k = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(
            _mm256_srli_epi64(b, 52), _mm256_set1_epi64x(0x4330000000000000))),
        _mm256_set1_pd(0x1p52 + 1023));
    b = _mm256_add_epi64(
        _mm256_and_si256(b, _mm256_set1_epi64x(0x000fffffffffffff)),
        _mm256_set1_epi64x(kSqrtHalfHigh));
    return _mm256_castsi256_pd(b);
  }

  // 1/k! for k = 13 .. 2, then 1, 1: Exp's Taylor polynomial.
  static constexpr double kInverseFactorial[] = {1.0 / 6227020800,
                                                 1.0 / 479001600,
                                                 1.0 / 39916800,
                                                 1.0 / 3628800,
                                                 1.0 / 362880,
                                                 1.0 / 40320,
                                                 1.0 / 5040,
                                                 1.0 / 720,
                                                 1.0 / 120,
                                                 1.0 / 24,
                                                 1.0 / 6,
                                                 0.5,
                                                 1.0,
                                                 1.0};

  static Reg Expm1(Reg t) {
    const Reg magic = _mm256_set1_pd(0x1.8p52);
    const Reg n = _mm256_sub_pd(
        _mm256_fmadd_pd(t, _mm256_set1_pd(0x1.71547652b82fep+0), magic), magic);
    Reg r = _mm256_fnmadd_pd(n, _mm256_set1_pd(0x1.62e42fefa39efp-1), t);
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(0x1.abc9e3b39803fp-56), r);
    Reg p = _mm256_set1_pd(kInverseFactorial[0]);
    for (int k = 1; k < 12; ++k) {  // up to 1/2!
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kInverseFactorial[k]));
    }
    p = _mm256_fmadd_pd(_mm256_mul_pd(r, r), p, r);
    const __m256i e =
        _mm256_slli_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n)), 52);
    const Reg scale = _mm256_castsi256_pd(
        _mm256_add_epi64(e, _mm256_castpd_si256(_mm256_set1_pd(1.0))));
    return _mm256_fmadd_pd(scale, p, _mm256_sub_pd(scale, _mm256_set1_pd(1.0)));
  }

  // As for float.
  static Reg ExpAboveLo(Reg t) {
    const Reg magic = _mm256_set1_pd(0x1.8p52);
    const Reg n = _mm256_sub_pd(
        _mm256_fmadd_pd(t, _mm256_set1_pd(0x1.71547652b82fep+0), magic), magic);
    Reg r = _mm256_fnmadd_pd(n, _mm256_set1_pd(0x1.62e42fefa39efp-1), t);
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(0x1.abc9e3b39803fp-56), r);
    Reg p = _mm256_set1_pd(kInverseFactorial[0]);
    for (int k = 1; k < 14; ++k) {
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kInverseFactorial[k]));
    }
    // The int32 lane of NaN (0x80000000) widens to a value whose shift by
    // 52 is 0.
    const __m256i e =
        _mm256_slli_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n)), 52);
    return _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(p), e));
  }
  static Reg Exp(Reg t) {
    return _mm256_andnot_pd(
        _mm256_cmp_pd(t, _mm256_set1_pd(kExpLo), _CMP_LT_OQ), ExpAboveLo(t));
  }
};

}  // namespace theta::cpu::simd

#endif  // THETA_BACKENDS_CPU_VEC_MATH_H_
