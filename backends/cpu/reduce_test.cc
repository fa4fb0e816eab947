// reduce against reference loops over every input element.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {
namespace {

const theta_reduce_op kOps[] = {THETA_REDUCE_SUM,    THETA_REDUCE_PROD,
                                THETA_REDUCE_MAX,    THETA_REDUCE_MIN,
                                THETA_REDUCE_ARGMAX, THETA_REDUCE_ARGMIN};

bool IsArg(theta_reduce_op op) {
  return op == THETA_REDUCE_ARGMAX || op == THETA_REDUCE_ARGMIN;
}

// The reference result of `op` for each output (row-major over the output
// shape), visiting input elements in row-major order.
template <typename T>
std::vector<double> Reference(theta_reduce_op op, const View& in,
                              const std::vector<T>& data, uint32_t mask,
                              bool is_bool) {
  std::vector<int64_t> out_shape = in.shape;
  for (int d = 0; d < in.ndim(); ++d) {
    if (mask >> d & 1) out_shape[d] = 1;
  }
  const View out = Contiguous(out_shape);
  const int64_t n_out = out.Count();
  using L = std::numeric_limits<T>;
  const bool is_float = std::is_floating_point_v<T>;
  double lowest = is_float ? -INFINITY : double(L::lowest());
  double highest = is_float ? INFINITY : is_bool ? 1.0 : double(L::max());
  std::vector<double> acc(n_out), best(n_out);
  std::vector<uint64_t> wrap(n_out, op == THETA_REDUCE_PROD ? 1 : 0);
  for (int64_t o = 0; o < n_out; ++o) {
    acc[o] = op == THETA_REDUCE_PROD ? 1 : 0;
    best[o] = (op == THETA_REDUCE_MAX || op == THETA_REDUCE_ARGMAX) ? lowest
                                                                    : highest;
  }
  const int axis = IsArg(op) ? __builtin_ctz(mask) : 0;
  for (int64_t i = 0; i < in.Count(); ++i) {
    int64_t rem = i, o = 0, stride = 1, pos = 0;
    for (int d = in.ndim() - 1; d >= 0; --d) {
      const int64_t idx = rem % in.shape[d];
      rem /= in.shape[d];
      if (d == axis) pos = idx;
      if (!(mask >> d & 1)) o += idx * stride;
      stride *= out_shape[d];
    }
    const T x = data[in.Offset(i)];
    const double v = static_cast<double>(x);
    switch (op) {
      case THETA_REDUCE_SUM:
        acc[o] += v;
        wrap[o] += static_cast<uint64_t>(static_cast<int64_t>(x));
        break;
      case THETA_REDUCE_PROD:
        acc[o] *= v;
        wrap[o] *= static_cast<uint64_t>(static_cast<int64_t>(x));
        break;
      case THETA_REDUCE_MAX:
      case THETA_REDUCE_ARGMAX:
        if (!std::isnan(best[o]) && (v > best[o] || std::isnan(v))) {
          best[o] = v;
          acc[o] = double(pos);
        }
        break;
      case THETA_REDUCE_MIN:
      case THETA_REDUCE_ARGMIN:
        if (!std::isnan(best[o]) && (v < best[o] || std::isnan(v))) {
          best[o] = v;
          acc[o] = double(pos);
        }
        break;
    }
  }
  for (int64_t o = 0; o < n_out; ++o) {
    if (op == THETA_REDUCE_MAX || op == THETA_REDUCE_MIN) acc[o] = best[o];
    if (!is_float && (op == THETA_REDUCE_SUM || op == THETA_REDUCE_PROD)) {
      acc[o] = double(static_cast<T>(wrap[o]));  // wraps like T
    }
  }
  return acc;
}

class ReduceTest : public PluginTest {
 protected:
  // Reduces `data` (laid out by `in`) and compares with Reference. The
  // output is contiguous, or spaced by 2 when `spaced_out`.
  template <typename T>
  void Check(theta_reduce_op op, const View& in, const std::vector<T>& data,
             uint32_t mask, bool spaced_out = false, bool is_bool = false) {
    std::vector<int64_t> out_shape = in.shape;
    for (int d = 0; d < in.ndim(); ++d) {
      if (mask >> d & 1) out_shape[d] = 1;
    }
    const View out = spaced_out ? Spaced(out_shape, 2) : Contiguous(out_shape);
    const bool arg = IsArg(op);
    const theta_dtype dt = is_bool ? THETA_DTYPE_BOOL : DtypeOf<T>();
    std::vector<T> got(out.Extent() + 1, T(77));
    std::vector<int64_t> got_idx(out.Extent() + 1, -5);
    theta_reduce_args args{};
    args.struct_size = sizeof(args);
    args.op = op;
    args.input = in.Array(data.data(), dt);
    args.axes_mask = mask;
    args.output = arg ? out.Array(got_idx.data(), THETA_DTYPE_I64)
                      : out.Array(got.data(), dt);
    ASSERT_TRUE(IsOk(api().reduce(stream_, &args)));
    const std::vector<double> want = Reference(op, in, data, mask, is_bool);
    for (int64_t o = 0; o < out.Count(); ++o) {
      const int64_t off = out.Offset(o);
      if (arg) {
        ASSERT_EQ(got_idx[off], int64_t(want[o]))
            << "op " << op << " output " << o << " mask " << mask;
        continue;
      }
      const double g = double(got[off]), w = want[o];
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(w)) {
          ASSERT_TRUE(std::isnan(g)) << "op " << op << " output " << o;
        } else if (std::isinf(w)) {
          ASSERT_EQ(g, w) << "op " << op << " output " << o;
        } else if (op == THETA_REDUCE_SUM || op == THETA_REDUCE_PROD) {
          // Accumulated in double: within a rounding of T (plus the
          // reference's own summation-order error).
          const double tol =
              std::fabs(w) * 4 * std::numeric_limits<T>::epsilon() +
              1e-9 * in.Count();
          ASSERT_NEAR(g, w, tol) << "op " << op << " output " << o;
        } else {
          ASSERT_EQ(g, w) << "op " << op << " output " << o;
        }
      } else {
        ASSERT_EQ(g, w) << "op " << op << " output " << o << " mask " << mask;
      }
    }
    // Gaps of a spaced output are untouched.
    if (spaced_out && out.Count() > 0) {
      if (arg) {
        EXPECT_EQ(got_idx[out.Offset(0) + 1], -5);
      } else {
        EXPECT_EQ(got[out.Offset(0) + 1], T(77));
      }
    }
  }

  template <typename T>
  std::vector<T> Data(const View& v, double lo, double hi, uint32_t seed) {
    return Random<T>(std::max<int64_t>(v.Extent(), 1), lo, hi, seed);
  }
};

