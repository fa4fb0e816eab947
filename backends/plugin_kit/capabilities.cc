#include "backends/plugin_kit/capabilities.h"

#include "backends/plugin_kit/arrays.h"

namespace theta::plugin_kit {

int32_t SupportsAdmitted(theta_plugin*, int32_t kernel,
                         int32_t dtype) noexcept {
  const int32_t k = kernel;
  const int32_t d = dtype;
  if (!IsValidDtype(d)) return 0;
  const bool floating = d == THETA_DTYPE_F32 || d == THETA_DTYPE_F64;
  switch (k) {
    case THETA_KERNEL_GEMM:
    case THETA_KERNEL_SOFTMAX:
    case THETA_KERNEL_RNG:
      return floating ? 1 : 0;
    case THETA_KERNEL_ELEMENTWISE:
      return floating || d == THETA_DTYPE_I32 || d == THETA_DTYPE_I64 ? 1 : 0;
    case THETA_KERNEL_REDUCE:
    case THETA_KERNEL_GATHER:
    case THETA_KERNEL_COPY:
    case THETA_KERNEL_FILL:
      return 1;
    case THETA_KERNEL_SCATTER_ADD:
      return d != THETA_DTYPE_BOOL ? 1 : 0;
    default:
      return 0;
  }
}

}  // namespace theta::plugin_kit
