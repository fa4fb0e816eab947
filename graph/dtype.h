// Element types of Theta tensors, Theano's type promotion, and floatX.
//
//   DType t = Upcast(DType::kInt32, DType::kFloat32);
//   // t == kFloat64, as in Theano/NumPy
//   theta::set_floatX(theta::DType::kFloat64);
#ifndef THETA_GRAPH_DTYPE_H_
#define THETA_GRAPH_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "backends/api/theta_backend.h"

namespace theta {

enum class DType : uint8_t {
  kFloat32 = THETA_DTYPE_F32,
  kFloat64 = THETA_DTYPE_F64,
  kInt32 = THETA_DTYPE_I32,
  kInt64 = THETA_DTYPE_I64,
  kUInt8 = THETA_DTYPE_U8,
  kBool = THETA_DTYPE_BOOL,
};

// "float32", "int64", ...
const char* DTypeName(DType dtype);
// Parses the names above (and "floatX"); nullopt when unknown.
std::optional<DType> ParseDType(std::string_view name);

constexpr size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat64:
    case DType::kInt64:
      return 8;
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kUInt8:
    case DType::kBool:
      return 1;
  }
  return 0;
}

constexpr bool IsFloat(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat64;
}
constexpr bool IsInteger(DType dtype) { return !IsFloat(dtype); }

constexpr theta_dtype ToAbi(DType dtype) {
  return static_cast<theta_dtype>(dtype);
}

// The smallest type both values fit in, following NumPy/Theano: int32 with
// float32 gives float64, uint8 or bool with float32 gives float32, bool with
// bool gives bool.
DType Upcast(DType a, DType b);

// The default float type: float32 unless $THETA_FLOATX says otherwise
// ("float64"), or set_floatX() was called.
DType floatX();
void set_floatX(DType dtype);

// The C++ type of each dtype, and back.
template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::kFloat32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::kFloat64;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::kInt32;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr DType value = DType::kInt64;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::kUInt8;
};
template <>
struct DTypeOf<bool> {
  static constexpr DType value = DType::kBool;
};

}  // namespace theta

#endif  // THETA_GRAPH_DTYPE_H_
