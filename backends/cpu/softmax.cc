// Softmax and log-softmax along the last dimension, max-subtracted, on AVX2
// vectors (vec_math.h): three passes over a contiguous row, which stays in
// cache, so memory sees one read and one write. Rows are split across the
// pool; a strided row is processed in chunks through a stack buffer, so
// in-place works for any strides and nothing is allocated.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/api/theta_backend.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/strided.h"
#include "backends/cpu/vec_math.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cpu {
namespace {

// Row elements below which a ParallelFor range is not split off.
constexpr int64_t kParallelWork = 1 << 15;

constexpr int64_t kChunk = 256;

// The largest and the smallest element of x[0, n). A NaN may be dropped
// from either: the row still comes out NaN, since exp(NaN - m) makes the
// sum NaN.
template <typename T>
struct Range {
  T max, min;
};
template <typename T>
Range<T> RowRange(const T* x, int64_t n) {
  using V = simd::Vec<T>;
  constexpr int64_t kW = V::kWidth;
  constexpr T kInf = std::numeric_limits<T>::infinity();
  typename V::Reg hi0 = V::Set(-kInf), hi1 = hi0, lo0 = V::Set(kInf), lo1 = lo0;
  int64_t i = 0;
  for (; i + 2 * kW <= n; i += 2 * kW) {
    const typename V::Reg a = V::Load(x + i), b = V::Load(x + i + kW);
    hi0 = V::Max(hi0, a);
    hi1 = V::Max(hi1, b);
    lo0 = V::Min(a, lo0);
    lo1 = V::Min(b, lo1);
  }
  for (; i + kW <= n; i += kW) {
    const typename V::Reg a = V::Load(x + i);
    hi0 = V::Max(hi0, a);
    lo0 = V::Min(a, lo0);
  }
  if (i < n) {
    const typename V::Mask mask = V::FirstLanes(n - i);
    hi1 = V::Max(hi1, V::LoadFirst(x + i, mask, -kInf));
    lo1 = V::Min(V::LoadFirst(x + i, mask, kInf), lo1);
  }
  return {V::MaxLane(V::Max(hi0, hi1)), V::MinLane(V::Min(lo0, lo1))};
}

// Returns the sum of e = exp(x[i] - m) over [0, n), and writes e to y when
// kStore (y may equal x). kFlush: some x[i] - m may be below kExpLo (Exp);
// otherwise none is (ExpAboveLo, two operations fewer a vector). Prefetches
// `next` (n elements, or NULL: the row after this one) into cache while it
// computes, so that memory works while the core does. Each lane sums 8
// terms in T (blocks of 8 vectors), the two halves of a block add once more
// in T, and the blocks' sums add up in double: for float the relative error
// stays within a few ulp at any n. Lanes past the row are loaded as -inf,
// whose exp adds 0.
template <typename T, bool kStore, bool kFlush>
double ExpSum(const T* x, T* y, int64_t n, T m, const T* next) {
  using V = simd::Vec<T>;
  using Reg = typename V::Reg;
  constexpr int64_t kW = V::kWidth;
  constexpr int64_t kBlock = 8 * kW;
  // x + (-m) is x - m; written so, the load folds into the addition.
  const Reg neg_m = V::Set(-m);
  auto exp = [](Reg t) {
    if constexpr (kFlush) {
      return V::Exp(t);
    } else {
      return V::ExpAboveLo(t);
    }
  };
  auto exp_at = [&](int64_t i) {
    const Reg e = exp(V::Add(V::Load(x + i), neg_m));
    if constexpr (kStore) V::Store(y + i, e);
    return e;
  };
  __m256d sum = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    if (next != nullptr) {
      for (int64_t j = 0; j < kBlock; j += 64 / sizeof(T)) {
        _mm_prefetch(reinterpret_cast<const char*>(next + i + j), _MM_HINT_T0);
      }
    }
    Reg a = exp_at(i);
    for (int64_t j = kW; j < kBlock; j += kW) a = V::Add(a, exp_at(i + j));
    sum = V::AddHalvesToDouble(sum, a);
  }
  Reg a = V::Zero();
  for (; i + kW <= n; i += kW) a = V::Add(a, exp_at(i));
  if (i < n) {
    const typename V::Mask mask = V::FirstLanes(n - i);
    const Reg e = V::Exp(V::Add(
        V::LoadFirst(x + i, mask, -std::numeric_limits<T>::infinity()), neg_m));
    if constexpr (kStore) V::StoreFirst(y + i, mask, e);
    a = V::Add(a, e);
  }
  sum = V::AddToDouble(sum, a);
  const __m128d h =
      _mm_add_pd(_mm256_castpd256_pd128(sum), _mm256_extractf128_pd(sum, 1));
  return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

// ExpSum with kFlush chosen from the row's range: no x[i] - m is below
// kExpLo when min - m is not (rounding is monotonic). A NaN range (a row of
// -inf: -inf - -inf) takes the flushing path.
template <typename T, bool kStore>
double ExpSum(const T* x, T* y, int64_t n, Range<T> range, const T* next) {
  if (range.min - range.max >= simd::Vec<T>::kExpLo) {
    return ExpSum<T, kStore, false>(x, y, n, range.max, next);
  }
  return ExpSum<T, kStore, true>(x, y, n, range.max, next);
}

// y[i] = log ? (x[i] - m) - c : x[i] * c over [0, n); y may equal x.
// (Streaming stores for large outputs were tried: at 4096x1024 they ran
// 12.4-13.7 GB/s against 14.3-14.6 without, so y is written plainly.)
template <typename T>
void Finish(const T* x, T* y, int64_t n, bool log, T m, T c) {
  using V = simd::Vec<T>;
  using Reg = typename V::Reg;
  constexpr int64_t kW = V::kWidth;
  const Reg mv = V::Set(m), cv = V::Set(c);
  auto f = [&](Reg v) {
    return log ? V::Sub(V::Sub(v, mv), cv) : V::Mul(v, cv);
  };
  int64_t i = 0;
  for (; i + kW <= n; i += kW) V::Store(y + i, f(V::Load(x + i)));
  if (i < n) {
    const typename V::Mask mask = V::FirstLanes(n - i);
    V::StoreFirst(y + i, mask, f(V::LoadFirst(x + i, mask, T(0))));
  }
}

// y = softmax(x) or log_softmax(x) over a contiguous row; y may equal x.
// Three passes, the row staying in cache between them: the max; e = exp(x -
// m) summed; y = e / s or (x - m) - log s. softmax keeps e in y;
// log_softmax, whose y may be x, keeps nothing. A NaN, a +inf or a row of
// -inf make the sum NaN (exp(NaN) or exp(inf - inf)), and so the whole row.
// `next` is the row after this one (or NULL), prefetched meanwhile.
template <typename T>
void SoftmaxRow(const T* x, T* y, int64_t n, bool log, const T* next) {
  const Range<T> range = RowRange(x, n);
  const T m = range.max;
  if (log) {
    const double s = ExpSum<T, false>(x, nullptr, n, range, next);
    Finish(x, y, n, true, m, static_cast<T>(std::log(s)));
  } else {
    const double s = ExpSum<T, true>(x, y, n, range, next);
    Finish(y, y, n, false, m, static_cast<T>(1.0 / s));
  }
}

// Contiguous rows of at most two vectors (a classifier's few classes, the
// 20x16 of a per-call benchmark): SoftmaxRow's arithmetic, bitwise, but
// each row stays in registers through one straight-line pass with no calls,
// so the core overlaps the serial chains (max, exp, sum, scale) of
// consecutive rows; through SoftmaxRow's three passes a 16-float row cost
// about three times as much.
template <typename T>
class ShortRows {
 public:
  using V = simd::Vec<T>;
  using Reg = typename V::Reg;
  static constexpr int64_t kMaxColumns = 2 * V::kWidth;

