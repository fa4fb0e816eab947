// Block kernels of the elementwise interpreter. Integer compute types run
// the reference (elementwise_semantics.h) with the opcode fixed at compile
// time, so the compiler inlines and vectorises it and the results are the
// reference's by construction. Float types use Eigen's vectorised arrays:
// arithmetic is exact IEEE. exp, log, tanh and sigmoid run the AVX2
// functions of vec_math.h and vec_transcendental.h in one pass; the other
// transcendental functions run Eigen's fast kernels. Either way the inputs
// outside a function's fast range (huge, tiny, infinite, NaN), where those
// kernels clamp or flush, are recomputed with the standard library.
#include "backends/cpu/elementwise_ops.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unsupported/Eigen/SpecialFunctions>

#include "backends/api/elementwise_semantics.h"
#include "backends/cpu/vec_math.h"
#include "backends/cpu/vec_transcendental.h"

namespace theta::cpu {
namespace {

// Lanes per step of RefLoop: a fixed trip count lets GCC's -O2 vectoriser
// (cost model "very cheap") handle the loop.
constexpr int kLanes = 16;
// Elements per step of the kernels that need a scratch buffer.
constexpr int64_t kChunk = 256;

// Sets d[i] = f(i) for i in [0, n), kLanes at a time: f reads
// its inputs for a whole step before the step's results are written, so a
// destination equal to a source does not stop vectorisation.
template <typename T, typename F>
[[gnu::always_inline]] inline void ForLanes(T* d, int64_t n, F f) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    T r[kLanes];
    for (int j = 0; j < kLanes; ++j) r[j] = f(i + j);
    for (int j = 0; j < kLanes; ++j) d[i + j] = r[j];
  }
  for (; i < n; ++i) d[i] = f(i);
}

// The reference for one element, with unread sources ignored.
template <typename T, int OP>
[[gnu::always_inline]] inline T RefAt(const T* a, const T* b, const T* c,
                                      int64_t i) {
  constexpr int arity = ew::Arity(OP);
  T y = T(0), z = T(0);
  if constexpr (arity >= 2) y = b[i];
  if constexpr (arity >= 3) z = c[i];
  return ew::Apply<T>(OP, a[i], y, z);
}

// d[i] = ew::Apply<T>(OP, a[i], b[i], c[i]); d may equal a, b or c.
// flatten inlines the reference's switch so that OP folds away; noinline
// keeps the flattening here rather than in a caller. (No lambda in between:
// GCC does not flatten through one.)
template <typename T, int OP>
__attribute__((flatten, noinline)) void RefLoop(T* d, const T* a, const T* b,
                                                const T* c, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    T r[kLanes];
    for (int j = 0; j < kLanes; ++j) r[j] = RefAt<T, OP>(a, b, c, i + j);
    for (int j = 0; j < kLanes; ++j) d[i + j] = r[j];
  }
  for (; i < n; ++i) d[i] = RefAt<T, OP>(a, b, c, i);
}

// 32-byte GCC vectors (8 floats, 4 doubles): comparisons give lane masks,
// `mask ? x : y` selects per lane, and each lane follows the scalar IEEE
// rules, so the formulas below are the reference's, lane by lane (the
// tests compare them bit for bit on all special values).
template <typename T>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(32)));
};
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(32)));
};

// d = f(a, b, c) over whole vectors and the reference for the remainder.
template <typename T, int OP, typename F>
__attribute__((noinline)) void VecLoop(T* d, const T* a, const T* b, const T* c,
                                       int64_t n, F f) {
  using V = typename VecOf<T>::type;
  constexpr int64_t kWidth = sizeof(V) / sizeof(T);
  constexpr int arity = ew::Arity(OP);
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) {
    V x, y = {}, z = {};
    std::memcpy(&x, a + i, sizeof(V));
    if constexpr (arity >= 2) std::memcpy(&y, b + i, sizeof(V));
    if constexpr (arity >= 3) std::memcpy(&z, c + i, sizeof(V));
    const V r = f(x, y, z);
    std::memcpy(d + i, &r, sizeof(V));
  }
  if (i < n) {
    RefLoop<T, OP>(d + i, a + i, arity >= 2 ? b + i : nullptr,
                   arity >= 3 ? c + i : nullptr, n - i);
  }
}

