// Argument checks shared by the CUDA plugin's kernels; the rules and the
// messages are those of the CPU plugin, so both report a bad call alike.
#ifndef THETA_BACKENDS_CUDA_VALIDATE_H_
#define THETA_BACKENDS_CUDA_VALIDATE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "backends/api/theta_backend.h"

namespace theta::cuda {

// The value a caller stored in an enum field. A C caller may store any int
// there, and loading a value outside the enumerators through the C++ enum
// type is undefined, so checks read enum fields through this.
template <typename E>
int RawEnum(const E& e) {
  static_assert(sizeof(E) == sizeof(int));
  int v;
  std::memcpy(&v, &e, sizeof(v));
  return v;
}

// Bytes per element of a valid dtype (0 for unknown values).
size_t DtypeSize(int dtype);
bool IsValidDtype(int dtype);

enum class Strides {
  kNonNegative,    // every stride >= 0
  kAllowNegative,  // read-only operands of copy and elementwise
};

// Checks an array: known dtype, 0 <= ndim <= THETA_MAX_DIMS, shape and
// strides present when ndim > 0, shape >= 0, strides >= 0 unless allowed
// negative, element count and extent representable, data present when it has
// elements. `what` names it in messages ("input", "output", ...).
theta_status* CheckArray(const char* function, const char* what,
                         const theta_array& array,
                         Strides strides = Strides::kNonNegative);

// Checks an output: no zero stride along a dimension of size > 1 (every
// element is written once).
theta_status* CheckWritable(const char* function, const char* what,
                            const theta_array& array);

// Element count of an array that passed CheckArray.
int64_t NumElements(const theta_array& array);

// The largest |element offset| of an array that passed CheckArray: the sum
// of (shape - 1) * |stride|; 0 when it is empty.
int64_t MaxAbsOffset(const theta_array& array);

// Formats a shape as "(2, 3)".
std::string ShapeString(int ndim, const int64_t* shape);

// NULL when `args` is present and at least as large as this build's struct;
// otherwise INVALID_ARGUMENT naming the size (older, shorter structs).
template <typename Args>
theta_status* CheckArgsSize(const char* function, const Args* args);

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_VALIDATE_H_
