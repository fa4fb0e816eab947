// gather (take along an axis) and its adjoint scatter_add, host side:
// checks (the CPU plugin's rules and messages) and the three index groups
// of gather_kernels.cu. Indices stay on the device: the kernels check each
// one as they use it and record the first bad position, which the stream's
// next synchronize reports as INVALID_ARGUMENT (the ABI allows this).
#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/geometry.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/launchers.h"
#include "backends/cuda/status.h"
#include "backends/cuda/validate.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cuda {
namespace {

// Validates the arrays and fills the launch's geometry.
theta_status* Prepare(const char* fn, const theta_gather_args& a,
                      const theta_array& big, const char* big_name,
                      const theta_array& small, const char* small_name,
                      GatherParams* p) {
  const theta_array& idx = a.indices;
  if (theta_status* s = plugin_kit::CheckGatherArrays(fn, a, big, big_name,
                                                      small, small_name)) {
    return s;
  }
  const int ax = a.axis;
  const GatherGeometry g = MakeGatherGeometry(ax, big, idx, small);
  p->dtype = big.dtype;
  p->index_dtype = idx.dtype;
  p->outer = g.outer;
  p->index = g.index;
  p->inner = g.inner;
  p->outer_count = g.outer_count;
  p->j_count = g.j_count;
  p->inner_count = g.inner_count;
  p->axis_size = g.axis_size;
  p->axis_stride = g.axis_stride;
  p->indices = idx.data;
  p->big = big.data;
  p->small = small.data;
  return nullptr;
}

// Registers the launch's index check with the stream.
theta_status* BeginCheck(const char* fn, theta_stream* stream,
                         GatherParams* p) {
  theta_stream::IndexCheck check;
  check.function = fn;
  check.axis_size = p->axis_size;
  check.indices = p->indices;
  check.dtype = p->index_dtype;
  check.layout.rank = p->index.rank;
  for (int d = 0; d < p->index.rank; ++d) {
    check.layout.shape[d] = p->index.shape[d];
    check.layout.stride[0][d] = p->index.stride[0][d];
  }
  return stream->BeginIndexCheck(fn, check, &p->error_key, &p->sequence);
}

// Nothing moves, but the indices are still checked (as the CPU plugin
// does): NULL when there is nothing to check either.
theta_status* CheckOnly(const char* fn, theta_stream* stream, GatherParams* p) {
  if (p->j_count == 0) return nullptr;
  if (theta_status* s = BeginCheck(fn, stream, p)) return s;
  THETA_CUDA_RETURN_IF_ERROR(
      fn, LaunchCheckIndices(*p, stream->device->sm_count, stream->stream));
  return nullptr;
}

bool Empty(const GatherParams& p) {
  return p.outer_count == 0 || p.j_count == 0 || p.inner_count == 0;
}

}  // namespace

theta_status* Gather(theta_stream* stream, const theta_gather_args& a) {
  const char* fn = "gather";
  GatherParams p;
  if (theta_status* s =
          Prepare(fn, a, a.source, "source", a.output, "output", &p)) {
    return s;
  }
  if (theta_status* s = CheckWritable(fn, "output", a.output)) return s;
  if (Empty(p)) return CheckOnly(fn, stream, &p);
  if (theta_status* s = BeginCheck(fn, stream, &p)) return s;
  THETA_CUDA_RETURN_IF_ERROR(
      fn, LaunchGather(p, stream->device->sm_count, stream->stream));
  return nullptr;
}

// scatter_add: args.output is the destination (the gather source's shape),
// args.source has the gather output's shape, args.axis indexes the
// destination.
theta_status* ScatterAdd(theta_stream* stream, const theta_gather_args& a) {
  const char* fn = "scatter_add";
  GatherParams p;
  if (theta_status* s =
          Prepare(fn, a, a.output, "destination", a.source, "source", &p)) {
    return s;
  }
  if (theta_status* s = CheckWritable(fn, "destination", a.output)) return s;
  if (a.output.dtype == THETA_DTYPE_BOOL) {
    return InvalidArgument(
        "scatter_add: BOOL is not supported (F32, F64, I32, I64 or U8)");
  }
  if (Empty(p)) return CheckOnly(fn, stream, &p);
  if (theta_status* s = BeginCheck(fn, stream, &p)) return s;
  THETA_CUDA_RETURN_IF_ERROR(
      fn, LaunchScatterAdd(p, stream->device->sm_count, stream->stream));
  return nullptr;
}

}  // namespace theta::cuda
