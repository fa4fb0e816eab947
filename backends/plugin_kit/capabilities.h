// The plugin kit's capability query: the (kernel, dtype) pairs that the
// kernels' shared argument checks (checks.h) admit, as the table's
// `supports` entry (ABI 1.1). A plugin whose kernels cover everything the
// checks admit uses SupportsAdmitted as its entry; one that lacks a pair
// wraps it.
//
//   GEMM, SOFTMAX, RNG     F32, F64
//   ELEMENTWISE            F32, F64, I32, I64 (compute dtype)
//   REDUCE, GATHER, COPY,
//   FILL                   every dtype
//   SCATTER_ADD            every dtype but BOOL
#ifndef THETA_BACKENDS_PLUGIN_KIT_CAPABILITIES_H_
#define THETA_BACKENDS_PLUGIN_KIT_CAPABILITIES_H_

#include <cstdint>

#include "backends/api/theta_backend.h"

namespace theta::plugin_kit {

// 1 when the shared checks admit `kernel` on `dtype`, else 0 (also for
// values outside the enums: `kernel` and `dtype` are the ABI's plain
// integers).
int32_t SupportsAdmitted(theta_plugin* plugin, int32_t kernel,
                         int32_t dtype) noexcept;

}  // namespace theta::plugin_kit

#endif  // THETA_BACKENDS_PLUGIN_KIT_CAPABILITIES_H_
