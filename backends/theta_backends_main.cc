// theta_backends: lists every place Theta looks for backend plugins, every
// plugin found, its devices, the kernels and dtypes it runs, and why each
// rejected one was rejected. The first thing to run when a backend does not
// show up.
//
//   bazel run //backends:theta_backends
//   THETA_BACKEND_PATH=/opt/theta/lib theta_backends
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/registry.h"

int main() {
  using theta::backends::DiscoveryReport;
  DiscoveryReport report = theta::backends::Discover();

  std::printf("Searched (in order):\n");
  for (const auto& location : report.locations) {
    std::printf("  %-60s  %s: %s\n", location.path.c_str(),
                location.origin.c_str(), location.result.c_str());
  }
  int usable = 0;
  std::printf("\nPlugins:\n");
  if (report.plugins.empty()) std::printf("  none found\n");
  for (const auto& plugin : report.plugins) {
    if (plugin.available) {
      ++usable;
      std::printf("  %-8s available    %s (version %s, ABI %s)\n",
                  plugin.name.c_str(), plugin.path.c_str(),
                  plugin.version.c_str(), plugin.abi.c_str());
      for (const auto& device : plugin.devices) {
        std::printf(
            "           device %d: %s, %s total, %s free, %s\n", device.index,
            device.name.c_str(),
            absl::StrFormat("%.1f GiB",
                            device.total_memory_bytes / 1073741824.0)
                .c_str(),
            absl::StrFormat("%.1f GiB", device.free_memory_bytes / 1073741824.0)
                .c_str(),
            device.host_memory ? "host memory (calls copy no tensors)"
                               : "device memory (tensors copied in and out)");
      }
      for (const auto& kernel : plugin.kernels) {
        std::printf("           %-12s %s\n", kernel.kernel.c_str(),
                    absl::StrJoin(kernel.dtypes, " ").c_str());
      }
      if (!plugin.missing_entries.empty()) {
        std::printf("           older ABI, lacks: %s\n",
                    absl::StrJoin(plugin.missing_entries, ", ").c_str());
      }
    } else {
      std::printf("  %-8s UNAVAILABLE  %s\n           reason: %s\n",
                  plugin.name.c_str(), plugin.path.c_str(),
                  plugin.reason.c_str());
    }
  }
  const char* selected = std::getenv("THETA_BACKEND");
  std::printf("\nTHETA_BACKEND=%s\n",
              selected != nullptr ? selected : "(unset: cpu)");
  absl::StatusOr<theta::backends::Backend*> current =
      theta::backends::CurrentBackend();
  if (current.ok()) {
    std::printf("Selected: %s on %s\n", (*current)->id().c_str(),
                (*current)->device_name().c_str());
  } else {
    std::printf("Selected: none: %s\n",
                std::string(current.status().message()).c_str());
  }
  return usable > 0 && current.ok() ? 0 : 1;
}
