#include "backends/cuda/cuda_errors.h"

#include <cctype>
#include <cstring>

#include "backends/cuda/status.h"

namespace theta::cuda {

std::string NoDeviceReason(cudaError_t error,
                           const std::string& driver_problem) {
  std::string cause;
  if (!driver_problem.empty()) {
    cause = "no NVIDIA driver / no GPU found (" + driver_problem + "); ";
  } else if (error == cudaErrorNoDevice) {
    cause = "no NVIDIA driver / no GPU found; ";
  } else if (error == cudaErrorInsufficientDriver) {
    cause =
        "the NVIDIA driver is older than the CUDA runtime this plugin was "
        "built with (update the driver); ";
  }
  return cause + "the CUDA runtime says: " + cudaGetErrorString(error) +
         " (cudaGetDeviceCount: " + cudaGetErrorName(error) + ")";
}

theta_status_code CodeOf(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return THETA_STATUS_OK;
    case cudaErrorMemoryAllocation:
      return THETA_STATUS_OUT_OF_MEMORY;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorDevicesUnavailable:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorStubLibrary:
    case cudaErrorInitializationError:
    case cudaErrorDeviceUninitialized:
      return THETA_STATUS_UNAVAILABLE;
    case cudaErrorInvalidDevice:
      return THETA_STATUS_INVALID_ARGUMENT;
    case cudaErrorNotSupported:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      return THETA_STATUS_UNIMPLEMENTED;
    default:
      return THETA_STATUS_INTERNAL;
  }
}

theta_status_code CodeOf(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return THETA_STATUS_OK;
    case CUBLAS_STATUS_ALLOC_FAILED:
      return THETA_STATUS_OUT_OF_MEMORY;
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return THETA_STATUS_UNAVAILABLE;
    case CUBLAS_STATUS_INVALID_VALUE:
      return THETA_STATUS_INVALID_ARGUMENT;
    case CUBLAS_STATUS_ARCH_MISMATCH:
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return THETA_STATUS_UNIMPLEMENTED;
    default:
      return THETA_STATUS_INTERNAL;
  }
}

theta_status_code CodeOf(nvrtcResult result) {
  switch (result) {
    case NVRTC_SUCCESS:
      return THETA_STATUS_OK;
    case NVRTC_ERROR_OUT_OF_MEMORY:
      return THETA_STATUS_OUT_OF_MEMORY;
    default:
      return THETA_STATUS_INTERNAL;
  }
}

theta_status_code CodeOf(CUresult result) {
  switch (result) {
    case CUDA_SUCCESS:
      return THETA_STATUS_OK;
    case CUDA_ERROR_OUT_OF_MEMORY:
      return THETA_STATUS_OUT_OF_MEMORY;
    case CUDA_ERROR_NO_DEVICE:
    case CUDA_ERROR_NOT_INITIALIZED:
    case CUDA_ERROR_DEINITIALIZED:
    case CUDA_ERROR_STUB_LIBRARY:
    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
      return THETA_STATUS_UNAVAILABLE;
    case CUDA_ERROR_NO_BINARY_FOR_GPU:
    case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    case CUDA_ERROR_NOT_SUPPORTED:
      return THETA_STATUS_UNIMPLEMENTED;
    default:
      return THETA_STATUS_INTERNAL;
  }
}

std::string ErrorText(cudaError_t error) {
  const char* name = cudaGetErrorName(error);
  const char* text = cudaGetErrorString(error);
  return StrCat(name ? name : "cudaError", " (", text ? text : "?", ")");
}

std::string ErrorText(cublasStatus_t status) {
  const char* name = cublasGetStatusName(status);
  const char* text = cublasGetStatusString(status);
  return StrCat(name ? name : "cublasStatus", " (", text ? text : "?", ")");
}

std::string ErrorText(nvrtcResult result) {
  const char* text = nvrtcGetErrorString(result);
  return text ? text : StrCat("nvrtcResult ", static_cast<int>(result));
}

namespace {

std::string Message(const char* function, const char* call,
                    const std::string& text) {
  if (function == nullptr) return StrCat(call, " failed: ", text);
  return StrCat(function, ": ", call, " failed: ", text);
}

}  // namespace

theta_status* CudaError(const char* function, const char* call,
                        cudaError_t error) {
  // Reset the non-sticky last error this call left behind.
  (void)cudaGetLastError();
  return MakeStatus(CodeOf(error), Message(function, call, ErrorText(error)));
}

theta_status* CublasError(const char* function, const char* call,
                          cublasStatus_t status) {
  return MakeStatus(CodeOf(status), Message(function, call, ErrorText(status)));
}

theta_status* NvrtcError(const char* function, const char* call,
                         nvrtcResult result, const std::string& log) {
  std::string message = Message(function, call, ErrorText(result));
  if (!log.empty()) message += "\ncompiler log:\n" + log;
  return MakeStatus(CodeOf(result), std::move(message));
}

theta_status* DriverError(const DriverApi& driver, const char* function,
                          const char* call, CUresult result) {
  return MakeStatus(CodeOf(result),
                    Message(function, call, driver.ErrorText(result)));
}

std::string CallName(const char* expression) {
  size_t n = 0;
  while (expression[n] != '\0' && expression[n] != '(' &&
         !std::isspace(static_cast<unsigned char>(expression[n]))) {
    ++n;
  }
  return std::string(expression, n);
}

}  // namespace theta::cuda
