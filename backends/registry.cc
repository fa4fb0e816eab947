#include "backends/registry.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/plugin_library.h"
#include "base/error.h"
#include "base/status_macros.h"

namespace theta::backends {
namespace {

// The capability query's answers for every kernel and dtype.
std::vector<PluginReport::KernelSupport> SupportedKernels(
    const Backend& backend) {
  std::vector<PluginReport::KernelSupport> kernels;
  for (int k = 0; k < THETA_KERNEL_COUNT; ++k) {
    PluginReport::KernelSupport support;
    support.kernel = KernelName(static_cast<theta_kernel>(k));
    for (int d = THETA_DTYPE_F32; d <= THETA_DTYPE_BOOL; ++d) {
      if (backend.Supports(static_cast<theta_kernel>(k),
                           static_cast<theta_dtype>(d))) {
        support.dtypes.push_back(DtypeName(static_cast<theta_dtype>(d)));
      }
    }
    if (!support.dtypes.empty()) kernels.push_back(std::move(support));
  }
  return kernels;
}

constexpr std::string_view kPrefix = "libtheta_";
constexpr std::string_view kSuffix = ".so";

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

std::string RealPath(const std::string& path) {
  char buffer[PATH_MAX];
  if (realpath(path.c_str(), buffer) == nullptr) return path;
  return buffer;
}

bool IsPluginFileName(std::string_view file) {
  return file.size() > kPrefix.size() + kSuffix.size() &&
         file.substr(0, kPrefix.size()) == kPrefix &&
         file.substr(file.size() - kSuffix.size()) == kSuffix;
}

// "libtheta_cuda.so" -> "cuda".
std::string NameFromFile(const std::string& path) {
  std::string_view file = path;
  if (size_t slash = file.rfind('/'); slash != std::string_view::npos) {
    file = file.substr(slash + 1);
  }
  if (IsPluginFileName(file)) {
    file = file.substr(kPrefix.size(),
                       file.size() - kPrefix.size() - kSuffix.size());
  }
  return std::string(file);
}

// The plugin files of `dir`; the names of the other entries (not
// subdirectories) go to *skipped, and why `dir` cannot be read to *error.
std::vector<std::string> PluginsInDirectory(const std::string& dir,
                                            std::vector<std::string>* skipped,
                                            std::string* error) {
  std::vector<std::string> found;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    *error = std::strerror(errno);
    return found;
  }
  while (dirent* entry = readdir(d)) {
    std::string_view file = entry->d_name;
    if (IsPluginFileName(file)) {
      found.push_back(absl::StrCat(dir, "/", std::string(file)));
    } else if (file != "." && file != ".." &&
               !IsDirectory(absl::StrCat(dir, "/", std::string(file)))) {
      skipped->push_back(std::string(file));
    }
  }
  closedir(d);
  std::sort(found.begin(), found.end());
  std::sort(skipped->begin(), skipped->end());
  return found;
}

// "; skipped a.so, notes.txt (not named libtheta_<name>.so)", at most five
// names; empty when nothing was skipped.
std::string SkippedText(const std::vector<std::string>& skipped) {
  if (skipped.empty()) return "";
  constexpr size_t kShown = 5;
  std::vector<std::string> shown(
      skipped.begin(), skipped.begin() + std::min(kShown, skipped.size()));
  std::string more =
      skipped.size() > kShown
          ? absl::StrCat(" and ", skipped.size() - kShown, " more")
          : "";
  return absl::StrCat("; skipped ", absl::StrJoin(shown, ", "), more,
                      " (not named ", std::string(kPrefix), "<name>",
                      std::string(kSuffix), ")");
}

std::string ProgramPath() {
  char buffer[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0) return "";
  buffer[n] = '\0';
  return buffer;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

struct Spec {
  std::string name_or_path;
  int32_t device = 0;
  bool is_path = false;
};

constexpr char kSpecForms[] =
    "a backend name such as 'cpu' or 'cuda', a name and device such as "
    "'cuda:1', or the path of a plugin library";

absl::StatusOr<Spec> ParseSpec(std::string_view text) {
  Spec spec;
  if (text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty backend name (expected ", kSpecForms, ")"));
  }
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  if (text.find_first_not_of(kSpace) == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("backend name '", std::string(text),
                     "' is blank (expected ", kSpecForms, ")"));
  }
  if (kSpace.find(text.front()) != std::string_view::npos ||
      kSpace.find(text.back()) != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "backend name '", std::string(text),
        "' has leading or trailing whitespace (expected ", kSpecForms, ")"));
  }
  if (text.find('/') != std::string_view::npos ||
      (text.size() > kSuffix.size() &&
       text.substr(text.size() - kSuffix.size()) == kSuffix)) {
    spec.name_or_path = std::string(text);
    spec.is_path = true;
    return spec;
  }
  std::string_view name = text;
  if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    name = text.substr(0, colon);
    if (!absl::SimpleAtoi(std::string(text.substr(colon + 1)), &spec.device) ||
        spec.device < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "backend '", std::string(text),
          "': the device index after ':' must be a ", "non-negative integer"));
    }
  }
  spec.name_or_path = std::string(name);
  return spec;
}

