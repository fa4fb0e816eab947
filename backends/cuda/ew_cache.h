// The in-memory cache of compiled elementwise kernels: one CUDA module per
// (device, kernel spec), compiled by NVRTC from GenerateEwSource on first
// use and loaded with the driver API. Lookups hash the spec's key (the
// program, compute dtype, operand dtypes, rank and index width); equal keys
// share the kernel.
//
//   CUfunction f;
//   std::string key;  // reused from call to call
//   if (theta_status* s = cache.Get(ordinal, "sm_90", spec, &key, &f)) ...
//
// Thread-safe; a compile runs outside the lock (two threads missing the
// same key at once both compile, and one result is kept).
#ifndef THETA_BACKENDS_CUDA_EW_CACHE_H_
#define THETA_BACKENDS_CUDA_EW_CACHE_H_

#include <cuda.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "backends/api/theta_backend.h"
#include "backends/cuda/driver_api.h"
#include "backends/cuda/ew_codegen.h"

namespace theta::cuda {

class EwKernelCache {
 public:
  explicit EwKernelCache(DriverApi* driver) : driver_(driver) {}
  EwKernelCache(const EwKernelCache&) = delete;
  EwKernelCache& operator=(const EwKernelCache&) = delete;
  // Unloads every module (making its device current first).
  ~EwKernelCache();

  // The kernel for `spec` on device `ordinal`, which must be the calling
  // thread's current device; compiled for `arch` (TargetArch) on a miss.
  // `key` is the caller's storage for the lookup key: a hit allocates
  // nothing once it has held a key this long.
  theta_status* Get(int ordinal, const std::string& arch,
                    const EwKernelSpec& spec, std::string* key,
                    CUfunction* out);

  // Kernels compiled and loaded for device `ordinal` so far.
  uint64_t compiled(int ordinal) const;

 private:
  struct Entry {
    int ordinal;
    CUmodule module;
    CUfunction function;
  };

  DriverApi* const driver_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_EW_CACHE_H_
