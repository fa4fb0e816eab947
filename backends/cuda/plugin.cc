// The CUDA backend's entry point and table: plugin instances, device
// enumeration and selection, streams, buffers from the caching allocator,
// and byte copies. Kernels live in their own files (kernels.h); every table
// entry is noexcept and turns exceptions into statuses (the plugin kit,
// backends/plugin_kit/).
//
// A machine without a driver or a device loads the plugin fine (the driver
// API is dlopen'd, the runtime reports the problem) and plugin_create
// returns UNAVAILABLE "no CUDA device: <the runtime's reason>".
//
// Extensions (get_extension): cuda_extensions.h.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "backends/api/theta_backend.h"
#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/cuda_extensions.h"
#include "backends/cuda/handles.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/nvrtc_compiler.h"
#include "backends/cuda/status.h"
#include "backends/cuda/validate.h"
#include "backends/plugin_kit/capabilities.h"
#include "backends/plugin_kit/entry.h"

namespace theta::cuda {
namespace {

constexpr const char kVersion[] = "0.1.0";

// ---- plugin ----

theta_status* NoDevice(const std::string& why) {
  return MakeStatus(THETA_STATUS_UNAVAILABLE, "no CUDA device: " + why);
}

theta_status* PluginCreate(theta_plugin** out) noexcept {
  return Guard("plugin_create", [&]() -> theta_status* {
    if (out == nullptr) return InvalidArgument("plugin_create: out is NULL");
    *out = nullptr;
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      // Whether the driver is there at all decides what to say first.
      std::string driver_problem;
      DriverApi probe;
      if (theta_status* s = probe.Load()) {
        driver_problem = s->message;
        FreeStatus(s);
      }
      return NoDevice(NoDeviceReason(e, driver_problem));
    }
    if (count <= 0) return NoDevice("cudaGetDeviceCount found no device");
    auto plugin = std::make_unique<theta_plugin>();
    if (theta_status* s = plugin->driver.Load()) {
      theta_status* no_device = NoDevice(s->message);
      FreeStatus(s);
      return no_device;
    }
    plugin->device_count = count;
    plugin->nvrtc_archs = NvrtcSupportedArchs();
    *out = plugin.release();
    return nullptr;
  });
}

void PluginDestroy(theta_plugin* plugin) noexcept { delete plugin; }

theta_status* ReleaseCachedMemory(theta_plugin* plugin) noexcept {
  return Guard("cuda.release_cached_memory", [&]() -> theta_status* {
    if (plugin == nullptr) {
      return InvalidArgument("cuda.release_cached_memory: plugin is NULL");
    }
    std::lock_guard<std::mutex> lock(plugin->mu);
    for (theta_device* device : plugin->devices) {
      device->allocator.ReleaseCached();
    }
    return nullptr;
  });
}

theta_status* DeviceStats(theta_device* device,
                          theta_cuda_device_stats* out) noexcept {
  return Guard("cuda.device_stats", [&]() -> theta_status* {
    if (device == nullptr || out == nullptr) {
      return InvalidArgument("cuda.device_stats: ",
                             device == nullptr ? "device" : "out", " is NULL");
    }
    const CachingAllocator::Stats a = device->allocator.stats();
    theta_cuda_device_stats s;
    s.struct_size = sizeof(s);
    s.bytes_in_use = a.bytes_in_use;
    s.bytes_cached = a.bytes_cached;
    s.cuda_mallocs = a.source_allocations;
    s.cuda_frees = a.source_releases;
    s.cache_hits = a.cache_hits;
    s.elementwise_kernels = device->plugin->kernels.compiled(device->index);
    s.compute_capability = device->cc_major * 10 + device->cc_minor;
    s.multiprocessors = device->sm_count;
    // Copy the fields the caller's struct has, keeping its struct_size.
    const size_t n = std::min(out->struct_size, sizeof(s));
    if (n > sizeof(size_t)) {
      std::memcpy(reinterpret_cast<char*>(out) + sizeof(size_t),
                  reinterpret_cast<const char*>(&s) + sizeof(size_t),
                  n - sizeof(size_t));
    }
    return nullptr;
  });
}

void* GetExtension(theta_plugin* plugin, const char* name) noexcept {
  if (plugin == nullptr || name == nullptr) return nullptr;
  if (std::strcmp(name, THETA_CUDA_EXT_RELEASE_CACHED_MEMORY) == 0) {
    theta_cuda_release_cached_memory_fn fn = &ReleaseCachedMemory;
    return reinterpret_cast<void*>(fn);
  }
  if (std::strcmp(name, THETA_CUDA_EXT_DEVICE_STATS) == 0) {
    theta_cuda_device_stats_fn fn = &DeviceStats;
    return reinterpret_cast<void*>(fn);
  }
  return nullptr;
}

// ---- devices ----

theta_status* DeviceCount(theta_plugin* plugin, int32_t* count) noexcept {
  return Guard("device_count", [&]() -> theta_status* {
    if (plugin == nullptr) {
      return InvalidArgument("device_count: plugin is NULL");
    }
    if (count == nullptr) return InvalidArgument("device_count: count is NULL");
    *count = plugin->device_count;
    return nullptr;
  });
}

theta_status* CheckDeviceIndex(const char* function, theta_plugin* plugin,
                               int32_t index) {
  if (plugin == nullptr) return InvalidArgument(function, ": plugin is NULL");
  if (index < 0 || index >= plugin->device_count) {
    return InvalidArgument(function, ": device index ", index,
                           " out of range [0, ", plugin->device_count, ")");
  }
  return nullptr;
}

theta_status* DeviceGetInfo(theta_plugin* plugin, int32_t index,
                            theta_device_info* info) noexcept {
  const char* fn = "device_get_info";
  return Guard(fn, [&]() -> theta_status* {
    if (theta_status* s = CheckDeviceIndex(fn, plugin, index)) return s;
    if (info == nullptr) return InvalidArgument(fn, ": info is NULL");
    cudaDeviceProp prop;
    THETA_CUDA_RETURN_IF_ERROR(fn, cudaGetDeviceProperties(&prop, index));
    DeviceScope scope(index);
    if (scope.error() != cudaSuccess) {
      return CudaError(fn, "cudaSetDevice", scope.error());
    }
    size_t free_bytes = 0, total_bytes = 0;
    THETA_CUDA_RETURN_IF_ERROR(fn, cudaMemGetInfo(&free_bytes, &total_bytes));
    // Fill only the fields the caller's struct has (struct_size).
    if (THETA_API_HAS(info, theta_device_info, name)) {
      const size_t n = strnlen(prop.name, sizeof(prop.name));
      const size_t m = std::min(n, sizeof(info->name) - 1);
      std::memcpy(info->name, prop.name, m);
      info->name[m] = '\0';
    }
    if (THETA_API_HAS(info, theta_device_info, total_memory_bytes)) {
      info->total_memory_bytes = total_bytes;
    }
    if (THETA_API_HAS(info, theta_device_info, free_memory_bytes)) {
      info->free_memory_bytes = free_bytes;
    }
    // Device memory: host tensors go through copies.
    if (THETA_API_HAS(info, theta_device_info, flags)) info->flags = 0;
    return nullptr;
  });
}

CachingAllocator::Source DeviceMemory(int32_t index) {
  CachingAllocator::Source source;
  source.allocate = [index](uint64_t bytes, void** out) -> theta_status* {
    DeviceScope scope(index);
    void* ptr = nullptr;
    const cudaError_t e = cudaMalloc(&ptr, bytes);
    if (e != cudaSuccess) {
      return CudaError(nullptr,
                       StrCat("cudaMalloc of ", bytes, " bytes").c_str(), e);
    }
    *out = ptr;
    return nullptr;
  };
  source.release = [index](void* ptr, uint64_t) {
    DeviceScope scope(index);
    cudaFree(ptr);
    (void)cudaGetLastError();
  };
  return source;
}

theta_status* DeviceOpen(theta_plugin* plugin, int32_t index,
                         theta_device** out) noexcept {
  const char* fn = "device_open";
  return Guard(fn, [&]() -> theta_status* {
    if (out == nullptr) return InvalidArgument(fn, ": out is NULL");
    *out = nullptr;
    if (theta_status* s = CheckDeviceIndex(fn, plugin, index)) return s;
    DeviceScope scope(index);
    if (scope.error() != cudaSuccess) {
      return CudaError(fn, "cudaSetDevice", scope.error());
    }
    auto device =
        std::make_unique<theta_device>(plugin, index, DeviceMemory(index));
    THETA_CUDA_RETURN_IF_ERROR(
        fn, cudaDeviceGetAttribute(&device->sm_count,
                                   cudaDevAttrMultiProcessorCount, index));
    THETA_CUDA_RETURN_IF_ERROR(
        fn, cudaDeviceGetAttribute(&device->cc_major,
                                   cudaDevAttrComputeCapabilityMajor, index));
    THETA_CUDA_RETURN_IF_ERROR(
        fn, cudaDeviceGetAttribute(&device->cc_minor,
                                   cudaDevAttrComputeCapabilityMinor, index));
    device->arch =
        TargetArch(device->cc_major, device->cc_minor, plugin->nvrtc_archs);
    std::lock_guard<std::mutex> lock(plugin->mu);
    plugin->devices.insert(device.get());
    *out = device.release();
    return nullptr;
  });
}

void DeviceClose(theta_device* device) noexcept {
  if (device == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(device->plugin->mu);
    device->plugin->devices.erase(device);
  }
  delete device;
}

// ---- streams ----

theta_status* StreamCreate(theta_device* device, theta_stream** out) noexcept {
  const char* fn = "stream_create";
  return Guard(fn, [&]() -> theta_status* {
    if (out == nullptr) return InvalidArgument(fn, ": out is NULL");
    *out = nullptr;
    if (device == nullptr) return InvalidArgument(fn, ": device is NULL");
    DeviceScope scope(device->index);
    auto stream = std::make_unique<theta_stream>(device);
    THETA_CUDA_RETURN_IF_ERROR(
        fn, cudaStreamCreateWithFlags(&stream->stream, cudaStreamNonBlocking));
    *out = stream.release();
    return nullptr;
  });
}

void StreamDestroy(theta_stream* stream) noexcept {
  try {
    delete stream;
  } catch (...) {  // nothing can be reported from here
  }
}

theta_status* StreamSynchronize(theta_stream* stream) noexcept {
  return Guard("stream_synchronize", [&]() -> theta_status* {
    if (stream == nullptr) {
      return InvalidArgument("stream_synchronize: stream is NULL");
    }
    DeviceScope scope(stream->device->index);
    return stream->Synchronize();
  });
}

// ---- buffers ----

theta_status* BufferAlloc(theta_device* device, uint64_t bytes,
                          theta_buffer** out) noexcept {
  const char* fn = "buffer_alloc";
  return Guard(fn, [&]() -> theta_status* {
    if (out == nullptr) return InvalidArgument(fn, ": out is NULL");
    *out = nullptr;
    if (device == nullptr) return InvalidArgument(fn, ": device is NULL");
    auto buffer = std::make_unique<theta_buffer>(
        theta_buffer{device, CachingAllocator::Block{}, bytes});
    if (bytes > 0) {
      if (theta_status* s = device->allocator.Allocate(bytes, &buffer->block)) {
        return Prefixed(fn, s);
      }
    }
    *out = buffer.release();
    return nullptr;
  });
}

void BufferFree(theta_buffer* buffer) noexcept {
  if (buffer == nullptr) return;
  buffer->device->allocator.Free(buffer->block);
  delete buffer;
}

void* BufferData(theta_buffer* buffer) noexcept {
  return buffer == nullptr ? nullptr : buffer->block.ptr;
}

// ---- copies ----

theta_status* CopyBytes(const char* function, theta_stream* stream, void* dst,
                        const void* src, uint64_t bytes,
                        cudaMemcpyKind kind) noexcept {
  return Guard(function, [&]() -> theta_status* {
    if (stream == nullptr) return InvalidArgument(function, ": stream is NULL");
    if (bytes > 0 && (dst == nullptr || src == nullptr)) {
      return InvalidArgument(function, ": ",
                             dst == nullptr ? "destination" : "source",
                             " is NULL for a copy of ", bytes, " bytes");
    }
    if (bytes > SIZE_MAX) {
      return InvalidArgument(function, ": ", bytes, " bytes is too large");
    }
    if (bytes == 0) return nullptr;
    DeviceScope scope(stream->device->index);
    THETA_CUDA_RETURN_IF_ERROR(
        function, cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), kind,
                                  stream->stream));
    return nullptr;
  });
}

