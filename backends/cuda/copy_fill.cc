// Strided copy and fill, host side: checks, collapse, and the cheapest
// launch (cudaMemcpyAsync/cudaMemsetAsync where the layout allows).
#include <cstring>

#include "backends/api/elementwise_semantics.h"
#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/launchers.h"
#include "backends/cuda/status.h"
#include "backends/cuda/strided.h"
#include "backends/cuda/validate.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cuda {
namespace {

// The element's bytes of `value` converted to `dtype` (fill's rule: the
// elementwise store conversion).
uint64_t FillBits(theta_dtype dtype, double value) {
  uint64_t bits = 0;
  auto put = [&](auto v) { std::memcpy(&bits, &v, sizeof(v)); };
  switch (dtype) {
    case THETA_DTYPE_F32:
      put(static_cast<float>(value));
      break;
    case THETA_DTYPE_F64:
      put(value);
      break;
    case THETA_DTYPE_I32:
      put(ew::Convert<int32_t>(value));
      break;
    case THETA_DTYPE_I64:
      put(ew::Convert<int64_t>(value));
      break;
    case THETA_DTYPE_U8:
      put(ew::Convert<uint8_t>(value));
      break;
    case THETA_DTYPE_BOOL:
      put(ew::ConvertToBool(value));
      break;
  }
  return bits;
}

}  // namespace

theta_status* Copy(theta_stream* stream, const theta_copy_args& args) {
  const theta_array& src = args.source;
  const theta_array& dst = args.destination;
  if (theta_status* s = plugin_kit::CheckCopy(args)) return s;
  if (NumElements(src) == 0) return nullptr;
  bool identical = src.data == dst.data;
  for (int d = 0; identical && d < src.ndim; ++d) {
    identical = src.shape[d] == 1 || src.strides[d] == dst.strides[d];
  }
  if (identical) return nullptr;

  CopyParams p;
  p.index = Collapse<2>(src.ndim, src.shape, {dst.strides, src.strides});
  p.dst = dst.data;
  p.src = src.data;
  p.element_size = static_cast<int>(DtypeSize(src.dtype));
  if (p.index.rank == 1 && p.index.stride[0][0] == 1 &&
      p.index.stride[1][0] == 1) {
    const size_t bytes = static_cast<size_t>(p.index.shape[0]) *
                         static_cast<size_t>(p.element_size);
    THETA_CUDA_RETURN_IF_ERROR(
        "copy", cudaMemcpyAsync(dst.data, src.data, bytes,
                                cudaMemcpyDeviceToDevice, stream->stream));
    return nullptr;
  }
  THETA_CUDA_RETURN_IF_ERROR(
      "copy", LaunchCopy(p, stream->device->sm_count, stream->stream));
  return nullptr;
}

theta_status* Fill(theta_stream* stream, const theta_array& array,
                   double value) {
  if (theta_status* s = plugin_kit::CheckFill(array)) return s;
  if (NumElements(array) == 0) return nullptr;
  FillParams p;
  p.index = Collapse<1>(array.ndim, array.shape, {array.strides});
  p.data = array.data;
  p.bits = FillBits(array.dtype, value);
  p.element_size = static_cast<int>(DtypeSize(array.dtype));
  // A contiguous fill whose bytes are all equal (zeros, mostly) is a memset.
  bool uniform = true;
  for (int i = 1; i < p.element_size && uniform; ++i) {
    uniform = ((p.bits >> (8 * i)) & 0xff) == (p.bits & 0xff);
  }
  if (uniform && p.index.rank == 1 && p.index.stride[0][0] == 1) {
    const size_t bytes = static_cast<size_t>(p.index.shape[0]) *
                         static_cast<size_t>(p.element_size);
    THETA_CUDA_RETURN_IF_ERROR(
        "fill", cudaMemsetAsync(array.data, static_cast<int>(p.bits & 0xff),
                                bytes, stream->stream));
    return nullptr;
  }
  THETA_CUDA_RETURN_IF_ERROR(
      "fill", LaunchFill(p, stream->device->sm_count, stream->stream));
  return nullptr;
}

}  // namespace theta::cuda
