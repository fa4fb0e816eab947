#include "backends/testing/views.h"

#include <algorithm>
#include <utility>

namespace theta::backends::testing {

int64_t View::Count() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

int64_t View::First() const {
  // Not via Count(): a view may be too large to count (overflow tests).
  for (int64_t s : shape) {
    if (s == 0) return 0;
  }
  int64_t first = 0;
  for (int d = 0; d < ndim(); ++d) {
    if (strides[d] < 0) first -= (shape[d] - 1) * strides[d];
  }
  return first;
}

int64_t View::Extent() const {
  if (Count() == 0) return 0;
  int64_t e = 1 + First();
  for (int d = 0; d < ndim(); ++d) {
    if (strides[d] > 0) e += (shape[d] - 1) * strides[d];
  }
  return e;
}

int64_t View::Offset(int64_t linear) const {
  int64_t off = First();
  for (int d = ndim() - 1; d >= 0; --d) {
    off += (linear % shape[d]) * strides[d];
    linear /= shape[d];
  }
  return off;
}

theta_array View::Array(const void* data, theta_dtype dtype) const& {
  char* first = static_cast<char*>(const_cast<void*>(data));
  if (data != nullptr) {
    first += First() * static_cast<int64_t>(DtypeBytes(dtype));
  }
  return theta_array{first, dtype, ndim(), shape.data(), strides.data()};
}

View Spaced(std::vector<int64_t> shape, int64_t step) {
  View v{shape, std::vector<int64_t>(shape.size())};
  int64_t s = step;
  for (int d = v.ndim() - 1; d >= 0; --d) {
    v.strides[d] = s;
    s *= std::max<int64_t>(shape[d], 1);
  }
  return v;
}

View Contiguous(std::vector<int64_t> shape) {
  return Spaced(std::move(shape), 1);
}

View Transposed(std::vector<int64_t> shape) {
  View v{shape, std::vector<int64_t>(shape.size())};
  int64_t s = 1;
  for (int d = 0; d < v.ndim(); ++d) {
    v.strides[d] = s;
    s *= std::max<int64_t>(shape[d], 1);
  }
  return v;
}

View Strided(std::vector<int64_t> shape, std::vector<int64_t> strides) {
  return View{std::move(shape), std::move(strides)};
}

size_t DtypeBytes(theta_dtype dtype) {
  switch (dtype) {
    case THETA_DTYPE_F64:
    case THETA_DTYPE_I64:
      return 8;
    case THETA_DTYPE_U8:
    case THETA_DTYPE_BOOL:
      return 1;
    default:
      return 4;
  }
}

}  // namespace theta::backends::testing
