// Helpers for the CPU plugin's tests: a fixture that opens a plugin, device
// and stream with THETA_NUM_THREADS unset, 1 or 3; status matchers; array
// views over host memory (the CPU device's addresses are host pointers);
// seeded random data; ulp distances.
//
//   class GemmTest : public PluginTest {};
//   TEST_P(GemmTest, Square) { EXPECT_TRUE(IsOk(api().gemm(stream_, &g))); }
//   THETA_CPU_INSTANTIATE_THREADS(GemmTest);
#ifndef THETA_BACKENDS_CPU_TEST_UTIL_H_
#define THETA_BACKENDS_CPU_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backends/api/theta_backend.h"
#include "backends/testing/views.h"

extern "C" const theta_backend_api* theta_backend_get_api(void);

namespace theta::cpu::testing {

inline const theta_backend_api& api() { return *theta_backend_get_api(); }

// Success, or a failure carrying the status's code and message. Frees it.
::testing::AssertionResult IsOk(theta_status* status);

// A status with `code` whose message contains every string in `parts`.
// Frees it.
::testing::AssertionResult IsError(theta_status* status, theta_status_code code,
                                   std::initializer_list<std::string> parts);

// Sets the environment variable `name` to `value` (nullptr: unset) until
// destroyed, then restores what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  bool had_old_ = false;
  std::string old_;
};

// Sets THETA_NUM_THREADS to `threads` (0: unset) until destroyed.
class ScopedThreadsEnv {
 public:
  explicit ScopedThreadsEnv(int threads);

 private:
  ScopedEnv env_;
};

// A plugin, device and stream. The parameter is THETA_NUM_THREADS at
// plugin_create (0: unset, the CPU affinity count).
class PluginTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override;
  void TearDown() override;
  int32_t NumThreads() const;

  theta_plugin* plugin_ = nullptr;
  theta_device* device_ = nullptr;
  theta_stream* stream_ = nullptr;
};

std::string ThreadsName(const ::testing::TestParamInfo<int>& info);

#define THETA_CPU_INSTANTIATE_THREADS(suite)                           \
  INSTANTIATE_TEST_SUITE_P(Threads, suite, ::testing::Values(0, 1, 3), \
                           ::theta::cpu::testing::ThreadsName)

// Views, random data and ulp distances (backends/testing/views.h).
using ::theta::backends::testing::Contiguous;
using ::theta::backends::testing::DtypeOf;
using ::theta::backends::testing::Random;
using ::theta::backends::testing::Spaced;
using ::theta::backends::testing::Strided;
using ::theta::backends::testing::Transposed;
using ::theta::backends::testing::UlpDistance;
using ::theta::backends::testing::View;

// Stores an arbitrary int in an enum field, as a C caller may; a C++
// static_cast to the enum would itself be undefined for such values.
template <typename E>
void SetRawEnum(E& field, int32_t value) {
  std::memcpy(&field, &value, sizeof(value));
}

// Bitwise-or-NaN equality for floats, == for integers.
template <typename T>
bool SameValue(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) && std::isnan(b)) return true;
    return a == b && std::signbit(a) == std::signbit(b);
  } else {
    return a == b;
  }
}

}  // namespace theta::cpu::testing

#endif  // THETA_BACKENDS_CPU_TEST_UTIL_H_