class Registry {
 public:
  static Registry& Get() {
    static Registry* registry = new Registry();  // never destroyed
    return *registry;
  }

  DiscoveryReport Discover() {
    std::lock_guard<std::mutex> lock(mu_);
    return DiscoverLocked();
  }

  void Rescan() {
    std::lock_guard<std::mutex> lock(mu_);
    report_.reset();
  }

  absl::StatusOr<Backend*> GetBackend(std::string_view text) {
    std::lock_guard<std::mutex> lock(mu_);
    return GetBackendLocked(text);
  }

  absl::Status Use(std::string_view text) {
    std::lock_guard<std::mutex> lock(mu_);
    THETA_ASSIGN_OR_RETURN(selected_, GetBackendLocked(text));
    return absl::OkStatus();
  }

  absl::StatusOr<Backend*> Current() {
    std::lock_guard<std::mutex> lock(mu_);
    if (selected_ != nullptr) return selected_;
    // Read each time, so a test or program may change it before use(); the
    // last answer is kept (resolving a name touches the file system).
    const char* env = std::getenv("THETA_BACKEND");
    std::string spec = (env != nullptr && env[0] != '\0') ? env : "cpu";
    if (last_current_ != nullptr && spec == last_current_spec_)
      return last_current_;
    absl::StatusOr<Backend*> backend = GetBackendLocked(spec);
    if (!backend.ok()) {
      return absl::Status(
          backend.status().code(),
          absl::StrCat(env != nullptr && env[0] != '\0'
                           ? "THETA_BACKEND=" + spec
                           : std::string("default backend 'cpu'"),
                       ": ", backend.status().message()));
    }
    last_current_spec_ = spec;
    last_current_ = *backend;
    return *backend;
  }

 private:
  // One library: loaded or not, and its device-0 backend when usable.
  struct LoadedPlugin {
    absl::StatusOr<std::shared_ptr<PluginLibrary>> library =
        absl::UnknownError("not loaded");
    absl::Status open_status;
    std::map<int32_t, std::unique_ptr<Backend>> backends;
  };