TEST_P(ReduceTest, EveryMaskOfASmallTensorF32AndF64) {
  const std::vector<int64_t> shape = {3, 1, 4, 5};
  for (const View& v : {Contiguous(shape), Transposed(shape), Spaced(shape, 3),
                        Strided(shape, {0, 7, 5, 1})}) {
    const auto f = Data<float>(v, -2, 2, 1);
    const auto d = Data<double>(v, -2, 2, 2);
    for (uint32_t mask = 0; mask < 16; ++mask) {
      for (theta_reduce_op op : kOps) {
        if (IsArg(op) && __builtin_popcount(mask) != 1) continue;
        Check(op, v, f, mask);
        Check(op, v, d, mask, /*spaced_out=*/true);
      }
    }
  }
}

TEST_P(ReduceTest, IntegerDtypes) {
  const std::vector<int64_t> shape = {6, 7, 8};
  for (const View& v : {Contiguous(shape), Transposed(shape)}) {
    const auto i32 = Data<int32_t>(v, -1000, 1000, 3);
    const auto i64 = Data<int64_t>(v, -1e15, 1e15, 4);
    const auto u8 = Data<uint8_t>(v, 0, 255, 5);
    for (uint32_t mask = 0; mask < 8; ++mask) {
      for (theta_reduce_op op : kOps) {
        if (IsArg(op) && __builtin_popcount(mask) != 1) continue;
        Check(op, v, i32, mask);
        Check(op, v, i64, mask);
        Check(op, v, u8, mask);
      }
    }
  }
}

