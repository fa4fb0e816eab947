#include "backends/plugin_kit/arrays.h"

#include "backends/plugin_kit/status.h"

namespace theta::plugin_kit {

bool IsValidDtype(int dtype) {
  return dtype >= THETA_DTYPE_F32 && dtype <= THETA_DTYPE_BOOL;
}

size_t DtypeSize(int dtype) {
  switch (dtype) {
    case THETA_DTYPE_F32:
    case THETA_DTYPE_I32:
      return 4;
    case THETA_DTYPE_F64:
    case THETA_DTYPE_I64:
      return 8;
    case THETA_DTYPE_U8:
    case THETA_DTYPE_BOOL:
      return 1;
    default:
      return 0;
  }
}

std::string ShapeString(int ndim, const int64_t* shape) {
  std::string s = "(";
  for (int d = 0; d < ndim; ++d) {
    if (d > 0) s += ", ";
    s += std::to_string(shape[d]);
  }
  return s + ")";
}

namespace {

// The per-dimension rules; sets *empty when a dimension has size 0.
theta_status* CheckDims(const char* function, const char* what,
                        const theta_array& a, StrideSign strides, bool* empty) {
  for (int d = 0; d < a.ndim; ++d) {
    if (a.shape[d] < 0) {
      return InvalidArgument(function, ": ", what, ".shape[", d, "] is ",
                             a.shape[d], " (must be >= 0)");
    }
    if (a.strides[d] < 0 && strides == StrideSign::kNonNegative) {
      return InvalidArgument(function, ": ", what, ".strides[", d, "] is ",
                             a.strides[d],
                             " (negative strides are allowed only for arrays "
                             "that copy and elementwise read)");
    }
    if (a.strides[d] == INT64_MIN) {
      return InvalidArgument(function, ": ", what, ".strides[", d, "] is ",
                             a.strides[d], " (out of range)");
    }
    if (a.shape[d] == 0) *empty = true;
  }
  return nullptr;
}

}  // namespace

theta_status* CheckArray(const char* function, const char* what,
                         const theta_array& a, StrideSign strides) {
  if (!IsValidDtype(RawEnum(a.dtype))) {
    return InvalidArgument(function, ": ", what, " has invalid dtype ",
                           RawEnum(a.dtype));
  }
  if (a.ndim < 0 || a.ndim > THETA_MAX_DIMS) {
    return InvalidArgument(function, ": ", what, " has ndim ", a.ndim,
                           " (must be in [0, ", THETA_MAX_DIMS, "])");
  }
  if (a.ndim > 0 && (a.shape == nullptr || a.strides == nullptr)) {
    return InvalidArgument(
        function, ": ", what, " has ndim ", a.ndim, " but its ",
        a.shape == nullptr ? "shape" : "strides", " pointer is NULL");
  }
  bool empty = false;
  if (theta_status* s = CheckDims(function, what, a, strides, &empty)) {
    return s;
  }
  if (empty) return nullptr;
  int64_t count = 1;
  int64_t extent = 0;  // largest |element offset|
  for (int d = 0; d < a.ndim; ++d) {
    const int64_t stride = a.strides[d] < 0 ? -a.strides[d] : a.strides[d];
    int64_t span;
    if (__builtin_mul_overflow(count, a.shape[d], &count) ||
        __builtin_mul_overflow(a.shape[d] - 1, stride, &span) ||
        __builtin_add_overflow(extent, span, &extent)) {
      return InvalidArgument(function, ": ", what, " of shape ",
                             ShapeString(a.ndim, a.shape),
                             " is too large to address");
    }
  }
  if (a.data == nullptr) {
    return InvalidArgument(function, ": ", what, " data is NULL but it has ",
                           count, " elements");
  }
  return nullptr;
}

theta_status* CheckWritable(const char* function, const char* what,
                            const theta_array& a) {
  for (int d = 0; d < a.ndim; ++d) {
    if (a.strides[d] == 0 && a.shape[d] > 1) {
      return InvalidArgument(function, ": ", what, ".strides[", d,
                             "] is 0 along a dimension of size ", a.shape[d],
                             " (an output must not broadcast)");
    }
  }
  return nullptr;
}

int64_t NumElements(const theta_array& a) {
  int64_t count = 1;
  for (int d = 0; d < a.ndim; ++d) count *= a.shape[d];
  return count;
}

int64_t MaxAbsOffset(const theta_array& a) {
  if (NumElements(a) == 0) return 0;
  int64_t extent = 0;
  for (int d = 0; d < a.ndim; ++d) {
    const int64_t stride = a.strides[d] < 0 ? -a.strides[d] : a.strides[d];
    extent += (a.shape[d] - 1) * stride;
  }
  return extent;
}

}  // namespace theta::plugin_kit
