// Host memory the elementwise entry point reuses from call to call on one
// stream, so that a program's steady state allocates nothing on the host
// (the conformance suite counts): vectors are cleared, never shrunk.
//
//   EwLaunchScratch& s = stream->ew_scratch;
//   s.written.assign(num_registers, 0);  // allocates only to grow
//
// The ABI forbids concurrent calls on one stream, so one user at a time.
#ifndef THETA_BACKENDS_CUDA_EW_LAUNCH_SCRATCH_H_
#define THETA_BACKENDS_CUDA_EW_LAUNCH_SCRATCH_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cuda/device_math.h"
#include "backends/cuda/ew_codegen.h"
#include "backends/cuda/strided.h"

namespace theta::cuda {

struct EwLaunchScratch {
  std::vector<char> written;            // per register: written yet
  std::vector<const int64_t*> strides;  // per operand, inputs first
  Collapsed collapsed;
  EwKernelSpec spec;
  std::string key;  // the kernel cache's lookup key
  // The kernel's arguments: the count, the collapsed shape, then per
  // operand its pointer and strides, then the parameters.
  int64_t count64 = 0;
  int32_t count32 = 0;
  std::vector<std::array<int64_t, kMaxDims>> dims64;  // shape, then strides
  std::vector<std::array<int32_t, kMaxDims>> dims32;
  std::vector<void*> pointers;
  std::vector<void*> kernel_params;
};

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_EW_LAUNCH_SCRATCH_H_