theta_status* CopyHostToDevice(theta_stream* stream, void* dst,
                               const void* host_src, uint64_t bytes) noexcept {
  return CopyBytes("copy_host_to_device", stream, dst, host_src, bytes,
                   cudaMemcpyHostToDevice);
}

theta_status* CopyDeviceToHost(theta_stream* stream, void* host_dst,
                               const void* src, uint64_t bytes) noexcept {
  return CopyBytes("copy_device_to_host", stream, host_dst, src, bytes,
                   cudaMemcpyDeviceToHost);
}

theta_status* CopyDeviceToDevice(theta_stream* stream, void* dst,
                                 const void* src, uint64_t bytes) noexcept {
  return CopyBytes("copy_device_to_device", stream, dst, src, bytes,
                   cudaMemcpyDeviceToDevice);
}

theta_status* Memset(theta_stream* stream, void* dst, uint8_t value,
                     uint64_t bytes) noexcept {
  const char* fn = "memset";
  return Guard(fn, [&]() -> theta_status* {
    if (stream == nullptr) return InvalidArgument(fn, ": stream is NULL");
    if (bytes > 0 && dst == nullptr) {
      return InvalidArgument(fn, ": destination is NULL for ", bytes, " bytes");
    }
    if (bytes > SIZE_MAX) {
      return InvalidArgument(fn, ": ", bytes, " bytes is too large");
    }
    if (bytes == 0) return nullptr;
    DeviceScope scope(stream->device->index);
    THETA_CUDA_RETURN_IF_ERROR(
        fn, cudaMemsetAsync(dst, value, static_cast<size_t>(bytes),
                            stream->stream));
    return nullptr;
  });
}

