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

}  // namespace theta::cpu::testing
