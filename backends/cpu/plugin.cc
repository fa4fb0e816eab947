// The CPU backend's entry point and table: plugin instances, the one "cpu"
// device, synchronous streams, 64-byte aligned buffers and copies. Kernels
// live in their own files (kernels.h); every table entry is noexcept and
// turns exceptions into statuses (the plugin kit, backends/plugin_kit/).
//
// GEMM runs on OpenBLAS or oneDNN (gemm.cc, gemm_provider.h). Prepared
// operands (ABI 1.2): gemm_prepare packs a float32 B of at least 4096
// elements into the panels of the plugin's own AVX2 + FMA kernel
// (packed_gemm.h) and declines (*out = NULL) float64 and smaller operands;
// a GEMM given one runs on that kernel when A is not transposed and m <=
// 256, else on the library with the plain B. THETA_CPU_GEMM=openblas or
// onednn turns the packed kernel off (the library runs every product);
// THETA_CPU_GEMM=packed runs every prepared product on it.
// gemm_operand_free frees at once: streams finish their work before each
// call returns.
//
// Extensions (get_extension):
//   "cpu.num_threads": a pointer to a function
//       int32_t (*)(theta_plugin* plugin)
//     returning the number of threads the plugin's kernels use (the calling
//     thread included; THETA_NUM_THREADS or the process's CPU affinity; a
//     THETA_NUM_THREADS that is not a whole number in [1, 1024] makes
//     plugin_create fail with a message naming it). The
//     function is static: the pointer stays valid while the library is
//     loaded.
//   "cpu.deterministic": a pointer to a function
//       int32_t (*)(theta_plugin* plugin)
//     returning 1 when the plugin was created under THETA_DETERMINISTIC=1
//     (results bitwise the same for any THETA_NUM_THREADS; see
//     thread_pool.h for what it costs), else 0. Any value of
//     THETA_DETERMINISTIC other than 1, 0 or empty makes plugin_create fail
//     with a message naming it. Static, as above.
//   "cpu.blas_core": a pointer to a function
//       const char* (*)(theta_plugin* plugin)
//     returning the name of the OpenBLAS kernel family GEMM runs on
//     (openblas_get_corename(): "Haswell", "SkylakeX", ...; it follows
//     OPENBLAS_CORETYPE). The string is static.
//   "cpu.gemm_provider": a pointer to a function
//       const char* (*)(theta_plugin* plugin)
//     returning the GEMM provider selection: "automatic", "openblas",
//     "onednn" or "packed" (THETA_CPU_GEMM, gemm_provider.h). Static
//     string.
//   "cpu.set_gemm_provider": a pointer to a function
//       int32_t (*)(theta_plugin* plugin, const char* name)
//     setting that selection ("openblas", "onednn", "packed", or "" for
//     automatic);
//     returns 0, or -1 for another name or for "onednn" where oneDNN is
//     not available (nothing changes then). For benchmarks
//     and tests that compare the providers in one process; calls already
//     running finish on the provider they started with.
//   "cpu.onednn_isa": a pointer to a function
//       const char* (*)(theta_plugin* plugin)
//     returning oneDNN's version and the instruction set its kernels run on
//     here, as "2.6.3 avx2" ("unavailable unavailable" without oneDNN).
//     Static string.
#include <cblas.h>
#include <sys/sysinfo.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <type_traits>

#include "backends/api/theta_backend.h"
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/gemm_provider.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/onednn_gemm.h"
#include "backends/plugin_kit/capabilities.h"
#include "backends/plugin_kit/entry.h"
#include "backends/plugin_kit/status.h"

namespace theta::cpu {
namespace {

constexpr const char kVersion[] = "0.1.0";
constexpr uint64_t kAlignment = 64;

// "cpu (<model name>)" from /proc/cpuinfo, or "cpu".
std::string DeviceName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    size_t begin = line.find_first_not_of(" \t", colon + 1);
    if (begin == std::string::npos) break;
    return "cpu (" + line.substr(begin) + ")";
  }
  return "cpu";
}

// MemAvailable from /proc/meminfo in bytes, or 0 when absent.
uint64_t MemAvailable() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

// ---- plugin ----

