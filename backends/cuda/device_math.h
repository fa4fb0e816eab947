// The numerical bodies of the CUDA kernels, written once as __host__
// __device__ functions so that the host-side tests check them against the
// CPU plugin: strided addressing, reduction accumulators and their combine
// step, the softmax row math of both schemes, gather index arithmetic, and
// the Philox counter-to-number mapping. Header-only; compiles with g++ (the
// tests) and nvcc (the kernels).
//
//   StridedIndex<2> ix = ...;           // operands: destination, source
//   int64_t off[2];
//   OffsetsOf(ix, linear, off);         // element offsets of position linear
#ifndef THETA_BACKENDS_CUDA_DEVICE_MATH_H_
#define THETA_BACKENDS_CUDA_DEVICE_MATH_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "backends/api/philox.h"
#include "backends/api/theta_backend.h"

#ifdef __CUDACC__
#define THETA_CUDA_HD __host__ __device__
#else
#define THETA_CUDA_HD
#endif

namespace theta::cuda {

constexpr int kMaxDims = THETA_MAX_DIMS;

// ---------------------------------------------------------------------------
// Strided addressing
// ---------------------------------------------------------------------------

// An index space (row-major, `rank` dimensions) and the strides of N
// operands over it, in elements. Passed to kernels by value.
template <int N, typename Idx = int64_t>
struct StridedIndex {
  int32_t rank = 0;
  Idx shape[kMaxDims] = {};
  Idx stride[N][kMaxDims] = {};
};

// off[i] = the element offset of operand i at row-major position `linear`
// (0 <= linear < the product of the shape).
template <int N, typename Idx>
THETA_CUDA_HD inline void OffsetsOf(const StridedIndex<N, Idx>& s, Idx linear,
                                    Idx* off) {
  for (int i = 0; i < N; ++i) off[i] = 0;
  for (int d = s.rank - 1; d > 0; --d) {
    const Idx size = s.shape[d];
    const Idx q = linear / size;
    const Idx c = linear - q * size;
    linear = q;
    for (int i = 0; i < N; ++i) off[i] += c * s.stride[i][d];
  }
  if (s.rank > 0) {
    for (int i = 0; i < N; ++i) off[i] += linear * s.stride[i][0];
  }
}

// ---------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------

// The type sums and products accumulate in: double for floats, the
// unsigned type (wrapping) for integers.
template <typename T, bool kFloat = std::is_floating_point<T>::value>
struct WideOf {
  using type = double;
};
template <typename T>
struct WideOf<T, false> {
  using type = typename std::make_unsigned<T>::type;
};

// The accumulator of one reduce op over element type T (kBool: T is the
// one-byte BOOL). Float sums and products accumulate in double; integer ones
// wrap in the unsigned type. Add folds one element at a known position into
// an accumulator; Combine merges two accumulators over disjoint sets of
// positions in any order (ARGMAX/ARGMIN break ties by position), so a block
// may reduce its threads' partial results as a tree and the result is still
// "the first maximum; the first NaN wins".
template <typename T, int OP, bool kBool>
struct Reducer {
  static constexpr bool kFloat = std::is_floating_point<T>::value;
  static constexpr bool kArg =
      OP == THETA_REDUCE_ARGMAX || OP == THETA_REDUCE_ARGMIN;
  static constexpr bool kMaxLike =
      OP == THETA_REDUCE_MAX || OP == THETA_REDUCE_ARGMAX;
  static constexpr bool kSumLike =
      OP == THETA_REDUCE_SUM || OP == THETA_REDUCE_PROD;
  using Wide = typename WideOf<T>::type;
  using Value = typename std::conditional<kSumLike, Wide, T>::type;
  struct ArgAcc {
    T v;
    int64_t i;
  };
  using Acc = typename std::conditional<kArg, ArgAcc, Value>::type;
  using Out = typename std::conditional<kArg, int64_t, T>::type;

  THETA_CUDA_HD static T Lowest() {
    if constexpr (kFloat) {
      return -std::numeric_limits<T>::infinity();
    } else {
      return std::numeric_limits<T>::lowest();
    }
  }
  THETA_CUDA_HD static T Highest() {
    if constexpr (kFloat) {
      return std::numeric_limits<T>::infinity();
    } else if constexpr (kBool) {
      return T(1);
    } else {
      return std::numeric_limits<T>::max();
    }
  }
  THETA_CUDA_HD static bool IsNan(T x) { return x != x; }
  // x beats best for MAX/MIN: larger (smaller), or a NaN over a number.
  THETA_CUDA_HD static bool Beats(T x, T best) {
    if constexpr (kMaxLike) {
      return x > best || (IsNan(x) && !IsNan(best));
    } else {
      return x < best || (IsNan(x) && !IsNan(best));
    }
  }

