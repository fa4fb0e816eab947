// The backend conformance suite's harness: a fixture parameterised by
// backend name, device arrays with arbitrary views, and the comparisons the
// kernel tests share. Every plugin that loads must pass the suite; one that
// does not load is skipped with its reason.
//
// Backends under test: $THETA_CONFORMANCE_BACKENDS ("cpu,cuda"; each must
// load, or its tests fail), else every plugin the registry finds (those that
// do not load are skipped with the reason). Each test file instantiates its
// suite with THETA_CONFORMANCE_INSTANTIATE(SuiteName).
#ifndef THETA_BACKENDS_CONFORMANCE_CONFORMANCE_H_
#define THETA_BACKENDS_CONFORMANCE_CONFORMANCE_H_

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/api/theta_backend.h"
#include "backends/backend.h"
#include "backends/testing/views.h"

namespace theta::conformance {

std::vector<std::string> BackendsUnderTest();
std::string BackendTestName(const ::testing::TestParamInfo<std::string>& info);

#define THETA_CONFORMANCE_INSTANTIATE(suite)                          \
  INSTANTIATE_TEST_SUITE_P(                                           \
      Backends, suite,                                                \
      ::testing::ValuesIn(::theta::conformance::BackendsUnderTest()), \
      ::theta::conformance::BackendTestName)

// Views and random data (backends/testing/views.h).
using ::theta::backends::testing::Contiguous;
using ::theta::backends::testing::DtypeOf;
using ::theta::backends::testing::NormalDrawsAgree;
using ::theta::backends::testing::Random;
using ::theta::backends::testing::Spaced;
using ::theta::backends::testing::Strided;
using ::theta::backends::testing::Transposed;
using ::theta::backends::testing::View;

// A device buffer holding a host vector's bytes, read back with Download.
struct DeviceArray {
  backends::Buffer buffer;
  theta_dtype dtype = THETA_DTYPE_F32;
  // The view `v` of this buffer as a kernel operand.
  theta_array Array(const View& v) const {
    return v.Array(buffer.data(), dtype);
  }
  // The array points into the view's shape and strides: no temporaries.
  theta_array Array(const View&& v) const = delete;
};

class ConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;

  backends::Backend& backend() { return *backend_; }
  const theta_backend_api& api() { return backend_->api(); }
  theta_stream* stream() { return backend_->stream(); }

  // Success, or a failure with the status's message (which is freed).
  ::testing::AssertionResult Ok(theta_status* status);
  // An INVALID_ARGUMENT status whose message contains `part`.
  ::testing::AssertionResult Invalid(theta_status* status,
                                     const std::string& part);

  DeviceArray UploadBytes(const void* data, size_t bytes, theta_dtype dtype);
  void DownloadBytes(const DeviceArray& array, void* data, size_t bytes);

  template <typename T>
  DeviceArray Upload(const std::vector<T>& host) {
    return UploadBytes(host.data(), host.size() * sizeof(T), DtypeOf<T>());
  }
  template <typename T>
  std::vector<T> Download(const DeviceArray& array, size_t count) {
    std::vector<T> host(count);
    DownloadBytes(array, host.data(), count * sizeof(T));
    return host;
  }

 private:
  backends::Backend* backend_ = nullptr;
};

// |got - want| <= atol + rtol * |want|, NaN only where want is NaN, equal
// infinities; prints the first few mismatches with their positions.
template <typename T>
::testing::AssertionResult AllClose(const std::vector<T>& got,
                                    const std::vector<double>& want,
                                    double rtol, double atol) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure()
           << "size " << got.size() << ", expected " << want.size();
  }
  int bad = 0;
  ::testing::AssertionResult r = ::testing::AssertionFailure();
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = static_cast<double>(got[i]), w = want[i];
    bool ok;
    if (std::isnan(w) || std::isnan(g)) {
      ok = std::isnan(w) && std::isnan(g);
    } else if (std::isinf(w) || std::isinf(g)) {
      ok = g == w;
    } else {
      ok = std::abs(g - w) <= atol + rtol * std::abs(w);
    }
    if (!ok && bad++ < 5)
      r << "[" << i << "] got " << g << ", want " << w << "; ";
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return r << bad << " of " << got.size() << " differ";
}

// Relative tolerance of float32 or float64 results.
template <typename T>
constexpr double Tolerance() {
  return std::is_same_v<T, float> ? 2e-5 : 1e-12;
}

}  // namespace theta::conformance

#endif  // THETA_BACKENDS_CONFORMANCE_CONFORMANCE_H_
