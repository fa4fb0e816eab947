// TensorType: the static type of a symbolic tensor: dtype, rank, and what is
// known of each dimension's size. A dimension known to be 1 is
// "broadcastable" (Theano's term): it stretches to match other operands in
// elementwise operations; a dimension of unknown size never does.
//
//   TensorType t(DType::kFloat32, {kUnknownDim, 1});   // a column
//   t.broadcastable(1) == true; t.ToString() == "float32(?, 1)"
#ifndef THETA_GRAPH_TYPE_H_
#define THETA_GRAPH_TYPE_H_

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "graph/dims.h"
#include "graph/dtype.h"

namespace theta {

inline constexpr int64_t kUnknownDim = -1;

class TensorType {
 public:
  TensorType() = default;
  // `shape` has one entry per dimension: its size, or kUnknownDim.
  TensorType(DType dtype, std::span<const int64_t> shape);
  TensorType(DType dtype, std::initializer_list<int64_t> shape)
      : TensorType(dtype,
                   std::span<const int64_t>(shape.begin(), shape.size())) {}
  TensorType(DType dtype, const Dims& shape)
      : TensorType(dtype,
                   std::span<const int64_t>(shape.data(), shape.size())) {}

  DType dtype() const { return dtype_; }
  int ndim() const { return shape_.size(); }
  // Size of dimension d, or kUnknownDim.
  int64_t dim(int d) const { return shape_[d]; }
  const Dims& shape() const { return shape_; }
  bool broadcastable(int d) const { return shape_[d] == 1; }
  bool is_scalar() const { return shape_.size() == 0; }
  // True when every dimension's size is known.
  bool fully_known() const;

  TensorType WithDType(DType dtype) const { return TensorType(dtype, shape_); }

  // True when a value of shape `actual` has this type.
  bool Accepts(const Dims& actual) const;

  // "float32(?, 1)"; "int64()" for a scalar.
  std::string ToString() const;

  friend bool operator==(const TensorType& a, const TensorType& b) {
    return a.dtype_ == b.dtype_ && a.shape_ == b.shape_;
  }
  friend bool operator!=(const TensorType& a, const TensorType& b) {
    return !(a == b);
  }

 private:
  DType dtype_ = DType::kFloat32;
  Dims shape_;
};

// OK when an array of `shape` and `dtype` has a byte size (and strides)
// within int64 (CheckedShapeBytes; unknown sizes count as 1); otherwise
// InvalidArgument naming the shape and dtype.
absl::Status CheckShapeFits(std::span<const int64_t> shape, DType dtype);
inline absl::Status CheckShapeFits(const Dims& shape, DType dtype) {
  return CheckShapeFits(std::span<const int64_t>(shape.data(), shape.size()),
                        dtype);
}

}  // namespace theta

#endif  // THETA_GRAPH_TYPE_H_
