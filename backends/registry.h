// The backend registry: finds plugin libraries, loads them, and selects the
// backend that compiled functions run on.
//
// Search order: an explicit path (given to use()/GetBackend()), the entries
// of $THETA_BACKEND_PATH (directories or files, ':'-separated), the directory
// of the running program, and its Bazel runfiles (<runfiles>/theta/backends/
// */). A plugin file is named libtheta_<name>.so. Selection: use(), else
// $THETA_BACKEND (set and not empty), else "cpu". A name that is blank or
// has leading or trailing whitespace (THETA_BACKEND=" cpu") is an error
// that says so; a name no plugin has is an error listing the plugins found
// and the places searched.
//
//   for (const auto& p : theta::backends::available()) { ... p.reason ... }
//   theta::backends::use("cuda");          // throws theta::Error if unusable
//   theta::backends::Backend& b = theta::backends::current();
//
// Every function here is thread-safe. Backends live until the process exits.
#ifndef THETA_BACKENDS_REGISTRY_H_
#define THETA_BACKENDS_REGISTRY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"

namespace theta::backends {

struct DeviceReport {
  int32_t index = 0;
  std::string name;
  uint64_t total_memory_bytes = 0;
  uint64_t free_memory_bytes = 0;
  // THETA_DEVICE_HOST_MEMORY (ABI 1.3): compiled calls copy nothing.
  bool host_memory = false;
};

// What the registry found out about one plugin library.
struct PluginReport {
  // The backend's name from its table; for a library that did not load, the
  // <name> of its file name libtheta_<name>.so.
  std::string name;
  std::string path;
  std::string version;
  bool available = false;
  std::string reason;  // why it is not available; empty when it is
  std::vector<DeviceReport> devices;
  // The plugin's ABI version ("1.1").
  std::string abi;
  // The kernels the plugin runs, each with the dtypes it runs it on (the
  // capability query), in theta_kernel order; a kernel with no dtype is
  // left out. Empty when the plugin predates the query.
  struct KernelSupport {
    std::string kernel;               // "gemm", ...
    std::vector<std::string> dtypes;  // "F32", ...
  };
  std::vector<KernelSupport> kernels;
  // Table entries the plugin lacks (older ABI minor): "supports", ...
  std::vector<std::string> missing_entries;
};

// One place the registry looked.
struct SearchLocation {
  std::string path;
  std::string origin;  // "THETA_BACKEND_PATH", "beside the program", ...
  // "2 plugins", "not present", "cannot read: <why>"; for a directory of
  // THETA_BACKEND_PATH also the files skipped and why: "0 plugins; skipped
  // libfoo.so (not named libtheta_<name>.so)".
  std::string result;
};

struct DiscoveryReport {
  std::vector<SearchLocation> locations;
  std::vector<PluginReport> plugins;
};

// Searches every location and tries every plugin found; the result is
// computed once per process (and again after Rescan()).
DiscoveryReport Discover();

// The plugins found, each with whether it is usable and why not.
std::vector<PluginReport> available();

// Forgets the discovery result (not the loaded backends), so the next
// Discover() searches again; for tests and long-lived programs whose
// environment changed.
void Rescan();

// The backend named by `spec`: a backend name ("cpu", "cuda"), a name and a
// device index ("cuda:1"), or the path of a plugin library. The error names
// what was asked for, what was found and why each candidate failed.
absl::StatusOr<Backend*> GetBackend(std::string_view spec);

// Makes `spec` the default backend for functions compiled from now on.
// Throws theta::Error when it cannot be loaded.
void use(std::string_view spec);

// The default backend: set by use(), else $THETA_BACKEND, else "cpu".
absl::StatusOr<Backend*> CurrentBackend();
// As CurrentBackend(), throwing theta::Error on failure.
Backend& current();

}  // namespace theta::backends

#endif  // THETA_BACKENDS_REGISTRY_H_
