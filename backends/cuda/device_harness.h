// The harness of the device tests: the CPU plugin (the reference) and the
// CUDA plugin loaded from their shared objects, as Theta loads them, each
// with a device and a stream; RunBoth makes one call on both over copies of
// the same host buffers; comparisons in ulps. Without a CUDA device the
// fixture skips every test with the driver's reason (or fails with
// THETA_CUDA_REQUIRE_DEVICE=1, as run_on_gpu.sh sets).
//
//   TEST_F(DeviceTest, Copy) {
//     Outcome o = RunBoth({ToBytes(x), Bytes(n)}, [&](const Loaded& p,
//         const std::vector<void*>& ptr) { return p.api->copy(...); });
//     ASSERT_EQ(o.cuda[1], o.cpu[1]);
//   }
#ifndef THETA_BACKENDS_CUDA_DEVICE_HARNESS_H_
#define THETA_BACKENDS_CUDA_DEVICE_HARNESS_H_

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/api/theta_backend.h"
#include "backends/cuda/cuda_extensions.h"
#include "backends/testing/views.h"

namespace theta::cuda::device_testing {

using Bytes = std::vector<uint8_t>;

// One loaded plugin with device 0 and a stream.
struct Loaded {
  void* lib = nullptr;
  const theta_backend_api* api = nullptr;
  theta_plugin* plugin = nullptr;
  theta_device* device = nullptr;
  theta_stream* stream = nullptr;
  std::string why_not;  // empty when usable

  bool ok() const { return why_not.empty(); }
};

// Loaded by a global test environment before the first test.
Loaded& CpuPlugin();
Loaded& CudaPlugin();

// The message of a status, which is freed; "" for success.
std::string Take(const theta_backend_api* api, theta_status* s);

::testing::AssertionResult Ok(const Loaded& p, theta_status* s);
::testing::AssertionResult Error(const Loaded& p, theta_status* s,
                                 theta_status_code code,
                                 std::vector<std::string> parts);

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  const theta_backend_api& cuda() const { return *CudaPlugin().api; }
};

// The CUDA device's statistics (cuda_extensions.h).
theta_cuda_device_stats Stats();

// Device buffers of one plugin holding copies of host buffers.
class Buffers {
 public:
  Buffers(const Loaded& p, const std::vector<Bytes>& host);
  ~Buffers();
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;
  const std::vector<void*>& ptrs() const { return ptrs_; }
  // Synchronizes, then copies every buffer back (sizes as in `like`).
  std::vector<Bytes> Download(const std::vector<Bytes>& like);

 private:
  const Loaded& p_;
  std::vector<theta_buffer*> buffers_;
  std::vector<void*> ptrs_;
};

using Call =
    std::function<theta_status*(const Loaded&, const std::vector<void*>&)>;

struct Outcome {
  std::vector<Bytes> cpu, cuda;
};

// Uploads `host` to each plugin, makes the call, downloads every buffer.
Outcome RunBoth(const std::vector<Bytes>& host, const Call& call);

template <typename T>
Bytes ToBytes(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

template <typename T>
std::vector<T> FromBytes(const Bytes& b) {
  std::vector<T> v(b.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
  return v;
}

// Fixed-seed values: floats uniform in [lo, hi), integers in [lo, hi].
using ::theta::backends::testing::Random;

// Units in the last place between two floats; 0 for two NaNs, "infinite"
// for one NaN or one infinity.
template <typename T>
int64_t Ulps(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
  }
  if (a == b) return 0;
  if (std::isinf(a) || std::isinf(b)) return INT64_MAX;
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  auto key = [](T x) {
    I i;
    std::memcpy(&i, &x, sizeof(T));
    return i < 0 ? static_cast<int64_t>(std::numeric_limits<I>::min()) -
                       static_cast<int64_t>(i)
                 : static_cast<int64_t>(i);
  };
  const int64_t d = key(a) - key(b);
  return d < 0 ? -d : d;
}

// Floats within `ulps` units in the last place or `rel` relative error
// (absolute below 1); integers equal.
template <typename T>
void ExpectClose(const Bytes& got_bytes, const Bytes& want_bytes, int64_t ulps,
                 double rel, const std::string& what) {
  const std::vector<T> got = FromBytes<T>(got_bytes);
  const std::vector<T> want = FromBytes<T>(want_bytes);
  ASSERT_EQ(got.size(), want.size()) << what;
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 10; ++i) {
    bool close;
    if constexpr (std::is_floating_point_v<T>) {
      close = Ulps(got[i], want[i]) <= ulps ||
              std::fabs(double(got[i]) - double(want[i])) <=
                  rel * std::max(1.0, std::fabs(double(want[i])));
    } else {
      close = got[i] == want[i];
    }
    if (!close) {
      ++failures;
      ADD_FAILURE() << what << ": element " << i << " is " << +got[i]
                    << ", the CPU plugin gives " << +want[i];
    }
  }
}

// Each element of `got` (a normal draw with mean `a`) agrees with `want`
// as backends/testing/views.h's NormalDrawsAgree allows.
template <typename T>
void ExpectNormalDrawsAgree(const Bytes& got_bytes, const Bytes& want_bytes,
                            double a, const std::string& what) {
  const std::vector<T> got = FromBytes<T>(got_bytes);
  const std::vector<T> want = FromBytes<T>(want_bytes);
  ASSERT_EQ(got.size(), want.size()) << what;
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 10; ++i) {
    if (!::theta::backends::testing::NormalDrawsAgree(got[i], want[i], a)) {
      ++failures;
      ADD_FAILURE() << what << ": element " << i << " is " << got[i]
                    << ", the CPU plugin gives " << want[i];
    }
  }
}

// An array's shape and strides (in elements).
struct Shape {
  std::vector<int64_t> dims, strides;

  int ndim() const { return static_cast<int>(dims.size()); }
  int64_t Count() const;
  // Elements a buffer needs (1 + the largest offset); 0 when empty.
  int64_t Extent() const;
  theta_array Array(void* data, theta_dtype dtype) const {
    return theta_array{data, dtype, ndim(), dims.data(), strides.data()};
  }
};

// Row-major, every stride times `step`.
Shape Contiguous(std::vector<int64_t> dims, int64_t step = 1);
// Contiguous in reversed dimension order.
Shape Transposed(std::vector<int64_t> dims);

size_t SizeOf(theta_dtype dtype);

}  // namespace theta::cuda::device_testing

#endif  // THETA_BACKENDS_CUDA_DEVICE_HARNESS_H_
