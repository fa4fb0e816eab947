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

// The ABI's values of the opcodes; they never change (binary compatibility
// with plugins built earlier), whatever is added to THETA_EW_OPCODES.
static_assert(THETA_EW_LOAD == 0 && THETA_EW_PARAM == 1 &&
              THETA_EW_STORE == 2 && THETA_EW_COPY == 3);
static_assert(THETA_EW_NEG == 10 && THETA_EW_ABS == 11 && THETA_EW_SIGN == 12 &&
              THETA_EW_EXP == 13 && THETA_EW_LOG == 14 &&
              THETA_EW_LOG1P == 15 && THETA_EW_EXPM1 == 16 &&
              THETA_EW_SQRT == 17 && THETA_EW_RSQRT == 18 &&
              THETA_EW_SQUARE == 19 && THETA_EW_RECIPROCAL == 20 &&
              THETA_EW_TANH == 21 && THETA_EW_SIGMOID == 22 &&
              THETA_EW_SOFTPLUS == 23 && THETA_EW_RELU == 24 &&
              THETA_EW_SIN == 25 && THETA_EW_COS == 26 &&
              THETA_EW_FLOOR == 27 && THETA_EW_CEIL == 28 &&
              THETA_EW_ROUND == 29 && THETA_EW_TRUNC == 30 &&
              THETA_EW_NOT == 31 && THETA_EW_ERF == 32 &&
              THETA_EW_ISNAN == 33 && THETA_EW_ISINF == 34);
static_assert(THETA_EW_ADD == 50 && THETA_EW_SUB == 51 && THETA_EW_MUL == 52 &&
              THETA_EW_DIV == 53 && THETA_EW_MOD == 54 && THETA_EW_POW == 55 &&
              THETA_EW_MAX == 56 && THETA_EW_MIN == 57 && THETA_EW_EQ == 58 &&
              THETA_EW_NE == 59 && THETA_EW_LT == 60 && THETA_EW_LE == 61 &&
              THETA_EW_GT == 62 && THETA_EW_GE == 63 && THETA_EW_AND == 64 &&
              THETA_EW_OR == 65 && THETA_EW_XOR == 66 && THETA_EW_ATAN2 == 67 &&
              THETA_EW_SELECT == 80 && THETA_EW_CLIP == 81);

// Opcode arity: 1, 2 or 3 source registers; 0 for LOAD/PARAM/STORE, whose
// operands are not registers (STORE reads register `a`); -1 for unknown.
THETA_HD constexpr int Arity(int op) {
  switch (op) {
#define THETA_EW_ARITY_CASE(ID, VALUE, ARITY, KIND, NAME) \
  case THETA_EW_##ID:                                     \
    return ARITY;
    THETA_EW_OPCODES(THETA_EW_ARITY_CASE)
#undef THETA_EW_ARITY_CASE
    default:
      return -1;
  }
}

// The opcode's kind (theta_ew_kind), or -1 for an unknown opcode.
THETA_HD constexpr int Kind(int op) {
  switch (op) {
#define THETA_EW_KIND_CASE(ID, VALUE, ARITY, KIND, NAME) \
  case THETA_EW_##ID:                                    \
    return THETA_EW_KIND_##KIND;
    THETA_EW_OPCODES(THETA_EW_KIND_CASE)
#undef THETA_EW_KIND_CASE
    default:
      return -1;
  }
}

// The enumerator's name without THETA_EW_ ("EXP"), or null for an unknown
// opcode.
THETA_HD constexpr const char* OpcodeId(int op) {
  switch (op) {
#define THETA_EW_ID_CASE(ID, VALUE, ARITY, KIND, NAME) \
  case THETA_EW_##ID:                                  \
    return #ID;
    THETA_EW_OPCODES(THETA_EW_ID_CASE)
#undef THETA_EW_ID_CASE
    default:
      return nullptr;
  }
}

// The op's name in the core ("exp", "sqr", "switch"), or null for an unknown
// opcode.
THETA_HD constexpr const char* OpName(int op) {
  switch (op) {
#define THETA_EW_NAME_CASE(ID, VALUE, ARITY, KIND, NAME) \
  case THETA_EW_##ID:                                    \
    return NAME;
    THETA_EW_OPCODES(THETA_EW_NAME_CASE)
#undef THETA_EW_NAME_CASE
    default:
      return nullptr;
  }
}

// Unary functions computed by a polynomial or a library call (not exact in
// the last bit, and several times the cost of an add).
THETA_HD constexpr bool IsTranscendental(int op) {
  return Kind(op) == THETA_EW_KIND_TRANSCENDENTAL;
}

// Comparisons and logical ops give 0/1; the core types their results bool.
THETA_HD constexpr bool IsPredicate(int op) {
  return Kind(op) == THETA_EW_KIND_PREDICATE;
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

// Floating semantics. The transcendental opcodes are the C library's
// functions (Sigmoid and Softplus above); a backend's results may differ from
// them in the last bits, never in the special values below.
//
// Accuracy of the CPU plugin, in ulp of the exact result (measured against
// long double by backends/cpu/vec_math_test, vec_transcendental_test and
// elementwise_ops_test, which assert the bounds; F32 over every float of the
// vector range):
//
//   opcode   bound F32 / F64   measured F32 / F64   vector range (F32; F64)
//   EXP      1   / 1           0.89 / 0.89          [-87.33, 88.37];
//                                                   [-708.39, 709.43]
//   LOG      1   / 1           0.83 / 0.84          positive normal numbers
//   TANH     3   / 3           2.61 / 2.31          every number but NaN
//   SIGMOID  2   / 2.5         1.97 / 1.81          x >= -87.33; -708.39
//
// Inputs outside the vector range (NaN included) get this reference, the C
// library's value. Special values are exactly the reference's: NaN gives
// NaN; exp(-inf) = +0, exp(+inf) = +inf and exp overflows to +inf where the
// C library's does; log(+-0) = -inf, log of a negative number = NaN,
// log(+inf) = +inf, log of a subnormal is the C library's; tanh(+-0) = +-0,
// tanh(+-inf) = +-1; sigmoid(-inf) = +0, sigmoid(+inf) = 1. Subnormal
// results are not flushed: exp and sigmoid below the range give the C
// library's (gradually underflowing) values, and tanh of a subnormal x is
// x. The CPU plugin's LOG1P, EXPM1, SOFTPLUS, SIN, COS and ERF run Eigen's
// kernels: within 8 ulp of the C library's results (the bound
// backends/cpu/elementwise_test asserts; measured at most 6, for ERF), with
// the same special values.
//
// Subnormal numbers. No plugin flushes subnormal results to zero or reads
// subnormal inputs as zero (no FTZ/DAZ), in these programs, GEMM (plain or
// with a prepared B) or the reductions; the conformance suite checks it on
// every backend. The one exception is the CPU softmax's exp (vec_math.h),
// whose terms below the smallest normal become +0, far below a row's sum.
// Why: flushing changes results (1e-39f * 0.5f becomes 0) and would make
// the CPU disagree with CUDA, whose NVRTC kernels (built without -ftz) and
// cuBLAS keep subnormals, as PyTorch does by default; and it bought nothing
// measurable here: on an AVX2 AMD EPYC (Zen 3), OpenBLAS's sgemm of
// 32x1024x256 with every element of A subnormal and a fused pass over 1M
// subnormal floats ran within the noise of normal inputs (fastest of four
// runs: 240 against 236 us, 147 against 134 us). Pool threads start with
// the default floating-point mode; work the CPU plugin runs on the calling
// thread uses that thread's mode, so a program that sets FTZ/DAZ itself
// gets flushed results there.
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
