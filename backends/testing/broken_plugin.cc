// Deliberately defective plugins for registry_test: each build of this file
// (selected by a BROKEN_* define) fails the loader in one specific way
// (BROKEN_ABI_1_0: an ABI 1.0 table the loader takes, whose plugin_create
// fails).
#include <cstddef>
#include <cstring>
#include <new>

#include "backends/api/theta_backend.h"

struct theta_status {
  theta_status_code code;
  char message[128];
};

namespace {

theta_status_code StatusCode(const theta_status* s) noexcept { return s->code; }
const char* StatusMessage(const theta_status* s) noexcept { return s->message; }
void StatusFree(theta_status* s) noexcept { delete s; }

theta_status* PluginCreate(theta_plugin** out) noexcept {
  *out = nullptr;
  theta_status* s = new (std::nothrow) theta_status;
  if (s == nullptr) return nullptr;
#if defined(BROKEN_ABI_1_0)
  s->code = static_cast<theta_status_code>(THETA_STATUS_1_0_UNAVAILABLE);
#else
  s->code = THETA_STATUS_UNAVAILABLE;
#endif
  std::strcpy(s->message, "simulated: no device present");
  return s;
}

[[maybe_unused]] theta_backend_api MakeTable() {
  theta_backend_api api;
  std::memset(&api, 0, sizeof(api));
  api.struct_size = sizeof(api);
  api.abi_major = THETA_BACKEND_ABI_MAJOR;
  api.abi_minor = THETA_BACKEND_ABI_MINOR;
  api.name = "broken";
  api.version = "0";
  api.status_code = StatusCode;
  api.status_message = StatusMessage;
  api.status_free = StatusFree;
  api.plugin_create = PluginCreate;
#if defined(BROKEN_OLD_ABI)
  api.abi_major = THETA_BACKEND_ABI_MAJOR + 1;
  api.abi_minor = 0;
#elif defined(BROKEN_SHORT_TABLE)
  api.struct_size = offsetof(theta_backend_api, gemm);
#elif defined(BROKEN_ABI_1_0)
  // Not broken in its table: an ABI 1.0 plugin (a table through `rng`, the
  // 1.0 status numbering) whose plugin_create fails.
  api.struct_size = THETA_BACKEND_API_SIZE_1_0;
  api.abi_minor = 0;
#endif
#if !defined(BROKEN_NULL_ENTRY)
  // Fill every remaining slot so that only the defect under test remains;
  // the loader never calls them because plugin_create fails first.
  void (*filler)() = [] {};
  void** slots = reinterpret_cast<void**>(&api.plugin_destroy);
  void** end = reinterpret_cast<void**>(&api.rng + 1);
  for (void** slot = slots; slot < end; ++slot) {
    std::memcpy(slot, &filler, sizeof(void*));
  }
#endif
  return api;
}

}  // namespace

#if !defined(BROKEN_NO_ENTRY_POINT)
extern "C" THETA_BACKEND_EXPORT const theta_backend_api* theta_backend_get_api(
    void) {
  static const theta_backend_api api = MakeTable();
  return &api;
}
#else
extern "C" THETA_BACKEND_EXPORT int theta_some_other_symbol(void) { return 0; }
#endif