// The selection, comparison and logical opcodes on float vectors. Returns
// false for other opcodes.
template <typename T>
bool ApplyVector(int op, T* d, const T* a, const T* b, const T* c, int64_t n) {
  using V = typename VecOf<T>::type;
  const V one = V{} + T(1), zero = V{};
  switch (op) {
    case THETA_EW_NEG:
      VecLoop<T, THETA_EW_NEG>(d, a, b, c, n, [](V x, V, V) { return -x; });
      return true;
    case THETA_EW_SIGN:
      VecLoop<T, THETA_EW_SIGN>(d, a, b, c, n, [&](V x, V, V) {
        return x != x ? x : (x > 0 ? one : zero) - (x < 0 ? one : zero);
      });
      return true;
    case THETA_EW_RELU:
      VecLoop<T, THETA_EW_RELU>(d, a, b, c, n, [&](V x, V, V) {
        return ((x > 0) | (x != x)) ? x : zero;
      });
      return true;
    case THETA_EW_MAX:
      VecLoop<T, THETA_EW_MAX>(d, a, b, c, n, [](V x, V y, V) {
        const V m = x > y ? x : y;
        return ((x != x) | (y != y)) ? x + y : m;
      });
      return true;
    case THETA_EW_MIN:
      VecLoop<T, THETA_EW_MIN>(d, a, b, c, n, [](V x, V y, V) {
        const V m = x < y ? x : y;
        return ((x != x) | (y != y)) ? x + y : m;
      });
      return true;
    case THETA_EW_CLIP:
      VecLoop<T, THETA_EW_CLIP>(d, a, b, c, n, [](V x, V lo, V hi) {
        const V r = x < lo ? lo : (x > hi ? hi : x);
        return x != x ? x : r;
      });
      return true;
    case THETA_EW_SELECT:
      VecLoop<T, THETA_EW_SELECT>(d, a, b, c, n,
                                  [](V x, V y, V z) { return x != 0 ? y : z; });
      return true;
#define THETA_CPU_PREDICATE(NAME, EXPR)                           \
  case THETA_EW_##NAME:                                           \
    VecLoop<T, THETA_EW_##NAME>(d, a, b, c, n, [&](V x, V y, V) { \
      (void)y;                                                    \
      return (EXPR) ? one : zero;                                 \
    });                                                           \
    return true;
      THETA_CPU_PREDICATE(EQ, x == y)
      THETA_CPU_PREDICATE(NE, x != y)
      THETA_CPU_PREDICATE(LT, x < y)
      THETA_CPU_PREDICATE(LE, x <= y)
      THETA_CPU_PREDICATE(GT, x > y)
      THETA_CPU_PREDICATE(GE, x >= y)
      THETA_CPU_PREDICATE(AND, (x != 0) & (y != 0))
      THETA_CPU_PREDICATE(OR, (x != 0) | (y != 0))
      THETA_CPU_PREDICATE(XOR, (x != 0) ^ (y != 0))
      THETA_CPU_PREDICATE(NOT, x == 0)
      THETA_CPU_PREDICATE(ISNAN, x != x)
      THETA_CPU_PREDICATE(ISINF, (x == x) & ((x - x) != (x - x)))
#undef THETA_CPU_PREDICATE
    default:
      return false;
  }
}

