// libtheta_faulty.so: the CPU plugin behind a switch that fails chosen
// allocations, kernel launches and transfers (faulty_plugin.h says how).
// Every entry forwards the caller's handles to the CPU plugin unchanged;
// the CPU plugin's error statuses are re-made as this plugin's own, so that
// the loader frees every status through this table.
#include "backends/testing/faulty_plugin.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "backends/api/theta_backend.h"
#include "backends/plugin_kit/entry.h"
#include "backends/plugin_kit/status.h"

namespace theta::faulty {
namespace {

using plugin_kit::MakeStatus;
using plugin_kit::StrCat;

// The wrapped plugin, loaded once.
struct Inner {
  const theta_backend_api* api = nullptr;
  std::string error;  // why it did not load
};

std::string ThisLibraryDirectory() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&ThisLibraryDirectory), &info) == 0 ||
      info.dli_fname == nullptr) {
    return ".";
  }
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Loads `path` and checks its table; on failure appends the reason to
// `errors` and returns null.
const theta_backend_api* LoadTable(const std::string& path,
                                   std::string& errors) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    errors += StrCat("; ", path, ": ", why != nullptr ? why : "cannot load");
    return nullptr;
  }
  auto get_api = reinterpret_cast<theta_backend_get_api_fn>(
      dlsym(handle, THETA_BACKEND_ENTRY_POINT));
  const theta_backend_api* api = get_api != nullptr ? get_api() : nullptr;
  if (api == nullptr || api->abi_major != THETA_BACKEND_ABI_MAJOR ||
      api->struct_size < sizeof(theta_backend_api)) {
    errors +=
        StrCat("; ", path, ": not a plugin of ABI ", THETA_BACKEND_ABI_MAJOR,
               ".", THETA_BACKEND_ABI_MINOR, " or newer");
    dlclose(handle);
    return nullptr;
  }
  return api;  // the library stays loaded for the life of the process
}

const Inner& GetInner() {
  static const Inner* inner = [] {
    auto* result = new Inner;
    std::string errors;
    if (const char* env = std::getenv("THETA_FAULTY_INNER");
        env != nullptr && *env != '\0') {
      result->api = LoadTable(env, errors);
    } else {
      const std::string dir = ThisLibraryDirectory();
      for (const std::string& path :
           {dir + "/../cpu/libtheta_cpu.so", dir + "/libtheta_cpu.so"}) {
        result->api = LoadTable(path, errors);
        if (result->api != nullptr) break;
      }
    }
    if (result->api == nullptr) {
      result->error = StrCat(
          "faulty: cannot load the CPU plugin it wraps (set "
          "THETA_FAULTY_INNER to its path)",
          errors);
    }
    return result;
  }();
  return *inner;
}

const theta_backend_api& Api() { return *GetInner().api; }

// Faults ------------------------------------------------------------------

std::atomic<int64_t> g_calls[THETA_FAULT_KIND_COUNT];
std::atomic<int64_t> g_armed[THETA_FAULT_KIND_COUNT];  // call number; 0: none
std::atomic<int64_t> g_failures{0};

const char* KindName(int kind) {
  switch (kind) {
    case THETA_FAULT_ALLOCATION:
      return "allocation";
    case THETA_FAULT_KERNEL:
      return "kernel launch";
    default:
      return "transfer";
  }
}

void FailAt(int32_t kind, int64_t k) {
  if (kind < 0 || kind >= THETA_FAULT_KIND_COUNT) return;
  g_armed[kind] = k > 0 ? g_calls[kind].load() + k : 0;
}

int64_t Calls(int32_t kind) {
  if (kind < 0 || kind >= THETA_FAULT_KIND_COUNT) return 0;
  return g_calls[kind].load();
}

int64_t Failures() { return g_failures.load(); }

const theta_faulty_control kControl = {FailAt, Calls, Failures};

