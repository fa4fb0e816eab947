// PluginLibrary: one backend shared object, opened with dlopen and checked.
//
// Load() opens the file, finds the entry point, and validates the table's
// header (ABI major, struct_size covering every field this loader calls);
// each failure is a status naming the path and the reason.
//
//   absl::StatusOr<std::shared_ptr<PluginLibrary>> lib =
//       PluginLibrary::Load("/opt/theta/libtheta_cuda.so");
#ifndef THETA_BACKENDS_PLUGIN_LIBRARY_H_
#define THETA_BACKENDS_PLUGIN_LIBRARY_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/api/theta_backend.h"

namespace theta::backends {

class PluginLibrary {
 public:
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;
  // The library stays mapped: plugins may own threads and static state that
  // must not disappear under them, so it is never dlclose()d.
  ~PluginLibrary() = default;

  static absl::StatusOr<std::shared_ptr<PluginLibrary>> Load(
      const std::string& path);

  const theta_backend_api& api() const { return *api_; }
  const std::string& path() const { return path_; }

 private:
  PluginLibrary(std::string path, const theta_backend_api* api)
      : path_(std::move(path)), api_(api) {}

  std::string path_;
  const theta_backend_api* api_;
};

// Checks a table returned by an entry point against this loader's ABI:
// equal major version, and a struct_size that covers every field the loader
// uses (so an older plugin is refused rather than called past its end).
absl::Status ValidateApiTable(const theta_backend_api* api);

}  // namespace theta::backends

#endif  // THETA_BACKENDS_PLUGIN_LIBRARY_H_