theta_status* PluginCreate(theta_plugin** out) noexcept {
  return plugin_kit::Guard("plugin_create", [&]() -> theta_status* {
    if (out == nullptr) return InvalidArgument("plugin_create: out is NULL");
    *out = nullptr;
    if (const char* missing = MissingCpuFeatures()) {
      return MakeStatus(THETA_STATUS_UNAVAILABLE,
                        StrCat("plugin_create: this processor lacks ", missing,
                               ", which the CPU plugin was built for "
                               "(x86-64-v3)"));
    }
    // Kernels parallelise GEMM over the plugin's own pool; OpenBLAS threads
    // on top would oversubscribe the cores.
    openblas_set_num_threads(1);
    std::string error;
    const int threads = ThreadCountFromEnvironment(&error);
    if (threads < 1) {
      return InvalidArgument("plugin_create: ", error);
    }
    const int deterministic = DeterministicFromEnvironment(&error);
    if (deterministic < 0) {
      return InvalidArgument("plugin_create: ", error);
    }
    GemmSelection gemm;
    if (!GemmSelectionFromEnvironment(&gemm, &error)) {
      return InvalidArgument("plugin_create: ", error);
    }
    if (gemm == GemmSelection::kOneDnn && !OneDnnAvailable()) {
      return MakeStatus(
          THETA_STATUS_UNAVAILABLE,
          StrCat("plugin_create: THETA_CPU_GEMM=onednn, but ", OneDnnError()));
    }
    *out = new theta_plugin(threads, deterministic == 1, gemm);
    return nullptr;
  });
}

void PluginDestroy(theta_plugin* plugin) noexcept { delete plugin; }

int32_t NumThreads(theta_plugin* plugin) {
  return plugin == nullptr ? 0 : plugin->pool.num_threads();
}

int32_t Deterministic(theta_plugin* plugin) {
  return plugin != nullptr && plugin->pool.deterministic() ? 1 : 0;
}

const char* BlasCore(theta_plugin*) { return openblas_get_corename(); }

const char* GemmProviderSelection(theta_plugin* plugin) {
  return plugin == nullptr ? "" : GemmSelectionName(plugin->gemm_selection);
}

int32_t SetGemmProvider(theta_plugin* plugin, const char* name) {
  GemmSelection selection;
  if (plugin == nullptr || name == nullptr ||
      !ParseGemmSelection(name, &selection) ||
      (selection == GemmSelection::kOneDnn && !OneDnnAvailable())) {
    return -1;
  }
  plugin->gemm_selection = selection;
  return 0;
}

const char* OneDnnIsa(theta_plugin*) {
  static const std::string text =
      std::string(OneDnnVersion()) + " " + OneDnnIsaName();
  return text.c_str();
}

void* GetExtension(theta_plugin* plugin, const char* name) noexcept {
  if (plugin == nullptr || name == nullptr) return nullptr;
  if (std::strcmp(name, "cpu.num_threads") == 0) {
    int32_t (*fn)(theta_plugin*) = &NumThreads;
    return reinterpret_cast<void*>(fn);
  }
  if (std::strcmp(name, "cpu.deterministic") == 0) {
    int32_t (*fn)(theta_plugin*) = &Deterministic;
    return reinterpret_cast<void*>(fn);
  }
  if (std::strcmp(name, "cpu.blas_core") == 0) {
    const char* (*fn)(theta_plugin*) = &BlasCore;
    return reinterpret_cast<void*>(fn);
  }
  if (std::strcmp(name, "cpu.gemm_provider") == 0) {
    const char* (*fn)(theta_plugin*) = &GemmProviderSelection;
    return reinterpret_cast<void*>(fn);
  }
  if (std::strcmp(name, "cpu.set_gemm_provider") == 0) {
    int32_t (*fn)(theta_plugin*, const char*) = &SetGemmProvider;
    return reinterpret_cast<void*>(fn);
  }
  if (std::strcmp(name, "cpu.onednn_isa") == 0) {
    const char* (*fn)(theta_plugin*) = &OneDnnIsa;
    return reinterpret_cast<void*>(fn);
  }
  return nullptr;
}

// ---- devices ----

theta_status* DeviceCount(theta_plugin* plugin, int32_t* count) noexcept {
  return plugin_kit::Guard("device_count", [&]() -> theta_status* {
    if (plugin == nullptr) {
      return InvalidArgument("device_count: plugin is NULL");
    }
    if (count == nullptr) return InvalidArgument("device_count: count is NULL");
    *count = 1;
    return nullptr;
  });
}

theta_status* CheckDeviceIndex(const char* function, theta_plugin* plugin,
                               int32_t index) {
  if (plugin == nullptr) return InvalidArgument(function, ": plugin is NULL");
  if (index != 0) {
    return InvalidArgument(function, ": device index ", index,
                           " out of range [0, 1)");
  }
  return nullptr;
}

