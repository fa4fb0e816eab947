// Host-side preparation of strided index spaces for the kernels: dimensions
// of size 1 are dropped and neighbours that are contiguous for every operand
// are merged, keeping the row-major order of the elements, so most kernels
// see rank 1 or 2 and divide less.
//
//   StridedIndex<2> ix = Collapse<2>(ndim, shape, {dst_strides, src_strides});
//   if (FitsInt32(ix)) launch with Narrow(ix) ...
#ifndef THETA_BACKENDS_CUDA_STRIDED_H_
#define THETA_BACKENDS_CUDA_STRIDED_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "backends/cuda/device_math.h"

namespace theta::cuda {

// The collapse of an index space with any number of operands.
struct Collapsed {
  int rank = 0;  // >= 1
  int64_t shape[kMaxDims] = {};
  std::vector<std::array<int64_t, kMaxDims>> strides;  // one per operand

  int64_t Count() const;
};

// Merges dimension d into d - 1 when stride[d - 1] == stride[d] * shape[d]
// for every operand (negative and zero strides included) and drops
// dimensions of size 1. Writes the collapsed shape to `out_shape` and each
// operand's strides to `out_strides[i]` (zero past the rank) and returns the
// rank, >= 1 (shape (1), strides 0 for a scalar); a dimension of size 0 is
// kept, so the count is 0. Allocates nothing.
int CollapseInto(int ndim, const int64_t* shape,
                 std::span<const int64_t* const> strides, int64_t* out_shape,
                 std::array<int64_t, kMaxDims>* out_strides);

// The same into `out`, whose stride storage is reused: it allocates only
// when `out` has not held this many operands before (kernel entry points
// keep one per stream, so a steady state allocates nothing).
void CollapseDims(int ndim, const int64_t* shape,
                  std::span<const int64_t* const> strides, Collapsed* out);

template <int N>
StridedIndex<N> Collapse(int ndim, const int64_t* shape,
                         const std::array<const int64_t*, N>& strides) {
  std::array<std::array<int64_t, kMaxDims>, N> collapsed_strides;
  StridedIndex<N> s;
  int64_t collapsed_shape[kMaxDims];
  s.rank = CollapseInto(ndim, shape, strides, collapsed_shape,
                        collapsed_strides.data());
  for (int d = 0; d < s.rank; ++d) {
    s.shape[d] = collapsed_shape[d];
    for (int i = 0; i < N; ++i) s.stride[i][d] = collapsed_strides[i][d];
  }
  return s;
}

template <int N, typename Idx>
int64_t CountOf(const StridedIndex<N, Idx>& s) {
  int64_t count = 1;
  for (int d = 0; d < s.rank; ++d) count *= s.shape[d];
  return count;
}

// The largest |offset| any operand reaches.
template <int N, typename Idx>
int64_t MaxAbsOffset(const StridedIndex<N, Idx>& s) {
  int64_t most = 0;
  for (int i = 0; i < N; ++i) {
    int64_t extent = 0;
    for (int d = 0; d < s.rank; ++d) {
      const int64_t stride =
          s.stride[i][d] < 0 ? -s.stride[i][d] : s.stride[i][d];
      if (s.shape[d] > 0) extent += (s.shape[d] - 1) * stride;
    }
    most = extent > most ? extent : most;
  }
  return most;
}

// Limit below which kernels index with int32: counts, offsets, and a
// grid-stride loop's index plus its step stay far from overflow.
constexpr int64_t kInt32IndexLimit = int64_t{1} << 30;

template <int N>
bool FitsInt32(const StridedIndex<N>& s) {
  return CountOf(s) < kInt32IndexLimit && MaxAbsOffset(s) < kInt32IndexLimit;
}

template <int N>
StridedIndex<N, int32_t> Narrow(const StridedIndex<N>& s) {
  StridedIndex<N, int32_t> n;
  n.rank = s.rank;
  for (int d = 0; d < s.rank; ++d) {
    n.shape[d] = static_cast<int32_t>(s.shape[d]);
    for (int i = 0; i < N; ++i) {
      n.stride[i][d] = static_cast<int32_t>(s.stride[i][d]);
    }
  }
  return n;
}

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_STRIDED_H_
