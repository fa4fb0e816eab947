// simd::Vec<T>::Exp against expl (long double) over its whole range, and
// the lane masks of a row's tail.
#include "backends/cpu/vec_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace theta::cpu::simd {
namespace {

// exp of each t, 8 (or 4) lanes at a time.
template <typename T>
std::vector<T> VectorExp(const std::vector<T>& t) {
  using V = Vec<T>;
  std::vector<T> out(t.size());
  size_t i = 0;
  for (; i + V::kWidth <= t.size(); i += V::kWidth) {
    V::Store(out.data() + i, V::Exp(V::Load(t.data() + i)));
  }
  for (; i < t.size(); ++i) {
    T lanes[V::kWidth] = {};
    lanes[0] = t[i];
    V::Store(lanes, V::Exp(V::Load(lanes)));
    out[i] = lanes[0];
  }
  return out;
}

// |got - exp(t)| in units of the last place of T at exp(t).
template <typename T>
double UlpError(T t, T got) {
  const long double want = std::exp(static_cast<long double>(t));
  const int digits = std::numeric_limits<T>::digits;
  const long double ulp = std::ldexp(1.0L, std::ilogb(want) - (digits - 1));
  return static_cast<double>(std::fabs(got - want) / ulp);
}

// The largest error over `count` evenly spaced arguments in [kExpLo,
// kExpHi], both ends included, and every T in [-2^-10, 2^-10] apart from a
// stride (where the polynomial's r is tiny and errors are relative to 1).
template <typename T>
double MaxUlpError(int64_t count, T* worst) {
  using V = Vec<T>;
  std::vector<T> t;
  t.reserve(static_cast<size_t>(count) + 200000);
  const long double lo = V::kExpLo, hi = V::kExpHi;
  for (int64_t k = 0; k <= count; ++k) {
    t.push_back(static_cast<T>(lo + (hi - lo) * k / count));
  }
  for (T v = T(-0x1p-10); v <= T(0x1p-10); v += T(0x1p-26)) t.push_back(v);
  const std::vector<T> got = VectorExp(t);
  double max = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double e = UlpError(t[i], got[i]);
    if (!(e <= max)) {
      max = e;
      *worst = t[i];
    }
  }
  return max;
}

TEST(VecExpTest, FloatWithinStatedUlps) {
  float worst = 0;
  const double max = MaxUlpError<float>(int64_t{1} << 24, &worst);
  std::printf("float exp: max error %.3f ulp (at %a)\n", max, worst);
  EXPECT_LE(max, Vec<float>::kExpMaxUlp) << "at " << worst;
}

TEST(VecExpTest, DoubleWithinStatedUlps) {
  double worst = 0;
  const double max = MaxUlpError<double>(int64_t{1} << 23, &worst);
  std::printf("double exp: max error %.3f ulp (at %a)\n", max, worst);
  EXPECT_LE(max, Vec<double>::kExpMaxUlp) << "at " << worst;
}

template <typename T>
void CheckSpecialValues() {
  using V = Vec<T>;
  constexpr T kInf = std::numeric_limits<T>::infinity();
  T payload_nan = std::numeric_limits<T>::quiet_NaN();
  // A NaN with low payload bits set (which must not reach the exponent).
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &payload_nan, sizeof(T));
  bytes[0] |= 0x7f;
  std::memcpy(&payload_nan, bytes, sizeof(T));
  const std::vector<T> t = {-kInf,       std::nextafter(V::kExpLo, -kInf),
                            T(-1000),    T(0),
                            -T(0),       std::numeric_limits<T>::quiet_NaN(),
                            payload_nan, -payload_nan,
                            V::kExpLo,   V::kExpHi};
  const std::vector<T> got = VectorExp(t);
  EXPECT_EQ(got[0], T(0));
  EXPECT_FALSE(std::signbit(got[0]));
  EXPECT_EQ(got[1], T(0));
  EXPECT_EQ(got[2], T(0));
  EXPECT_EQ(got[3], T(1));
  EXPECT_EQ(got[4], T(1));
  EXPECT_TRUE(std::isnan(got[5]));
  EXPECT_TRUE(std::isnan(got[6]));
  EXPECT_TRUE(std::isnan(got[7]));
  EXPECT_GE(got[8], std::numeric_limits<T>::min());
  EXPECT_TRUE(std::isfinite(got[9]));
}

// ExpAboveLo is Exp less its flush: the same bits from kExpLo up, and NaN
// for NaN.
template <typename T>
void CheckExpAboveLo(int64_t count) {
  using V = Vec<T>;
  std::vector<T> t;
  const long double lo = V::kExpLo, hi = V::kExpHi;
  for (int64_t k = 0; k <= count; ++k) {
    t.push_back(static_cast<T>(lo + (hi - lo) * k / count));
  }
  t.push_back(std::numeric_limits<T>::quiet_NaN());
  t.push_back(-std::numeric_limits<T>::quiet_NaN());
  while (t.size() % V::kWidth != 0) t.push_back(T(0));
  for (size_t i = 0; i < t.size(); i += V::kWidth) {
    T a[V::kWidth], b[V::kWidth];
    V::Store(a, V::Exp(V::Load(t.data() + i)));
    V::Store(b, V::ExpAboveLo(V::Load(t.data() + i)));
    for (int j = 0; j < V::kWidth; ++j) {
      if (std::isnan(t[i + j])) {
        EXPECT_TRUE(std::isnan(b[j]));
      } else {
        EXPECT_EQ(std::memcmp(&a[j], &b[j], sizeof(T)), 0) << t[i + j];
      }
    }
  }
}

TEST(VecExpTest, ExpAboveLoIsExpInItsRange) {
  CheckExpAboveLo<float>(int64_t{1} << 20);
  CheckExpAboveLo<double>(int64_t{1} << 18);
}

TEST(VecExpTest, SpecialValues) {
  CheckSpecialValues<float>();
  CheckSpecialValues<double>();
}

template <typename T>
void CheckFirstLanes() {
  using V = Vec<T>;
  for (int64_t count = 0; count <= V::kWidth; ++count) {
    T src[V::kWidth], dst[V::kWidth];
    for (int i = 0; i < V::kWidth; ++i) {
      src[i] = T(i + 1);
      dst[i] = T(-1);
    }
    const typename V::Mask mask = V::FirstLanes(count);
    V::StoreFirst(dst, mask, V::LoadFirst(src, mask, T(99)));
    T all[V::kWidth];
    V::Store(all, V::LoadFirst(src, mask, T(99)));
    for (int i = 0; i < V::kWidth; ++i) {
      EXPECT_EQ(dst[i], i < count ? src[i] : T(-1)) << count << " " << i;
      EXPECT_EQ(all[i], i < count ? src[i] : T(99)) << count << " " << i;
    }
  }
}

TEST(VecTest, FirstLanesLoadAndStoreOnlyTheirLanes) {
  CheckFirstLanes<float>();
  CheckFirstLanes<double>();
}

}  // namespace
}  // namespace theta::cpu::simd
