// Counter-based random numbers, host side: checks (the CPU plugin's rules
// and messages) and the output's index space; rng_kernels.cu computes
// element e from counter offset + e with device_math.h's mapping.
#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/launchers.h"
#include "backends/cuda/status.h"
#include "backends/cuda/strided.h"
#include "backends/cuda/validate.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cuda {

theta_status* Rng(theta_stream* stream, const theta_rng_args& args) {
  const theta_array& out = args.output;
  if (theta_status* s = plugin_kit::CheckRng(args)) return s;
  if (NumElements(out) == 0) return nullptr;
  RngParams p;
  p.distribution = args.distribution;
  p.f32 = out.dtype == THETA_DTYPE_F32;
  p.seed = args.seed;
  p.offset = args.offset;
  p.a = args.a;
  p.scale = args.distribution == THETA_RNG_NORMAL ? args.b : args.b - args.a;
  p.index = Collapse<1>(out.ndim, out.shape, {out.strides});
  p.output = out.data;
  THETA_CUDA_RETURN_IF_ERROR(
      "rng", LaunchRng(p, stream->device->sm_count, stream->stream));
  return nullptr;
}

}  // namespace theta::cuda
