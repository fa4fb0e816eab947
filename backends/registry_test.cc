#include "backends/registry.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/plugin_library.h"
#include "base/error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace theta::backends {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Runfile(const std::string& relative) {
  const char* root = std::getenv("TEST_SRCDIR");
  return std::string(root != nullptr ? root : ".") + "/theta/" + relative;
}

std::string LoadError(const std::string& relative) {
  absl::StatusOr<Backend*> backend = GetBackend(Runfile(relative));
  EXPECT_FALSE(backend.ok()) << relative << " loaded";
  return std::string(backend.status().message());
}

TEST(RegistryTest, MissingLibraryNamesThePath) {
  absl::StatusOr<Backend*> backend =
      GetBackend("/nonexistent/dir/libtheta_gone.so");
  ASSERT_FALSE(backend.ok());
  EXPECT_THAT(backend.status().message(),
              HasSubstr("/nonexistent/dir/libtheta_gone.so"));
  EXPECT_THAT(backend.status().message(), HasSubstr("no such file"));
}

TEST(RegistryTest, FileThatIsNotALibrary) {
  std::string message = LoadError("backends/not_a_library.so");
  EXPECT_THAT(message, HasSubstr("not_a_library.so: cannot load"));
}

TEST(RegistryTest, LibraryWithoutEntryPoint) {
  std::string message =
      LoadError("backends/testing/libtheta_broken_no_entry_point.so");
  EXPECT_THAT(message, HasSubstr("libtheta_broken_no_entry_point.so"));
  EXPECT_THAT(message, HasSubstr("no entry point theta_backend_get_api()"));
}

TEST(RegistryTest, WrongAbiMajorVersion) {
  std::string message =
      LoadError("backends/testing/libtheta_broken_old_abi.so");
  EXPECT_THAT(message, HasSubstr("ABI version mismatch: plugin has 2.0"));
  EXPECT_THAT(message, HasSubstr("this loader needs 1.x"));
}

TEST(RegistryTest, TableShorterThanTheLoaderNeeds) {
  std::string message =
      LoadError("backends/testing/libtheta_broken_short_table.so");
  EXPECT_THAT(message, HasSubstr("the plugin is older than the loader"));
}

TEST(RegistryTest, Abi10TableIsAcceptedAndItsCodesConverted) {
  // The loader takes the 1.0 table (the failure is the plugin's own
  // plugin_create, not the table) and reads its status through the 1.0
  // numbering.
  std::string message =
      LoadError("backends/testing/libtheta_broken_abi_1_0.so");
  EXPECT_THAT(message, HasSubstr("libtheta_broken_abi_1_0.so: "
                                 "initialisation failed"));
  EXPECT_THAT(message, HasSubstr("simulated: no device present"));
  EXPECT_THAT(message, Not(HasSubstr("older than the loader")));
}

