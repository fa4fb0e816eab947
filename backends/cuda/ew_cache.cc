#include "backends/cuda/ew_cache.h"

#include <cuda_runtime_api.h>

#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/nvrtc_compiler.h"
#include "backends/cuda/status.h"

namespace theta::cuda {

EwKernelCache::~EwKernelCache() {
  if (!driver_->loaded()) return;
  for (auto& [key, entry] : entries_) {
    if (cudaSetDevice(entry.ordinal) == cudaSuccess) {
      driver_->ModuleUnload(entry.module);
    }
  }
  (void)cudaGetLastError();
}

theta_status* EwKernelCache::Get(int ordinal, const std::string& arch,
                                 const EwKernelSpec& spec, std::string* key,
                                 CUfunction* out) {
  spec.WriteKey(key);
  key->append(reinterpret_cast<const char*>(&ordinal), sizeof(ordinal));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(*key);
    if (it != entries_.end()) {
      *out = it->second.function;
      return nullptr;
    }
  }
  if (arch.empty()) {
    return Unimplemented(
        "NVRTC cannot compile for this device's compute capability");
  }
  const std::string name = EwKernelName(spec);
  const std::string source = GenerateEwSource(spec, name);
  std::string image, log;
  if (theta_status* s = CompileCuda(source, name + ".cu", arch, &image, &log)) {
    return s;
  }
  CUmodule module = nullptr;
  if (CUresult r = driver_->ModuleLoadData(&module, image.data());
      r != CUDA_SUCCESS) {
    return DriverError(*driver_, nullptr, "cuModuleLoadData", r);
  }
  CUfunction function = nullptr;
  if (CUresult r = driver_->ModuleGetFunction(&function, module, name.c_str());
      r != CUDA_SUCCESS) {
    driver_->ModuleUnload(module);
    return DriverError(*driver_, nullptr, "cuModuleGetFunction", r);
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] =
      entries_.emplace(*key, Entry{ordinal, module, function});
  if (!inserted) driver_->ModuleUnload(module);  // another thread won
  *out = it->second.function;
  return nullptr;
}

uint64_t EwKernelCache::compiled(int ordinal) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& [key, entry] : entries_) n += entry.ordinal == ordinal;
  return n;
}

}  // namespace theta::cuda
