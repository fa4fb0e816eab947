// Dims: a shape or a stride list of at most kMaxDims entries, stored inline
// so that run-time code (shape checks, kernel launches) never allocates.
//
//   theta::Dims shape = {32, 128};
//   int64_t n = shape.product();   // 4096
#ifndef THETA_GRAPH_DIMS_H_
#define THETA_GRAPH_DIMS_H_

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backends/api/theta_backend.h"

namespace theta {

inline constexpr int kMaxDims = THETA_MAX_DIMS;

class Dims {
 public:
  Dims() = default;
  Dims(std::initializer_list<int64_t> values) { assign(values); }
  explicit Dims(std::span<const int64_t> values) { assign(values); }
  static Dims Filled(int n, int64_t value) {
    Dims d;
    d.size_ = n;
    std::fill(d.data_, d.data_ + n, value);
    return d;
  }

  // Requires values.size() <= kMaxDims (callers check ranks first).
  void assign(std::span<const int64_t> values) {
    size_ = static_cast<int>(values.size());
    std::copy(values.begin(), values.end(), data_);
  }
  void assign(std::initializer_list<int64_t> values) {
    assign(std::span<const int64_t>(values.begin(), values.size()));
  }

  int size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void resize(int n, int64_t value = 0) {
    for (int i = size_; i < n; ++i) data_[i] = value;
    size_ = n;
  }
  void push_back(int64_t v) { data_[size_++] = v; }
  int64_t& operator[](int i) { return data_[i]; }
  int64_t operator[](int i) const { return data_[i]; }
  int64_t* data() { return data_; }
  const int64_t* data() const { return data_; }
  const int64_t* begin() const { return data_; }
  const int64_t* end() const { return data_ + size_; }
  int64_t back() const { return data_[size_ - 1]; }

  int64_t product() const {
    int64_t p = 1;
    for (int i = 0; i < size_; ++i) p *= data_[i];
    return p;
  }

  std::vector<int64_t> ToVector() const {
    return std::vector<int64_t>(data_, data_ + size_);
  }
  // "(2, 3)"; "()" for a scalar.
  std::string ToString() const;

  friend bool operator==(const Dims& a, const Dims& b) {
    return a.size_ == b.size_ &&
           std::equal(a.data_, a.data_ + a.size_, b.data_);
  }
  friend bool operator!=(const Dims& a, const Dims& b) { return !(a == b); }

 private:
  int size_ = 0;
  int64_t data_[kMaxDims] = {};
};

// The one overflow check of shapes: the byte size of a contiguous array of
// `shape` whose elements take `element_size` bytes, with sizes below 1
// (empty or unknown dimensions) counted as 1 so that every stride fits too;
// std::nullopt when that product overflows int64. Every shape Theta builds
// (Tensor, TensorType, shapes computed when a function runs) passes it, so
// Dims::product() and ContiguousStrides() need no checks of their own.
// Errors naming the shape: CheckShapeFits() in graph/type.h.
inline std::optional<int64_t> CheckedShapeBytes(std::span<const int64_t> shape,
                                                int64_t element_size) {
  int64_t bytes = element_size;
  for (int64_t size : shape) {
    if (size > 1 && __builtin_mul_overflow(bytes, size, &bytes)) {
      return std::nullopt;
    }
  }
  return bytes;
}

// Row-major contiguous strides (in elements) of `shape`.
inline Dims ContiguousStrides(const Dims& shape) {
  Dims strides = Dims::Filled(shape.size(), 1);
  int64_t stride = 1;
  for (int i = shape.size() - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

// True when `strides` are the row-major strides of `shape` (ignoring the
// strides of size-1 dimensions, which are never stepped).
inline bool IsContiguous(const Dims& shape, const Dims& strides) {
  int64_t expected = 1;
  for (int i = shape.size() - 1; i >= 0; --i) {
    if (shape[i] == 1) continue;
    if (shape[i] == 0) return true;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

}  // namespace theta

#endif  // THETA_GRAPH_DIMS_H_
