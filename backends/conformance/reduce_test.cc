// Reductions over every axis set against a loop in double: sum, prod, max,
// min, argmax, argmin; strided inputs, empty axes, NaN propagation.
#include <limits>
#include <vector>

#include "backends/conformance/conformance.h"

namespace theta::conformance {
namespace {

class ReduceTest : public ConformanceTest {
 protected:
  // Reduces the view `in` of `data` over `mask`; compares with a loop.
  template <typename T>
  void Check(theta_reduce_op op, const View& in, const std::vector<T>& data,
             uint32_t mask) {
    const bool arg = op == THETA_REDUCE_ARGMAX || op == THETA_REDUCE_ARGMIN;
    std::vector<int64_t> out_shape = in.shape;
    for (int d = 0; d < in.ndim(); ++d) {
      if (mask >> d & 1) out_shape[d] = 1;
    }
    const View out = Contiguous(out_shape);
    const int64_t n_out = out.Count();
    // Reference: visit the input in row-major order.
    std::vector<double> acc(n_out), best(n_out);
    std::vector<int64_t> pos(n_out, -1);
    const double init = op == THETA_REDUCE_SUM    ? 0
                        : op == THETA_REDUCE_PROD ? 1
                        : op == THETA_REDUCE_MAX  ? -INFINITY
                                                  : INFINITY;
    std::fill(acc.begin(), acc.end(), init);
    for (int64_t i = 0; i < in.Count(); ++i) {
      int64_t rem = i, o = 0, scale = 1, along = 0;
      for (int d = in.ndim() - 1; d >= 0; --d) {
        const int64_t idx = rem % in.shape[d];
        rem /= in.shape[d];
        if (!(mask >> d & 1)) o += idx * scale;
        if (mask >> d & 1) along = idx;
        scale *= out_shape[d];
      }
      const double v = data[in.Offset(i)];
      double& a = acc[o];
      switch (op) {
        case THETA_REDUCE_SUM:
          a += v;
          break;
        case THETA_REDUCE_PROD:
          a *= v;
          break;
        case THETA_REDUCE_MAX:
          a = (std::isnan(a) || std::isnan(v)) ? NAN : std::max(a, v);
          break;
        case THETA_REDUCE_MIN:
          a = (std::isnan(a) || std::isnan(v)) ? NAN : std::min(a, v);
          break;
        default: {
          const bool better =
              pos[o] < 0 ||
              (!std::isnan(best[o]) &&
               (std::isnan(v) ||
                (op == THETA_REDUCE_ARGMAX ? v > best[o] : v < best[o])));
          if (better) {
            best[o] = v;
            pos[o] = along;
          }
        }
      }
    }
    DeviceArray din = Upload(data);
    theta_reduce_args a{};
    a.struct_size = sizeof(a);
    a.op = op;
    a.input = din.Array(in);
    a.axes_mask = mask;
    if (arg) {
      DeviceArray dout =
          Upload(std::vector<int64_t>(std::max<int64_t>(1, n_out)));
      a.output = dout.Array(out);
      ASSERT_TRUE(Ok(api().reduce(stream(), &a)));
      const std::vector<int64_t> got = Download<int64_t>(dout, n_out);
      EXPECT_EQ(got, pos) << "op " << op << " mask " << mask;
      return;
    }
    DeviceArray dout = Upload(std::vector<T>(std::max<int64_t>(1, n_out)));
    a.output = dout.Array(out);
    ASSERT_TRUE(Ok(api().reduce(stream(), &a)));
    const double tol = Tolerance<T>() * 50;
    EXPECT_TRUE(AllClose(Download<T>(dout, n_out), acc, tol, tol))
        << "op " << op << " mask " << mask;
  }

