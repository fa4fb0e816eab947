// Iteration over strided index spaces, shared by every kernel: a Layout is
// an index space (row-major order) with the strides of N operands, reduced
// to the fewest dimensions; Walk visits a range of its linear indices as
// runs along the innermost dimension.
//
//   Layout<2> l = Collapse<2>(ndim, shape, {dst_strides, src_strides});
//   Walk(l, 0, l.Count(), [&](const int64_t* off, int64_t len, int64_t k) {
//     // elements k .. k+len-1 sit at off[i] + t * l.stride[i][l.rank - 1]
//   });
#ifndef THETA_BACKENDS_CPU_STRIDED_H_
#define THETA_BACKENDS_CPU_STRIDED_H_

#include <algorithm>
#include <array>
#include <cstdint>

#include "backends/api/theta_backend.h"

namespace theta::cpu {

constexpr int kMaxDims = THETA_MAX_DIMS;

template <int N>
struct Layout {
  int rank = 0;  // >= 1 after Collapse
  int64_t shape[kMaxDims] = {};
  int64_t stride[N][kMaxDims] = {};

  int64_t Count() const {
    int64_t count = 1;
    for (int d = 0; d < rank; ++d) count *= shape[d];
    return count;
  }
  int64_t InnerStride(int i) const { return stride[i][rank - 1]; }
};

// Drops size-1 dimensions and merges neighbours that are contiguous for all
// N operands (stride[d] == stride[d + 1] * shape[d + 1]), keeping the linear
// order of the index space. The result has rank >= 1; a dimension of size 0
// is kept (Count() is 0).
template <int N>
Layout<N> Collapse(int ndim, const int64_t* shape,
                   const std::array<const int64_t*, N>& strides) {
  Layout<N> l;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    if (l.rank > 0) {
      bool merge = shape[d] != 0 && l.shape[l.rank - 1] != 0;
      for (int i = 0; i < N && merge; ++i) {
        merge = strides[i][d] * shape[d] == l.stride[i][l.rank - 1];
      }
      if (merge) {
        l.shape[l.rank - 1] *= shape[d];
        for (int i = 0; i < N; ++i) l.stride[i][l.rank - 1] = strides[i][d];
        continue;
      }
    }
    l.shape[l.rank] = shape[d];
    for (int i = 0; i < N; ++i) l.stride[i][l.rank] = strides[i][d];
    ++l.rank;
  }
  if (l.rank == 0) {
    l.rank = 1;
    l.shape[0] = 1;
    for (int i = 0; i < N; ++i) l.stride[i][0] = 0;
  }
  return l;
}

// Rows shorter than this are visited as whole rows of the next dimension in
// one tight loop instead of one carry per row.
constexpr int64_t kShortRow = 16;

// Calls seg(off, len, k) for consecutive runs covering linear indices
// [start, start + count) of `l`: `off` holds N element offsets of the run's
// first element, the run continues along the innermost dimension (strides
// l.InnerStride(i)) for `len` elements, and k counts the elements visited
// before it. Where the innermost dimension is shorter than kShortRow, whole
// rows are handed to rows(off, nrows, k) instead: nrows rows of
// l.shape[rank - 1] elements, row r starting at off[i] + r * l.stride[i][rank
// - 2]. Requires start + count <= l.Count().
template <int N, typename Seg, typename Rows>
inline void WalkRows(const Layout<N>& l, int64_t start, int64_t count,
                     Seg&& seg, Rows&& rows) {
  if (count <= 0) return;
  const int r = l.rank;
  int64_t idx[kMaxDims];
  int64_t off[N] = {};
  int64_t rem = start;
  for (int d = r - 1; d >= 0; --d) {
    idx[d] = rem % l.shape[d];
    rem /= l.shape[d];
    for (int i = 0; i < N; ++i) off[i] += idx[d] * l.stride[i][d];
  }
  // Moves the index forward after dimension `d` overflowed.
  auto carry = [&](int d) {
    while (d > 0 && idx[d] == l.shape[d]) {
      idx[d] = 0;
      ++idx[d - 1];
      for (int i = 0; i < N; ++i) {
        off[i] += l.stride[i][d - 1] - l.shape[d] * l.stride[i][d];
      }
      --d;
    }
  };
  const int64_t inner = l.shape[r - 1];
  int64_t k = 0;
  while (k < count) {
    if (r >= 2 && inner < kShortRow && idx[r - 1] == 0 && count - k >= inner) {
      const int64_t n =
          std::min((count - k) / inner, l.shape[r - 2] - idx[r - 2]);
      rows(static_cast<const int64_t*>(off), n, k);
      k += n * inner;
      for (int i = 0; i < N; ++i) off[i] += n * l.stride[i][r - 2];
      idx[r - 2] += n;
      carry(r - 2);
    } else {
      const int64_t len = std::min(count - k, inner - idx[r - 1]);
      seg(static_cast<const int64_t*>(off), len, k);
      k += len;
      idx[r - 1] += len;
      for (int i = 0; i < N; ++i) off[i] += len * l.stride[i][r - 1];
      if (k < count) carry(r - 1);
    }
  }
}

// WalkRows with whole short rows passed to seg one row at a time.
template <int N, typename Seg>
inline void Walk(const Layout<N>& l, int64_t start, int64_t count, Seg&& seg) {
  WalkRows(l, start, count, seg,
           [&](const int64_t* off, int64_t nrows, int64_t k) {
             const int r = l.rank;
             const int64_t inner = l.shape[r - 1];
             int64_t o[N];
             for (int i = 0; i < N; ++i) o[i] = off[i];
             for (int64_t row = 0; row < nrows; ++row) {
               seg(static_cast<const int64_t*>(o), inner, k + row * inner);
               for (int i = 0; i < N; ++i) o[i] += l.stride[i][r - 2];
             }
           });
}

}  // namespace theta::cpu

#endif  // THETA_BACKENDS_CPU_STRIDED_H_