  // Loads `path` once and opens its device `device`.
  absl::StatusOr<Backend*> OpenLocked(const std::string& path, int32_t device) {
    std::string real = RealPath(path);
    auto [it, inserted] = plugins_.try_emplace(real);
    LoadedPlugin& plugin = it->second;
    if (inserted) plugin.library = PluginLibrary::Load(path);
    if (!plugin.library.ok()) return plugin.library.status();
    if (auto b = plugin.backends.find(device); b != plugin.backends.end()) {
      return b->second.get();
    }
    THETA_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend,
                           Backend::Open(*plugin.library, device));
    Backend* raw = backend.get();
    plugin.backends[device] = std::move(backend);
    return raw;
  }

  PluginReport ReportFor(const std::string& path) {
    PluginReport report;
    report.path = path;
    report.name = NameFromFile(path);
    absl::StatusOr<Backend*> backend = OpenLocked(path, 0);
    auto& plugin = plugins_[RealPath(path)];
    if (plugin.library.ok()) {
      const theta_backend_api& table = (*plugin.library)->api();
      report.name = table.name;
      report.version = table.version != nullptr ? table.version : "";
      report.abi = absl::StrCat(table.abi_major, ".", table.abi_minor);
      report.missing_entries = (*plugin.library)->missing_entries();
    }
    if (!backend.ok()) {
      report.reason = std::string(backend.status().message());
      return report;
    }
    report.available = true;
    report.kernels = SupportedKernels(**backend);
    const theta_backend_api& api = (*backend)->api();
    int32_t count = 0;
    if (absl::Status s = (*backend)->Check(
            api.device_count((*backend)->plugin(), &count), "device_count");
        !s.ok()) {
      count = 1;
    }
    for (int32_t i = 0; i < count; ++i) {
      theta_device_info info;
      std::memset(&info, 0, sizeof(info));
      info.struct_size = sizeof(info);
      if (!(*backend)
               ->Check(api.device_get_info((*backend)->plugin(), i, &info),
                       "device_get_info")
               .ok()) {
        continue;
      }
      info.name[sizeof(info.name) - 1] = '\0';
      report.devices.push_back(DeviceReport{
          i, info.name, info.total_memory_bytes, info.free_memory_bytes,
          (info.flags & THETA_DEVICE_HOST_MEMORY) != 0});
    }
    return report;
  }

  DiscoveryReport& DiscoverLocked() {
    if (report_.has_value()) return *report_;
    DiscoveryReport report;
    std::vector<std::string> candidates;
    auto add_directory = [&](const std::string& dir, const std::string& origin,
                             bool report_absent) {
      if (!IsDirectory(dir)) {
        if (report_absent) {
          report.locations.push_back({dir, origin, "not present"});
        }
        return;
      }
      std::vector<std::string> skipped;
      std::string error;
      std::vector<std::string> found =
          PluginsInDirectory(dir, &skipped, &error);
      if (found.empty() && !report_absent) return;
      if (!error.empty()) {
        report.locations.push_back(
            {dir, origin, absl::StrCat("cannot read: ", error)});
        return;
      }
      // Only in directories the user named are the other files worth
      // naming: beside a program or in runfiles they are expected.
      const bool named = origin == "THETA_BACKEND_PATH";
      report.locations.push_back(
          {dir, origin,
           absl::StrCat(found.size(),
                        found.size() == 1 ? " plugin" : " plugins",
                        named ? SkippedText(skipped) : "")});
      candidates.insert(candidates.end(), found.begin(), found.end());
    };

    if (const char* env = std::getenv("THETA_BACKEND_PATH");
        env != nullptr && env[0] != '\0') {
      for (absl::string_view entry : absl::StrSplit(env, ':')) {
        if (entry.empty()) continue;
        std::string path(entry);
        if (IsFile(path)) {
          report.locations.push_back({path, "THETA_BACKEND_PATH", "file"});
          candidates.push_back(path);
        } else {
          add_directory(path, "THETA_BACKEND_PATH", true);
        }
      }
    }
    std::string program = ProgramPath();
    if (!program.empty()) {
      add_directory(DirName(program), "beside the program", true);
    }
    std::vector<std::string> runfiles_roots;
    for (const char* var : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
      if (const char* env = std::getenv(var); env != nullptr && env[0]) {
        runfiles_roots.push_back(env);
      }
    }
    if (!program.empty()) runfiles_roots.push_back(program + ".runfiles");
    bool any_runfiles = false;
    for (const std::string& root : runfiles_roots) {
      std::string backends_dir = root + "/theta/backends";
      if (!IsDirectory(backends_dir)) continue;
      any_runfiles = true;
      add_directory(backends_dir, "runfiles", false);
      std::vector<std::string> subdirs;
      if (DIR* d = opendir(backends_dir.c_str())) {
        while (dirent* entry = readdir(d)) {
          std::string name = entry->d_name;
          if (name == "." || name == "..") continue;
          if (IsDirectory(backends_dir + "/" + name)) subdirs.push_back(name);
        }
        closedir(d);
      }
      std::sort(subdirs.begin(), subdirs.end());
      for (const std::string& sub : subdirs) {
        add_directory(backends_dir + "/" + sub, "runfiles", false);
      }
    }
    if (!any_runfiles) {
      report.locations.push_back(
          {program.empty() ? "(unknown program)" : program + ".runfiles",
           "runfiles", "not present"});
    }

    std::map<std::string, std::string> seen_real;   // real path -> path
    std::map<std::string, std::string> name_owner;  // backend name -> path
    for (const std::string& path : candidates) {
      std::string real = RealPath(path);
      if (seen_real.count(real)) continue;
      seen_real[real] = path;
      PluginReport plugin = ReportFor(path);
      if (auto owner = name_owner.find(plugin.name);
          owner != name_owner.end()) {
        if (plugin.available) {
          plugin.available = false;
          plugin.reason = absl::StrCat("shadowed by ", owner->second,
                                       ", found earlier in the search order");
        }
      } else if (plugin.available) {
        name_owner[plugin.name] = path;
      }
      report.plugins.push_back(std::move(plugin));
    }
    report_ = std::move(report);
    return *report_;
  }

  absl::StatusOr<Backend*> GetBackendLocked(std::string_view text) {
    THETA_ASSIGN_OR_RETURN(const Spec spec, ParseSpec(text));
    if (spec.is_path) {
      if (!IsFile(spec.name_or_path)) {
        return absl::NotFoundError(
            absl::StrCat(spec.name_or_path, ": cannot load: no such file"));
      }
      return OpenLocked(spec.name_or_path, 0);
    }
    const DiscoveryReport& report = DiscoverLocked();
    std::vector<std::string> tried;
    for (const PluginReport& plugin : report.plugins) {
      if (plugin.name != spec.name_or_path) continue;
      if (!plugin.available) {
        tried.push_back(plugin.reason);
        continue;
      }
      absl::StatusOr<Backend*> backend = OpenLocked(plugin.path, spec.device);
      if (backend.ok()) return backend;
      tried.push_back(std::string(backend.status().message()));
    }
    if (!tried.empty()) {
      return absl::UnavailableError(
          absl::StrCat("backend '", std::string(text),
                       "' is not usable: ", absl::StrJoin(tried, "; ")));
    }
    std::vector<std::string> names;
    for (const PluginReport& plugin : report.plugins) {
      names.push_back(
          absl::StrCat(plugin.name, plugin.available ? "" : " (unavailable)"));
    }
    std::vector<std::string> places;
    for (const SearchLocation& location : report.locations) {
      places.push_back(absl::StrCat(location.path, " [", location.origin, ": ",
                                    location.result, "]"));
    }
    return absl::NotFoundError(absl::StrCat(
        "no backend named '", spec.name_or_path,
        "'; found: ", names.empty() ? "none" : absl::StrJoin(names, ", "),
        "; searched: ", absl::StrJoin(places, ", "),
        " (set THETA_BACKEND_PATH to the directory of libtheta_",
        spec.name_or_path, ".so; run theta_backends for details)"));
  }

  std::mutex mu_;
  std::optional<DiscoveryReport> report_;
  std::map<std::string, LoadedPlugin> plugins_;  // by real path
  Backend* selected_ = nullptr;                  // set by use()
  std::string last_current_spec_;
  Backend* last_current_ = nullptr;  // what the last Current() resolved
};

}  // namespace

DiscoveryReport Discover() { return Registry::Get().Discover(); }

std::vector<PluginReport> available() { return Discover().plugins; }

void Rescan() { Registry::Get().Rescan(); }

absl::StatusOr<Backend*> GetBackend(std::string_view spec) {
  return Registry::Get().GetBackend(spec);
}

void use(std::string_view spec) { ThrowIfError(Registry::Get().Use(spec)); }

absl::StatusOr<Backend*> CurrentBackend() { return Registry::Get().Current(); }

Backend& current() {
  absl::StatusOr<Backend*> backend = CurrentBackend();
  ThrowIfError(backend.status());
  return **backend;
}

}  // namespace theta::backends