  template <typename T>
  void CheckAllOps(const View& in, uint32_t mask, uint32_t seed) {
    std::vector<T> data = Random<T>(std::max<int64_t>(1, in.Extent()), 0.5, 1.5,
                                    seed);  // products stay finite
    for (int op = THETA_REDUCE_SUM; op <= THETA_REDUCE_ARGMIN; ++op) {
      const bool arg = op >= THETA_REDUCE_ARGMAX;
      if (arg && __builtin_popcount(mask) != 1) continue;
      if (op == THETA_REDUCE_PROD && in.Count() > 4096) continue;
      Check<T>(static_cast<theta_reduce_op>(op), in, data, mask);
    }
  }
};

TEST_P(ReduceTest, EveryAxisSetFloat32AndFloat64) {
  const std::vector<int64_t> shape = {7, 33, 5};
  for (uint32_t mask = 0; mask < 8; ++mask) {
    CheckAllOps<float>(Contiguous(shape), mask, mask);
    CheckAllOps<double>(Transposed(shape), mask, mask + 10);
  }
}

TEST_P(ReduceTest, LongAndWideReductionsAcrossThreads) {
  CheckAllOps<float>(Contiguous({1 << 20}), 1, 1);
  CheckAllOps<double>(Contiguous({3, 100003}), 2, 2);
  CheckAllOps<float>(Contiguous({100003, 3}), 1, 3);
  CheckAllOps<float>(Contiguous({2000, 700}), 1, 4);
  CheckAllOps<double>(Spaced({513, 257}, 2), 3, 5);
}

TEST_P(ReduceTest, EmptyAxesGiveIdentities) {
  const View in = Contiguous({3, 0}), column = Contiguous({3, 1});
  DeviceArray din = Upload(std::vector<float>(1));
  DeviceArray dout = Upload(std::vector<float>(3, 7));
  for (auto [op, want] :
       {std::pair{THETA_REDUCE_SUM, 0.0}, std::pair{THETA_REDUCE_PROD, 1.0},
        std::pair{THETA_REDUCE_MAX, -double{INFINITY}},
        std::pair{THETA_REDUCE_MIN, double{INFINITY}}}) {
    theta_reduce_args a{};
    a.struct_size = sizeof(a);
    a.op = op;
    a.input = din.Array(in);
    a.axes_mask = 2;
    a.output = dout.Array(column);
    ASSERT_TRUE(Ok(api().reduce(stream(), &a)));
    EXPECT_TRUE(AllClose(Download<float>(dout, 3), {want, want, want}, 0, 0))
        << "op " << op;
  }
  theta_reduce_args a{};
  a.struct_size = sizeof(a);
  a.op = THETA_REDUCE_ARGMAX;
  a.input = din.Array(in);
  a.axes_mask = 2;
  DeviceArray idx = Upload(std::vector<int64_t>(3));
  a.output = idx.Array(column);
  EXPECT_TRUE(Invalid(api().reduce(stream(), &a), "empty"));
}

TEST_P(ReduceTest, NanPropagatesAndFirstNanWinsArgmax) {
  std::vector<double> data = Random<double>(3000, -1, 1, 9);
  data[1234] = NAN;
  data[2500] = NAN;
  data[100] = INFINITY;
  const View in = Contiguous({3000});
  for (int op = THETA_REDUCE_SUM; op <= THETA_REDUCE_ARGMIN; ++op) {
    Check<double>(static_cast<theta_reduce_op>(op), in, data, 1);
  }
  std::vector<float> ints = {1, 5, 5, -2, 5};  // first maximum
  Check<float>(THETA_REDUCE_ARGMAX, Contiguous({5}), ints, 1);
}

TEST_P(ReduceTest, IntegerSums) {
  std::vector<int64_t> data = Random<int64_t>(5000, -1000, 1000, 4);
  Check<int64_t>(THETA_REDUCE_SUM, Contiguous({50, 100}), data, 2);
  Check<int64_t>(THETA_REDUCE_MAX, Contiguous({50, 100}), data, 1);
  std::vector<int32_t> small = Random<int32_t>(5000, -1000, 1000, 5);
  Check<int32_t>(THETA_REDUCE_MIN, Transposed({50, 100}), small, 3);
}

THETA_CONFORMANCE_INSTANTIATE(ReduceTest);

}  // namespace
}  // namespace theta::conformance
