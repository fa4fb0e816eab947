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

int64_t View::Count() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

int64_t View::First() const {
  // Not via Count(): a view may be too large to count (overflow tests).
  for (int64_t s : shape) {
    if (s == 0) return 0;
  }
  int64_t first = 0;
  for (int d = 0; d < ndim(); ++d) {
    if (strides[d] < 0) first -= (shape[d] - 1) * strides[d];
  }
  return first;
}

int64_t View::Extent() const {
  if (Count() == 0) return 0;
  int64_t e = 1 + First();
  for (int d = 0; d < ndim(); ++d) {
    if (strides[d] > 0) e += (shape[d] - 1) * strides[d];
  }
  return e;
}

int64_t View::Offset(int64_t linear) const {
  int64_t off = First();
  for (int d = ndim() - 1; d >= 0; --d) {
    off += (linear % shape[d]) * strides[d];
    linear /= shape[d];
  }
  return off;
}

View Spaced(std::vector<int64_t> shape, int64_t step) {
  View v{shape, std::vector<int64_t>(shape.size())};
  int64_t s = step;
  for (int d = v.ndim() - 1; d >= 0; --d) {
    v.strides[d] = s;
    s *= std::max<int64_t>(shape[d], 1);
  }
  return v;
}

View Contiguous(std::vector<int64_t> shape) {
  return Spaced(std::move(shape), 1);
}

View Transposed(std::vector<int64_t> shape) {
  View v{shape, std::vector<int64_t>(shape.size())};
  int64_t s = 1;
  for (int d = 0; d < v.ndim(); ++d) {
    v.strides[d] = s;
    s *= std::max<int64_t>(shape[d], 1);
  }
  return v;
}

View Strided(std::vector<int64_t> shape, std::vector<int64_t> strides) {
  return View{std::move(shape), std::move(strides)};
}

namespace {

size_t SizeOf(theta_dtype dtype) {
  switch (dtype) {
    case THETA_DTYPE_F64:
    case THETA_DTYPE_I64:
      return 8;
    case THETA_DTYPE_U8:
    case THETA_DTYPE_BOOL:
      return 1;
    default:
      return 4;
  }
}

}  // namespace

void* DeviceArray::At(int64_t element_offset) const {
  if (buffer.data() == nullptr) return nullptr;
  return static_cast<char*>(buffer.data()) +
         element_offset * static_cast<int64_t>(SizeOf(dtype));
}

theta_array DeviceArray::Array(const View& v) const {
  return theta_array{At(v.First()), dtype, v.ndim(), v.shape.data(),
                     v.strides.data()};
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
  EXPECT_TRUE(buffer.ok()) << buffer.status();
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