// ---- kernels: the kit's kernel-entry guard (stream, args struct), then
// the kernel with the stream's device current ----

template <typename Args, typename Kernel>
theta_status* RunKernel(const char* function, theta_stream* stream,
                        const Args* args, Kernel&& kernel) noexcept {
  return plugin_kit::KernelEntry(
      function, stream, args, [&](const Args& full) -> theta_status* {
        DeviceScope scope(stream->device->index);
        if (scope.error() != cudaSuccess) {
          return CudaError(function, "cudaSetDevice", scope.error());
        }
        return kernel(stream, full);
      });
}

theta_status* GemmEntry(theta_stream* stream,
                        const theta_gemm_args* args) noexcept {
  return RunKernel("gemm", stream, args, Gemm);
}

theta_status* GemmPrepareEntry(theta_stream* stream,
                               const theta_gemm_prepare_args* args,
                               theta_gemm_operand** out) noexcept {
  return plugin_kit::KernelEntry("gemm_prepare", stream, args,
                                 [&](const theta_gemm_prepare_args& full) {
                                   return GemmPrepare(stream, full, out);
                                 });
}

// The operand holds no device memory: nothing enqueued refers to it.
void GemmOperandFreeEntry(theta_stream*, theta_gemm_operand* operand) noexcept {
  delete operand;
}

