#include "backends/plugin_library.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace theta::backends {

namespace {

// The stand-in of a plugin without the capability query: nothing is
// reported as supported.
int32_t SupportsNothing(theta_plugin*, int32_t, int32_t) noexcept { return 0; }

// The stand-ins of a plugin without prepared GEMM operands (before ABI 1.2):
// every preparation gains nothing, so callers run plain GEMMs.
theta_status* PrepareNothing(theta_stream*, const theta_gemm_prepare_args*,
                             theta_gemm_operand** out) noexcept {
  if (out != nullptr) *out = nullptr;
  return nullptr;
}
void FreeNoOperand(theta_stream*, theta_gemm_operand*) noexcept {}

}  // namespace

absl::Status ValidateApiTable(const theta_backend_api* api) {
  if (api == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(THETA_BACKEND_ENTRY_POINT, "() returned no table"));
  }
  constexpr size_t kHeaderEnd =
      offsetof(theta_backend_api, version) +
      sizeof(static_cast<theta_backend_api*>(0)->version);
  if (api->struct_size < kHeaderEnd) {
    return absl::FailedPreconditionError(absl::StrCat(
        "table of ", api->struct_size,
        " bytes is smaller than the fixed header; not a Theta plugin"));
  }
  if (api->abi_major != THETA_BACKEND_ABI_MAJOR) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ABI version mismatch: plugin has ", api->abi_major, ".",
        api->abi_minor, ", this loader needs ", THETA_BACKEND_ABI_MAJOR,
        ".x (rebuild the plugin against this Theta)"));
  }
  // Every ABI 1.0 entry; later ones are optional (CompleteApiTable).
  constexpr size_t kNeeded = THETA_BACKEND_API_SIZE_1_0;
  if (api->struct_size < kNeeded) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ABI ", api->abi_major, ".", api->abi_minor, " table has ",
        api->struct_size, " bytes, fewer than the ", kNeeded,
        " of an ABI 1.0 table, which this loader (ABI ",
        THETA_BACKEND_ABI_MAJOR, ".", THETA_BACKEND_ABI_MINOR,
        ") needs at least; the plugin is older than the loader or its table "
        "is cut short"));
  }
  const void* const required[] = {
      reinterpret_cast<const void*>(api->status_code),
      reinterpret_cast<const void*>(api->status_message),
      reinterpret_cast<const void*>(api->status_free),
      reinterpret_cast<const void*>(api->plugin_create),
      reinterpret_cast<const void*>(api->plugin_destroy),
      reinterpret_cast<const void*>(api->get_extension),
      reinterpret_cast<const void*>(api->device_count),
      reinterpret_cast<const void*>(api->device_get_info),
      reinterpret_cast<const void*>(api->device_open),
      reinterpret_cast<const void*>(api->device_close),
      reinterpret_cast<const void*>(api->stream_create),
      reinterpret_cast<const void*>(api->stream_destroy),
      reinterpret_cast<const void*>(api->stream_synchronize),
      reinterpret_cast<const void*>(api->buffer_alloc),
      reinterpret_cast<const void*>(api->buffer_free),
      reinterpret_cast<const void*>(api->buffer_data),
      reinterpret_cast<const void*>(api->copy_host_to_device),
      reinterpret_cast<const void*>(api->copy_device_to_host),
      reinterpret_cast<const void*>(api->copy_device_to_device),
      reinterpret_cast<const void*>(api->memset),
      reinterpret_cast<const void*>(api->gemm),
      reinterpret_cast<const void*>(api->elementwise),
      reinterpret_cast<const void*>(api->reduce),
      reinterpret_cast<const void*>(api->softmax),
      reinterpret_cast<const void*>(api->gather),
      reinterpret_cast<const void*>(api->scatter_add),
      reinterpret_cast<const void*>(api->copy),
      reinterpret_cast<const void*>(api->fill),
      reinterpret_cast<const void*>(api->rng),
  };
  for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); ++i) {
    if (required[i] == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("table entry ", i, " after the header is null"));
    }
  }
  if (api->name == nullptr || api->name[0] == '\0') {
    return absl::FailedPreconditionError("table has no backend name");
  }
  return absl::OkStatus();
}

theta_backend_api CompleteApiTable(const theta_backend_api& plugin,
                                   std::vector<std::string>* missing) {
  theta_backend_api api;
  std::memset(&api, 0, sizeof(api));
  std::memcpy(&api, &plugin, std::min(plugin.struct_size, sizeof(api)));
  // ABI 1.1.
  if (!THETA_API_HAS(&plugin, theta_backend_api, supports) ||
      api.supports == nullptr) {
    api.supports = SupportsNothing;
    missing->push_back("supports");
  }
  // ABI 1.2: the two entries go together; a table with only one of them
  // gets both stand-ins.
  if (!THETA_API_HAS(&plugin, theta_backend_api, gemm_operand_free) ||
      api.gemm_prepare == nullptr || api.gemm_operand_free == nullptr) {
    api.gemm_prepare = PrepareNothing;
    api.gemm_operand_free = FreeNoOperand;
    missing->push_back("gemm_prepare");
  }
  return api;
}

absl::StatusCode StatusCodeFromPlugin(uint32_t abi_minor, int32_t code) {
  if (abi_minor == 0) {
    switch (code) {
      case THETA_STATUS_1_0_INVALID_ARGUMENT:
        return absl::StatusCode::kInvalidArgument;
      case THETA_STATUS_1_0_OUT_OF_MEMORY:
        return absl::StatusCode::kResourceExhausted;
      case THETA_STATUS_1_0_UNAVAILABLE:
        return absl::StatusCode::kUnavailable;
      case THETA_STATUS_1_0_UNIMPLEMENTED:
        return absl::StatusCode::kUnimplemented;
      case THETA_STATUS_1_0_FAILED_PRECONDITION:
        return absl::StatusCode::kFailedPrecondition;
      default:
        return absl::StatusCode::kInternal;
    }
  }
  // ABI 1.1: the numbers are absl's; any absl code a plugin sends passes.
  if (code <= 0 ||
      code > static_cast<int32_t>(absl::StatusCode::kUnauthenticated)) {
    return absl::StatusCode::kInternal;
  }
  return static_cast<absl::StatusCode>(code);
}

PluginLibrary::PluginLibrary(std::string path,
                             const theta_backend_api& plugin_table)
    : path_(std::move(path)) {
  api_ = CompleteApiTable(plugin_table, &missing_);
}

absl::StatusOr<std::shared_ptr<PluginLibrary>> PluginLibrary::Load(
    const std::string& path) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    return absl::NotFoundError(absl::StrCat(
        path, ": cannot load: ", reason != nullptr ? reason : "dlopen failed"));
  }
  dlerror();
  void* symbol = dlsym(handle, THETA_BACKEND_ENTRY_POINT);
  if (symbol == nullptr) {
    dlclose(handle);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": no entry point ", THETA_BACKEND_ENTRY_POINT,
                     "(); not a Theta backend plugin"));
  }
  auto entry = reinterpret_cast<theta_backend_get_api_fn>(symbol);
  const theta_backend_api* api = entry();
  if (absl::Status valid = ValidateApiTable(api); !valid.ok()) {
    dlclose(handle);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": ", valid.message()));
  }
  return std::shared_ptr<PluginLibrary>(new PluginLibrary(path, *api));
}

}  // namespace theta::backends
