// PluginLibrary: one backend shared object, opened with dlopen and checked.
//
// Load() opens the file, finds the entry point, and validates the table's
// header (ABI major, struct_size covering at least the ABI 1.0 table, every
// 1.0 entry present); each failure is a status naming the path and the
// reason. A table older (shorter) than this loader's is accepted: api() is
// the loader's full-size copy, in which every entry the plugin lacks answers
// "unsupported" (ABI rule 4 of theta_backend.h), and missing_entries() names
// them.
//
//   absl::StatusOr<std::shared_ptr<PluginLibrary>> lib =
//       PluginLibrary::Load("/opt/theta/libtheta_cuda.so");
#ifndef THETA_BACKENDS_PLUGIN_LIBRARY_H_
#define THETA_BACKENDS_PLUGIN_LIBRARY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

  // The loader's copy of the plugin's table: every field of this loader's
  // theta_backend_api is set. The header (struct_size, abi_major,
  // abi_minor, name, version) is the plugin's; entries past the plugin's
  // struct_size, or NULL optional ones, are the loader's stand-ins (see
  // CompleteApiTable).
  const theta_backend_api& api() const { return api_; }
  const std::string& path() const { return path_; }
  // The table entries the plugin does not provide, as named in
  // theta_backend.h ("supports" for an ABI 1.0 plugin); empty for a plugin
  // as new as the loader.
  const std::vector<std::string>& missing_entries() const { return missing_; }

 private:
  PluginLibrary(std::string path, const theta_backend_api& plugin_table);

  std::string path_;
  theta_backend_api api_;
  std::vector<std::string> missing_;
};

// Checks a table returned by an entry point against this loader's ABI:
// equal major version, a struct_size covering at least the ABI 1.0 table
// (THETA_BACKEND_API_SIZE_1_0), every 1.0 entry non-NULL and a name.
absl::Status ValidateApiTable(const theta_backend_api* api);

// The loader's full-size copy of a table that passed ValidateApiTable: the
// plugin's fields up to its struct_size, and for each later entry (or NULL
// optional one) a stand-in that answers "unsupported": `supports` returns
// 0. Appends the names of those entries to *missing.
theta_backend_api CompleteApiTable(const theta_backend_api& plugin,
                                   std::vector<std::string>* missing);

// The absl code of a code a plugin's status carried. Plugins of ABI 1.1 and
// later number codes as absl::StatusCode; a plugin of ABI 1.0 (abi_minor 0)
// by the 1.0 numbering (THETA_STATUS_1_0_*). OK (a status object must not
// carry it) and unknown values give kInternal.
absl::StatusCode StatusCodeFromPlugin(uint32_t abi_minor, int32_t code);

}  // namespace theta::backends

#endif  // THETA_BACKENDS_PLUGIN_LIBRARY_H_
