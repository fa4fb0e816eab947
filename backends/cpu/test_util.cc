#include "backends/cpu/test_util.h"

#include <cstdlib>

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

ScopedEnv::ScopedEnv(const char* name, const char* value) : name_(name) {
  if (const char* old = std::getenv(name)) {
    had_old_ = true;
    old_ = old;
  }
  if (value == nullptr) {
    unsetenv(name);
  } else {
    setenv(name, value, 1);
  }
}

ScopedEnv::~ScopedEnv() {
  if (had_old_) {
    setenv(name_.c_str(), old_.c_str(), 1);
  } else {
    unsetenv(name_.c_str());
  }
}

ScopedThreadsEnv::ScopedThreadsEnv(int threads)
    : env_("THETA_NUM_THREADS",
           threads == 0 ? nullptr : std::to_string(threads).c_str()) {}

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

}  // namespace theta::cpu::testing