  // The identity; for ARGMAX/ARGMIN its position is the largest, so any
  // element ties it and wins.
  THETA_CUDA_HD static Acc Init() {
    if constexpr (OP == THETA_REDUCE_SUM) {
      return Value(0);
    } else if constexpr (OP == THETA_REDUCE_PROD) {
      return Value(1);
    } else if constexpr (OP == THETA_REDUCE_MAX) {
      return Lowest();
    } else if constexpr (OP == THETA_REDUCE_MIN) {
      return Highest();
    } else if constexpr (OP == THETA_REDUCE_ARGMAX) {
      return Acc{Lowest(), INT64_MAX};
    } else {
      return Acc{Highest(), INT64_MAX};
    }
  }

  THETA_CUDA_HD static Acc Combine(const Acc& a, const Acc& b) {
    if constexpr (OP == THETA_REDUCE_SUM) {
      return static_cast<Value>(a + b);
    } else if constexpr (OP == THETA_REDUCE_PROD) {
      return static_cast<Value>(a * b);
    } else if constexpr (kArg) {
      const bool an = IsNan(a.v), bn = IsNan(b.v);
      if (an || bn) {
        if (an && bn) return a.i <= b.i ? a : b;
        return an ? a : b;
      }
      if (kMaxLike ? a.v > b.v : a.v < b.v) return a;
      if (kMaxLike ? b.v > a.v : b.v < a.v) return b;
      return a.i <= b.i ? a : b;
    } else {
      return Beats(b, a) ? b : a;
    }
  }

  THETA_CUDA_HD static void Add(Acc& acc, T x, int64_t position) {
    if constexpr (OP == THETA_REDUCE_SUM) {
      acc = static_cast<Value>(acc + static_cast<Value>(x));
    } else if constexpr (OP == THETA_REDUCE_PROD) {
      acc = static_cast<Value>(acc * static_cast<Value>(x));
    } else if constexpr (kArg) {
      acc = Combine(acc, Acc{x, position});
    } else {
      acc = Beats(x, acc) ? x : acc;
    }
  }