theta_status* DeviceGetInfo(theta_plugin* plugin, int32_t index,
                            theta_device_info* info) noexcept {
  return plugin_kit::Guard("device_get_info", [&]() -> theta_status* {
    if (theta_status* s = CheckDeviceIndex("device_get_info", plugin, index)) {
      return s;
    }
    if (info == nullptr)
      return InvalidArgument("device_get_info: info is NULL");
    // Fill only the fields the caller's struct has (struct_size).
    if (THETA_API_HAS(info, theta_device_info, name)) {
      std::string name = DeviceName();
      size_t n = std::min(name.size(), sizeof(info->name) - 1);
      std::memcpy(info->name, name.data(), n);
      info->name[n] = '\0';
    }
    struct sysinfo si;
    uint64_t total = 0, free_bytes = 0;
    if (sysinfo(&si) == 0) {
      total = static_cast<uint64_t>(si.totalram) * si.mem_unit;
      free_bytes = static_cast<uint64_t>(si.freeram) * si.mem_unit;
    }
    if (uint64_t available = MemAvailable(); available != 0) {
      free_bytes = available;
    }
    if (THETA_API_HAS(info, theta_device_info, total_memory_bytes)) {
      info->total_memory_bytes = total;
    }
    if (THETA_API_HAS(info, theta_device_info, free_memory_bytes)) {
      info->free_memory_bytes = free_bytes;
    }
    // Buffers are host allocations and kernels take any host pointer.
    if (THETA_API_HAS(info, theta_device_info, flags)) {
      info->flags = THETA_DEVICE_HOST_MEMORY;
    }
    return nullptr;
  });
}

theta_status* DeviceOpen(theta_plugin* plugin, int32_t index,
                         theta_device** out) noexcept {
  return plugin_kit::Guard("device_open", [&]() -> theta_status* {
    if (out == nullptr) return InvalidArgument("device_open: out is NULL");
    *out = nullptr;
    if (theta_status* s = CheckDeviceIndex("device_open", plugin, index)) {
      return s;
    }
    *out = new theta_device{plugin};
    return nullptr;
  });
}

void DeviceClose(theta_device* device) noexcept { delete device; }

// ---- streams: the caller's thread (plus the pool) runs everything before
// the call returns, so synchronize has nothing to wait for ----

theta_status* StreamCreate(theta_device* device, theta_stream** out) noexcept {
  return plugin_kit::Guard("stream_create", [&]() -> theta_status* {
    if (out == nullptr) return InvalidArgument("stream_create: out is NULL");
    *out = nullptr;
    if (device == nullptr) {
      return InvalidArgument("stream_create: device is NULL");
    }
    *out = new theta_stream(device);
    return nullptr;
  });
}

void StreamDestroy(theta_stream* stream) noexcept { delete stream; }

theta_status* StreamSynchronize(theta_stream* stream) noexcept {
  return plugin_kit::Guard("stream_synchronize", [&]() -> theta_status* {
    if (stream == nullptr) {
      return InvalidArgument("stream_synchronize: stream is NULL");
    }
    return nullptr;
  });
}

// ---- buffers ----

theta_status* BufferAlloc(theta_device* device, uint64_t bytes,
                          theta_buffer** out) noexcept {
  return plugin_kit::Guard("buffer_alloc", [&]() -> theta_status* {
    if (out == nullptr) return InvalidArgument("buffer_alloc: out is NULL");
    *out = nullptr;
    if (device == nullptr)
      return InvalidArgument("buffer_alloc: device is NULL");
    void* data = nullptr;
    if (bytes > 0) {
      // aligned_alloc wants a multiple of the alignment.
      if (bytes > UINT64_MAX - (kAlignment - 1) ||
          (bytes + kAlignment - 1) / kAlignment * kAlignment > SIZE_MAX) {
        return MakeStatus(
            THETA_STATUS_OUT_OF_MEMORY,
            StrCat("buffer_alloc: cannot allocate ", bytes, " bytes"));
      }
      size_t rounded = static_cast<size_t>((bytes + kAlignment - 1) /
                                           kAlignment * kAlignment);
      data = std::aligned_alloc(kAlignment, rounded);
      if (data == nullptr) {
        return MakeStatus(
            THETA_STATUS_OUT_OF_MEMORY,
            StrCat("buffer_alloc: cannot allocate ", bytes, " bytes"));
      }
    }
    theta_buffer* buffer = new (std::nothrow) theta_buffer{data, bytes};
    if (buffer == nullptr) {
      std::free(data);
      throw std::bad_alloc();
    }
    *out = buffer;
    return nullptr;
  });
}

void BufferFree(theta_buffer* buffer) noexcept {
  if (buffer == nullptr) return;
  std::free(buffer->data);
  delete buffer;
}

void* BufferData(theta_buffer* buffer) noexcept {
  return buffer == nullptr ? nullptr : buffer->data;
}

// ---- copies ----

theta_status* CheckCopy(const char* function, theta_stream* stream,
                        const void* dst, const void* src, uint64_t bytes) {
  if (stream == nullptr) return InvalidArgument(function, ": stream is NULL");
  if (bytes > 0 && (dst == nullptr || src == nullptr)) {
    return InvalidArgument(function, ": ",
                           dst == nullptr ? "destination" : "source",
                           " is NULL for a copy of ", bytes, " bytes");
  }
  if (bytes > SIZE_MAX) {
    return InvalidArgument(function, ": ", bytes, " bytes is too large");
  }
  return nullptr;
}

