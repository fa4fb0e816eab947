// The meaning of every elementwise opcode of theta_backend.h, as one scalar
// function per compute type. This is the reference every backend must match:
// the CPU plugin's vectorised paths are tested against it, the CUDA plugin
// compiles it into its kernels, and the core evaluates small host-side values
// (shapes, scalars) with it. Header-only C++, usable from CUDA device code.
#ifndef THETA_BACKENDS_API_ELEMENTWISE_SEMANTICS_H_
#define THETA_BACKENDS_API_ELEMENTWISE_SEMANTICS_H_

#include "backends/api/theta_backend.h"

#ifdef __CUDACC__
#define THETA_HD __host__ __device__
#else
#define THETA_HD
#include <cmath>
#include <cstdint>
#include <limits>
#endif

namespace theta::ew {

// Opcode arity: 1, 2 or 3 source registers; 0 for LOAD/PARAM/STORE, whose
// operands are not registers (STORE reads register `a`); -1 for unknown.
THETA_HD constexpr int Arity(int op) {
  if (op == THETA_EW_COPY) return 1;
  if (op >= THETA_EW_NEG && op <= THETA_EW_ISINF) return 1;
  if (op >= THETA_EW_ADD && op <= THETA_EW_ATAN2) return 2;
  if (op == THETA_EW_SELECT || op == THETA_EW_CLIP) return 3;
  if (op == THETA_EW_LOAD || op == THETA_EW_PARAM || op == THETA_EW_STORE) {
    return 0;
  }
  return -1;
}

// Unary functions computed by a polynomial or a library call (not exact in
// the last bit, and several times the cost of an add).
THETA_HD constexpr bool IsTranscendental(int op) {
  switch (op) {
    case THETA_EW_EXP:
    case THETA_EW_LOG:
    case THETA_EW_LOG1P:
    case THETA_EW_EXPM1:
    case THETA_EW_TANH:
    case THETA_EW_SIGMOID:
    case THETA_EW_SOFTPLUS:
    case THETA_EW_SIN:
    case THETA_EW_COS:
    case THETA_EW_ERF:
      return true;
    default:
      return false;
  }
}

// Comparisons and logical ops give 0/1; the core types their results bool.
THETA_HD constexpr bool IsPredicate(int op) {
  return (op >= THETA_EW_EQ && op <= THETA_EW_XOR) || op == THETA_EW_NOT ||
         op == THETA_EW_ISNAN || op == THETA_EW_ISINF;
}

namespace internal {

template <typename T>
struct IsFloat {
  static constexpr bool value = false;
};
template <>
struct IsFloat<float> {
  static constexpr bool value = true;
};
template <>
struct IsFloat<double> {
  static constexpr bool value = true;
};

template <typename T>
THETA_HD inline bool IsNan(T x) {
  return x != x;  // false for integers
}

// Integer arithmetic wraps (two's complement) instead of overflowing.
template <typename T>
THETA_HD inline T WrapAdd(T a, T b) {
  using U = typename std::make_unsigned<T>::type;
  return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
}
template <typename T>
THETA_HD inline T WrapSub(T a, T b) {
  using U = typename std::make_unsigned<T>::type;
  return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
}
template <typename T>
THETA_HD inline T WrapMul(T a, T b) {
  using U = typename std::make_unsigned<T>::type;
  return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
}

template <typename T>
THETA_HD inline T FloorDiv(T a, T b) {
  if (b == 0) return 0;
  if (b == -1) return WrapSub(T(0), a);
  T q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

template <typename T>
THETA_HD inline T FloorMod(T a, T b) {
  if (b == 0 || b == -1) return 0;
  T r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

template <typename T>
THETA_HD inline T IntPow(T base, T exp) {
  if (exp < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exp % 2 == 0) ? 1 : -1;
    return 0;
  }
  T result = 1;
  while (exp > 0) {
    if (exp & 1) result = WrapMul(result, base);
    base = WrapMul(base, base);
    exp >>= 1;
  }
  return result;
}

template <typename T>
THETA_HD inline T FloatMod(T a, T b) {
  using std::fmod;
  T r = fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

template <typename T>
THETA_HD inline T Sigmoid(T x) {
  using std::exp;
  if (x >= 0) return T(1) / (T(1) + exp(-x));
  T e = exp(x);
  return e / (T(1) + e);
}

template <typename T>
THETA_HD inline T Softplus(T x) {
  using std::exp;
  using std::fabs;
  using std::log1p;
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact in both tails.
  return (x > 0 ? x : T(0)) + log1p(exp(-fabs(x)));
}

// Floating semantics.
template <typename T>
THETA_HD inline T ApplyFloat(int op, T a, T b, T c) {
  using std::atan2;
  using std::ceil;
  using std::cos;
  using std::erf;
  using std::exp;
  using std::expm1;
  using std::fabs;
  using std::floor;
  using std::log;
  using std::log1p;
  using std::pow;
  using std::rint;
  using std::sin;
  using std::sqrt;
  using std::tanh;
  using std::trunc;
  switch (op) {
    case THETA_EW_COPY:
      return a;
    case THETA_EW_NEG:
      return -a;
    case THETA_EW_ABS:
      return fabs(a);
    case THETA_EW_SIGN:
      return IsNan(a) ? a : T((a > 0) - (a < 0));
    case THETA_EW_EXP:
      return exp(a);
    case THETA_EW_LOG:
      return log(a);
    case THETA_EW_LOG1P:
      return log1p(a);
    case THETA_EW_EXPM1:
      return expm1(a);
    case THETA_EW_SQRT:
      return sqrt(a);
    case THETA_EW_RSQRT:
      return T(1) / sqrt(a);
    case THETA_EW_SQUARE:
      return a * a;
    case THETA_EW_RECIPROCAL:
      return T(1) / a;
    case THETA_EW_TANH:
      return tanh(a);
    case THETA_EW_SIGMOID:
      return Sigmoid(a);
    case THETA_EW_SOFTPLUS:
      return Softplus(a);
    case THETA_EW_RELU:
      return IsNan(a) ? a : (a > 0 ? a : T(0));
    case THETA_EW_SIN:
      return sin(a);
    case THETA_EW_COS:
      return cos(a);
    case THETA_EW_FLOOR:
      return floor(a);
    case THETA_EW_CEIL:
      return ceil(a);
    case THETA_EW_ROUND:
      return rint(a);
    case THETA_EW_TRUNC:
      return trunc(a);
    case THETA_EW_NOT:
      return T(a == 0);
    case THETA_EW_ERF:
      return erf(a);
    case THETA_EW_ISNAN:
      return T(IsNan(a));
    case THETA_EW_ISINF:
      return T(!IsNan(a) && IsNan(a - a));
    case THETA_EW_ADD:
      return a + b;
    case THETA_EW_SUB:
      return a - b;
    case THETA_EW_MUL:
      return a * b;
    case THETA_EW_DIV:
      return a / b;
    case THETA_EW_MOD:
      return FloatMod(a, b);
    case THETA_EW_POW:
      return pow(a, b);
    case THETA_EW_MAX:
      return (IsNan(a) || IsNan(b)) ? a + b : (a > b ? a : b);
    case THETA_EW_MIN:
      return (IsNan(a) || IsNan(b)) ? a + b : (a < b ? a : b);
    case THETA_EW_EQ:
      return T(a == b);
    case THETA_EW_NE:
      return T(a != b);
    case THETA_EW_LT:
      return T(a < b);
    case THETA_EW_LE:
      return T(a <= b);
    case THETA_EW_GT:
      return T(a > b);
    case THETA_EW_GE:
      return T(a >= b);
    case THETA_EW_AND:
      return T((a != 0) && (b != 0));
    case THETA_EW_OR:
      return T((a != 0) || (b != 0));
    case THETA_EW_XOR:
      return T((a != 0) != (b != 0));
    case THETA_EW_ATAN2:
      return atan2(a, b);
    case THETA_EW_SELECT:
      return a != 0 ? b : c;
    case THETA_EW_CLIP:
      if (IsNan(a)) return a;
      return a < b ? b : (a > c ? c : a);
    default:
      return T(0);
  }
}

// Integer semantics: exact where the result fits; arithmetic wraps; the
// floating-only functions are computed in double and truncated toward zero.
template <typename T>
THETA_HD inline T ApplyInt(int op, T a, T b, T c) {
  switch (op) {
    case THETA_EW_COPY:
      return a;
    case THETA_EW_NEG:
      return WrapSub(T(0), a);
    case THETA_EW_ABS:
      return a < 0 ? WrapSub(T(0), a) : a;
    case THETA_EW_SIGN:
      return T((a > 0) - (a < 0));
    case THETA_EW_SQUARE:
      return WrapMul(a, a);
    case THETA_EW_RELU:
      return a > 0 ? a : T(0);
    case THETA_EW_FLOOR:
    case THETA_EW_CEIL:
    case THETA_EW_ROUND:
    case THETA_EW_TRUNC:
      return a;
    case THETA_EW_NOT:
      return T(a == 0);
    case THETA_EW_ISNAN:
    case THETA_EW_ISINF:
      return 0;
    case THETA_EW_ADD:
      return WrapAdd(a, b);
    case THETA_EW_SUB:
      return WrapSub(a, b);
    case THETA_EW_MUL:
      return WrapMul(a, b);
    case THETA_EW_DIV:
      return FloorDiv(a, b);
    case THETA_EW_MOD:
      return FloorMod(a, b);
    case THETA_EW_POW:
      return IntPow(a, b);
    case THETA_EW_MAX:
      return a > b ? a : b;
    case THETA_EW_MIN:
      return a < b ? a : b;
    case THETA_EW_EQ:
      return T(a == b);
    case THETA_EW_NE:
      return T(a != b);
    case THETA_EW_LT:
      return T(a < b);
    case THETA_EW_LE:
      return T(a <= b);
    case THETA_EW_GT:
      return T(a > b);
    case THETA_EW_GE:
      return T(a >= b);
    case THETA_EW_AND:
      return T((a != 0) && (b != 0));
    case THETA_EW_OR:
      return T((a != 0) || (b != 0));
    case THETA_EW_XOR:
      return T((a != 0) != (b != 0));
    case THETA_EW_SELECT:
      return a != 0 ? b : c;
    case THETA_EW_CLIP:
      return a < b ? b : (a > c ? c : a);
    default: {
      double r = ApplyFloat<double>(op, double(a), double(b), double(c));
      if (IsNan(r)) return 0;
      if (r >= double(std::numeric_limits<T>::max())) {
        return std::numeric_limits<T>::max();
      }
      if (r <= double(std::numeric_limits<T>::lowest())) {
        return std::numeric_limits<T>::lowest();
      }
      return static_cast<T>(r);
    }
  }
}

}  // namespace internal

// r = op(a, b, c) in compute type T (float, double, int32_t or int64_t).
template <typename T>
THETA_HD inline T Apply(int op, T a, T b, T c) {
  if constexpr (internal::IsFloat<T>::value) {
    return internal::ApplyFloat<T>(op, a, b, c);
  } else {
    return internal::ApplyInt<T>(op, a, b, c);
  }
}

// Conversion on store: float to integer truncates toward zero, saturating,
// NaN gives 0; anything to bool gives value != 0.
template <typename To, typename From>
THETA_HD inline To Convert(From x) {
  if constexpr (internal::IsFloat<From>::value &&
                !internal::IsFloat<To>::value) {
    if (internal::IsNan(x)) return To(0);
    if (x >= From(std::numeric_limits<To>::max())) {
      return std::numeric_limits<To>::max();
    }
    if (x <= From(std::numeric_limits<To>::lowest())) {
      return std::numeric_limits<To>::lowest();
    }
    return static_cast<To>(x);
  } else {
    return static_cast<To>(x);
  }
}

template <typename From>
THETA_HD inline uint8_t ConvertToBool(From x) {
  return x != From(0) ? 1 : 0;
}

}  // namespace theta::ew

#endif  // THETA_BACKENDS_API_ELEMENTWISE_SEMANTICS_H_
