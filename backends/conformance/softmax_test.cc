// Softmax and log-softmax along the last axis against a max-subtracted loop
// in double: short and long rows, strided rows, in place, NaN and -inf.
#include <limits>
#include <vector>

#include "backends/conformance/conformance.h"

namespace theta::conformance {
namespace {

class SoftmaxTest : public ConformanceTest {
 protected:
  template <typename T>
  std::vector<double> Reference(const View& in, const std::vector<T>& data,
                                bool log) {
    const int64_t n = in.shape.back(),
                  rows = in.Count() / std::max<int64_t>(n, 1);
    std::vector<double> want(static_cast<size_t>(in.Count()));
    for (int64_t r = 0; r < rows; ++r) {
      double m = -INFINITY;
      bool nan = false;
      for (int64_t i = 0; i < n; ++i) {
        const double v = data[in.Offset(r * n + i)];
        nan |= std::isnan(v);
        m = std::max(m, v);
      }
      double s = 0;
      for (int64_t i = 0; i < n; ++i)
        s += std::exp(data[in.Offset(r * n + i)] - m);
      for (int64_t i = 0; i < n; ++i) {
        const double x = data[in.Offset(r * n + i)] - m;
        want[r * n + i] = nan ? NAN : log ? x - std::log(s) : std::exp(x) / s;
      }
    }
    return want;
  }

  // Softmax of view `in` into a contiguous output (or in place).
  template <typename T>
  void Check(const View& in, bool log, bool in_place = false) {
    std::vector<T> data =
        Random<T>(std::max<int64_t>(1, in.Extent()), -5, 5, 3);
    if (in.Count() > 10) {
      data[in.Offset(3)] = -std::numeric_limits<T>::infinity();
    }
    const std::vector<double> want = Reference(in, data, log);
    DeviceArray din = Upload(data);
    theta_softmax_args a{};
    a.struct_size = sizeof(a);
    a.log = log;
    a.input = din.Array(in);
    std::vector<T> got;
    if (in_place) {
      a.output = a.input;
      ASSERT_TRUE(Ok(api().softmax(stream(), &a)));
      const std::vector<T> all = Download<T>(din, data.size());
      for (int64_t i = 0; i < in.Count(); ++i) got.push_back(all[in.Offset(i)]);
    } else {
      const View out = Contiguous(in.shape);
      DeviceArray dout =
          Upload(std::vector<T>(std::max<int64_t>(1, out.Count())));
      a.output = dout.Array(out);
      ASSERT_TRUE(Ok(api().softmax(stream(), &a)));
      got = Download<T>(dout, out.Count());
    }
    const double tol = Tolerance<T>() * 20;
    EXPECT_TRUE(AllClose(got, want, tol, tol))
        << (log ? "log_softmax " : "softmax ") << in.shape.size() << "-d, row "
        << in.shape.back();
  }
};

TEST_P(SoftmaxTest, RowsShortAndLong) {
  for (bool log : {false, true}) {
    for (int64_t n : {1, 2, 31, 32, 33, 1000, 1025, 5000, 100003}) {
      Check<float>(Contiguous({3, n}), log);
      Check<double>(Contiguous({2, n}), log);
    }
    Check<float>(Contiguous({4097, 10}), log);  // many short rows
    Check<double>(Contiguous({7}), log);        // one row, rank 1
  }
}

TEST_P(SoftmaxTest, StridedAndInPlace) {
  for (bool log : {false, true}) {
    Check<float>(Transposed({40, 300}), log);
    Check<double>(Spaced({5, 6, 700}, 2), log);
    Check<float>(Contiguous({64, 129}), log, /*in_place=*/true);
    Check<double>(Spaced({33, 2000}, 3), log, /*in_place=*/true);
  }
}

TEST_P(SoftmaxTest, EmptyAndNan) {
  Check<float>(Contiguous({0, 5}), false);
  std::vector<double> data = {1, NAN, 2, 3, 4, 5};
  DeviceArray d = Upload(data);
  theta_softmax_args a{};
  a.struct_size = sizeof(a);
  const View two_rows = Contiguous({2, 3});
  a.input = d.Array(two_rows);
  a.output = a.input;
  ASSERT_TRUE(Ok(api().softmax(stream(), &a)));
  const std::vector<double> got = Download<double>(d, 6);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(std::isnan(got[i])) << i;
  EXPECT_TRUE(AllClose(
      std::vector<double>(got.begin() + 3, got.end()),
      Reference(Contiguous({1, 3}), std::vector<double>{3, 4, 5}, false), 1e-12,
      1e-12));
}

TEST_P(SoftmaxTest, RejectsIntegerInput) {
  DeviceArray d = Upload(std::vector<int32_t>(4));
  theta_softmax_args a{};
  a.struct_size = sizeof(a);
  const View four = Contiguous({4});
  a.input = d.Array(four);
  a.output = a.input;
  EXPECT_TRUE(Invalid(api().softmax(stream(), &a), "I32"));
}

THETA_CONFORMANCE_INSTANTIATE(SoftmaxTest);

}  // namespace
}  // namespace theta::conformance