TEST_P(ReduceTest, IntegerSumsAndProductsWrap) {
  const View v = Contiguous({4});
  const std::vector<int32_t> big = {2000000000, 2000000000, 2000000000, 7};
  Check(THETA_REDUCE_SUM, v, big, 1);
  Check(THETA_REDUCE_PROD, v, big, 1);
  const std::vector<int64_t> lowest = {std::numeric_limits<int64_t>::min(), -1,
                                       3, 5};
  Check(THETA_REDUCE_PROD, v, lowest, 1);
}

TEST_P(ReduceTest, BoolMaxIsAnyMinIsAll) {
  const View v = Contiguous({5, 9});
  auto bits = Data<uint8_t>(v, 0, 1, 6);
  for (uint32_t mask = 0; mask < 4; ++mask) {
    for (theta_reduce_op op : {THETA_REDUCE_MAX, THETA_REDUCE_MIN,
                               THETA_REDUCE_ARGMAX, THETA_REDUCE_ARGMIN}) {
      if (IsArg(op) && __builtin_popcount(mask) != 1) continue;
      Check(op, v, bits, mask, false, /*is_bool=*/true);
    }
  }
  // Over an empty set: MAX (any) is 0, MIN (all) is 1.
  const View empty = Contiguous({3, 0});
  std::vector<uint8_t> none;
  Check(THETA_REDUCE_MAX, empty, none, 2, false, true);
  Check(THETA_REDUCE_MIN, empty, none, 2, false, true);
}

// Cache-friendly orders and block / thread boundaries.
TEST_P(ReduceTest, LargeShapesAcrossChunksAndPieces) {
  struct Case {
    std::vector<int64_t> shape;
    uint32_t mask;
  } cases[] = {
      {{100003}, 1},      // full reduction, cut into pieces
      {{2, 100003}, 2},   // few outputs, long rows
      {{100003, 2}, 1},   // few outputs, accumulated row by row
      {{1500, 700}, 1},   // axis 0: accumulate, chunks of outputs
      {{700, 1500}, 2},   // axis 1: per output
      {{1025, 37}, 1},    // 37 outputs accumulated over 1025 rows
      {{33, 1025}, 1},    // > 1024 outputs per chunk
      {{64, 64, 33}, 5},  // outer and inner axes
  };
  for (const Case& c : cases) {
    const View v = Contiguous(c.shape);
    const auto f = Data<float>(v, -1, 1, 7);
    Check(THETA_REDUCE_SUM, v, f, c.mask);
    Check(THETA_REDUCE_MAX, v, f, c.mask);
    if (__builtin_popcount(c.mask) == 1)
      Check(THETA_REDUCE_ARGMIN, v, f, c.mask);
    const View t = Transposed(c.shape);
    const auto d = Data<double>(t, -1, 1, 8);
    Check(THETA_REDUCE_SUM, t, d, c.mask);
    if (__builtin_popcount(c.mask) == 1)
      Check(THETA_REDUCE_ARGMAX, t, d, c.mask);
  }
}

TEST_P(ReduceTest, F32SumAccumulatesInDouble) {
  // 1 + 2^-24 repeated: a float accumulator would stall at 2^24.
  const int64_t n = 1 << 25;
  std::vector<float> ones(static_cast<size_t>(n), 1.0f);
  float got = 0;
  const View v = Contiguous({n});
  theta_reduce_args args{};
  args.struct_size = sizeof(args);
  args.op = THETA_REDUCE_SUM;
  args.input = v.Array(ones.data(), THETA_DTYPE_F32);
  args.axes_mask = 1;
  const View out = Contiguous({1});
  args.output = out.Array(&got, THETA_DTYPE_F32);
  ASSERT_TRUE(IsOk(api().reduce(stream_, &args)));
  EXPECT_EQ(got, float(n));
}