theta_status* ElementwiseEntry(theta_stream* stream,
                               const theta_elementwise_args* args) noexcept {
  return RunKernel("elementwise", stream, args, Elementwise);
}

theta_status* ReduceEntry(theta_stream* stream,
                          const theta_reduce_args* args) noexcept {
  return RunKernel("reduce", stream, args, Reduce);
}

theta_status* SoftmaxEntry(theta_stream* stream,
                           const theta_softmax_args* args) noexcept {
  return RunKernel("softmax", stream, args, Softmax);
}

theta_status* GatherEntry(theta_stream* stream,
                          const theta_gather_args* args) noexcept {
  return RunKernel("gather", stream, args, Gather);
}

theta_status* ScatterAddEntry(theta_stream* stream,
                              const theta_gather_args* args) noexcept {
  return RunKernel("scatter_add", stream, args, ScatterAdd);
}

theta_status* CopyEntry(theta_stream* stream,
                        const theta_copy_args* args) noexcept {
  return RunKernel("copy", stream, args, Copy);
}

theta_status* RngEntry(theta_stream* stream,
                       const theta_rng_args* args) noexcept {
  return RunKernel("rng", stream, args, Rng);
}

theta_status* FillEntry(theta_stream* stream, const theta_array* array,
                        double value) noexcept {
  return Guard("fill", [&]() -> theta_status* {
    if (stream == nullptr) return InvalidArgument("fill: stream is NULL");
    if (array == nullptr) return InvalidArgument("fill: array is NULL");
    DeviceScope scope(stream->device->index);
    if (scope.error() != cudaSuccess) {
      return CudaError("fill", "cudaSetDevice", scope.error());
    }
    return Fill(stream, *array, value);
  });
}

