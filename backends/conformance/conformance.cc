#include "backends/conformance/conformance.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "absl/strings/str_split.h"
#include "backends/registry.h"

namespace theta::conformance {

std::vector<std::string> BackendsUnderTest() {
  std::vector<std::string> names;
  if (const char* env = std::getenv("THETA_CONFORMANCE_BACKENDS")) {
    for (absl::string_view name : absl::StrSplit(env, ',', absl::SkipEmpty())) {
      names.emplace_back(name);
    }
    return names;
  }
  for (const backends::PluginReport& p : backends::available()) {
    if (std::find(names.begin(), names.end(), p.name) == names.end()) {
      names.push_back(p.name);
    }
  }
  return names;
}

std::string BackendTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

void ConformanceTest::SetUp() {
  absl::StatusOr<backends::Backend*> b = backends::GetBackend(GetParam());
  if (!b.ok()) {
    // A backend named in THETA_CONFORMANCE_BACKENDS was asked for: failing
    // to load it is a failure. One merely found is skipped.
    if (std::getenv("THETA_CONFORMANCE_BACKENDS") != nullptr) {
      FAIL() << "backend \"" << GetParam()
             << "\" (named in THETA_CONFORMANCE_BACKENDS) is not usable: "
             << b.status().message();
    }
    GTEST_SKIP() << "backend \"" << GetParam()
                 << "\" is not usable here: " << b.status().message();
  }
  backend_ = *b;
}

::testing::AssertionResult ConformanceTest::Ok(theta_status* status) {
  if (status == nullptr) return ::testing::AssertionSuccess();
  ::testing::AssertionResult r = ::testing::AssertionFailure()
                                 << api().status_message(status);
  api().status_free(status);
  return r;
}

::testing::AssertionResult ConformanceTest::Invalid(theta_status* status,
                                                    const std::string& part) {
  if (status == nullptr) {
    return ::testing::AssertionFailure() << "succeeded, expected an error";
  }
  const theta_status_code code = api().status_code(status);
  const std::string message = api().status_message(status);
  api().status_free(status);
  if (code != THETA_STATUS_INVALID_ARGUMENT ||
      message.find(part) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "code " << code << " \"" << message << "\", expected "
           << "INVALID_ARGUMENT containing \"" << part << "\"";
  }
  return ::testing::AssertionSuccess();
}

DeviceArray ConformanceTest::UploadBytes(const void* data, size_t bytes,
                                         theta_dtype dtype) {
  absl::StatusOr<backends::Buffer> buffer = backend_->Allocate(bytes);
  if (!buffer.ok()) {
    ADD_FAILURE() << "allocating " << bytes << " bytes: " << buffer.status();
    return DeviceArray{backends::Buffer(), dtype};
  }
  DeviceArray a{std::move(*buffer), dtype};
  if (bytes > 0) {
    EXPECT_TRUE(backend_->CopyToDevice(a.buffer.data(), data, bytes).ok());
  }
  return a;
}

void ConformanceTest::DownloadBytes(const DeviceArray& array, void* data,
                                    size_t bytes) {
  EXPECT_TRUE(backend_->Synchronize().ok());
  if (bytes > 0) {
    EXPECT_TRUE(backend_->CopyToHost(data, array.buffer.data(), bytes).ok());
  }
  EXPECT_TRUE(backend_->Synchronize().ok());
}

}  // namespace theta::conformance
