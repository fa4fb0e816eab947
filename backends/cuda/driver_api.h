// The few CUDA driver API functions the plugin needs (loading NVRTC output
// and launching it), resolved at run time from libcuda.so.1 with dlopen. The
// plugin links only the runtime, cuBLAS and NVRTC, so it loads on machines
// without a driver and reports that from plugin_create instead.
//
//   DriverApi driver;
//   if (theta_status* s = driver.Load()) return s;  // UNAVAILABLE, says why
//   CUresult r = driver.ModuleLoadData(&module, image);
#ifndef THETA_BACKENDS_CUDA_DRIVER_API_H_
#define THETA_BACKENDS_CUDA_DRIVER_API_H_

#include <cuda.h>

#include <string>

#include "backends/api/theta_backend.h"

namespace theta::cuda {

class DriverApi {
 public:
  DriverApi() = default;
  DriverApi(const DriverApi&) = delete;
  DriverApi& operator=(const DriverApi&) = delete;
  ~DriverApi();

  // Opens `library` (normally "libcuda.so.1") and resolves every function.
  // Returns NULL, or UNAVAILABLE naming the library or symbol that failed.
  // Call once, before any other member.
  theta_status* Load(const char* library = "libcuda.so.1");
  bool loaded() const { return handle_ != nullptr; }

  // "CUDA_ERROR_OUT_OF_MEMORY (out of memory)"; the number when the driver
  // does not know the code.
  std::string ErrorText(CUresult result) const;

  using InitFn = CUresult (*)(unsigned int flags);
  using GetErrorNameFn = CUresult (*)(CUresult error, const char** str);
  using GetErrorStringFn = CUresult (*)(CUresult error, const char** str);
  using ModuleLoadDataFn = CUresult (*)(CUmodule* module, const void* image);
  using ModuleGetFunctionFn = CUresult (*)(CUfunction* function,
                                           CUmodule module, const char* name);
  using ModuleUnloadFn = CUresult (*)(CUmodule module);
  using LaunchKernelFn = CUresult (*)(
      CUfunction f, unsigned int grid_x, unsigned int grid_y,
      unsigned int grid_z, unsigned int block_x, unsigned int block_y,
      unsigned int block_z, unsigned int shared_bytes, CUstream stream,
      void** params, void** extra);

  InitFn Init = nullptr;
  GetErrorNameFn GetErrorName = nullptr;
  GetErrorStringFn GetErrorString = nullptr;
  ModuleLoadDataFn ModuleLoadData = nullptr;
  ModuleGetFunctionFn ModuleGetFunction = nullptr;
  ModuleUnloadFn ModuleUnload = nullptr;
  LaunchKernelFn LaunchKernel = nullptr;

 private:
  void* handle_ = nullptr;
};

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_DRIVER_API_H_