  THETA_CUDA_HD static Out Final(const Acc& acc) {
    if constexpr (kArg) {
      return acc.i;
    } else {
      return static_cast<T>(acc);
    }
  }
};

// ---------------------------------------------------------------------------
// Softmax
// ---------------------------------------------------------------------------
//
// Short rows (one block per row): m = the row maximum (NaN if any element is
// NaN), s = the sum in double of exp(x - m) computed in T, then
//   softmax: y = exp(x - m) / T(s)
//   log:     y = (x - m) - T(log(s)).
// Long rows (two passes): pass one gives each chunk c its maximum m_c and
// s_c = sum exp(x - m_c) (0 when m_c is -inf: the chunk adds nothing); pass
// two merges the chunks, m = max m_c, s = sum s_c exp(m_c - m), and writes y
// as above.

// The running maximum step: v replaces m when larger, or when v is NaN.
template <typename T>
THETA_CUDA_HD inline T MaxPick(T v, T m) {
  return (v > m || v != v) ? v : m;
}

template <typename T>
THETA_CUDA_HD inline T ShiftedExp(T x, T m) {
  using std::exp;
  return exp(static_cast<T>(x - m));
}

// The weight of a chunk with maximum m_c in a row with maximum m.
THETA_CUDA_HD inline double ChunkWeight(double m_c, double m) {
  using std::exp;
  if (m_c == -std::numeric_limits<double>::infinity()) return 0.0;
  return exp(m_c - m);
}

// A chunk's sum for pass one: 0 for a chunk whose maximum is -inf.
THETA_CUDA_HD inline double ChunkSum(double sum_of_exps, double m_c) {
  return m_c == -std::numeric_limits<double>::infinity() ? 0.0 : sum_of_exps;
}

// What the output step needs from the row: T(s) or T(log(s)).
template <typename T>
THETA_CUDA_HD inline T RowDivisor(double sum, bool take_log) {
  using std::log;
  return take_log ? static_cast<T>(log(sum)) : static_cast<T>(sum);
}

template <typename T>
THETA_CUDA_HD inline T SoftmaxOutput(T x, T m, T divisor, bool take_log) {
  if (take_log) return static_cast<T>(x - m) - divisor;
  return ShiftedExp(x, m) / divisor;
}

// ---------------------------------------------------------------------------
// Gather and scatter-add
// ---------------------------------------------------------------------------

// Splits a linear position of the gather output (scatter-add source) into
// its outer, index and inner parts: e = (o * j_count + j) * inner_count + i.
THETA_CUDA_HD inline void SplitGatherPosition(int64_t e, int64_t j_count,
                                              int64_t inner_count, int64_t* o,
                                              int64_t* j, int64_t* i) {
  const int64_t t = e / inner_count;
  *i = e - t * inner_count;
  *o = t / j_count;
  *j = t - *o * j_count;
}

// An index in [-size, size) wrapped into [0, size); false when out of range.
THETA_CUDA_HD inline bool WrapIndex(int64_t v, int64_t size, int64_t* out) {
  if (v < -size || v >= size) return false;
  *out = v < 0 ? v + size : v;
  return true;
}

// Out-of-range indices are recorded on the device as one 64-bit key per
// stream, kept at its minimum with atomicMin: the launch's sequence number
// since the last synchronize in the high bits, the index position in the
// low kIndexErrorPositionBits. The minimum is the first bad position of the
// first launch that had one.
constexpr int kIndexErrorPositionBits = 40;
constexpr uint64_t kNoIndexError = ~uint64_t{0};
constexpr uint32_t kMaxIndexErrorSequence =
    (uint32_t{1} << (64 - kIndexErrorPositionBits)) - 2;

THETA_CUDA_HD inline uint64_t IndexErrorKey(uint32_t sequence,
                                            int64_t position) {
  constexpr int64_t kMaxPosition = (int64_t{1} << kIndexErrorPositionBits) - 1;
  if (sequence > kMaxIndexErrorSequence) sequence = kMaxIndexErrorSequence;
  if (position > kMaxPosition) position = kMaxPosition;
  return (static_cast<uint64_t>(sequence) << kIndexErrorPositionBits) |
         static_cast<uint64_t>(position);
}

THETA_CUDA_HD inline uint32_t IndexErrorSequence(uint64_t key) {
  return static_cast<uint32_t>(key >> kIndexErrorPositionBits);
}

THETA_CUDA_HD inline int64_t IndexErrorPosition(uint64_t key) {
  return static_cast<int64_t>(key &
                              ((uint64_t{1} << kIndexErrorPositionBits) - 1));
}

// ---------------------------------------------------------------------------
// Random numbers (theta_backend.h's mapping, philox.h's generator)
// ---------------------------------------------------------------------------

// Counters per Philox block: 4 for uniform F32, 2 otherwise.
THETA_CUDA_HD inline int RngLanes(int distribution, bool f32) {
  return distribution == THETA_RNG_UNIFORM && f32 ? 4 : 2;
}

// The elements [begin, end) that share Philox block number g of a draw of
// `count` elements from counter `offset` (group 0 may start mid-block).
// Counters wrap modulo 2^64 like the CPU plugin's offset + e, and a block
// never straddles the wrap because 2^64 is a multiple of `lanes`.
THETA_CUDA_HD inline int64_t RngGroups(uint64_t offset, int64_t count,
                                       int lanes) {
  const int64_t r = static_cast<int64_t>(offset % static_cast<uint64_t>(lanes));
  return count == 0 ? 0 : (count + r + lanes - 1) / lanes;
}

THETA_CUDA_HD inline void RngGroupRange(uint64_t offset, int64_t count,
                                        int lanes, int64_t g, int64_t* begin,
                                        int64_t* end) {
  const int64_t r = static_cast<int64_t>(offset % static_cast<uint64_t>(lanes));
  const int64_t b = g * lanes - r;
  const int64_t e = b + lanes;
  *begin = b < 0 ? 0 : b;
  *end = e > count ? count : e;
}

// The value of counter lane `lane` of block `b`: uniform in [a, b) (scale =
// b - a) or normal with mean a and standard deviation `scale` (= args.b),
// computed in double and rounded to T, as the header specifies.
template <typename T>
THETA_CUDA_HD inline T RngValue(int distribution, const philox::Block& b,
                                int lane, double a, double scale) {
  if (distribution == THETA_RNG_NORMAL) {
    using std::cos;
    using std::log;
    using std::sqrt;
    const uint32_t w0 = b.w[2 * lane], w1 = b.w[2 * lane + 1];
    const double u1 = (static_cast<double>(w0 >> 8) + 1.0) * (1.0 / 16777216.0);
    const double u2 = static_cast<double>(w1 >> 8) * (1.0 / 16777216.0);
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    return static_cast<T>(a +
                          scale * (sqrt(-2.0 * log(u1)) * cos(kTwoPi * u2)));
  }
  if constexpr (sizeof(T) == 4) {
    const float u = static_cast<float>(b.w[lane] >> 8) * (1.0f / 16777216.0f);
    return static_cast<T>(
        philox::UniformAffine(a, scale, static_cast<double>(u)));
  } else {
    const uint32_t lo = b.w[2 * lane], hi = b.w[2 * lane + 1];
    const uint64_t bits = (static_cast<uint64_t>(hi) << 21) | (lo >> 11);
    return static_cast<T>(philox::UniformAffine(
        a, scale, static_cast<double>(bits) * (1.0 / 9007199254740992.0)));
  }
}

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_DEVICE_MATH_H_
