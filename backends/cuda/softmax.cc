// Softmax and log-softmax along the last dimension, host side: checks (the
// CPU plugin's rules and messages), the rows' index space (all dimensions
// but the last, collapsed for input and output together) and the schedule
// (PlanSoftmax): one block per row, or two passes over chunks for long rows
// with the chunk statistics in the stream's scratch block.
#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/launchers.h"
#include "backends/cuda/status.h"
#include "backends/cuda/strided.h"
#include "backends/cuda/validate.h"

namespace theta::cuda {

theta_status* Softmax(theta_stream* stream, const theta_softmax_args& a) {
  const char* fn = "softmax";
  if (theta_status* s = CheckArray(fn, "input", a.input)) return s;
  if (theta_status* s = CheckArray(fn, "output", a.output)) return s;
  if (a.input.dtype != THETA_DTYPE_F32 && a.input.dtype != THETA_DTYPE_F64) {
    return InvalidArgument(fn, ": input dtype ", DtypeName(a.input.dtype),
                           " is not supported (F32 or F64 only)");
  }
  if (a.input.ndim < 1) {
    return InvalidArgument(fn, ": input has rank 0 (needs a last dimension)");
  }
  if (a.output.dtype != a.input.dtype) {
    return InvalidArgument(fn, ": output dtype ", DtypeName(a.output.dtype),
                           " differs from input dtype ",
                           DtypeName(a.input.dtype));
  }
  bool same_shape = a.output.ndim == a.input.ndim;
  for (int d = 0; same_shape && d < a.input.ndim; ++d) {
    same_shape = a.output.shape[d] == a.input.shape[d];
  }
  if (!same_shape) {
    return InvalidArgument(
        fn, ": output shape ", ShapeString(a.output.ndim, a.output.shape),
        " differs from input shape ", ShapeString(a.input.ndim, a.input.shape));
  }
  if (theta_status* s = CheckWritable(fn, "output", a.output)) return s;
  if (NumElements(a.input) == 0) return nullptr;

  const int nd = a.input.ndim;
  SoftmaxParams p;
  p.dtype = a.input.dtype;
  p.log = a.log != 0;
  p.rows =
      Collapse<2>(nd - 1, a.input.shape, {a.input.strides, a.output.strides});
  p.row_count = CountOf(p.rows);
  p.n = a.input.shape[nd - 1];
  p.in_stride = a.input.strides[nd - 1];
  p.out_stride = a.output.strides[nd - 1];
  p.input = a.input.data;
  p.output = a.output.data;
  p.plan = PlanSoftmax(p.row_count, p.n, stream->device->sm_count);
  if (p.plan.two_pass) {
    const uint64_t bytes = static_cast<uint64_t>(p.row_count) *
                           static_cast<uint64_t>(p.plan.chunks) *
                           kSoftmaxPartialBytes;
    if (theta_status* s = stream->Scratch(fn, bytes, &p.partials)) return s;
  }
  THETA_CUDA_RETURN_IF_ERROR(fn, LaunchSoftmax(p, stream->stream));
  return nullptr;
}

}  // namespace theta::cuda
