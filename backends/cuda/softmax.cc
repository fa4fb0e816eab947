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
#include "backends/plugin_kit/checks.h"

namespace theta::cuda {

theta_status* Softmax(theta_stream* stream, const theta_softmax_args& a) {
  const char* fn = "softmax";
  if (theta_status* s = plugin_kit::CheckSoftmax(a)) return s;
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
