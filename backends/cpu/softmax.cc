// Softmax and log-softmax along the last dimension, max-subtracted. Rows
// are split across the pool; a strided row is processed in chunks through a
// stack buffer, so in-place works for any strides and nothing is allocated.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/api/theta_backend.h"
#include "backends/cpu/elementwise_ops.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/strided.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cpu {
namespace {

// Row elements below which a ParallelFor range is not split off.
constexpr int64_t kParallelWork = 1 << 15;
constexpr int64_t kChunk = 256;

template <typename T>
using Row = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstRow = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// y = softmax(x) or log_softmax(x) over a contiguous row; y may equal x.
// Sums accumulate in double.
template <typename T>
void SoftmaxRow(const T* x, T* y, int64_t n, bool log) {
  // NaN anywhere makes m NaN, and so the whole row.
  const T m = ConstRow<T>(x, n).template maxCoeff<Eigen::PropagateNaN>();
  if (!log) {
    Row<T>(y, n) = ConstRow<T>(x, n) - m;
    ApplyBlock<T>(THETA_EW_EXP, y, y, nullptr, nullptr, n);
    const T s = static_cast<T>(ConstRow<T>(y, n).template cast<double>().sum());
    Row<T>(y, n) /= s;
    return;
  }
  // log_softmax: x - m - log(sum(exp(x - m))); the exponentials go to a
  // scratch chunk so that y (possibly x) is written once.
  alignas(64) T e[kChunk];
  double s = 0;
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = std::min(kChunk, n - i);
    Row<T>(e, len) = ConstRow<T>(x + i, len) - m;
    ApplyBlock<T>(THETA_EW_EXP, e, e, nullptr, nullptr, len);
    s += ConstRow<T>(e, len).template cast<double>().sum();
  }
  const T log_s = static_cast<T>(std::log(s));
  Row<T>(y, n) = (ConstRow<T>(x, n) - m) - log_s;
}

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
    SoftmaxRow(e, e, n, log);
    for (int64_t t = 0; t < n; ++t) y[t * sy] = e[t];
    return;
  }
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = std::min(kChunk, n - i);
    load(i, len);
    const T cm = ConstRow<T>(e, len).template maxCoeff<Eigen::PropagateNaN>();
    if (std::isnan(cm) || cm > m) m = cm;  // NaN anywhere: the row is NaN
  }
  double s = 0;
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = std::min(kChunk, n - i);
    load(i, len);
    Row<T>(e, len) -= m;
    ApplyBlock<T>(THETA_EW_EXP, e, e, nullptr, nullptr, len);
    s += ConstRow<T>(e, len).template cast<double>().sum();
  }
  const T sum = static_cast<T>(s);
  const T log_s = static_cast<T>(std::log(s));
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = std::min(kChunk, n - i);
    load(i, len);
    if (log) {
      Row<T>(e, len) = (Row<T>(e, len) - m) - log_s;
    } else {
      Row<T>(e, len) -= m;
      ApplyBlock<T>(THETA_EW_EXP, e, e, nullptr, nullptr, len);
      Row<T>(e, len) /= sum;
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
  pool.ParallelFor(rows.Count(), grain, [&](int64_t r0, int64_t r1) {
    const int64_t rx = rows.InnerStride(0), ry = rows.InnerStride(1);
    Walk(rows, r0, r1 - r0, [&](const int64_t* off, int64_t len, int64_t) {
      for (int64_t r = 0; r < len; ++r) {
        const T* xr = x + off[0] + r * rx;
        T* yr = y + off[1] + r * ry;
        if (contiguous) {
          SoftmaxRow(xr, yr, n, log);
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