// Counts a call of `kind`; returns the injected failure when it is the
// armed one, else null.
theta_status* Injected(int kind, const char* what, uint64_t bytes = 0) {
  const int64_t n = ++g_calls[kind];
  int64_t armed = n;
  if (!g_armed[kind].compare_exchange_strong(armed, 0)) return nullptr;
  ++g_failures;
  const std::string size =
      kind == THETA_FAULT_KERNEL ? "" : StrCat(" of ", bytes, " bytes");
  return MakeStatus(kind == THETA_FAULT_ALLOCATION ? THETA_STATUS_OUT_OF_MEMORY
                                                   : THETA_STATUS_INTERNAL,
                    StrCat("faulty: injected failure of ", KindName(kind), " #",
                           n, " (", what, size, ")"));
}

// The CPU plugin's status, re-made as one of this plugin's.
theta_status* Own(theta_status* inner) {
  if (inner == nullptr) return nullptr;
  const theta_backend_api& api = Api();
  theta_status* own =
      MakeStatus(api.status_code(inner), api.status_message(inner));
  api.status_free(inner);
  return own;
}

// Table entries ---------------------------------------------------------

theta_status* PluginCreate(theta_plugin** out) noexcept {
  return plugin_kit::Guard("plugin_create", [&]() -> theta_status* {
    if (out != nullptr) *out = nullptr;
    const Inner& inner = GetInner();
    if (inner.api == nullptr) {
      return MakeStatus(THETA_STATUS_UNAVAILABLE, inner.error);
    }
    return Own(inner.api->plugin_create(out));
  });
}

void PluginDestroy(theta_plugin* plugin) noexcept {
  Api().plugin_destroy(plugin);
}

void* GetExtension(theta_plugin* plugin, const char* name) noexcept {
  if (name != nullptr && std::string(name) == THETA_FAULTY_CONTROL_EXTENSION) {
    return const_cast<theta_faulty_control*>(&kControl);
  }
  return Api().get_extension(plugin, name);
}

theta_status* DeviceCount(theta_plugin* plugin, int32_t* count) noexcept {
  return Own(Api().device_count(plugin, count));
}

// The CPU's memory presented as device memory, so that callers copy host
// tensors in and out through the transfers that faults can target (the
// executor's path for a GPU, tested on the CPU).
theta_status* DeviceGetInfo(theta_plugin* plugin, int32_t index,
                            theta_device_info* info) noexcept {
  theta_status* s = Own(Api().device_get_info(plugin, index, info));
  if (s == nullptr && info != nullptr &&
      THETA_API_HAS(info, theta_device_info, flags)) {
    info->flags &= ~THETA_DEVICE_HOST_MEMORY;
  }
  return s;
}

theta_status* DeviceOpen(theta_plugin* plugin, int32_t index,
                         theta_device** out) noexcept {
  return Own(Api().device_open(plugin, index, out));
}

void DeviceClose(theta_device* device) noexcept { Api().device_close(device); }

theta_status* StreamCreate(theta_device* device, theta_stream** out) noexcept {
  return Own(Api().stream_create(device, out));
}

void StreamDestroy(theta_stream* stream) noexcept {
  Api().stream_destroy(stream);
}

theta_status* StreamSynchronize(theta_stream* stream) noexcept {
  return Own(Api().stream_synchronize(stream));
}

theta_status* BufferAlloc(theta_device* device, uint64_t bytes,
                          theta_buffer** out) noexcept {
  if (theta_status* s = Injected(THETA_FAULT_ALLOCATION, "buffer", bytes)) {
    if (out != nullptr) *out = nullptr;
    return s;
  }
  return Own(Api().buffer_alloc(device, bytes, out));
}

void BufferFree(theta_buffer* buffer) noexcept { Api().buffer_free(buffer); }

void* BufferData(theta_buffer* buffer) noexcept {
  return Api().buffer_data(buffer);
}

theta_status* CopyHostToDevice(theta_stream* stream, void* dst, const void* src,
                               uint64_t bytes) noexcept {
  if (theta_status* s =
          Injected(THETA_FAULT_TRANSFER, "host to device copy", bytes)) {
    return s;
  }
  return Own(Api().copy_host_to_device(stream, dst, src, bytes));
}

theta_status* CopyDeviceToHost(theta_stream* stream, void* dst, const void* src,
                               uint64_t bytes) noexcept {
  if (theta_status* s =
          Injected(THETA_FAULT_TRANSFER, "device to host copy", bytes)) {
    return s;
  }
  return Own(Api().copy_device_to_host(stream, dst, src, bytes));
}

