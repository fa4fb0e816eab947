// CUDA runtime, cuBLAS, NVRTC and driver errors as statuses: codes by kind,
// messages naming the call and the library's name for the error. None of
// these needs a device.
#include "backends/cuda/cuda_errors.h"

#include <gtest/gtest.h>

#include <string>

#include "backends/cuda/driver_api.h"
#include "backends/cuda/status.h"

namespace theta::cuda {
namespace {

// The message of `s`, which is freed.
std::string Take(theta_status* s, theta_status_code* code = nullptr) {
  EXPECT_NE(s, nullptr);
  if (s == nullptr) return "";
  if (code != nullptr) *code = s->code;
  std::string m = s->message;
  FreeStatus(s);
  return m;
}

TEST(CudaErrorsTest, NoDeviceReasonSaysTheCauseFirst) {
  EXPECT_EQ(NoDeviceReason(cudaErrorInsufficientDriver,
                           "cannot load the CUDA driver library libcuda.so.1"),
            "no NVIDIA driver / no GPU found (cannot load the CUDA driver "
            "library libcuda.so.1); the CUDA runtime says: CUDA driver "
            "version is insufficient for CUDA runtime version "
            "(cudaGetDeviceCount: cudaErrorInsufficientDriver)");
  EXPECT_EQ(
      NoDeviceReason(cudaErrorNoDevice, "")
          .rfind("no NVIDIA driver / no GPU found; the CUDA runtime says: ", 0),
      0u);
  // A driver that loads but is too old is not "no driver".
  EXPECT_EQ(NoDeviceReason(cudaErrorInsufficientDriver, "")
                .rfind("the NVIDIA driver is older than the CUDA runtime", 0),
            0u);
}

TEST(CudaErrorsTest, RuntimeErrorsNameTheCallAndTheError) {
  theta_status_code code;
  EXPECT_EQ(
      Take(CudaError("buffer_alloc", "cudaMalloc", cudaErrorMemoryAllocation),
           &code),
      "buffer_alloc: cudaMalloc failed: cudaErrorMemoryAllocation (out "
      "of memory)");
  EXPECT_EQ(code, THETA_STATUS_OUT_OF_MEMORY);
  EXPECT_EQ(Take(CudaError(nullptr, "cudaGetDeviceCount",
                           cudaErrorInsufficientDriver),
                 &code)
                .rfind("cudaGetDeviceCount failed: "
                       "cudaErrorInsufficientDriver (CUDA driver version is "
                       "insufficient",
                       0),
            0u);
  EXPECT_EQ(code, THETA_STATUS_UNAVAILABLE);
  Take(CudaError("f", "g", cudaErrorIllegalAddress), &code);
  EXPECT_EQ(code, THETA_STATUS_INTERNAL);
  Take(CudaError("f", "g", cudaErrorNoKernelImageForDevice), &code);
  EXPECT_EQ(code, THETA_STATUS_UNIMPLEMENTED);
}

TEST(CudaErrorsTest, CublasErrorsUseTheStatusName) {
  theta_status_code code;
  const std::string m = Take(CublasError("gemm", "cublasSgemmStridedBatched",
                                         CUBLAS_STATUS_INVALID_VALUE),
                             &code);
  EXPECT_EQ(m.rfind("gemm: cublasSgemmStridedBatched failed: "
                    "CUBLAS_STATUS_INVALID_VALUE",
                    0),
            0u)
      << m;
  EXPECT_EQ(code, THETA_STATUS_INVALID_ARGUMENT);
  Take(CublasError("gemm", "cublasCreate", CUBLAS_STATUS_ALLOC_FAILED), &code);
  EXPECT_EQ(code, THETA_STATUS_OUT_OF_MEMORY);
  Take(CublasError("gemm", "x", CUBLAS_STATUS_NOT_INITIALIZED), &code);
  EXPECT_EQ(code, THETA_STATUS_UNAVAILABLE);
  Take(CublasError("gemm", "x", CUBLAS_STATUS_NOT_SUPPORTED), &code);
  EXPECT_EQ(code, THETA_STATUS_UNIMPLEMENTED);
  Take(CublasError("gemm", "x", CUBLAS_STATUS_EXECUTION_FAILED), &code);
  EXPECT_EQ(code, THETA_STATUS_INTERNAL);
}

TEST(CudaErrorsTest, NvrtcErrorsCarryTheLog) {
  theta_status_code code;
  const std::string m =
      Take(NvrtcError("elementwise", "nvrtcCompileProgram",
                      NVRTC_ERROR_COMPILATION, "k.cu(3): error: bad"),
           &code);
  EXPECT_EQ(m,
            "elementwise: nvrtcCompileProgram failed: "
            "NVRTC_ERROR_COMPILATION\ncompiler log:\nk.cu(3): error: bad");
  EXPECT_EQ(code, THETA_STATUS_INTERNAL);
  Take(NvrtcError(nullptr, "nvrtcCreateProgram", NVRTC_ERROR_OUT_OF_MEMORY),
       &code);
  EXPECT_EQ(code, THETA_STATUS_OUT_OF_MEMORY);
}

TEST(CudaErrorsTest, DriverErrorsWithoutADriverStillHaveAText) {
  DriverApi unloaded;
  theta_status_code code;
  const std::string m =
      Take(DriverError(unloaded, "elementwise", "cuLaunchKernel",
                       CUDA_ERROR_OUT_OF_MEMORY),
           &code);
  EXPECT_EQ(m, "elementwise: cuLaunchKernel failed: CUresult 2");
  EXPECT_EQ(code, THETA_STATUS_OUT_OF_MEMORY);
  EXPECT_EQ(CodeOf(CUDA_ERROR_NO_BINARY_FOR_GPU), THETA_STATUS_UNIMPLEMENTED);
  EXPECT_EQ(CodeOf(CUDA_ERROR_NO_DEVICE), THETA_STATUS_UNAVAILABLE);
  EXPECT_EQ(CodeOf(CUDA_ERROR_LAUNCH_FAILED), THETA_STATUS_INTERNAL);
}

cudaError_t Fails() { return cudaErrorInvalidValue; }
cudaError_t Works() { return cudaSuccess; }

theta_status* UsesTheMacro(bool fail) {
  THETA_CUDA_RETURN_IF_ERROR("copy", Works());
  if (fail) THETA_CUDA_RETURN_IF_ERROR("copy", Fails());
  return nullptr;
}

TEST(CudaErrorsTest, TheMacroNamesTheFunctionCalled) {
  EXPECT_EQ(UsesTheMacro(false), nullptr);
  EXPECT_EQ(Take(UsesTheMacro(true)),
            "copy: Fails failed: cudaErrorInvalidValue (invalid argument)");
  EXPECT_EQ(CallName("cudaMemsetAsync(p, 0, n, s)"), "cudaMemsetAsync");
  EXPECT_EQ(CallName("f"), "f");
}

TEST(DriverApiTest, AMissingLibraryIsUnavailable) {
  DriverApi driver;
  theta_status_code code;
  const std::string m =
      Take(driver.Load("libtheta_no_such_driver.so.1"), &code);
  EXPECT_EQ(code, THETA_STATUS_UNAVAILABLE);
  EXPECT_NE(m.find("cannot load the CUDA driver library "
                   "libtheta_no_such_driver.so.1"),
            std::string::npos)
      << m;
  EXPECT_FALSE(driver.loaded());
}

TEST(DriverApiTest, TheRealDriverLoadsOrSaysWhyNot) {
  DriverApi driver;
  theta_status* s = driver.Load();
  if (s == nullptr) {
    EXPECT_TRUE(driver.loaded());
    EXPECT_EQ(driver.ErrorText(CUDA_ERROR_OUT_OF_MEMORY)
                  .rfind("CUDA_ERROR_OUT_OF_MEMORY", 0),
              0u);
    return;
  }
  EXPECT_EQ(s->code, THETA_STATUS_UNAVAILABLE);
  std::printf("no driver here: %s\n", s->message.c_str());
  FreeStatus(s);
}

}  // namespace
}  // namespace theta::cuda