template <typename T>
bool ApplyReference(int op, T* d, const T* a, const T* b, const T* c,
                    int64_t n) {
  switch (op) {
#define THETA_CPU_CASE(ID, VALUE, ARITY, KIND, NAME) \
  case THETA_EW_##ID:                                \
    RefLoop<T, THETA_EW_##ID>(d, a, b, c, n);        \
    return true;
    THETA_EW_COMPUTE_OPCODES(THETA_CPU_CASE)
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

// True when every a[i] is in [lo, hi] (so none is NaN).
template <typename T>
bool AllInRange(const T* a, int64_t n, T lo, T hi) {
  if (n == 0) return true;
  const In<T> x(a, n);
  return x.template minCoeff<Eigen::PropagateNaN>() >= lo &&
         x.template maxCoeff<Eigen::PropagateNaN>() <= hi;
}

// d = vec(a) where lo <= a <= hi, scalar(a) elsewhere (NaN included).
// vec maps an Eigen array expression to one; d may equal a.
template <typename T, typename Vec, typename Scalar>
void Transcendental(T* d, const T* a, int64_t n, T lo, T hi, Vec vec,
                    Scalar scalar) {
  if (AllInRange(a, n, lo, hi)) {  // the usual case: one Eigen loop
    Out<T>(d, n) = vec(In<T>(a, n));
    return;
  }
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

// d[j] = the reference of OP at x[j] for the lanes j < count where x is
// outside [lo, hi] or NaN (the others are left as they are).
template <typename T, int OP>
[[gnu::noinline, gnu::cold]] void ReferenceOutside(T* d,
                                                   typename simd::Vec<T>::Reg x,
                                                   int64_t count, T lo, T hi) {
  using V = simd::Vec<T>;
  T xs[V::kWidth];
  V::Store(xs, x);
  for (int64_t j = 0; j < count; ++j) {
    if (!(xs[j] >= lo && xs[j] <= hi)) d[j] = ew::Apply<T>(OP, xs[j], 0, 0);
  }
}

// d = f(a) for a unary OP in one pass of whole vectors and a masked tail
// (nothing past a + n is read or d + n written; d may equal a). f is exact
// to its stated ulps on [lo, hi]; lanes outside it (NaN included) are
// recomputed with the reference, one vector at a time, so that special
// values, overflow and subnormal results are the reference's.
template <typename T, int OP, typename F>
__attribute__((noinline)) void VecUnary(T* d, const T* a, int64_t n, T lo, T hi,
                                        F f) {
  using V = simd::Vec<T>;
  const typename V::Reg vlo = V::Set(lo), vhi = V::Set(hi);
  int64_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) {
    const typename V::Reg x = V::Load(a + i);
    V::Store(d + i, f(x));
    if (V::AnyOutside(x, vlo, vhi)) [[unlikely]] {
      ReferenceOutside<T, OP>(d + i, x, V::kWidth, lo, hi);
    }
  }
  if (i < n) {
    const typename V::Mask mask = V::FirstLanes(n - i);
    const typename V::Reg x = V::LoadFirst(a + i, mask, T(1));  // 1: in range
    V::StoreFirst(d + i, mask, f(x));
    if (V::AnyOutside(x, vlo, vhi)) {
      ReferenceOutside<T, OP>(d + i, x, n - i, lo, hi);
    }
  }
}

// exp on [kExpLo, kExpHi] (within 1 ulp); below (results that would be
// subnormal or 0), above (overflow) and NaN by the reference, so the vector
// path needs no flush (ExpAboveLo).
template <typename T>
void Exp(T* d, const T* a, int64_t n) {
  using V = simd::Vec<T>;
  VecUnary<T, THETA_EW_EXP>(d, a, n, V::kExpLo, V::kExpHi,
                            [](typename V::Reg x) { return V::ExpAboveLo(x); });
}

// log of positive normal numbers; 0, negatives, subnormals, inf and NaN by
// the reference.
template <typename T>
void Log(T* d, const T* a, int64_t n) {
  using V = simd::Vec<T>;
  VecUnary<T, THETA_EW_LOG>(d, a, n, std::numeric_limits<T>::min(),
                            std::numeric_limits<T>::max(),
                            [](typename V::Reg x) { return simd::Log<T>(x); });
}

// tanh of every number but NaN (which the reference passes through).
template <typename T>
void Tanh(T* d, const T* a, int64_t n) {
  using V = simd::Vec<T>;
  constexpr T kInf = std::numeric_limits<T>::infinity();
  VecUnary<T, THETA_EW_TANH>(
      d, a, n, -kInf, kInf, [](typename V::Reg x) { return simd::Tanh<T>(x); });
}

// sigmoid from kExpLo up (+inf included); below it (results below the
// smallest normal) and NaN by the reference.
template <typename T>
void Sigmoid(T* d, const T* a, int64_t n) {
  using V = simd::Vec<T>;
  VecUnary<T, THETA_EW_SIGMOID>(
      d, a, n, V::kExpLo, std::numeric_limits<T>::infinity(),
      [](typename V::Reg x) { return simd::Sigmoid<T>(x); });
}

// d = exp(-|a|), the shared part of sigmoid and softplus.
template <typename T>
void ExpNegAbs(T* d, const T* a, int64_t n) {
  Out<T>(d, n) = -In<T>(a, n).abs();
  Exp(d, d, n);
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
    const T* x = a + i;
    ForLanes(d + i, m,
             [&](int64_t j) { return (x[j] > 0 ? x[j] : T(0)) + e[j]; });
  }
}

template <typename T>
bool ApplyFloat(int op, T* d, const T* a, const T* b, const T* c, int64_t n) {
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
      Log(d, a, n);
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
      Tanh(d, a, n);
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
    case THETA_EW_SQRT:  // vsqrtp[sd] with -fno-math-errno: exact
      ForLanes(d, n, [&](int64_t i) { return std::sqrt(a[i]); });
      return true;
    case THETA_EW_RSQRT:
      ForLanes(d, n, [&](int64_t i) { return T(1) / std::sqrt(a[i]); });
      return true;
    case THETA_EW_TRUNC:
      ForLanes(d, n, [&](int64_t i) { return std::trunc(a[i]); });
      return true;
    case THETA_EW_SIGMOID:
      Sigmoid(d, a, n);
      return true;
    case THETA_EW_SOFTPLUS:
      Softplus(d, a, n);
      return true;
    default:
      // NEG (Eigen's is 0 - x, which loses the sign of zero), the NaN-aware
      // selections and the predicates run on GCC vectors; MOD, POW and
      // ATAN2 run the reference.
      return ApplyVector(op, d, a, b, c, n) ||
             ApplyReference(op, d, a, b, c, n);
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

const char* OpcodeName(int op) { return ew::OpcodeId(op); }

}  // namespace theta::cpu
