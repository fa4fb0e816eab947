// Reductions over any set of axes, host side: checks (the CPU plugin's
// rules and messages), then the geometry (geometry.h) and a schedule from
// PlanReduce (launch.h). Multi-piece schedules take their partial
// accumulators from the stream's scratch block.
#include <bit>

#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/geometry.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/launchers.h"
#include "backends/cuda/status.h"
#include "backends/cuda/validate.h"

namespace theta::cuda {
namespace {

const char* OpName(int op) {
  switch (op) {
    case THETA_REDUCE_SUM:
      return "SUM";
    case THETA_REDUCE_PROD:
      return "PROD";
    case THETA_REDUCE_MAX:
      return "MAX";
    case THETA_REDUCE_MIN:
      return "MIN";
    case THETA_REDUCE_ARGMAX:
      return "ARGMAX";
    case THETA_REDUCE_ARGMIN:
      return "ARGMIN";
    default:
      return "?";
  }
}

theta_status* Check(const theta_reduce_args& a) {
  const theta_array& in = a.input;
  const theta_array& out = a.output;
  if (RawEnum(a.op) < THETA_REDUCE_SUM || RawEnum(a.op) > THETA_REDUCE_ARGMIN) {
    return InvalidArgument("reduce: unknown op ", RawEnum(a.op));
  }
  const char* op = OpName(a.op);
  if (theta_status* s = CheckArray("reduce", "input", in)) return s;
  if (theta_status* s = CheckArray("reduce", "output", out)) return s;
  if (theta_status* s = CheckWritable("reduce", "output", out)) return s;
  const uint32_t all = in.ndim >= 32 ? ~0u : ((1u << in.ndim) - 1);
  if (a.axes_mask & ~all) {
    return InvalidArgument("reduce: axes_mask 0x", std::hex, a.axes_mask,
                           std::dec, " names axis ",
                           std::countr_zero(a.axes_mask & ~all),
                           " but the input has rank ", in.ndim);
  }
  const bool arg = a.op == THETA_REDUCE_ARGMAX || a.op == THETA_REDUCE_ARGMIN;
  if (arg && std::popcount(a.axes_mask) != 1) {
    return InvalidArgument(
        "reduce: ", op, " needs exactly one axis, axes_mask 0x", std::hex,
        a.axes_mask, std::dec, " has ", std::popcount(a.axes_mask));
  }
  if (in.dtype == THETA_DTYPE_BOOL &&
      (a.op == THETA_REDUCE_SUM || a.op == THETA_REDUCE_PROD)) {
    return InvalidArgument("reduce: ", op,
                           " does not support BOOL (use MAX for any, MIN for "
                           "all, or convert first)");
  }
  const theta_dtype want = arg ? THETA_DTYPE_I64 : in.dtype;
  if (out.dtype != want) {
    return InvalidArgument("reduce: ", op, " output dtype is ",
                           DtypeName(out.dtype), ", expected ",
                           DtypeName(want));
  }
  bool shape_ok = out.ndim == in.ndim;
  for (int d = 0; shape_ok && d < in.ndim; ++d) {
    shape_ok = out.shape[d] == ((a.axes_mask >> d & 1) ? 1 : in.shape[d]);
  }
  if (!shape_ok) {
    int64_t want_shape[kMaxDims];
    for (int d = 0; d < in.ndim; ++d) {
      want_shape[d] = (a.axes_mask >> d & 1) ? 1 : in.shape[d];
    }
    return InvalidArgument("reduce: output shape ",
                           ShapeString(out.ndim, out.shape), ", expected ",
                           ShapeString(in.ndim, want_shape), " for input ",
                           ShapeString(in.ndim, in.shape), " and axes_mask 0x",
                           std::hex, a.axes_mask);
  }
  if (arg) {
    const int axis = std::countr_zero(a.axes_mask);
    if (in.shape[axis] == 0) {
      return InvalidArgument(
          "reduce: ", op, " over axis ", axis,
          " of size 0 (an empty axis has no ",
          a.op == THETA_REDUCE_ARGMAX ? "maximum" : "minimum", ")");
    }
  }
  return nullptr;
}

}  // namespace

theta_status* Reduce(theta_stream* stream, const theta_reduce_args& args) {
  if (theta_status* s = Check(args)) return s;
  if (NumElements(args.output) == 0) return nullptr;
  ReduceParams p;
  p.op = args.op;
  p.dtype = args.input.dtype;
  p.input = args.input.data;
  p.output = args.output.data;
  const ReduceGeometry g = MakeReduceGeometry(args);
  p.kept = g.kept;
  p.reduced = g.reduced;
  p.out_count = g.out_count;
  p.red_count = g.red_count;
  p.plan = PlanReduce(p.out_count, p.red_count, g.contiguous,
                      stream->device->sm_count);
  if (p.plan.pieces > 1) {
    const uint64_t bytes = static_cast<uint64_t>(p.plan.pieces) *
                           static_cast<uint64_t>(p.out_count) *
                           ReduceAccBytes(p.op, p.dtype);
    if (theta_status* s = stream->Scratch("reduce", bytes, &p.partials)) {
      return s;
    }
  }
  THETA_CUDA_RETURN_IF_ERROR("reduce", LaunchReduce(p, stream->stream));
  return nullptr;
}

}  // namespace theta::cuda