theta_status* CopyBytes(const char* function, theta_stream* stream, void* dst,
                        const void* src, uint64_t bytes) noexcept {
  return plugin_kit::Guard(function, [&]() -> theta_status* {
    if (theta_status* s = CheckCopy(function, stream, dst, src, bytes)) {
      return s;
    }
    if (bytes > 0) {
      ParallelMemcpy(stream->device->plugin->pool, dst, src, bytes);
    }
    return nullptr;
  });
}

theta_status* CopyHostToDevice(theta_stream* stream, void* dst,
                               const void* host_src, uint64_t bytes) noexcept {
  return CopyBytes("copy_host_to_device", stream, dst, host_src, bytes);
}

theta_status* CopyDeviceToHost(theta_stream* stream, void* host_dst,
                               const void* src, uint64_t bytes) noexcept {
  return CopyBytes("copy_device_to_host", stream, host_dst, src, bytes);
}

theta_status* CopyDeviceToDevice(theta_stream* stream, void* dst,
                                 const void* src, uint64_t bytes) noexcept {
  return CopyBytes("copy_device_to_device", stream, dst, src, bytes);
}

theta_status* Memset(theta_stream* stream, void* dst, uint8_t value,
                     uint64_t bytes) noexcept {
  return plugin_kit::Guard("memset", [&]() -> theta_status* {
    if (stream == nullptr) return InvalidArgument("memset: stream is NULL");
    if (bytes > 0 && dst == nullptr) {
      return InvalidArgument("memset: destination is NULL for ", bytes,
                             " bytes");
    }
    if (bytes > SIZE_MAX) {
      return InvalidArgument("memset: ", bytes, " bytes is too large");
    }
    if (bytes > 0) std::memset(dst, value, static_cast<size_t>(bytes));
    return nullptr;
  });
}

// ---- kernels: check the stream and the args struct, then dispatch ----

// The kit's kernel-entry guard, then the kernel with the stream's pool (and
// its scratch, for kernels that need work space).
template <typename Args, typename Kernel>
theta_status* RunKernel(const char* function, theta_stream* stream,
                        const Args* args, Kernel&& kernel) noexcept {
  return plugin_kit::KernelEntry(
      function, stream, args, [&](const Args& full) -> theta_status* {
        ThreadPool& pool = stream->device->plugin->pool;
        if constexpr (std::is_invocable_v<Kernel, ThreadPool&, Scratch&,
                                          const Args&>) {
          return kernel(pool, stream->scratch, full);
        } else {
          return kernel(pool, full);
        }
      });
}

theta_status* GemmEntry(theta_stream* stream,
                        const theta_gemm_args* args) noexcept {
  return RunKernel("gemm", stream, args,
                   [stream](ThreadPool& pool, const theta_gemm_args& g) {
                     return Gemm(pool, stream->device->plugin->gemm_selection,
                                 g);
                   });
}

// gemm_prepare: *out is NULL unless an operand is made (on every failure
// too, when out is present).
theta_status* GemmPrepareEntry(theta_stream* stream,
                               const theta_gemm_prepare_args* args,
                               theta_gemm_operand** out) noexcept {
  if (out != nullptr) *out = nullptr;
  return plugin_kit::KernelEntry(
      "gemm_prepare", stream, args,
      [&](const theta_gemm_prepare_args& p) -> theta_status* {
        if (out == nullptr) return InvalidArgument("gemm_prepare: out is NULL");
        return GemmPrepare(stream->device->plugin->pool, p, out);
      });
}

// Streams run their work before each call returns: nothing enqueued can
// still be reading the operand.
void GemmOperandFree(theta_stream*, theta_gemm_operand* operand) noexcept {
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
  return plugin_kit::Guard("fill", [&]() -> theta_status* {
    if (stream == nullptr) return InvalidArgument("fill: stream is NULL");
    if (array == nullptr) return InvalidArgument("fill: array is NULL");
    return Fill(stream->device->plugin->pool, *array, value);
  });
}

// clang-format off
const theta_backend_api kApi = {
    /*struct_size=*/           sizeof(theta_backend_api),
    /*abi_major=*/             THETA_BACKEND_ABI_MAJOR,
    /*abi_minor=*/             THETA_BACKEND_ABI_MINOR,
    /*name=*/                  "cpu",
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
    /*gemm_operand_free=*/     GemmOperandFree,
};
// clang-format on

}  // namespace
}  // namespace theta::cpu

THETA_PLUGIN_KIT_EXPORT_API(theta::cpu::kApi)
