// Block kernels of the elementwise interpreter. Integer compute types run
// the reference (elementwise_semantics.h) with the opcode fixed at compile
// time, so the compiler inlines and vectorises it and the results are the
// reference's by construction. Float types use Eigen's vectorised arrays:
// arithmetic is exact IEEE; for the transcendental functions Eigen's fast
// kernels handle the ordinary range and inputs outside it (huge, tiny,
// infinite, NaN), where those kernels clamp or flush, are recomputed with
// the standard library.
#include "backends/cpu/elementwise_ops.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unsupported/Eigen/SpecialFunctions>

#include "backends/api/elementwise_semantics.h"

namespace theta::cpu {
namespace {

// X(NAME) for every computing opcode.
// clang-format off
#define THETA_CPU_EW_OPS(X)                                                   \
  X(COPY)                                                                     \
  X(NEG) X(ABS) X(SIGN) X(EXP) X(LOG) X(LOG1P) X(EXPM1) X(SQRT) X(RSQRT)      \
  X(SQUARE) X(RECIPROCAL) X(TANH) X(SIGMOID) X(SOFTPLUS) X(RELU) X(SIN)       \
  X(COS) X(FLOOR) X(CEIL) X(ROUND) X(TRUNC) X(NOT) X(ERF) X(ISNAN) X(ISINF)   \
  X(ADD) X(SUB) X(MUL) X(DIV) X(MOD) X(POW) X(MAX) X(MIN) X(EQ) X(NE) X(LT)  \
  X(LE) X(GT) X(GE) X(AND) X(OR) X(XOR) X(ATAN2) X(SELECT) X(CLIP)
// clang-format on

// Lanes per step of RefLoop: a fixed trip count lets GCC's -O2 vectoriser
// (cost model "very cheap") handle the loop.
constexpr int kLanes = 16;
// Elements per step of the kernels that need a scratch buffer.
constexpr int64_t kChunk = 256;

// d[i] = ew::Apply<T>(OP, a[i], b[i], c[i]); d may equal a, b or c.
template <typename T, int OP>
void RefLoop(T* d, const T* a, const T* b, const T* c, int64_t n) {
  constexpr int arity = ew::Arity(OP);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    T r[kLanes];
    for (int j = 0; j < kLanes; ++j) {
      T y = T(0), z = T(0);
      if constexpr (arity >= 2) y = b[i + j];
      if constexpr (arity >= 3) z = c[i + j];
      r[j] = ew::Apply<T>(OP, a[i + j], y, z);
    }
    for (int j = 0; j < kLanes; ++j) d[i + j] = r[j];
  }
  for (; i < n; ++i) {
    T y = T(0), z = T(0);
    if constexpr (arity >= 2) y = b[i];
    if constexpr (arity >= 3) z = c[i];
    d[i] = ew::Apply<T>(OP, a[i], y, z);
  }
}

template <typename T>
bool ApplyReference(int op, T* d, const T* a, const T* b, const T* c,
                    int64_t n) {
  switch (op) {
#define THETA_CPU_CASE(NAME)                    \
  case THETA_EW_##NAME:                         \
    RefLoop<T, THETA_EW_##NAME>(d, a, b, c, n); \
    return true;
    THETA_CPU_EW_OPS(THETA_CPU_CASE)
#undef THETA_CPU_CASE
    default:
      return false;
  }
}

template <typename T>
using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
template <typename T>
using Out = Eigen::Map<Array<T>>;
template <typename T>
using In = Eigen::Map<const Array<T>>;

// The range of arguments where Eigen's exp is accurate; outside it Eigen
// clamps (exp(-inf) would not be 0, exp(100.f) not inf).
template <typename T>
struct ExpRange;
template <>
struct ExpRange<float> {
  static constexpr float kLo = -87.0f, kHi = 88.0f;
};
template <>
struct ExpRange<double> {
  static constexpr double kLo = -708.0, kHi = 709.0;
};

// d = vec(a) where lo <= a <= hi, scalar(a) elsewhere (NaN included).
// vec maps an Eigen array expression to one; d may equal a.
template <typename T, typename Vec, typename Scalar>
void Transcendental(T* d, const T* a, int64_t n, T lo, T hi, Vec vec,
                    Scalar scalar) {
  alignas(64) T tmp[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    const T* x = a + i;
    Out<T>(tmp, m) = vec(In<T>(x, m));
    for (int64_t j = 0; j < m; ++j) {
      if (!(x[j] >= lo && x[j] <= hi)) tmp[j] = scalar(x[j]);
    }
    std::memcpy(d + i, tmp, static_cast<size_t>(m) * sizeof(T));
  }
}

template <typename T>
void Exp(T* d, const T* a, int64_t n) {
  Transcendental<T>(
      d, a, n, ExpRange<T>::kLo, ExpRange<T>::kHi,
      [](const auto& x) { return x.exp(); }, [](T x) { return std::exp(x); });
}

// d = exp(-|a|), the shared part of sigmoid and softplus.
template <typename T>
void ExpNegAbs(T* d, const T* a, int64_t n) {
  Out<T>(d, n) = -In<T>(a, n).abs();
  Exp(d, d, n);
}

template <typename T>
void Sigmoid(T* d, const T* a, int64_t n) {
  alignas(64) T e[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    ExpNegAbs(e, a + i, m);
    for (int64_t j = 0; j < m; ++j) {
      // The reference: x >= 0 ? 1 / (1 + e^-x) : e^x / (1 + e^x).
      const T x = a[i + j];
      d[i + j] = x >= 0 ? T(1) / (T(1) + e[j]) : e[j] / (T(1) + e[j]);
    }
  }
}

template <typename T>
void Softplus(T* d, const T* a, int64_t n) {
  alignas(64) T e[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    ExpNegAbs(e, a + i, m);
    // log1p of a value in [0, 1] (or NaN): no clamping issue but NaN.
    Transcendental<T>(
        e, e, m, T(0), T(1), [](const auto& x) { return x.log1p(); },
        [](T x) { return std::log1p(x); });
    for (int64_t j = 0; j < m; ++j) {
      const T x = a[i + j];
      d[i + j] = (x > 0 ? x : T(0)) + e[j];
    }
  }
}

template <typename T>
bool ApplyFloat(int op, T* d, const T* a, const T* b, const T* c, int64_t n) {
  constexpr T kMin = std::numeric_limits<T>::min();  // smallest normal
  constexpr T kMax = std::numeric_limits<T>::max();
  constexpr T kLowest = std::numeric_limits<T>::lowest();
  switch (op) {
    case THETA_EW_COPY:
      if (d != a) std::memcpy(d, a, static_cast<size_t>(n) * sizeof(T));
      return true;
    case THETA_EW_ABS:
      Out<T>(d, n) = In<T>(a, n).abs();
      return true;
    case THETA_EW_SQUARE:
      Out<T>(d, n) = In<T>(a, n) * In<T>(a, n);
      return true;
    case THETA_EW_RECIPROCAL:
      Out<T>(d, n) = T(1) / In<T>(a, n);
      return true;
    case THETA_EW_FLOOR:
      Out<T>(d, n) = In<T>(a, n).floor();
      return true;
    case THETA_EW_CEIL:
      Out<T>(d, n) = In<T>(a, n).ceil();
      return true;
    case THETA_EW_ROUND:
      Out<T>(d, n) = In<T>(a, n).rint();
      return true;
    case THETA_EW_ADD:
      Out<T>(d, n) = In<T>(a, n) + In<T>(b, n);
      return true;
    case THETA_EW_SUB:
      Out<T>(d, n) = In<T>(a, n) - In<T>(b, n);
      return true;
    case THETA_EW_MUL:
      Out<T>(d, n) = In<T>(a, n) * In<T>(b, n);
      return true;
    case THETA_EW_DIV:
      Out<T>(d, n) = In<T>(a, n) / In<T>(b, n);
      return true;
    case THETA_EW_EXP:
      Exp(d, a, n);
      return true;
    case THETA_EW_LOG:
      // Eigen treats subnormals as the smallest normal.
      Transcendental<T>(
          d, a, n, kMin, kMax, [](const auto& x) { return x.log(); },
          [](T x) { return std::log(x); });
      return true;
    case THETA_EW_LOG1P:
      Transcendental<T>(
          d, a, n, std::nextafter(T(-1), T(0)), kMax,
          [](const auto& x) { return x.log1p(); },
          [](T x) { return std::log1p(x); });
      return true;
    case THETA_EW_EXPM1:
      Transcendental<T>(
          d, a, n, ExpRange<T>::kLo, ExpRange<T>::kHi,
          [](const auto& x) { return x.expm1(); },
          [](T x) { return std::expm1(x); });
      return true;
    case THETA_EW_TANH:
      Transcendental<T>(
          d, a, n, kLowest, kMax, [](const auto& x) { return x.tanh(); },
          [](T x) { return std::tanh(x); });
      return true;
    case THETA_EW_SIN:
      Transcendental<T>(
          d, a, n, kLowest, kMax, [](const auto& x) { return x.sin(); },
          [](T x) { return std::sin(x); });
      return true;
    case THETA_EW_COS:
      Transcendental<T>(
          d, a, n, kLowest, kMax, [](const auto& x) { return x.cos(); },
          [](T x) { return std::cos(x); });
      return true;
    case THETA_EW_ERF:
      Transcendental<T>(
          d, a, n, kLowest, kMax, [](const auto& x) { return x.erf(); },
          [](T x) { return std::erf(x); });
      return true;
    case THETA_EW_SIGMOID:
      Sigmoid(d, a, n);
      return true;
    case THETA_EW_SOFTPLUS:
      Softplus(d, a, n);
      return true;
    default:
      // NEG (Eigen's is 0 - x, which loses the sign of zero), SQRT, RSQRT
      // (exact with -fno-math-errno), TRUNC, the NaN-aware
      // selections (SIGN, RELU, MAX, MIN, CLIP, SELECT), predicates, MOD,
      // POW and ATAN2 run the reference.
      return ApplyReference(op, d, a, b, c, n);
  }
}

}  // namespace

