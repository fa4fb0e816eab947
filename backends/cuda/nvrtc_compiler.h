// Run-time compilation of generated CUDA source with NVRTC. NVRTC needs no
// device, so the host-side tests compile every kind of generated kernel.
// The embedded headers (embedded_headers.h) and minimal stddef.h/stdint.h
// are available to #include.
//
//   std::string image, log;
//   if (theta_status* s = CompileCuda(src, "k.cu", "sm_90", &image, &log)) ...
//   driver.ModuleLoadData(&module, image.data());  // CUBIN or PTX
#ifndef THETA_BACKENDS_CUDA_NVRTC_COMPILER_H_
#define THETA_BACKENDS_CUDA_NVRTC_COMPILER_H_

#include <string>
#include <vector>

#include "backends/api/theta_backend.h"

namespace theta::cuda {

// Compiles `source` for `arch`: "sm_XY" gives a CUBIN, "compute_XY" PTX
// (NUL-terminated, as cuModuleLoadData wants). Floating-point contraction
// is off (--fmad=false): every instruction of a program rounds its result,
// as the reference does. On failure the status (INTERNAL, or OUT_OF_MEMORY)
// names the NVRTC call and includes the compiler's log; *log gets the log
// either way.
theta_status* CompileCuda(const std::string& source, const std::string& name,
                          const std::string& arch, std::string* image,
                          std::string* log);

// The SM versions this NVRTC compiles for, e.g. {75, 80, ..., 120}.
std::vector<int> NvrtcSupportedArchs();

// The target for a device of compute capability major.minor: "sm_XY" when
// NVRTC supports it, else "compute_XY" of the newest supported version
// below it (the driver JIT-compiles the PTX); empty when there is none.
std::string TargetArch(int major, int minor, const std::vector<int>& supported);

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_NVRTC_COMPILER_H_