TEST_P(ReduceTest, NanPropagatesAndFirstNanWins) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const View v = Contiguous({4, 6});
  std::vector<float> x = {1,    nan,  3,    nan,  5,    0,     // NaN at 1 and 3
                          -inf, -inf, -inf, -inf, -inf, -inf,  // all -inf
                          2,    7,    7,    1,    7,    0,     // ties
                          0,    0,    0,    0,    0,    nan};  // NaN last
  for (theta_reduce_op op : kOps) Check(op, v, x, 2);
  for (theta_reduce_op op : kOps) Check(op, v, x, 1);
  // A long axis, cut into pieces, with ties and a NaN in later pieces.
  const int64_t n = 200000;
  std::vector<double> y(static_cast<size_t>(n), 1.0);
  y[70000] = 5;
  y[150000] = 5;
  const View w = Contiguous({n});
  Check(THETA_REDUCE_ARGMAX, w, y, 1);
  Check(THETA_REDUCE_MAX, w, y, 1);
  y[190000] = std::nan("");
  y[199999] = std::nan("");
  Check(THETA_REDUCE_ARGMAX, w, y, 1);
  Check(THETA_REDUCE_ARGMIN, w, y, 1);
  Check(THETA_REDUCE_MIN, w, y, 1);
}

// Rows long enough for the vector loops (37 floats: four vectors and a
// tail of five; 37 doubles: nine and one): a NaN in each position, in a
// vector lane or the tail, and a second NaN after it.
TEST_P(ReduceTest, NanInAnyVectorLaneOrTail) {
  const int64_t n = 37;
  const View v = Contiguous({n, n});
  std::vector<float> f = Data<float>(v, -1, 1, 9);
  std::vector<double> d = Data<double>(v, -1, 1, 10);
  for (int64_t i = 0; i < n; ++i) {
    f[i * n + i] = d[i * n + i] = std::numeric_limits<float>::quiet_NaN();
    if (i + 9 < n) f[i * n + i + 9] = d[i * n + i + 9] = -std::nan("");
  }
  for (theta_reduce_op op : kOps) {
    if (op == THETA_REDUCE_SUM || op == THETA_REDUCE_PROD) continue;
    Check(op, v, f, 2);
    Check(op, v, d, 2);
  }
}

// MAX and MIN keep the first of equal values, so the sign of a zero result
// is that of the first zero, wherever the vectors put it.
TEST_P(ReduceTest, ExtremeZeroKeepsTheFirstZerosSign) {
  const int64_t n = 40;
  for (int64_t first = 0; first < n; first += 3) {
    for (float sign : {1.0f, -1.0f}) {
      std::vector<float> x(n, -2.0f * sign);
      x[first] = sign * 0.0f;
      x[(first + 17) % n] = -sign * 0.0f;
      x[(first + 31) % n] = -sign * 0.0f;
      const theta_reduce_op op = sign < 0 ? THETA_REDUCE_MIN : THETA_REDUCE_MAX;
      const View v = Contiguous({n});
      const View out = Contiguous({1});
      float got = 5;
      theta_reduce_args args{};
      args.struct_size = sizeof(args);
      args.op = op;
      args.input = v.Array(x.data(), THETA_DTYPE_F32);
      args.axes_mask = 1;
      args.output = out.Array(&got, THETA_DTYPE_F32);
      ASSERT_TRUE(IsOk(api().reduce(stream_, &args)));
      const float first_zero = *std::find(x.begin(), x.end(), 0.0f);
      EXPECT_EQ(got, 0.0f);
      EXPECT_EQ(std::signbit(got), std::signbit(first_zero))
          << "zero at " << first << " op " << op;
      Check(sign < 0 ? THETA_REDUCE_ARGMIN : THETA_REDUCE_ARGMAX, v, x, 1);
    }
  }
}

