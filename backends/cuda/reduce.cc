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
#include "backends/plugin_kit/checks.h"

namespace theta::cuda {
namespace {}  // namespace

theta_status* Reduce(theta_stream* stream, const theta_reduce_args& args) {
  if (theta_status* s = plugin_kit::CheckReduce(args)) return s;
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
