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

extern "C" const theta_backend_api* theta_backend_get_api(void);

namespace theta::cpu::testing {

inline const theta_backend_api& api() { return *theta_backend_get_api(); }

// Success, or a failure carrying the status's code and message. Frees it.
::testing::AssertionResult IsOk(theta_status* status);

// A status with `code` whose message contains every string in `parts`.
// Frees it.
::testing::AssertionResult IsError(theta_status* status, theta_status_code code,
                                   std::initializer_list<std::string> parts);

// Sets THETA_NUM_THREADS to `threads` (0: unset) until destroyed.
class ScopedThreadsEnv {
 public:
  explicit ScopedThreadsEnv(int threads);
  ~ScopedThreadsEnv();

 private:
  bool had_old_ = false;
  std::string old_;
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

// Shape and strides (in elements) of an array over host memory.
struct View {
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;

  int ndim() const { return static_cast<int>(shape.size()); }
  int64_t Count() const;
  // Offset in the buffer of element (0, ..., 0): 0 unless some strides are
  // negative (a reversed view starts at the buffer's far end).
  int64_t First() const;
  // Elements a buffer needs: 1 + the largest offset (0 when empty).
  int64_t Extent() const;
  // Offset in the buffer of the element at row-major position `linear`.
  int64_t Offset(int64_t linear) const;
  // The view of a buffer starting at `data` (its element 0).
  theta_array Array(const void* data, theta_dtype dtype) const;
};

// Row-major contiguous.
View Contiguous(std::vector<int64_t> shape);
// Row-major with every stride multiplied by `step` (every step-th element).
View Spaced(std::vector<int64_t> shape, int64_t step);
// Contiguous in reversed dimension order (a transposed view).
View Transposed(std::vector<int64_t> shape);
View Strided(std::vector<int64_t> shape, std::vector<int64_t> strides);

template <typename T>
constexpr theta_dtype DtypeOf() {
  if constexpr (std::is_same_v<T, float>) return THETA_DTYPE_F32;
  if constexpr (std::is_same_v<T, double>) return THETA_DTYPE_F64;
  if constexpr (std::is_same_v<T, int32_t>) return THETA_DTYPE_I32;
  if constexpr (std::is_same_v<T, int64_t>) return THETA_DTYPE_I64;
  return THETA_DTYPE_U8;
}

// `n` values from a fixed-seed generator: floats uniform in [lo, hi),
// integers uniform in [lo, hi].
template <typename T>
std::vector<T> Random(int64_t n, double lo, double hi, uint32_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) {
    if constexpr (std::is_floating_point_v<T>) {
      x = static_cast<T>(std::uniform_real_distribution<double>(lo, hi)(gen));
    } else {
      x = static_cast<T>(std::uniform_int_distribution<int64_t>(
          static_cast<int64_t>(lo), static_cast<int64_t>(hi))(gen));
    }
  }
  return v;
}

// Distance in units in the last place; 0 when both are NaN or equal,
// "infinite" when only one is NaN.
template <typename T>
int64_t UlpDistance(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::isnan(a) && std::isnan(b) ? 0
                                          : std::numeric_limits<int64_t>::max();
  }
  if (a == b) return 0;
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  auto key = [](T x) {
    I i;
    std::memcpy(&i, &x, sizeof(T));
    // Map to a monotonic integer line.
    return i < 0 ? static_cast<int64_t>(std::numeric_limits<I>::min()) -
                       static_cast<int64_t>(i)
                 : static_cast<int64_t>(i);
  };
  int64_t d = key(a) - key(b);
  return d < 0 ? -d : d;
}

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
