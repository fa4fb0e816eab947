/* The ABI header compiled as C (C11): the //backends/api:api target holds
 * only C. Checks the frozen ABI 1.0 sizes' definitions and the status
 * codes' absl numbering from C. */
#include <assert.h>
#include <stdio.h>

#include "backends/api/theta_backend.h"

_Static_assert(THETA_BACKEND_API_SIZE_1_0 ==
                   offsetof(theta_backend_api, rng) + sizeof(void*),
               "the 1.0 table ends after rng");
_Static_assert(THETA_BACKEND_API_SIZE_1_0 < sizeof(theta_backend_api),
               "ABI 1.1 appended to the table");
_Static_assert(THETA_GEMM_ARGS_SIZE_1_0 <= sizeof(theta_gemm_args),
               "frozen sizes cover only 1.0 fields");
_Static_assert(THETA_STATUS_INVALID_ARGUMENT == 3, "absl::kInvalidArgument");
_Static_assert(THETA_STATUS_UNAVAILABLE == 14, "absl::kUnavailable");

int main(void) {
  theta_gemm_args g = {0};
  g.struct_size = THETA_GEMM_ARGS_SIZE_1_0;
  if (!THETA_API_HAS(&g, theta_gemm_args, batch)) return 1;
  theta_backend_api api = {0};
  api.struct_size = THETA_BACKEND_API_SIZE_1_0;
  if (THETA_API_HAS(&api, theta_backend_api, supports)) return 1;
  if (!THETA_API_HAS(&api, theta_backend_api, rng)) return 1;
  printf("ABI %d.%d; table %zu bytes (1.0: %zu)\n", THETA_BACKEND_ABI_MAJOR,
         THETA_BACKEND_ABI_MINOR, sizeof(theta_backend_api),
         (size_t)THETA_BACKEND_API_SIZE_1_0);
  printf("1.0 sizes: gemm %zu, ew_program %zu, elementwise %zu, reduce %zu, "
         "softmax %zu, gather %zu, copy %zu, rng %zu, device_info %zu\n",
         (size_t)THETA_GEMM_ARGS_SIZE_1_0, (size_t)THETA_EW_PROGRAM_SIZE_1_0,
         (size_t)THETA_ELEMENTWISE_ARGS_SIZE_1_0,
         (size_t)THETA_REDUCE_ARGS_SIZE_1_0,
         (size_t)THETA_SOFTMAX_ARGS_SIZE_1_0,
         (size_t)THETA_GATHER_ARGS_SIZE_1_0, (size_t)THETA_COPY_ARGS_SIZE_1_0,
         (size_t)THETA_RNG_ARGS_SIZE_1_0, (size_t)THETA_DEVICE_INFO_SIZE_1_0);
  return 0;
}
