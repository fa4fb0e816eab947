#include "backends/cuda/strided.h"

namespace theta::cuda {

int64_t Collapsed::Count() const {
  int64_t count = 1;
  for (int d = 0; d < rank; ++d) count *= shape[d];
  return count;
}

Collapsed CollapseDims(int ndim, const int64_t* shape,
                       const std::vector<const int64_t*>& strides) {
  const size_t n = strides.size();
  Collapsed c;
  c.strides.assign(n, std::array<int64_t, kMaxDims>{});
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    if (c.rank > 0) {
      const int last = c.rank - 1;
      bool merge = shape[d] != 0 && c.shape[last] != 0;
      for (size_t i = 0; i < n && merge; ++i) {
        int64_t span;
        merge = !__builtin_mul_overflow(strides[i][d], shape[d], &span) &&
                span == c.strides[i][last];
      }
      if (merge) {
        c.shape[last] *= shape[d];
        for (size_t i = 0; i < n; ++i) c.strides[i][last] = strides[i][d];
        continue;
      }
    }
    c.shape[c.rank] = shape[d];
    for (size_t i = 0; i < n; ++i) c.strides[i][c.rank] = strides[i][d];
    ++c.rank;
  }
  if (c.rank == 0) {
    c.rank = 1;
    c.shape[0] = 1;
  }
  return c;
}

}  // namespace theta::cuda