template <typename T>
bool ApplyBlock(int op, T* dst, const T* a, const T* b, const T* c, int64_t n) {
  if constexpr (std::is_floating_point_v<T>) {
    return ApplyFloat(op, dst, a, b, c, n);
  } else {
    return ApplyReference(op, dst, a, b, c, n);
  }
}

template bool ApplyBlock<float>(int, float*, const float*, const float*,
                                const float*, int64_t);
template bool ApplyBlock<double>(int, double*, const double*, const double*,
                                 const double*, int64_t);
template bool ApplyBlock<int32_t>(int, int32_t*, const int32_t*, const int32_t*,
                                  const int32_t*, int64_t);
template bool ApplyBlock<int64_t>(int, int64_t*, const int64_t*, const int64_t*,
                                  const int64_t*, int64_t);

const char* OpcodeName(int op) {
  switch (op) {
    case THETA_EW_LOAD:
      return "LOAD";
    case THETA_EW_PARAM:
      return "PARAM";
    case THETA_EW_STORE:
      return "STORE";
#define THETA_CPU_NAME(NAME) \
  case THETA_EW_##NAME:      \
    return #NAME;
      THETA_CPU_EW_OPS(THETA_CPU_NAME)
#undef THETA_CPU_NAME
    default:
      return nullptr;
  }
}

}  // namespace theta::cpu
