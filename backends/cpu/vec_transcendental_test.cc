// simd::Log, Tanh and Sigmoid (vec_transcendental.h) against long double
// references: the largest ulp error over dense sweeps of each function's
// range (evenly spaced bit patterns, so every binade is covered, plus every
// float of the regions where the methods change or lose accuracy), and the
// special values each function handles itself.
#include "backends/cpu/vec_transcendental.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

namespace theta::cpu::simd {
namespace {

using Bits32 = uint32_t;
using Bits64 = uint64_t;
template <typename T>
using BitsOf = std::conditional_t<sizeof(T) == 4, Bits32, Bits64>;

template <typename T>
BitsOf<T> ToBits(T x) {
  BitsOf<T> b;
  std::memcpy(&b, &x, sizeof(T));
  return b;
}
template <typename T>
T FromBits(BitsOf<T> b) {
  T x;
  std::memcpy(&x, &b, sizeof(T));
  return x;
}

// About `count` values from lo to hi (0 <= lo < hi, both finite), evenly
// spaced in their bit patterns (so equally many per binade), each also with
// its sign flipped when `both_signs`. count 0: every value.
template <typename T>
void AddSweep(std::vector<T>* out, T lo, T hi, int64_t count, bool both_signs) {
  const BitsOf<T> a = ToBits(lo), b = ToBits(hi);
  const BitsOf<T> step =
      count == 0 ? 1 : std::max<BitsOf<T>>(1, (b - a) / BitsOf<T>(count));
  for (BitsOf<T> k = a; k <= b && k >= a; k += step) {
    out->push_back(FromBits<T>(k));
    if (both_signs) out->push_back(-FromBits<T>(k));
  }
}

// f over xs, a vector (kWidth lanes) at a time; a last partial vector is
// padded with xs[0].
template <typename T, typename F>
std::vector<T> Apply(const std::vector<T>& xs, F f) {
  using V = Vec<T>;
  std::vector<T> out(xs.size());
  for (size_t i = 0; i < xs.size(); i += V::kWidth) {
    T lanes[V::kWidth];
    for (int j = 0; j < V::kWidth; ++j) {
      lanes[j] = i + j < xs.size() ? xs[i + j] : xs[0];
    }
    V::Store(lanes, f(V::Load(lanes)));
    for (int j = 0; j < V::kWidth && i + j < xs.size(); ++j) {
      out[i + j] = lanes[j];
    }
  }
  return out;
}

// |got - want| in ulp of T at want (the ulp of a subnormal is the smallest
// subnormal).
template <typename T>
double UlpError(T got, long double want) {
  if (got == want) return 0;
  const int digits = std::numeric_limits<T>::digits;
  const int e =
      std::max(std::ilogb(want), std::numeric_limits<T>::min_exponent - 1);
  const long double ulp = std::ldexp(1.0L, e - (digits - 1));
  return static_cast<double>(std::fabs(got - want) / ulp);
}

struct Worst {
  double ulp = 0;
  long double at = 0;
};

// The largest error of f (vector) against ref (long double) over xs.
template <typename T, typename F, typename R>
Worst MaxError(const std::vector<T>& xs, F f, R ref) {
  const std::vector<T> got = Apply(xs, f);
  Worst w;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double e = UlpError(got[i], ref(static_cast<long double>(xs[i])));
    if (!(e <= w.ulp)) w = {e, xs[i]};
  }
  return w;
}

// Sweep sizes: float 2^22 points per range, double 2^20 (long double
// references cost about 50 ns each).
template <typename T>
constexpr int64_t kPoints = sizeof(T) == 4 ? int64_t{1} << 22
                                           : int64_t{1} << 20;

template <typename T>
void CheckLog() {
  using L = std::numeric_limits<T>;
  std::vector<T> xs;
  AddSweep<T>(&xs, L::min(), L::max(), 4 * kPoints<T>, false);
  // Near 1, where log is small and the reduction's f is all of it: every
  // float (every 2^20th double) within 1/16 of 1.
  AddSweep<T>(&xs, T(15) / 16, T(17) / 16, sizeof(T) == 4 ? 0 : kPoints<T>,
              false);
  // Around sqrt(1/2) and sqrt(2), where k changes.
  AddSweep<T>(&xs, T(0.70), T(0.72), kPoints<T>, false);
  AddSweep<T>(&xs, T(1.40), T(1.43), kPoints<T>, false);
  const Worst w = MaxError(
      xs, [](auto x) { return Log<T>(x); },
      [](long double x) { return std::log(x); });
  std::printf("%s log: max %.3f ulp at %La (%zu points)\n",
              sizeof(T) == 4 ? "float" : "double", w.ulp, w.at, xs.size());
  EXPECT_LE(w.ulp, MaxUlp<T>::kLog) << "at " << static_cast<double>(w.at);
}

template <typename T>
void CheckTanh() {
  using L = std::numeric_limits<T>;
  std::vector<T> xs;
  // Every binade from the smallest subnormal up to 20 (tanh is 1 in double
  // from 19.1), both signs.
  AddSweep<T>(&xs, L::denorm_min(), T(20), 2 * kPoints<T>, true);
  // Near 0 (relative accuracy of expm1) and around 0.173, where expm1's
  // 2^n becomes 2 and q crosses a binade: every float.
  AddSweep<T>(&xs, T(0x1p-12), T(0x1p-11), kPoints<T>, true);
  AddSweep<T>(&xs, T(0.05), T(0.2), sizeof(T) == 4 ? 0 : kPoints<T>, true);
  const Worst w = MaxError(
      xs, [](auto x) { return Tanh<T>(x); },
      [](long double x) { return std::tanh(x); });
  std::printf("%s tanh: max %.3f ulp at %La (%zu points)\n",
              sizeof(T) == 4 ? "float" : "double", w.ulp, w.at, xs.size());
  EXPECT_LE(w.ulp, MaxUlp<T>::kTanh) << "at " << static_cast<double>(w.at);
}

template <typename T>
void CheckSigmoid() {
  using L = std::numeric_limits<T>;
  std::vector<T> xs;
  // Every binade of |x| from the smallest subnormal up to -kExpLo, both
  // signs (above -kExpLo the results round to 1 or need a subnormal).
  AddSweep<T>(&xs, L::denorm_min(), -Vec<T>::kExpLo, 2 * kPoints<T>, true);
  // Evenly spaced in value over the whole range, and every float in [-1, 1]
  // apart from a stride.
  for (int64_t k = 0; k <= kPoints<T>; ++k) {
    xs.push_back(static_cast<T>(Vec<T>::kExpLo * (1 - 2.0L * k / kPoints<T>)));
  }
  AddSweep<T>(&xs, T(0x1p-4), T(1), kPoints<T>, true);
  const Worst w = MaxError(
      xs, [](auto x) { return Sigmoid<T>(x); },
      [](long double x) { return 1 / (1 + std::exp(-x)); });
  std::printf("%s sigmoid: max %.3f ulp at %La (%zu points)\n",
              sizeof(T) == 4 ? "float" : "double", w.ulp, w.at, xs.size());
  EXPECT_LE(w.ulp, MaxUlp<T>::kSigmoid) << "at " << static_cast<double>(w.at);
}

TEST(VecLogTest, FloatWithinStatedUlps) { CheckLog<float>(); }
TEST(VecLogTest, DoubleWithinStatedUlps) { CheckLog<double>(); }
TEST(VecTanhTest, FloatWithinStatedUlps) { CheckTanh<float>(); }
TEST(VecTanhTest, DoubleWithinStatedUlps) { CheckTanh<double>(); }
TEST(VecSigmoidTest, FloatWithinStatedUlps) { CheckSigmoid<float>(); }
TEST(VecSigmoidTest, DoubleWithinStatedUlps) { CheckSigmoid<double>(); }

// The values tanh and sigmoid handle in the vector (log leaves 0, negative,
// subnormal, inf and NaN to its callers).
template <typename T>
void CheckSpecialValues() {
  using L = std::numeric_limits<T>;
  const std::vector<T> xs = {T(0),           -T(0),          L::infinity(),
                             -L::infinity(), L::quiet_NaN(), L::denorm_min(),
                             -L::min(),      T(1000),        T(-1000),
                             L::max(),       L::lowest()};
  const std::vector<T> t = Apply(xs, [](auto x) { return Tanh<T>(x); });
  EXPECT_EQ(ToBits(t[0]), ToBits(T(0)));
  EXPECT_EQ(ToBits(t[1]), ToBits(-T(0)));
  EXPECT_EQ(t[2], T(1));
  EXPECT_EQ(t[3], T(-1));
  EXPECT_TRUE(std::isnan(t[4]));
  EXPECT_EQ(t[5], L::denorm_min());
  EXPECT_EQ(t[6], -L::min());
  EXPECT_EQ(t[7], T(1));
  EXPECT_EQ(t[8], T(-1));
  EXPECT_EQ(t[9], T(1));
  EXPECT_EQ(t[10], T(-1));
  const std::vector<T> s = Apply(xs, [](auto x) { return Sigmoid<T>(x); });
  EXPECT_EQ(s[0], T(0.5));
  EXPECT_EQ(s[1], T(0.5));
  EXPECT_EQ(s[2], T(1));
  EXPECT_EQ(ToBits(s[3]), ToBits(T(0)));
  EXPECT_TRUE(std::isnan(s[4]));
  EXPECT_EQ(s[5], T(0.5));
  EXPECT_EQ(s[7], T(1));
  EXPECT_EQ(ToBits(s[8]), ToBits(T(0)));
  EXPECT_EQ(s[9], T(1));
  EXPECT_EQ(ToBits(s[10]), ToBits(T(0)));
  const std::vector<T> l = Apply(std::vector<T>{T(1), L::min(), L::max()},
                                 [](auto x) { return Log<T>(x); });
  EXPECT_EQ(ToBits(l[0]), ToBits(T(0)));
  EXPECT_EQ(l[1], static_cast<T>(std::log(static_cast<long double>(L::min()))));
  EXPECT_EQ(l[2], static_cast<T>(std::log(static_cast<long double>(L::max()))));
}

TEST(VecTranscendentalTest, SpecialValues) {
  CheckSpecialValues<float>();
  CheckSpecialValues<double>();
}

}  // namespace
}  // namespace theta::cpu::simd
