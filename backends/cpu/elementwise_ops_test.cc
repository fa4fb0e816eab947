// ApplyBlock's exp, log, tanh and sigmoid (the kernels of vec_math.h and
// vec_transcendental.h with their scalar fallback) against long double:
// every result within the function's stated ulps of the exact value, or,
// outside the vector range, exactly the reference's (elementwise_semantics.h)
// -- subnormal results included -- over every length of a row's tail and
// in place.
#include "backends/cpu/elementwise_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/cpu/vec_math.h"
#include "backends/cpu/vec_transcendental.h"

namespace theta::cpu {
namespace {

template <typename T>
bool SameBits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0 || (a != a && b != b);
}

// The exact value of op at x and the op's stated bound in ulp.
template <typename T>
long double Exact(int op, long double x) {
  switch (op) {
    case THETA_EW_EXP:
      return std::exp(x);
    case THETA_EW_LOG:
      return std::log(x);
    case THETA_EW_TANH:
      return std::tanh(x);
    default:
      return 1 / (1 + std::exp(-x));
  }
}
template <typename T>
double Bound(int op) {
  switch (op) {
    case THETA_EW_EXP:
      return simd::Vec<T>::kExpMaxUlp;
    case THETA_EW_LOG:
      return simd::MaxUlp<T>::kLog;
    case THETA_EW_TANH:
      return simd::MaxUlp<T>::kTanh;
    default:
      return simd::MaxUlp<T>::kSigmoid;
  }
}

template <typename T>
double UlpError(T got, long double want) {
  if (got == want) return 0;
  const int e =
      std::max(std::ilogb(want), std::numeric_limits<T>::min_exponent - 1);
  const int digits = std::numeric_limits<T>::digits;
  return static_cast<double>(std::fabs(got - want) /
                             std::ldexp(1.0L, e - (digits - 1)));
}

// Special values, the edges of the vector ranges, values whose results are
// subnormal, and random values of several scales.
template <typename T>
std::vector<T> Inputs() {
  using L = std::numeric_limits<T>;
  using V = simd::Vec<T>;
  std::vector<T> v = {L::quiet_NaN(),
                      -L::quiet_NaN(),
                      L::infinity(),
                      -L::infinity(),
                      T(0),
                      -T(0),
                      L::denorm_min(),
                      -L::denorm_min(),
                      L::min() / 3,
                      L::min(),
                      L::max(),
                      L::lowest(),
                      T(1),
                      T(-1),
                      V::kExpLo,
                      std::nextafter(V::kExpLo, -L::infinity()),
                      V::kExpHi,
                      std::nextafter(V::kExpHi, L::infinity()),
                      T(sizeof(T) == 4 ? -95 : -720),  // subnormal exp
                      T(sizeof(T) == 4 ? -103 : -744),
                      T(sizeof(T) == 4 ? 89 : 710),  // exp overflows
                      T(0.17),  // where tanh's expm1 changes 2^n
                      T(-0.17),
                      T(20),
                      T(-20)};
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> unit(-1, 1);
  while (v.size() < 20000) {
    const double u = unit(gen);
    switch (v.size() % 4) {
      case 0:
        v.push_back(T(u * 10));
        break;
      case 1:
        v.push_back(T(u * 100));
        break;
      case 2:
        v.push_back(T(u));
        break;
      default:
        v.push_back(T(std::copysign(std::pow(10.0, 30 * u), u)));
    }
  }
  return v;
}

template <typename T>
void CheckOp(int op) {
  const std::vector<T> x = Inputs<T>();
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<T> y(x.size());
  ASSERT_TRUE(ApplyBlock<T>(op, y.data(), x.data(), nullptr, nullptr, n));
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T want = ew::Apply<T>(op, x[i], T(0), T(0));
    if (SameBits(y[i], want)) continue;
    const double e = UlpError(y[i], Exact<T>(op, x[i]));
    worst = std::max(worst, e);
    ASSERT_LE(e, Bound<T>(op)) << ew::OpcodeId(op) << " at " << x[i] << ": got "
                               << y[i] << ", reference " << want;
    // Below the vector ranges the results are the reference's.
    ASSERT_GE(std::fabs(y[i]), std::numeric_limits<T>::min())
        << ew::OpcodeId(op) << " at " << x[i] << " flushed";
  }
  std::printf("%s %s: max %.3f ulp over %lld values\n", ew::OpcodeId(op),
              sizeof(T) == 4 ? "F32" : "F64", worst, static_cast<long long>(n));
  // Every tail length at every offset (masked loads and stores, fallback
  // lanes in the tail), out of place and in place: the same bits.
  for (int64_t start = 0; start < 40; ++start) {
    for (int64_t len = 0; len <= 17; ++len) {
      std::vector<T> out(static_cast<size_t>(len) + 1, T(-7));
      ASSERT_TRUE(ApplyBlock<T>(op, out.data(), x.data() + start, nullptr,
                                nullptr, len));
      std::vector<T> in_place(x.begin() + start, x.begin() + start + len);
      ASSERT_TRUE(ApplyBlock<T>(op, in_place.data(), in_place.data(), nullptr,
                                nullptr, len));
      for (int64_t i = 0; i < len; ++i) {
        ASSERT_TRUE(SameBits(out[i], y[start + i]))
            << ew::OpcodeId(op) << " start " << start << " len " << len;
        ASSERT_TRUE(SameBits(in_place[i], y[start + i]))
            << ew::OpcodeId(op) << " in place, start " << start;
      }
      ASSERT_EQ(out[len], T(-7)) << "wrote past the end, len " << len;
    }
  }
}

TEST(ElementwiseOpsTest, ExpWithinStatedUlpsOrTheReference) {
  CheckOp<float>(THETA_EW_EXP);
  CheckOp<double>(THETA_EW_EXP);
}
TEST(ElementwiseOpsTest, LogWithinStatedUlpsOrTheReference) {
  CheckOp<float>(THETA_EW_LOG);
  CheckOp<double>(THETA_EW_LOG);
}
TEST(ElementwiseOpsTest, TanhWithinStatedUlpsOrTheReference) {
  CheckOp<float>(THETA_EW_TANH);
  CheckOp<double>(THETA_EW_TANH);
}
TEST(ElementwiseOpsTest, SigmoidWithinStatedUlpsOrTheReference) {
  CheckOp<float>(THETA_EW_SIGMOID);
  CheckOp<double>(THETA_EW_SIGMOID);
}

// Results below the smallest normal are not flushed: they are the
// reference's (the C library's).
TEST(ElementwiseOpsTest, SubnormalResultsAreTheReferences) {
  const float xf[] = {-90.0f, -100.0f, -103.0f, -87.4f};
  for (int op : {THETA_EW_EXP, THETA_EW_SIGMOID}) {
    float yf[4];
    ASSERT_TRUE(ApplyBlock<float>(op, yf, xf, nullptr, nullptr, 4));
    for (int i = 0; i < 4; ++i) {
      EXPECT_GT(yf[i], 0.0f) << ew::OpcodeId(op) << " at " << xf[i];
      EXPECT_EQ(yf[i], ew::Apply<float>(op, xf[i], 0, 0));
    }
  }
  const double xd[] = {-710.0, -720.0, -744.0, -708.5};
  double yd[4];
  ASSERT_TRUE(ApplyBlock<double>(THETA_EW_EXP, yd, xd, nullptr, nullptr, 4));
  for (int i = 0; i < 4; ++i) {
    EXPECT_GT(yd[i], 0.0) << " at " << xd[i];
    EXPECT_EQ(yd[i], std::exp(xd[i]));
  }
}

}  // namespace
}  // namespace theta::cpu
