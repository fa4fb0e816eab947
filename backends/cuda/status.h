// Status objects of the CUDA plugin: the plugin kit's (the ABI's opaque
// theta_status, helpers that build one with a formatted message, and the
// noexcept edge Guard of every table entry) under this plugin's namespace.
// CUDA, cuBLAS, NVRTC and driver errors are turned into statuses by
// cuda_errors.h.
//
//   if (n < 0) return InvalidArgument("gemm: m is ", n, ", must be >= 0");
//   return nullptr;  // success
#ifndef THETA_BACKENDS_CUDA_STATUS_H_
#define THETA_BACKENDS_CUDA_STATUS_H_

#include "backends/plugin_kit/entry.h"
#include "backends/plugin_kit/status.h"

namespace theta::cuda {

using ::theta::plugin_kit::DtypeName;
using ::theta::plugin_kit::FailedPrecondition;
using ::theta::plugin_kit::FreeStatus;
using ::theta::plugin_kit::Guard;
using ::theta::plugin_kit::InvalidArgument;
using ::theta::plugin_kit::MakeStatus;
using ::theta::plugin_kit::OutOfMemoryStatus;
using ::theta::plugin_kit::Prefixed;
using ::theta::plugin_kit::StrCat;
using ::theta::plugin_kit::Unimplemented;

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_STATUS_H_
