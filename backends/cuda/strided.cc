#include "backends/cuda/strided.h"

namespace theta::cuda {

int64_t Collapsed::Count() const {
  int64_t count = 1;
  for (int d = 0; d < rank; ++d) count *= shape[d];
  return count;
}

int CollapseInto(int ndim, const int64_t* shape,
                 std::span<const int64_t* const> strides, int64_t* out_shape,
                 std::array<int64_t, kMaxDims>* out_strides) {
  const size_t n = strides.size();
  for (size_t i = 0; i < n; ++i) out_strides[i].fill(0);
  int rank = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    if (rank > 0) {
      const int last = rank - 1;
      bool merge = shape[d] != 0 && out_shape[last] != 0;
      for (size_t i = 0; i < n && merge; ++i) {
        int64_t span;
        merge = !__builtin_mul_overflow(strides[i][d], shape[d], &span) &&
                span == out_strides[i][last];
      }
      if (merge) {
        out_shape[last] *= shape[d];
        for (size_t i = 0; i < n; ++i) out_strides[i][last] = strides[i][d];
        continue;
      }
    }
    out_shape[rank] = shape[d];
    for (size_t i = 0; i < n; ++i) out_strides[i][rank] = strides[i][d];
    ++rank;
  }
  if (rank == 0) {
    rank = 1;
    out_shape[0] = 1;
  }
  return rank;
}

void CollapseDims(int ndim, const int64_t* shape,
                  std::span<const int64_t* const> strides, Collapsed* out) {
  out->strides.resize(strides.size());
  out->rank =
      CollapseInto(ndim, shape, strides, out->shape, out->strides.data());
}

}  // namespace theta::cuda