  explicit ShortRows(int64_t n)
      : two_(n > V::kWidth), tail_(V::FirstLanes(two_ ? n - V::kWidth : n)) {}

  // y may equal x.
  inline __attribute__((always_inline)) void Row(const T* x, T* y,
                                                 bool log) const {
    constexpr T kInf = std::numeric_limits<T>::infinity();
    const Reg v0 = two_ ? V::Load(x) : V::LoadFirst(x, tail_, -kInf);
    const Reg v1 =
        two_ ? V::LoadFirst(x + V::kWidth, tail_, -kInf) : V::Set(-kInf);
    const Reg m = V::Set(V::MaxLane(V::Max(v0, v1)));
    const Reg e0 = V::Exp(V::Sub(v0, m)), e1 = V::Exp(V::Sub(v1, m));
    // As ExpSum: lanes summed in T, then widened and added in double.
    const __m256d sum = V::AddToDouble(_mm256_setzero_pd(), V::Add(e0, e1));
    const __m128d h =
        _mm_add_pd(_mm256_castpd256_pd128(sum), _mm256_extractf128_pd(sum, 1));
    const double s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    Reg y0, y1;
    if (log) {
      const Reg c = V::Set(static_cast<T>(std::log(s)));
      y0 = V::Sub(V::Sub(v0, m), c);
      y1 = V::Sub(V::Sub(v1, m), c);
    } else {
      const Reg c = V::Set(static_cast<T>(1.0 / s));
      y0 = V::Mul(e0, c);
      y1 = V::Mul(e1, c);
    }
    if (two_) {
      V::Store(y, y0);
      V::StoreFirst(y + V::kWidth, tail_, y1);
    } else {
      V::StoreFirst(y, tail_, y0);
    }
  }

