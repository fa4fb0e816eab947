#include "ops/tensor_types.h"

namespace theta {

Var tensor(DType dtype, std::vector<int64_t> shape, std::string name,
           std::source_location loc) {
  return MakeInput(TensorType(dtype, shape), std::move(name), loc);
}

#define THETA_DEFINE_TENSOR_CONSTRUCTORS(fn, ...)                   \
  Var fn(std::string name, DType dtype, std::source_location loc) { \
    return tensor(dtype, __VA_ARGS__, std::move(name), loc);        \
  }                                                                 \
  Var f##fn(std::string name, std::source_location loc) {           \
    return fn(std::move(name), DType::kFloat32, loc);               \
  }                                                                 \
  Var d##fn(std::string name, std::source_location loc) {           \
    return fn(std::move(name), DType::kFloat64, loc);               \
  }                                                                 \
  Var i##fn(std::string name, std::source_location loc) {           \
    return fn(std::move(name), DType::kInt32, loc);                 \
  }                                                                 \
  Var l##fn(std::string name, std::source_location loc) {           \
    return fn(std::move(name), DType::kInt64, loc);                 \
  }                                                                 \
  Var b##fn(std::string name, std::source_location loc) {           \
    return fn(std::move(name), DType::kBool, loc);                  \
  }

THETA_DEFINE_TENSOR_CONSTRUCTORS(scalar, std::vector<int64_t>{})
THETA_DEFINE_TENSOR_CONSTRUCTORS(vector, std::vector<int64_t>{kUnknownDim})
THETA_DEFINE_TENSOR_CONSTRUCTORS(matrix,
                                 std::vector<int64_t>{kUnknownDim, kUnknownDim})
THETA_DEFINE_TENSOR_CONSTRUCTORS(row, std::vector<int64_t>{1, kUnknownDim})
THETA_DEFINE_TENSOR_CONSTRUCTORS(col, std::vector<int64_t>{kUnknownDim, 1})
THETA_DEFINE_TENSOR_CONSTRUCTORS(tensor3,
                                 std::vector<int64_t>{kUnknownDim, kUnknownDim,
                                                      kUnknownDim})
THETA_DEFINE_TENSOR_CONSTRUCTORS(tensor4,
                                 std::vector<int64_t>{kUnknownDim, kUnknownDim,
                                                      kUnknownDim, kUnknownDim})

#undef THETA_DEFINE_TENSOR_CONSTRUCTORS

}  // namespace theta