// clang-format off
const theta_backend_api kApi = {
    /*struct_size=*/           sizeof(theta_backend_api),
    /*abi_major=*/             THETA_BACKEND_ABI_MAJOR,
    /*abi_minor=*/             THETA_BACKEND_ABI_MINOR,
    /*name=*/                  "cuda",
    /*version=*/               kVersion,
    /*status_code=*/           plugin_kit::StatusCode,
    /*status_message=*/        plugin_kit::StatusMessage,
    /*status_free=*/           plugin_kit::StatusFree,
    /*plugin_create=*/         PluginCreate,
    /*plugin_destroy=*/        PluginDestroy,
    /*get_extension=*/         GetExtension,
    /*device_count=*/          DeviceCount,
    /*device_get_info=*/       DeviceGetInfo,
    /*device_open=*/           DeviceOpen,
    /*device_close=*/          DeviceClose,
    /*stream_create=*/         StreamCreate,
    /*stream_destroy=*/        StreamDestroy,
    /*stream_synchronize=*/    StreamSynchronize,
    /*buffer_alloc=*/          BufferAlloc,
    /*buffer_free=*/           BufferFree,
    /*buffer_data=*/           BufferData,
    /*copy_host_to_device=*/   CopyHostToDevice,
    /*copy_device_to_host=*/   CopyDeviceToHost,
    /*copy_device_to_device=*/ CopyDeviceToDevice,
    /*memset=*/                Memset,
    /*gemm=*/                  GemmEntry,
    /*elementwise=*/           ElementwiseEntry,
    /*reduce=*/                ReduceEntry,
    /*softmax=*/               SoftmaxEntry,
    /*gather=*/                GatherEntry,
    /*scatter_add=*/           ScatterAddEntry,
    /*copy=*/                  CopyEntry,
    /*fill=*/                  FillEntry,
    /*rng=*/                   RngEntry,
    /*supports=*/              plugin_kit::SupportsAdmitted,
    /*gemm_prepare=*/          GemmPrepareEntry,
    /*gemm_operand_free=*/     GemmOperandFreeEntry,
};
// clang-format on

}  // namespace
}  // namespace theta::cuda

THETA_PLUGIN_KIT_EXPORT_API(theta::cuda::kApi)