 private:
  bool two_;               // the row spans two vectors
  typename V::Mask tail_;  // the lanes of the row's last vector
};

// SoftmaxRow over a strided row (elements x[i * sx], y[i * sy]) through a
// stack buffer: a short row is gathered once, a long one in chunks over
// three passes (max, sum, write); no heap either way.
// Element i is read before it is written, so y may equal x.
template <typename T>
void StridedSoftmaxRow(const T* x, int64_t sx, T* y, int64_t sy, int64_t n,
                       bool log) {
  // Zeroed: GCC cannot see that SoftmaxRow reads only the n loaded values.
  alignas(64) T e[kChunk] = {};
  auto load = [&](int64_t i, int64_t len) {
    for (int64_t t = 0; t < len; ++t) e[t] = x[(i + t) * sx];
  };
  if (n <= kChunk) {  // the usual case: one gather, one scatter
    load(0, n);
    SoftmaxRow<T>(e, e, n, log, /*next=*/nullptr);
    for (int64_t t = 0; t < n; ++t) y[t * sy] = e[t];
    return;
  }
  Range<T> range = {-std::numeric_limits<T>::infinity(),
                    std::numeric_limits<T>::infinity()};
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = std::min(kChunk, n - i);
    load(i, len);
    // A NaN dropped still poisons the sum.
    const Range<T> r = RowRange(e, len);
    range = {std::max(range.max, r.max), std::min(range.min, r.min)};
  }
  double s = 0;
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = std::min(kChunk, n - i);
    load(i, len);
    s += ExpSum<T, false>(e, nullptr, len, range, nullptr);
  }
  const T m = range.max;
  const T c = static_cast<T>(log ? std::log(s) : 1.0 / s);
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = std::min(kChunk, n - i);
    load(i, len);
    if (log) {
      Finish(e, e, len, true, m, c);
    } else {
      ExpSum<T, true>(e, e, len, range, nullptr);
      Finish(e, e, len, false, m, c);
    }
    for (int64_t t = 0; t < len; ++t) y[(i + t) * sy] = e[t];
  }
}

template <typename T>
void Run(ThreadPool& pool, const theta_softmax_args& a) {
  const int nd = a.input.ndim;
  const int64_t n = a.input.shape[nd - 1];
  const int64_t sx = a.input.strides[nd - 1];
  const int64_t sy = a.output.strides[nd - 1];
  const Layout<2> rows =
      Collapse<2>(nd - 1, a.input.shape, {a.input.strides, a.output.strides});
  const T* x = static_cast<const T*>(a.input.data);
  T* y = static_cast<T*>(a.output.data);
  const bool log = a.log != 0;
  const bool contiguous = (sx == 1 || n == 1) && (sy == 1 || n == 1);
  const int64_t grain = std::max<int64_t>(1, kParallelWork / n);
  if (contiguous && n <= ShortRows<T>::kMaxColumns) {
    const ShortRows<T> shorts(n);
    pool.ParallelFor(rows.Count(), grain, [&](int64_t r0, int64_t r1) {
      const int64_t rx = rows.InnerStride(0), ry = rows.InnerStride(1);
      Walk(rows, r0, r1 - r0, [&](const int64_t* off, int64_t len, int64_t) {
        for (int64_t r = 0; r < len; ++r) {
          shorts.Row(x + off[0] + r * rx, y + off[1] + r * ry, log);
        }
      });
    });
    return;
  }
  pool.ParallelFor(rows.Count(), grain, [&](int64_t r0, int64_t r1) {
    const int64_t rx = rows.InnerStride(0), ry = rows.InnerStride(1);
    Walk(rows, r0, r1 - r0, [&](const int64_t* off, int64_t len, int64_t) {
      for (int64_t r = 0; r < len; ++r) {
        const T* xr = x + off[0] + r * rx;
        T* yr = y + off[1] + r * ry;
        if (contiguous) {
          SoftmaxRow(xr, yr, n, log, r + 1 < len ? xr + rx : nullptr);
        } else {
          StridedSoftmaxRow(xr, sx, yr, sy, n, log);
        }
      }
    });
  });
}

}  // namespace

theta_status* Softmax(ThreadPool& pool, const theta_softmax_args& a) {
  if (theta_status* s = plugin_kit::CheckSoftmax(a)) return s;
  if (NumElements(a.input) == 0) return nullptr;
  if (a.input.dtype == THETA_DTYPE_F32) {
    Run<float>(pool, a);
  } else {
    Run<double>(pool, a);
  }
  return nullptr;
}

}  // namespace theta::cpu
