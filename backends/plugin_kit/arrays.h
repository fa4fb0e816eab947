// The plugin kit's array checks: the rules theta_backend.h states for a
// theta_array (dtype, rank, shape, strides, addressable extent, data), with
// the messages every plugin reports alike.
//
//   if (theta_status* s = CheckArray("softmax", "input", a.input)) return s;
//   if (theta_status* s = CheckWritable("softmax", "output", a.output)) ...
//
// Each check returns NULL or an INVALID_ARGUMENT status whose message starts
// with "<function>: <what>".
#ifndef THETA_BACKENDS_PLUGIN_KIT_ARRAYS_H_
#define THETA_BACKENDS_PLUGIN_KIT_ARRAYS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "backends/api/theta_backend.h"

namespace theta::plugin_kit {

// The integer value of an enum field of a caller's struct. A C caller may
// store any int there, but in C++ loading an enum outside its declared
// range is undefined (UBSan: -fsanitize=enum), so enum fields are
// validated through this before they are used as enums.
template <typename E>
int32_t RawEnum(const E& field) {
  static_assert(sizeof(E) == sizeof(int32_t), "C enums are int-sized");
  int32_t value;
  std::memcpy(&value, &field, sizeof(value));
  return value;
}

// Bytes per element of a valid dtype (0 for unknown values).
size_t DtypeSize(int dtype);
bool IsValidDtype(int dtype);

// Whether an array may have negative strides: the ABI allows them only for
// arrays that copy and elementwise read (reversed views).
enum class StrideSign { kNonNegative, kAnyForReadOnly };

// Checks an array: known dtype, 0 <= ndim <= THETA_MAX_DIMS, shape and
// strides present when ndim > 0, shape >= 0, strides >= 0 unless `strides`
// allows negative ones, element count and the sum of (shape - 1) * |stride|
// representable in int64, data present when it has elements. `what` names
// it in messages ("input", "output", ...).
theta_status* CheckArray(const char* function, const char* what,
                         const theta_array& array,
                         StrideSign strides = StrideSign::kNonNegative);

// Checks an output: no zero stride along a dimension of size > 1 (every
// element is written once, possibly from several threads).
theta_status* CheckWritable(const char* function, const char* what,
                            const theta_array& array);

// Element count of an array that passed CheckArray.
int64_t NumElements(const theta_array& array);

// The largest |element offset| of an array that passed CheckArray: the sum
// of (shape - 1) * |stride|; 0 when it is empty.
int64_t MaxAbsOffset(const theta_array& array);

// Formats a shape as "(2, 3)".
std::string ShapeString(int ndim, const int64_t* shape);

}  // namespace theta::plugin_kit

#endif  // THETA_BACKENDS_PLUGIN_KIT_ARRAYS_H_
