// Array views over a buffer for kernel tests (shape and strides in
// elements, negative strides included), seeded random data and ulp
// distances; shared by the plugins' tests and the conformance suite.
//
//   const View v = Transposed({3, 4});
//   std::vector<float> host(v.Extent());
//   theta_array a = v.Array(host.data(), DtypeOf<float>());
//   for (int64_t e = 0; e < v.Count(); ++e) host[v.Offset(e)] = e;
#ifndef THETA_BACKENDS_TESTING_VIEWS_H_
#define THETA_BACKENDS_TESTING_VIEWS_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "backends/api/theta_backend.h"

namespace theta::backends::testing {

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
  // The view of a buffer (host or device address) starting at `data`. The
  // array points into this view's shape and strides: no temporaries.
  theta_array Array(const void* data, theta_dtype dtype) const&;
  theta_array Array(const void* data, theta_dtype dtype) const&& = delete;
};

// Row-major contiguous.
View Contiguous(std::vector<int64_t> shape);
// Row-major with every stride multiplied by `step` (every step-th element).
View Spaced(std::vector<int64_t> shape, int64_t step);
// Contiguous in reversed dimension order (a transposed view).
View Transposed(std::vector<int64_t> shape);
View Strided(std::vector<int64_t> shape, std::vector<int64_t> strides);

// Bytes per element of a dtype.
size_t DtypeBytes(theta_dtype dtype);

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

// Whether `got`, a backend's normal draw a + b z stored as T, matches
// `want`, another backend's (or the host reference's) draw of the same
// counter. Backends agree on the standard normal z to a few ulp (their log
// and cos differ in the last bits), and a + b z is rounded once, so the
// bound is 4 ulp (in double) of b z plus one ulp of the result in T. Ulps
// of the result alone would not do: where a + b z nearly cancels, a
// difference in the last bit of z is many ulps of the result.
template <typename T>
bool NormalDrawsAgree(T got, T want, double a) {
  const auto ulp = [](auto x) {
    using U = decltype(x);
    const U m = std::fabs(x);
    return std::nextafter(m, std::numeric_limits<U>::infinity()) - m;
  };
  const double bz = std::fabs(static_cast<double>(want) - a);
  return std::fabs(static_cast<double>(got) - static_cast<double>(want)) <=
         4 * ulp(bz) + static_cast<double>(ulp(want));
}

}  // namespace theta::backends::testing

#endif  // THETA_BACKENDS_TESTING_VIEWS_H_
