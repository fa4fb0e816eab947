// Symbolic inputs in Theano's spelling: scalar, vector, matrix, row, col,
// tensor3, tensor4 with a dtype (floatX by default), and the short forms
// fmatrix, dmatrix, ivector, lscalar, ...
//
//   Var x = theta::matrix("x");                  // floatX, shape (?, ?)
//   Var y = theta::ivector("y");                 // int32 labels
//   Var t = theta::tensor(DType::kFloat32, {kUnknownDim, 1, 28, 28}, "img");
#ifndef THETA_OPS_TENSOR_TYPES_H_
#define THETA_OPS_TENSOR_TYPES_H_

#include <source_location>
#include <string>
#include <vector>

#include "graph/dtype.h"
#include "graph/ir.h"
#include "graph/type.h"

namespace theta {

// A symbolic input of the given dtype and static shape (kUnknownDim where
// unknown; 1 makes the dimension broadcastable).
Var tensor(DType dtype, std::vector<int64_t> shape, std::string name = "",
           std::source_location loc = std::source_location::current());

// Each shape comes in a floatX form with a dtype argument (matrix) and five
// short forms: f float32, d float64, i int32, l int64, b bool.
//
// b is bool here, int8 in Theano (bvector is Theano's int8 vector). Theta
// chose bool: it has no int8 dtype (its dtypes are those of the plugin ABI:
// float32, float64, int32, int64, uint8, bool), and its comparisons and
// logical ops return bool, so a bvector holds what x > 0 produces (masks,
// scan's until). For bytes, use tensor(DType::kUInt8, ...); for Theano
// code that does arithmetic on a bvector, cast it first.
#define THETA_DECLARE_TENSOR_CONSTRUCTORS(fn)                            \
  Var fn(std::string name = "", DType dtype = floatX(),                  \
         std::source_location loc = std::source_location::current());    \
  Var f##fn(std::string name = "",                                       \
            std::source_location loc = std::source_location::current()); \
  Var d##fn(std::string name = "",                                       \
            std::source_location loc = std::source_location::current()); \
  Var i##fn(std::string name = "",                                       \
            std::source_location loc = std::source_location::current()); \
  Var l##fn(std::string name = "",                                       \
            std::source_location loc = std::source_location::current()); \
  Var b##fn(std::string name = "",                                       \
            std::source_location loc = std::source_location::current())

THETA_DECLARE_TENSOR_CONSTRUCTORS(scalar);   // rank 0
THETA_DECLARE_TENSOR_CONSTRUCTORS(vector);   // (?)
THETA_DECLARE_TENSOR_CONSTRUCTORS(matrix);   // (?, ?)
THETA_DECLARE_TENSOR_CONSTRUCTORS(row);      // (1, ?)
THETA_DECLARE_TENSOR_CONSTRUCTORS(col);      // (?, 1)
THETA_DECLARE_TENSOR_CONSTRUCTORS(tensor3);  // (?, ?, ?)
THETA_DECLARE_TENSOR_CONSTRUCTORS(tensor4);  // (?, ?, ?, ?)

#undef THETA_DECLARE_TENSOR_CONSTRUCTORS

}  // namespace theta

#endif  // THETA_OPS_TENSOR_TYPES_H_
