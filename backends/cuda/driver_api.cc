#include "backends/cuda/driver_api.h"

#include <dlfcn.h>

#include "backends/cuda/status.h"

namespace theta::cuda {

DriverApi::~DriverApi() {
  if (handle_ != nullptr) dlclose(handle_);
}

theta_status* DriverApi::Load(const char* library) {
  void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return MakeStatus(THETA_STATUS_UNAVAILABLE,
                      StrCat("cannot load the CUDA driver library ", library,
                             ": ", why ? why : "unknown dlopen error"));
  }
  struct Entry {
    const char* name;
    void** slot;
  };
  const Entry entries[] = {
      {"cuInit", reinterpret_cast<void**>(&Init)},
      {"cuGetErrorName", reinterpret_cast<void**>(&GetErrorName)},
      {"cuGetErrorString", reinterpret_cast<void**>(&GetErrorString)},
      {"cuModuleLoadData", reinterpret_cast<void**>(&ModuleLoadData)},
      {"cuModuleGetFunction", reinterpret_cast<void**>(&ModuleGetFunction)},
      {"cuModuleUnload", reinterpret_cast<void**>(&ModuleUnload)},
      {"cuLaunchKernel", reinterpret_cast<void**>(&LaunchKernel)},
  };
  for (const Entry& e : entries) {
    void* fn = dlsym(handle, e.name);
    if (fn == nullptr) {
      dlclose(handle);
      for (const Entry& f : entries) *f.slot = nullptr;
      return MakeStatus(
          THETA_STATUS_UNAVAILABLE,
          StrCat("the CUDA driver library ", library, " lacks ", e.name));
    }
    *e.slot = fn;
  }
  handle_ = handle;
  const CUresult init = Init(0);
  if (init != CUDA_SUCCESS) {
    theta_status* s = MakeStatus(THETA_STATUS_UNAVAILABLE,
                                 StrCat("cuInit failed: ", ErrorText(init)));
    return s;
  }
  return nullptr;
}

std::string DriverApi::ErrorText(CUresult result) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (GetErrorName != nullptr) GetErrorName(result, &name);
  if (GetErrorString != nullptr) GetErrorString(result, &text);
  std::string out = name != nullptr ? name : StrCat("CUresult ", result);
  if (text != nullptr) out += StrCat(" (", text, ")");
  return out;
}

}  // namespace theta::cuda
