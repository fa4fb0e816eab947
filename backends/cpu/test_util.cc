#include "backends/cpu/test_util.h"

#include <cstdlib>

#include "backends/cpu/kernels.h"

namespace theta::cpu::testing {

::testing::AssertionResult IsOk(theta_status* status) {
  if (status == nullptr) return ::testing::AssertionSuccess();
  ::testing::AssertionResult r = ::testing::AssertionFailure()
                                 << "status code " << api().status_code(status)
                                 << ": " << api().status_message(status);
  api().status_free(status);
  return r;
}

::testing::AssertionResult IsError(theta_status* status, theta_status_code code,
                                   std::initializer_list<std::string> parts) {
  if (status == nullptr) {
    return ::testing::AssertionFailure()
           << "expected code " << code << ", got success";
  }
  const theta_status_code got = api().status_code(status);
  const std::string message = api().status_message(status);
  api().status_free(status);
  if (got != code) {
    return ::testing::AssertionFailure()
           << "expected code " << code << ", got " << got << ": " << message;
  }
  for (const std::string& part : parts) {
    if (message.find(part) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "message \"" << message << "\" lacks \"" << part << "\"";
    }
  }
  return ::testing::AssertionSuccess() << message;
}

ScopedThreadsEnv::ScopedThreadsEnv(int threads) {
  if (const char* old = std::getenv("THETA_NUM_THREADS")) {
    had_old_ = true;
    old_ = old;
  }
  if (threads == 0) {
    unsetenv("THETA_NUM_THREADS");
  } else {
    setenv("THETA_NUM_THREADS", std::to_string(threads).c_str(), 1);
  }
}

ScopedThreadsEnv::~ScopedThreadsEnv() {
  if (had_old_) {
    setenv("THETA_NUM_THREADS", old_.c_str(), 1);
  } else {
    unsetenv("THETA_NUM_THREADS");
  }
}

void PluginTest::SetUp() {
  ScopedThreadsEnv env(GetParam());
  ASSERT_TRUE(IsOk(api().plugin_create(&plugin_)));
  ASSERT_TRUE(IsOk(api().device_open(plugin_, 0, &device_)));
  ASSERT_TRUE(IsOk(api().stream_create(device_, &stream_)));
  if (GetParam() != 0) {
    ASSERT_EQ(NumThreads(), GetParam());
  }
}

void PluginTest::TearDown() {
  if (stream_) api().stream_destroy(stream_);
  if (device_) api().device_close(device_);
  if (plugin_) api().plugin_destroy(plugin_);
}

int32_t PluginTest::NumThreads() const {
  auto fn = reinterpret_cast<int32_t (*)(theta_plugin*)>(
      api().get_extension(plugin_, "cpu.num_threads"));
  return fn == nullptr ? -1 : fn(plugin_);
}

std::string ThreadsName(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? "default" : "t" + std::to_string(info.param);
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
  for (size_t d = 0; d < shape.size(); ++d) {
    if (strides[d] < 0) first -= (shape[d] - 1) * strides[d];
  }
  return first;
}

int64_t View::Extent() const {
  if (Count() == 0) return 0;
  int64_t e = 1 + First();
  for (size_t d = 0; d < shape.size(); ++d) {
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

theta_array View::Array(const void* data, theta_dtype dtype) const {
  char* first = static_cast<char*>(const_cast<void*>(data));
  if (data != nullptr)
    first += First() * static_cast<int64_t>(DtypeSize(dtype));
  return theta_array{first, dtype, ndim(), shape.data(), strides.data()};
}

View Contiguous(std::vector<int64_t> shape) { return Spaced(shape, 1); }

View Spaced(std::vector<int64_t> shape, int64_t step) {
  View v{shape, std::vector<int64_t>(shape.size())};
  int64_t s = step;
  for (int d = v.ndim() - 1; d >= 0; --d) {
    v.strides[d] = s;
    s *= std::max<int64_t>(shape[d], 1);
  }
  return v;
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
  return View{shape, strides};
}

}  // namespace theta::cpu::testing
