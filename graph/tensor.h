// Tensor: a host-memory n-dimensional array (dtype, shape, row-major data).
//
// Copies share data (like torch::Tensor); clone() copies it. Built from and
// read into std::vector; viewed as Eigen maps through //graph:tensor_eigen.
//
//   theta::Tensor a({1.f, 2.f, 3.f, 4.f}, {2, 2});
//   std::vector<float> v = a.to_vector<float>();
//   float x = a.at<float>({1, 0});   // 3
#ifndef THETA_GRAPH_TENSOR_H_
#define THETA_GRAPH_TENSOR_H_

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "graph/dims.h"
#include "graph/dtype.h"

namespace theta {

class Tensor {
 public:
  // An undefined tensor (defined() is false).
  Tensor() = default;
  // Zero-filled tensor of the given dtype and shape.
  Tensor(DType dtype, std::span<const int64_t> shape);
  Tensor(DType dtype, std::initializer_list<int64_t> shape)
      : Tensor(dtype, std::span<const int64_t>(shape.begin(), shape.size())) {}
  Tensor(DType dtype, const Dims& shape)
      : Tensor(dtype, std::span<const int64_t>(shape.data(), shape.size())) {}

  // Copies `values` (row-major) into a tensor of `shape`; the element count
  // must match (throws Error naming both).
  template <typename T>
  Tensor(const std::vector<T>& values, std::span<const int64_t> shape)
      : Tensor(DTypeOf<T>::value, shape) {
    CheckCount(values.size());
    CopyIn(values);
  }
  template <typename T>
  Tensor(const std::vector<T>& values, std::initializer_list<int64_t> shape)
      : Tensor(values, std::span<const int64_t>(shape.begin(), shape.size())) {}
  // As above from a braced list: Tensor({1.f, 2.f, 3.f, 4.f}, {2, 2}) is a
  // float32 2x2 matrix (the list's element type gives the dtype).
  template <typename T>
  Tensor(std::initializer_list<T> values, std::initializer_list<int64_t> shape)
      : Tensor(std::vector<T>(values), shape) {}
  // A vector of the given values.
  template <typename T>
  explicit Tensor(const std::vector<T>& values)
      : Tensor(values, {static_cast<int64_t>(values.size())}) {}

  template <typename T>
  static Tensor Scalar(T value) {
    Tensor t(DTypeOf<T>::value, std::span<const int64_t>());
    *t.data<T>() = value;
    return t;
  }
  // A scalar of `dtype` holding `value` converted.
  static Tensor ScalarOf(DType dtype, double value);
  // Zero-initialised tensor without a zero fill (contents unspecified); for
  // code that overwrites every element.
  static Tensor Uninitialized(DType dtype, const Dims& shape);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Dims& dims() const { return shape_; }
  std::vector<int64_t> shape() const { return shape_.ToVector(); }
  int ndim() const { return shape_.size(); }
  int64_t size() const { return shape_.product(); }
  size_t nbytes() const {
    return static_cast<size_t>(size()) * DTypeSize(dtype_);
  }

  void* raw_data() { return storage_ ? storage_->data : nullptr; }
  const void* raw_data() const { return storage_ ? storage_->data : nullptr; }

  // Typed access; throws Error when T is not the dtype.
  template <typename T>
  T* data() {
    CheckType(DTypeOf<T>::value);
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  const T* data() const {
    CheckType(DTypeOf<T>::value);
    return static_cast<const T*>(raw_data());
  }
  template <typename T>
  std::vector<T> to_vector() const {
    const T* p = data<T>();
    return std::vector<T>(p, p + size());
  }
  // The single element of a size-1 tensor.
  template <typename T>
  T item() const {
    if (size() != 1) ThrowNotSingle();
    return *data<T>();
  }
  template <typename T>
  T at(std::initializer_list<int64_t> index) const {
    return data<T>()[Offset(index)];
  }
  // Element `i` (row-major) converted to double, whatever the dtype.
  double GetAsDouble(int64_t i) const;

  // A deep copy.
  Tensor clone() const;
  // Same data, another shape of the same element count (shares storage).
  Tensor reshape(std::span<const int64_t> shape) const;
  Tensor reshape(std::initializer_list<int64_t> shape) const {
    return reshape(std::span<const int64_t>(shape.begin(), shape.size()));
  }
  // This tensor's values converted to `dtype` (a copy, or this if equal).
  Tensor astype(DType dtype) const;

  // Number of Tensor objects sharing this storage.
  long use_count() const { return storage_.use_count(); }

  // "Tensor(float32, (2, 2), [[1, 2], [3, 4]])", eliding large tensors.
  std::string ToString() const;

 private:
  struct Storage {
    explicit Storage(size_t bytes);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
    void* data = nullptr;
    size_t bytes = 0;
  };

  // Storage for `shape` (checked by the caller); throws Error naming the
  // byte count, dtype and shape when it cannot be allocated.
  static std::shared_ptr<Storage> Allocate(DType dtype, const Dims& shape);
  void CheckType(DType requested) const;
  void CheckCount(size_t count) const;
  [[noreturn]] void ThrowNotSingle() const;
  int64_t Offset(std::initializer_list<int64_t> index) const;
  template <typename T>
  void CopyIn(const std::vector<T>& values) {
    if constexpr (std::is_same_v<T, bool>) {
      auto* p = static_cast<uint8_t*>(raw_data());
      for (size_t i = 0; i < values.size(); ++i) p[i] = values[i] ? 1 : 0;
    } else {
      if (!values.empty()) {
        std::memcpy(raw_data(), values.data(), values.size() * sizeof(T));
      }
    }
  }

  DType dtype_ = DType::kFloat32;
  Dims shape_;
  std::shared_ptr<Storage> storage_;
};

// std::vector<bool> is packed; reading a bool tensor gives uint8 storage.
template <>
inline std::vector<bool> Tensor::to_vector<bool>() const {
  CheckType(DType::kBool);
  const auto* p = static_cast<const uint8_t*>(raw_data());
  return std::vector<bool>(p, p + size());
}
template <>
inline bool* Tensor::data<bool>() {
  CheckType(DType::kBool);
  return static_cast<bool*>(raw_data());
}
template <>
inline const bool* Tensor::data<bool>() const {
  CheckType(DType::kBool);
  return static_cast<const bool*>(raw_data());
}

}  // namespace theta

#endif  // THETA_GRAPH_TENSOR_H_
