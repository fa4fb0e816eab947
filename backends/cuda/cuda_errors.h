// CUDA runtime, cuBLAS, NVRTC and driver API errors as ABI statuses. The
// message names the call that failed and the library's name and description
// of the error, e.g.
//   "cublasSgemmStridedBatched failed: CUBLAS_STATUS_INVALID_VALUE (an
//    invalid numeric value was used as an argument)"
// and the code follows the error's kind: allocation failures are
// OUT_OF_MEMORY, a missing driver or device UNAVAILABLE, unsupported
// features UNIMPLEMENTED, anything else INTERNAL.
//
//   THETA_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(p, 0, n, stream));
#ifndef THETA_BACKENDS_CUDA_CUDA_ERRORS_H_
#define THETA_BACKENDS_CUDA_CUDA_ERRORS_H_

#include <cublas_v2.h>
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <nvrtc.h>

#include <string>

#include "backends/api/theta_backend.h"
#include "backends/cuda/driver_api.h"

namespace theta::cuda {

theta_status_code CodeOf(cudaError_t error);
theta_status_code CodeOf(cublasStatus_t status);
theta_status_code CodeOf(nvrtcResult result);
theta_status_code CodeOf(CUresult result);

// Why cudaGetDeviceCount found no usable device (`error`), for
// plugin_create's UNAVAILABLE status: the likely cause in plain words first,
// then the runtime's own words. `driver_problem` is why the driver library
// (libcuda.so.1) did not load, or empty when it did. With no driver (the
// runtime then says "CUDA driver version is insufficient for CUDA runtime
// version") or no device:
//   "no NVIDIA driver / no GPU found (<driver_problem>); the CUDA runtime
//    says: <description> (cudaGetDeviceCount: <error name>)"
std::string NoDeviceReason(cudaError_t error,
                           const std::string& driver_problem);

// "cudaErrorMemoryAllocation (out of memory)".
std::string ErrorText(cudaError_t error);
// "CUBLAS_STATUS_ALLOC_FAILED (the resource allocation failed)".
std::string ErrorText(cublasStatus_t status);
// "NVRTC_ERROR_COMPILATION".
std::string ErrorText(nvrtcResult result);

// A status "<function>: <call> failed: <error text>" (no "<function>: "
// when `function` is NULL). CudaError also clears the runtime's last-error
// slot, so a failed call (a cudaMalloc that ran out of memory) is not
// reported again by a later launch check.
theta_status* CudaError(const char* function, const char* call,
                        cudaError_t error);
theta_status* CublasError(const char* function, const char* call,
                          cublasStatus_t status);
// `log` (the compiler's output) is appended when not empty.
theta_status* NvrtcError(const char* function, const char* call,
                         nvrtcResult result, const std::string& log = "");
theta_status* DriverError(const DriverApi& driver, const char* function,
                          const char* call, CUresult result);

}  // namespace theta::cuda

// Returns "<function>: <call> failed: ..." from the enclosing function when
// a CUDA runtime call fails:
//   THETA_CUDA_RETURN_IF_ERROR("memset", cudaMemsetAsync(p, 0, n, s));
#define THETA_CUDA_RETURN_IF_ERROR(function, call)                            \
  do {                                                                        \
    const cudaError_t theta_cuda_error_ = (call);                             \
    if (theta_cuda_error_ != cudaSuccess) {                                   \
      return ::theta::cuda::CudaError(function,                               \
                                      ::theta::cuda::CallName(#call).c_str(), \
                                      theta_cuda_error_);                     \
    }                                                                         \
  } while (0)

#define THETA_CUBLAS_RETURN_IF_ERROR(function, call)        \
  do {                                                      \
    const cublasStatus_t theta_cublas_status_ = (call);     \
    if (theta_cublas_status_ != CUBLAS_STATUS_SUCCESS) {    \
      return ::theta::cuda::CublasError(                    \
          function, ::theta::cuda::CallName(#call).c_str(), \
          theta_cublas_status_);                            \
    }                                                       \
  } while (0)

namespace theta::cuda {

// The function name of a call expression's text: "cudaFree(p)" -> "cudaFree".
std::string CallName(const char* expression);

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_CUDA_ERRORS_H_