theta_status* CopyDeviceToDevice(theta_stream* stream, void* dst,
                                 const void* src, uint64_t bytes) noexcept {
  if (theta_status* s =
          Injected(THETA_FAULT_TRANSFER, "device to device copy", bytes)) {
    return s;
  }
  return Own(Api().copy_device_to_device(stream, dst, src, bytes));
}

theta_status* Memset(theta_stream* stream, void* dst, uint8_t value,
                     uint64_t bytes) noexcept {
  if (theta_status* s = Injected(THETA_FAULT_TRANSFER, "memset", bytes)) {
    return s;
  }
  return Own(Api().memset(stream, dst, value, bytes));
}

// A kernel entry: the fault check, then the CPU plugin's entry.
#define THETA_FAULTY_KERNEL(Entry, field, Args)                          \
  theta_status* Entry(theta_stream* stream, const Args* args) noexcept { \
    if (theta_status* s = Injected(THETA_FAULT_KERNEL, #field)) {        \
      return s;                                                          \
    }                                                                    \
    return Own(Api().field(stream, args));                               \
  }

THETA_FAULTY_KERNEL(Gemm, gemm, theta_gemm_args)
THETA_FAULTY_KERNEL(Elementwise, elementwise, theta_elementwise_args)
THETA_FAULTY_KERNEL(Reduce, reduce, theta_reduce_args)
THETA_FAULTY_KERNEL(Softmax, softmax, theta_softmax_args)
THETA_FAULTY_KERNEL(Gather, gather, theta_gather_args)
THETA_FAULTY_KERNEL(ScatterAdd, scatter_add, theta_gather_args)
THETA_FAULTY_KERNEL(Copy, copy, theta_copy_args)
THETA_FAULTY_KERNEL(Rng, rng, theta_rng_args)
#undef THETA_FAULTY_KERNEL

theta_status* Fill(theta_stream* stream, const theta_array* array,
                   double value) noexcept {
  if (theta_status* s = Injected(THETA_FAULT_KERNEL, "fill")) return s;
  return Own(Api().fill(stream, array, value));
}

// A preparation counts as a kernel launch: it reads device memory and may
// allocate. An inner plugin that prepares nothing makes this one prepare
// nothing too.
theta_status* GemmPrepare(theta_stream* stream,
                          const theta_gemm_prepare_args* args,
                          theta_gemm_operand** out) noexcept {
  if (theta_status* s = Injected(THETA_FAULT_KERNEL, "gemm_prepare")) {
    return s;
  }
  if (Api().gemm_prepare == nullptr) {
    if (out != nullptr) *out = nullptr;
    return nullptr;
  }
  return Own(Api().gemm_prepare(stream, args, out));
}

void GemmOperandFree(theta_stream* stream,
                     theta_gemm_operand* operand) noexcept {
  if (Api().gemm_operand_free != nullptr) {
    Api().gemm_operand_free(stream, operand);
  }
}

int32_t Supports(theta_plugin* plugin, int32_t kernel, int32_t dtype) noexcept {
  const Inner& inner = GetInner();
  if (inner.api == nullptr || inner.api->supports == nullptr) return 0;
  return inner.api->supports(plugin, kernel, dtype);
}

// clang-format off
const theta_backend_api kApi = {
    /*struct_size=*/           sizeof(theta_backend_api),
    /*abi_major=*/             THETA_BACKEND_ABI_MAJOR,
    /*abi_minor=*/             THETA_BACKEND_ABI_MINOR,
    /*name=*/                  "faulty",
    /*version=*/               "0.1.0",
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
    /*gemm=*/                  Gemm,
    /*elementwise=*/           Elementwise,
    /*reduce=*/                Reduce,
    /*softmax=*/               Softmax,
    /*gather=*/                Gather,
    /*scatter_add=*/           ScatterAdd,
    /*copy=*/                  Copy,
    /*fill=*/                  Fill,
    /*rng=*/                   Rng,
    /*supports=*/              Supports,
    /*gemm_prepare=*/          GemmPrepare,
    /*gemm_operand_free=*/     GemmOperandFree,
};
// clang-format on

}  // namespace
}  // namespace theta::faulty

THETA_PLUGIN_KIT_EXPORT_API(theta::faulty::kApi)