TEST_P(ReduceTest, EmptySetsGiveIdentities) {
  const View v = Contiguous({3, 0, 2});
  std::vector<float> none;
  std::vector<int32_t> none_i;
  for (theta_reduce_op op : {THETA_REDUCE_SUM, THETA_REDUCE_PROD,
                             THETA_REDUCE_MAX, THETA_REDUCE_MIN}) {
    Check(op, v, none, 2);
    Check(op, v, none, 7);
    Check(op, v, none_i, 2);
  }
  // Kept dimension of size 0: nothing to write.
  Check(THETA_REDUCE_SUM, v, none, 1);
  Check(THETA_REDUCE_ARGMAX, v, none, 1);
}

TEST_P(ReduceTest, ErrorsNameTheProblem) {
  std::vector<float> x(12, 1.0f);
  std::vector<float> out(12);
  std::vector<int64_t> idx(12);
  const View in = Contiguous({3, 4});
  const View row = Contiguous({1, 4});
  const View col = Contiguous({3, 1});
  theta_reduce_args good{};
  good.struct_size = sizeof(good);
  good.op = THETA_REDUCE_SUM;
  good.input = in.Array(x.data(), THETA_DTYPE_F32);
  good.axes_mask = 1;
  good.output = row.Array(out.data(), THETA_DTYPE_F32);
  ASSERT_TRUE(IsOk(api().reduce(stream_, &good)));
  auto expect = [&](const theta_reduce_args& a,
                    std::initializer_list<std::string> parts) {
    EXPECT_TRUE(IsError(api().reduce(stream_, &a),
                        THETA_STATUS_INVALID_ARGUMENT, parts));
  };
  theta_reduce_args a = good;
  a.axes_mask = 4;
  expect(a, {"reduce: axes_mask 0x4", "axis 2", "rank 2"});
  a = good;
  a.op = THETA_REDUCE_ARGMAX;
  a.axes_mask = 3;
  const View one = Contiguous({1, 1});
  a.output = one.Array(idx.data(), THETA_DTYPE_I64);
  expect(a, {"reduce: ARGMAX needs exactly one axis", "has 2"});
  a = good;
  a.op = THETA_REDUCE_ARGMIN;
  expect(a, {"reduce: ARGMIN output dtype is F32, expected I64"});
  a = good;
  a.output = col.Array(out.data(), THETA_DTYPE_F32);
  expect(a, {"reduce: output shape (3, 1), expected (1, 4)"});
  a = good;
  a.output = row.Array(out.data(), THETA_DTYPE_F64);
  expect(a, {"reduce: SUM output dtype is F64, expected F32"});
  a = good;
  SetRawEnum(a.op, 17);
  expect(a, {"reduce: unknown op 17"});
  a = good;
  a.input.ndim = 9;
  expect(a, {"reduce: input has ndim 9"});
  a = good;
  a.input.data = nullptr;
  expect(a, {"reduce: input data is NULL"});
  a = good;
  a.input.dtype = THETA_DTYPE_BOOL;
  a.output.dtype = THETA_DTYPE_BOOL;
  expect(a, {"reduce: SUM does not support BOOL"});
  const int64_t zero_strides[] = {0, 0};
  a = good;
  a.output.strides = zero_strides;
  expect(a, {"reduce: output.strides[1] is 0", "must not broadcast"});
  // ARGMAX over an empty axis.
  const View empty = Contiguous({3, 0});
  a = good;
  a.op = THETA_REDUCE_ARGMAX;
  a.axes_mask = 2;
  a.input = empty.Array(nullptr, THETA_DTYPE_F32);
  a.output = col.Array(idx.data(), THETA_DTYPE_I64);
  expect(a, {"reduce: ARGMAX over axis 1 of size 0"});
}

THETA_CPU_INSTANTIATE_THREADS(ReduceTest);

}  // namespace
}  // namespace theta::cpu::testing