TEST(RegistryTest, StatusCodesOfEachAbiMinor) {
  using theta::backends::StatusCodeFromPlugin;
  EXPECT_EQ(StatusCodeFromPlugin(0, THETA_STATUS_1_0_INVALID_ARGUMENT),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeFromPlugin(0, THETA_STATUS_1_0_OUT_OF_MEMORY),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusCodeFromPlugin(0, THETA_STATUS_1_0_UNAVAILABLE),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeFromPlugin(0, THETA_STATUS_1_0_UNIMPLEMENTED),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(StatusCodeFromPlugin(0, THETA_STATUS_1_0_INTERNAL),
            absl::StatusCode::kInternal);
  EXPECT_EQ(StatusCodeFromPlugin(0, THETA_STATUS_1_0_FAILED_PRECONDITION),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusCodeFromPlugin(0, 42), absl::StatusCode::kInternal);
  // 1.1 and later: absl's numbers.
  EXPECT_EQ(StatusCodeFromPlugin(1, THETA_STATUS_INVALID_ARGUMENT),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeFromPlugin(1, THETA_STATUS_UNAVAILABLE),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeFromPlugin(1, THETA_STATUS_OUT_OF_MEMORY),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      StatusCodeFromPlugin(2, static_cast<int>(absl::StatusCode::kNotFound)),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeFromPlugin(1, THETA_STATUS_OK),
            absl::StatusCode::kInternal);
  EXPECT_EQ(StatusCodeFromPlugin(1, 99), absl::StatusCode::kInternal);
}

TEST(RegistryTest, KernelErrorsKeepTheirCode) {
  absl::StatusOr<theta::backends::Backend*> cpu =
      theta::backends::GetBackend("cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_I32;
  absl::Status s =
      (*cpu)->Check((*cpu)->api().gemm((*cpu)->stream(), &g), "gemm");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("cpu: gemm: dtype I32"));
}

TEST(RegistryTest, CpuAnswersTheCapabilityQuery) {
  auto plugins = theta::backends::available();
  bool found = false;
  for (const auto& p : plugins) {
    if (p.name != "cpu" || !p.available) continue;
    found = true;
    EXPECT_EQ(p.abi, absl::StrCat(THETA_BACKEND_ABI_MAJOR, ".",
                                  THETA_BACKEND_ABI_MINOR));
    EXPECT_TRUE(p.missing_entries.empty());
    ASSERT_EQ(p.kernels.size(), static_cast<size_t>(THETA_KERNEL_COUNT));
    EXPECT_EQ(p.kernels[0].kernel, "gemm");
    EXPECT_EQ(p.kernels[0].dtypes, (std::vector<std::string>{"F32", "F64"}));
  }
  EXPECT_TRUE(found);
  absl::StatusOr<theta::backends::Backend*> cpu =
      theta::backends::GetBackend("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_TRUE((*cpu)->Supports(THETA_KERNEL_COPY, THETA_DTYPE_BOOL));
  EXPECT_FALSE((*cpu)->Supports(THETA_KERNEL_SCATTER_ADD, THETA_DTYPE_BOOL));
}

TEST(RegistryTest, NullEntryInTable) {
  std::string message =
      LoadError("backends/testing/libtheta_broken_null_entry.so");
  EXPECT_THAT(message, HasSubstr("is null"));
}

TEST(RegistryTest, PluginWhoseInitFails) {
  std::string message =
      LoadError("backends/testing/libtheta_broken_init_fails.so");
  EXPECT_THAT(message, HasSubstr("libtheta_broken_init_fails.so: "
                                 "initialisation failed"));
  EXPECT_THAT(message, HasSubstr("simulated: no device present"));
}

TEST(RegistryTest, ValidateRejectsNullTable) {
  EXPECT_THAT(ValidateApiTable(nullptr).message(), HasSubstr("no table"));
}

TEST(RegistryTest, DiscoveryReportsEveryPluginAndWhyItWasRejected) {
  DiscoveryReport report = Discover();
  bool cpu_available = false;
  int rejected = 0;
  std::string listing;
  for (const PluginReport& plugin : report.plugins) {
    listing += plugin.path + ": " + plugin.reason + "\n";
    if (plugin.name == "cpu" && plugin.available) {
      cpu_available = true;
      EXPECT_FALSE(plugin.devices.empty());
      for (const DeviceReport& device : plugin.devices) {
        EXPECT_TRUE(device.host_memory) << device.name;
      }
      EXPECT_TRUE(plugin.reason.empty());
    }
    if (!plugin.available) {
      EXPECT_FALSE(plugin.reason.empty()) << plugin.path;
      // The CUDA plugin, where built, is rejected on machines without a GPU.
      if (plugin.path.find("libtheta_broken_") != std::string::npos) {
        ++rejected;
      }
    }
  }
  EXPECT_TRUE(cpu_available);
  // The six libtheta_broken_*.so in runfiles, each once.
  EXPECT_EQ(rejected, 6) << listing;
  bool searched_runfiles = false;
  for (const SearchLocation& location : report.locations) {
    if (location.origin == "runfiles") searched_runfiles = true;
  }
  EXPECT_TRUE(searched_runfiles);
}

TEST(RegistryTest, NameOfUnusablePluginsGivesTheirReasons) {
  absl::StatusOr<Backend*> backend = GetBackend("broken");
  ASSERT_FALSE(backend.ok());
  EXPECT_THAT(backend.status().message(),
              HasSubstr("backend 'broken' is not usable"));
  EXPECT_THAT(backend.status().message(),
              HasSubstr("simulated: no device present"));
}

TEST(RegistryTest, UnknownBackendInEnvironment) {
  setenv("THETA_BACKEND", "nosuch", 1);
  absl::StatusOr<Backend*> backend = CurrentBackend();
  unsetenv("THETA_BACKEND");
  ASSERT_FALSE(backend.ok());
  std::string message(backend.status().message());
  EXPECT_THAT(message, HasSubstr("THETA_BACKEND=nosuch"));
  EXPECT_THAT(message, HasSubstr("no backend named 'nosuch'"));
  EXPECT_THAT(message, HasSubstr("found: "));
  EXPECT_THAT(message, HasSubstr("cpu"));
  EXPECT_THAT(message, HasSubstr("searched: "));
}

// An empty THETA_BACKEND counts as unset: the default backend.
TEST(RegistryTest, EmptyBackendInEnvironmentMeansTheDefault) {
  setenv("THETA_BACKEND", "", 1);
  absl::StatusOr<Backend*> backend = CurrentBackend();
  unsetenv("THETA_BACKEND");
  ASSERT_TRUE(backend.ok()) << backend.status();
  EXPECT_EQ((*backend)->id(), "cpu");
}

TEST(RegistryTest, BlankOrPaddedBackendInEnvironment) {
  struct Case {
    const char* value;
    const char* says;
  };
  for (const Case& c :
       {Case{" ", "backend name ' ' is blank"}, Case{"\t\n", "is blank"},
        Case{" cpu",
             "backend name ' cpu' has leading or "
             "trailing whitespace"},
        Case{"cpu\n", "has leading or trailing whitespace"},
        Case{"cuda:1 ", "has leading or trailing whitespace"}}) {
    SCOPED_TRACE(c.value);
    setenv("THETA_BACKEND", c.value, 1);
    absl::StatusOr<Backend*> backend = CurrentBackend();
    unsetenv("THETA_BACKEND");
    ASSERT_FALSE(backend.ok());
    EXPECT_EQ(backend.status().code(), absl::StatusCode::kInvalidArgument);
    std::string message(backend.status().message());
    EXPECT_THAT(message, HasSubstr(std::string("THETA_BACKEND=") + c.value));
    EXPECT_THAT(message, HasSubstr(c.says));
    EXPECT_THAT(message, HasSubstr("such as 'cpu' or 'cuda'"));
  }
}

TEST(RegistryTest, UseOfAnEmptyOrBlankNameThrows) {
  for (const char* name : {"", "  "}) {
    SCOPED_TRACE(name);
    try {
      use(name);
      FAIL() << "use(\"" << name << "\") did not throw";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(),
                  HasSubstr(*name == '\0' ? "empty backend name" : "is blank"));
    }
  }
}

TEST(RegistryTest, UseThrowsThetaErrorForUnknownName) {
  try {
    use("nosuch");
    FAIL() << "use(\"nosuch\") did not throw";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no backend named 'nosuch'"));
  }
}

TEST(RegistryTest, BadDeviceIndex) {
  absl::StatusOr<Backend*> backend = GetBackend("cpu:7");
  ASSERT_FALSE(backend.ok());
  EXPECT_THAT(backend.status().message(), HasSubstr("no device 7"));
  EXPECT_FALSE(GetBackend("cpu:x").ok());
}

TEST(RegistryTest, SearchPathFromEnvironmentComesFirst) {
  std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/plugins";
  ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
  std::string target =
      Runfile("backends/testing/libtheta_broken_init_fails.so");
  std::string link = dir + "/libtheta_extra.so";
  unlink(link.c_str());
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  setenv("THETA_BACKEND_PATH", (dir + ":/nonexistent/theta").c_str(), 1);
  Rescan();
  DiscoveryReport report = Discover();
  unsetenv("THETA_BACKEND_PATH");
  Rescan();
  ASSERT_GE(report.locations.size(), 2u);
  EXPECT_EQ(report.locations[0].path, dir);
  EXPECT_EQ(report.locations[0].origin, "THETA_BACKEND_PATH");
  EXPECT_EQ(report.locations[0].result, "1 plugin");
  EXPECT_EQ(report.locations[1].result, "not present");
  ASSERT_FALSE(report.plugins.empty());
  EXPECT_EQ(report.plugins[0].path, link);
  EXPECT_FALSE(report.plugins[0].available);
  EXPECT_THAT(report.plugins[0].reason, HasSubstr("simulated"));
}

TEST(RegistryTest, SearchPathEntriesThatAreNotPluginsSayWhy) {
  const std::string tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp + "/not_plugins";
  ASSERT_EQ(system(("mkdir -p " + dir + "/subdir").c_str()), 0);
  for (const char* name : {"libtheta_cuda.so.1", "libfoo.so", "notes.txt"}) {
    ASSERT_EQ(system(("touch " + dir + "/" + name).c_str()), 0);
  }
  const std::string unreadable = tmp + "/unreadable";
  ASSERT_EQ(system(("rm -rf " + unreadable + "; mkdir -p " + unreadable +
                    "; chmod 000 " + unreadable)
                       .c_str()),
            0);
  setenv("THETA_BACKEND_PATH",
         (dir + ":" + unreadable + ":/nonexistent/theta").c_str(), 1);
  Rescan();
  DiscoveryReport report = Discover();
  absl::StatusOr<Backend*> missing = GetBackend("nosuch");
  unsetenv("THETA_BACKEND_PATH");
  Rescan();
  ASSERT_GE(report.locations.size(), 3u);
  EXPECT_EQ(report.locations[0].result,
            "0 plugins; skipped libfoo.so, libtheta_cuda.so.1, notes.txt (not "
            "named libtheta_<name>.so)");
  // Root reads any directory; others are told why they cannot.
  if (geteuid() != 0) {
    EXPECT_EQ(report.locations[1].result, "cannot read: Permission denied");
  }
  EXPECT_EQ(report.locations[2].result, "not present");
  // The error for a backend that is not found carries the same reasons.
  EXPECT_THAT(missing.status().message(),
              HasSubstr(dir + " [THETA_BACKEND_PATH: 0 plugins; skipped "
                              "libfoo.so, libtheta_cuda.so.1, notes.txt"));
}

TEST(RegistryTest, UseSelectsTheCurrentBackend) {
  use("cpu");
  Backend& backend = current();
  EXPECT_EQ(backend.name(), "cpu");
  EXPECT_EQ(backend.id(), "cpu");
  EXPECT_FALSE(backend.device_name().empty());
}

TEST(BackendTest, BuffersAreCountedAndFreed) {
  Backend& backend = current();
  AllocationStats before = backend.allocation_stats();
  {
    absl::StatusOr<Buffer> buffer = backend.Allocate(4096);
    ASSERT_TRUE(buffer.ok()) << buffer.status();
    EXPECT_NE(buffer->data(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % 64, 0u);
    Buffer moved = *std::move(buffer);
    EXPECT_EQ(moved.size(), 4096u);
    EXPECT_EQ(backend.allocation_stats().bytes_in_use,
              before.bytes_in_use + 4096);
  }
  AllocationStats after = backend.allocation_stats();
  EXPECT_EQ(after.allocations, before.allocations + 1);
  EXPECT_EQ(after.frees, before.frees + 1);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
}

TEST(BackendTest, DataMovesBetweenTwoBackendsByExplicitCopies) {
  absl::StatusOr<std::shared_ptr<PluginLibrary>> library =
      PluginLibrary::Load(Runfile("backends/cpu/libtheta_cpu.so"));
  ASSERT_TRUE(library.ok()) << library.status();
  auto first = Backend::Open(*library, 0);
  auto second = Backend::Open(*library, 0);
  ASSERT_TRUE(first.ok() && second.ok());
  std::vector<float> host = {1.5f, -2.0f, 3.25f};
  auto a = (*first)->Allocate(sizeof(float) * 3);
  auto b = (*second)->Allocate(sizeof(float) * 3);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*first)->CopyToDevice(a->data(), host.data(), 12).ok());
  ASSERT_TRUE(CopyBetween(**first, a->data(), **second, b->data(), 12).ok());
  std::vector<float> back(3);
  ASSERT_TRUE((*second)->CopyToHost(back.data(), b->data(), 12).ok());
  ASSERT_TRUE((*second)->Synchronize().ok());
  EXPECT_EQ(back, host);
}

}  // namespace
}  // namespace theta::backends
