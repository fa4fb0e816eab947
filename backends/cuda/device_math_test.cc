// The CUDA kernels' __host__ __device__ bodies (device_math.h), the host
// geometry (geometry.h, strided.h) and the schedules (launch.h), replayed on
// the CPU in the order the kernels use them (threads, block trees, pieces,
// chunks) and checked against the CPU plugin, which is the reference.
#include "backends/cuda/device_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "backends/api/philox.h"
#include "backends/cpu/test_util.h"
#include "backends/cuda/geometry.h"
#include "backends/cuda/launch.h"
#include "backends/cuda/strided.h"

namespace theta::cuda {
namespace {

using cpu::testing::api;
using cpu::testing::Contiguous;
using cpu::testing::IsOk;
using cpu::testing::Spaced;
using cpu::testing::Transposed;
using cpu::testing::UlpDistance;
using cpu::testing::View;

// The same StridedIndex without collapsing: rank = the view's rank.
template <int N>
StridedIndex<N> Plain(const std::vector<int64_t>& shape,
                      const std::array<const std::vector<int64_t>*, N>& s) {
  StridedIndex<N> ix;
  ix.rank = static_cast<int32_t>(shape.size());
  for (int d = 0; d < ix.rank; ++d) {
    ix.shape[d] = shape[d];
    for (int i = 0; i < N; ++i) ix.stride[i][d] = (*s[i])[d];
  }
  return ix;
}

int64_t NaiveOffset(const std::vector<int64_t>& shape,
                    const std::vector<int64_t>& strides, int64_t linear) {
  int64_t off = 0;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    off += (linear % shape[d]) * strides[d];
    linear /= shape[d];
  }
  return off;
}

// ---------------------------------------------------------------------------
// Strided addressing
// ---------------------------------------------------------------------------

TEST(StridedTest, OffsetsMatchRowMajorOrderBeforeAndAfterCollapse) {
  std::mt19937 gen(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int rank = trial % 6;
    std::vector<int64_t> shape(rank), s0(rank), s1(rank);
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      shape[d] = 1 + gen() % 4;
      s0[d] = stride;  // contiguous, or not, below
      stride *= shape[d];
      s1[d] = static_cast<int64_t>(gen() % 7) - 3;  // negative, 0, positive
    }
    if (trial % 3 == 0 && rank > 1) std::swap(s0[0], s0[rank - 1]);
    const StridedIndex<2> plain = Plain<2>(shape, {&s0, &s1});
    const StridedIndex<2> collapsed =
        Collapse<2>(rank, shape.data(), {s0.data(), s1.data()});
    ASSERT_GE(collapsed.rank, 1);
    ASSERT_LE(collapsed.rank, std::max(rank, 1));
    const int64_t count = CountOf(plain);
    ASSERT_EQ(CountOf(collapsed), count);
    ASSERT_TRUE(FitsInt32(collapsed));
    const StridedIndex<2, int32_t> narrow = Narrow(collapsed);
    for (int64_t i = 0; i < count; ++i) {
      int64_t a[2], b[2];
      int32_t c[2];
      OffsetsOf(plain, i, a);
      OffsetsOf(collapsed, i, b);
      OffsetsOf(narrow, static_cast<int32_t>(i), c);
      ASSERT_EQ(a[0], NaiveOffset(shape, s0, i));
      ASSERT_EQ(a[1], NaiveOffset(shape, s1, i));
      ASSERT_EQ(b[0], a[0]);
      ASSERT_EQ(b[1], a[1]);
      ASSERT_EQ(c[0], a[0]);
      ASSERT_EQ(c[1], a[1]);
    }
  }
}

TEST(StridedTest, CollapseMergesWhatIsContiguousForEveryOperand) {
  const int64_t shape[] = {2, 3, 4};
  const int64_t contiguous[] = {12, 4, 1};
  const int64_t broadcast[] = {0, 0, 0};
  const int64_t transposed[] = {1, 2, 6};
  const int64_t reversed[] = {-12, -4, -1};
  EXPECT_EQ(Collapse<1>(3, shape, {contiguous}).rank, 1);
  EXPECT_EQ(Collapse<2>(3, shape, {contiguous, broadcast}).rank, 1);
  EXPECT_EQ(Collapse<2>(3, shape, {contiguous, reversed}).rank, 1);
  EXPECT_EQ(Collapse<1>(3, shape, {transposed}).rank, 3);
  EXPECT_EQ(Collapse<2>(3, shape, {contiguous, transposed}).rank, 3);
  const int64_t ones[] = {1, 5, 1};
  const int64_t s[] = {7, 3, 9};
  const StridedIndex<1> dropped = Collapse<1>(3, ones, {s});
  EXPECT_EQ(dropped.rank, 1);
  EXPECT_EQ(dropped.shape[0], 5);
  EXPECT_EQ(dropped.stride[0][0], 3);
  const StridedIndex<1> scalar = Collapse<1>(0, nullptr, {nullptr});
  EXPECT_EQ(scalar.rank, 1);
  EXPECT_EQ(CountOf(scalar), 1);
  const int64_t empty[] = {3, 0, 2};
  EXPECT_EQ(CountOf(Collapse<1>(3, empty, {contiguous})), 0);
}

TEST(StridedTest, LargeIndexSpacesNeedSixtyFourBits) {
  const int64_t big[] = {int64_t{1} << 31};
  const int64_t one[] = {1};
  EXPECT_FALSE(FitsInt32(Collapse<1>(1, big, {one})));
  const int64_t small[] = {10};
  const int64_t far[] = {int64_t{1} << 28};
  EXPECT_FALSE(FitsInt32(Collapse<1>(1, small, {far})));
  const int64_t negative_far[] = {-(int64_t{1} << 28)};
  EXPECT_FALSE(FitsInt32(Collapse<1>(1, small, {negative_far})));
  EXPECT_TRUE(FitsInt32(Collapse<1>(1, small, {one})));
}

// ---------------------------------------------------------------------------
// A CPU plugin instance, the reference
// ---------------------------------------------------------------------------

class CpuReference : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(IsOk(api().plugin_create(&plugin_)));
    ASSERT_TRUE(IsOk(api().device_open(plugin_, 0, &device_)));
    ASSERT_TRUE(IsOk(api().stream_create(device_, &stream_)));
  }
  void TearDown() override {
    if (stream_) api().stream_destroy(stream_);
    if (device_) api().device_close(device_);
    if (plugin_) api().plugin_destroy(plugin_);
  }

  theta_plugin* plugin_ = nullptr;
  theta_device* device_ = nullptr;
  theta_stream* stream_ = nullptr;
};

// ---------------------------------------------------------------------------
// Reductions: the kernels' schedule replayed with Reducer
// ---------------------------------------------------------------------------

// reduce_kernels.cu's FoldRange.
template <typename R, typename T>
typename R::Acc FoldRange(const T* in, const StridedIndex<1>& red, int64_t base,
                          int64_t r0, int64_t r1, int64_t step) {
  typename R::Acc acc = R::Init();
  for (int64_t r = r0; r < r1; r += step) {
    int64_t off;
    OffsetsOf(red, r, &off);
    R::Add(acc, in[base + off], r);
  }
  return acc;
}

// ThreadPerOutput / BlockPerOutput / MergePieces of reduce_kernels.cu, one
// simulated thread at a time.
template <typename R, typename T>
void ReplayReduce(const ReduceGeometry& g, const ReducePlan& plan, const T* in,
                  typename R::Out* out) {
  using Acc = typename R::Acc;
  const int64_t units = g.out_count * plan.pieces;
  std::vector<Acc> partials(static_cast<size_t>(units));
  for (int64_t u = 0; u < units; ++u) {
    const int64_t piece = u / g.out_count;
    const int64_t o = u - piece * g.out_count;
    int64_t off[2];
    OffsetsOf(g.kept, o, off);
    const int64_t r0 = piece * plan.piece_len;
    const int64_t r1 = std::min(g.red_count, r0 + plan.piece_len);
    Acc acc;
    if (plan.kind == ReducePlan::Kind::kThreadPerOutput) {
      acc = FoldRange<R, T>(in, g.reduced, off[0], r0, r1, 1);
    } else {
      const int threads = static_cast<int>(plan.launch.threads);
      std::vector<Acc> sh(threads);
      for (int t = 0; t < threads; ++t) {
        sh[t] = FoldRange<R, T>(in, g.reduced, off[0], r0 + t, r1, threads);
      }
      for (int w = threads / 2; w > 0; w /= 2) {
        for (int t = 0; t < w; ++t) sh[t] = R::Combine(sh[t], sh[t + w]);
      }
      acc = sh[0];
    }
    if (plan.pieces == 1) {
      out[off[1]] = R::Final(acc);
    } else {
      partials[u] = acc;
    }
  }
  if (plan.pieces == 1) return;
  for (int64_t o = 0; o < g.out_count; ++o) {
    Acc acc = partials[o];
    for (int64_t p = 1; p < plan.pieces; ++p) {
      acc = R::Combine(acc, partials[p * g.out_count + o]);
    }
    int64_t off[2];
    OffsetsOf(g.kept, o, off);
    out[off[1]] = R::Final(acc);
  }
}

class ReduceMathTest : public CpuReference {
 protected:
  // Reduces `data` laid out by `in` over `mask` with the CPU plugin and with
  // the replayed kernels on a device of `sm_count` SMs; compares.
  template <int OP, typename T, bool kBool = false>
  void Compare(const View& in, const std::vector<T>& data, uint32_t mask,
               int sm_count) {
    using R = Reducer<T, OP, kBool>;
    using Out = typename R::Out;
    std::vector<int64_t> out_shape = in.shape;
    for (int d = 0; d < in.ndim(); ++d) {
      if (mask >> d & 1) out_shape[d] = 1;
    }
    const View out = Contiguous(out_shape);
    const theta_dtype dt =
        kBool ? THETA_DTYPE_BOOL : cpu::testing::DtypeOf<T>();
    const theta_dtype out_dt = R::kArg ? THETA_DTYPE_I64 : dt;
    std::vector<Out> want(std::max<int64_t>(out.Extent(), 1), Out(77));
    std::vector<Out> got = want;
    theta_reduce_args args{};
    args.struct_size = sizeof(args);
    args.op = static_cast<theta_reduce_op>(OP);
    args.input = in.Array(data.data(), dt);
    args.axes_mask = mask;
    args.output = out.Array(want.data(), out_dt);
    ASSERT_TRUE(IsOk(api().reduce(stream_, &args)));

    const ReduceGeometry g = MakeReduceGeometry(args);
    const ReducePlan plan =
        PlanReduce(g.out_count, g.red_count, g.contiguous, sm_count);
    ReplayReduce<R, T>(g, plan, data.data(), got.data());
    for (size_t i = 0; i < want.size(); ++i) {
      if constexpr (std::is_floating_point_v<Out>) {
        if (OP == THETA_REDUCE_SUM || OP == THETA_REDUCE_PROD) {
          // Both accumulate in double, in different orders: F32 results
          // agree to rounding, F64 ones to the accumulated rounding error.
          if constexpr (sizeof(Out) == 4) {
            ASSERT_LE(UlpDistance(got[i], want[i]), 2)
                << "op " << OP << " output " << i << ": " << got[i] << " vs "
                << want[i];
          } else {
            ASSERT_NEAR(got[i], want[i],
                        1e-10 * std::max(1.0, std::fabs(want[i])))
                << "op " << OP << " output " << i;
          }
          continue;
        }
        ASSERT_TRUE(cpu::testing::SameValue(got[i], want[i]))
            << "op " << OP << " output " << i << ": " << got[i] << " vs "
            << want[i];
      } else {
        ASSERT_EQ(got[i], want[i]) << "op " << OP << " output " << i;
      }
    }
  }

  template <typename T, bool kBool = false>
  void CompareAllOps(const View& in, const std::vector<T>& data, uint32_t mask,
                     int sm_count) {
    if constexpr (!kBool) {
      Compare<THETA_REDUCE_SUM, T>(in, data, mask, sm_count);
      Compare<THETA_REDUCE_PROD, T>(in, data, mask, sm_count);
    }
    Compare<THETA_REDUCE_MAX, T, kBool>(in, data, mask, sm_count);
    Compare<THETA_REDUCE_MIN, T, kBool>(in, data, mask, sm_count);
    if (__builtin_popcount(mask) == 1) {
      Compare<THETA_REDUCE_ARGMAX, T, kBool>(in, data, mask, sm_count);
      Compare<THETA_REDUCE_ARGMIN, T, kBool>(in, data, mask, sm_count);
    }
  }
};

TEST_F(ReduceMathTest, EveryMaskOfASmallTensorEveryDtype) {
  const View v = Contiguous({4, 5, 6});
  // Few distinct values: many ties for ARGMAX/ARGMIN to break.
  const auto f = cpu::testing::Random<float>(v.Count(), -3, 3, 1);
  std::vector<float> fr(f.size());
  for (size_t i = 0; i < f.size(); ++i) fr[i] = std::round(f[i]);
  const auto d = cpu::testing::Random<double>(v.Count(), -2, 2, 2);
  const auto i32 = cpu::testing::Random<int32_t>(v.Count(), -4, 4, 3);
  const auto i64 = cpu::testing::Random<int64_t>(v.Count(), -4, 4, 4);
  const auto u8 = cpu::testing::Random<uint8_t>(v.Count(), 0, 9, 5);
  const auto b = cpu::testing::Random<uint8_t>(v.Count(), 0, 1, 6);
  for (uint32_t mask = 0; mask < 8; ++mask) {
    SCOPED_TRACE(mask);
    CompareAllOps<float>(v, fr, mask, 132);
    CompareAllOps<double>(v, d, mask, 1);
    CompareAllOps<int32_t>(v, i32, mask, 132);
    CompareAllOps<int64_t>(v, i64, mask, 2);
    CompareAllOps<uint8_t>(v, u8, mask, 132);
    CompareAllOps<uint8_t, true>(v, b, mask, 132);
  }
}

TEST_F(ReduceMathTest, StridedInputs) {
  const View t = Transposed({7, 9, 4});
  const View s = Spaced({6, 11}, 3);
  const auto a = cpu::testing::Random<float>(t.Extent(), -5, 5, 8);
  const auto b = cpu::testing::Random<int64_t>(s.Extent(), -100, 100, 9);
  for (uint32_t mask : {1u, 2u, 4u, 3u, 5u, 6u, 7u}) {
    CompareAllOps<float>(t, a, mask, 132);
  }
  for (uint32_t mask : {1u, 2u, 3u}) CompareAllOps<int64_t>(s, b, mask, 132);
}

TEST_F(ReduceMathTest, LongReductionsSplitIntoPieces) {
  // Rows (block per output, pieces), columns (thread per output with
  // pieces, and block per output with pieces for few columns).
  const View rows = Contiguous({3, 40000});
  const auto r = cpu::testing::Random<float>(rows.Count(), -1, 1, 10);
  const ReducePlan rp = PlanReduce(3, 40000, true, 132);
  ASSERT_EQ(rp.kind, ReducePlan::Kind::kBlockPerOutput);
  ASSERT_GT(rp.pieces, 1);
  CompareAllOps<float>(rows, r, 2, 132);

  const View cols = Contiguous({30000, 600});
  const auto c = cpu::testing::Random<int32_t>(cols.Count(), -50, 50, 11);
  const ReducePlan cp = PlanReduce(600, 30000, false, 132);
  ASSERT_EQ(cp.kind, ReducePlan::Kind::kThreadPerOutput);
  ASSERT_GT(cp.pieces, 1);
  CompareAllOps<int32_t>(cols, c, 1, 132);

  const View few = Contiguous({60000, 3});
  const auto w = cpu::testing::Random<double>(few.Count(), -1, 1, 12);
  const ReducePlan wp = PlanReduce(3, 60000, false, 132);
  ASSERT_EQ(wp.kind, ReducePlan::Kind::kBlockPerOutput);
  ASSERT_GT(wp.pieces, 1);
  CompareAllOps<double>(few, w, 1, 132);
}

TEST_F(ReduceMathTest, NanPropagatesAndTheFirstNanWins) {
  const View v = Contiguous({5, 300});
  auto x = cpu::testing::Random<float>(v.Count(), -1, 1, 13);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  x[0 * 300 + 7] = nan;
  x[0 * 300 + 200] = nan;
  x[2 * 300 + 299] = nan;
  x[4 * 300 + 0] = -std::numeric_limits<float>::infinity();
  x[3 * 300 + 150] = std::numeric_limits<float>::infinity();
  x[3 * 300 + 151] = std::numeric_limits<float>::infinity();
  for (uint32_t mask : {1u, 2u, 3u}) CompareAllOps<float>(v, x, mask, 132);
}

TEST_F(ReduceMathTest, AllLowestValuesGiveTheFirstPosition) {
  const View v = Contiguous({4, 1000});
  std::vector<float> x(v.Count(), -std::numeric_limits<float>::infinity());
  std::vector<int32_t> y(v.Count(), std::numeric_limits<int32_t>::max());
  Compare<THETA_REDUCE_ARGMAX, float>(v, x, 2, 132);
  Compare<THETA_REDUCE_ARGMIN, int32_t>(v, y, 2, 132);
  Compare<THETA_REDUCE_ARGMAX, float>(v, x, 1, 132);
}

TEST_F(ReduceMathTest, IntegerSumsAndProductsWrap) {
  const View v = Contiguous({2, 50});
  std::vector<int32_t> x(v.Count(), std::numeric_limits<int32_t>::max() / 3);
  std::vector<uint8_t> u(v.Count(), 200);
  Compare<THETA_REDUCE_SUM, int32_t>(v, x, 2, 132);
  Compare<THETA_REDUCE_PROD, int32_t>(v, x, 2, 132);
  Compare<THETA_REDUCE_SUM, uint8_t>(v, u, 3, 132);
  Compare<THETA_REDUCE_PROD, uint8_t>(v, u, 1, 132);
}

TEST_F(ReduceMathTest, EmptySetsGiveIdentities) {
  const View v = Contiguous({3, 0, 4});
  const std::vector<float> none;
  const std::vector<uint8_t> no_bools;
  for (uint32_t mask : {2u, 3u, 6u, 7u}) {
    Compare<THETA_REDUCE_SUM, float>(v, none, mask, 132);
    Compare<THETA_REDUCE_PROD, float>(v, none, mask, 132);
    Compare<THETA_REDUCE_MAX, float>(v, none, mask, 132);
    Compare<THETA_REDUCE_MIN, float>(v, none, mask, 132);
    Compare<THETA_REDUCE_MIN, uint8_t, true>(v, no_bools, mask, 132);
  }
}

TEST(ReducerTest, CombineIsOrderFreeForArgOps) {
  using R = Reducer<float, THETA_REDUCE_ARGMAX, false>;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const R::Acc a{2.0f, 5}, b{2.0f, 3}, c{1.0f, 0}, n1{nan, 9}, n2{nan, 4};
  EXPECT_EQ(R::Combine(a, b).i, 3);
  EXPECT_EQ(R::Combine(b, a).i, 3);
  EXPECT_EQ(R::Combine(a, c).i, 5);
  EXPECT_EQ(R::Combine(c, a).i, 5);
  EXPECT_EQ(R::Combine(a, n1).i, 9);
  EXPECT_EQ(R::Combine(n1, n2).i, 4);
  EXPECT_EQ(R::Combine(n2, n1).i, 4);
  EXPECT_EQ(R::Combine(R::Init(), c).i, 0);
  EXPECT_EQ(R::Final(R::Combine(c, R::Init())), 0);
}

// ---------------------------------------------------------------------------
// Softmax: the Rows and two-pass kernels replayed
// ---------------------------------------------------------------------------

template <typename T>
T TreeMax(std::vector<T> sh) {
  for (size_t w = sh.size() / 2; w > 0; w /= 2) {
    for (size_t t = 0; t < w; ++t) sh[t] = MaxPick(sh[t + w], sh[t]);
  }
  return sh[0];
}

double TreeSum(std::vector<double> sh) {
  for (size_t w = sh.size() / 2; w > 0; w /= 2) {
    for (size_t t = 0; t < w; ++t) sh[t] = sh[t] + sh[t + w];
  }
  return sh[0];
}

// softmax_kernels.cu on contiguous rows of n elements.
template <typename T>
std::vector<T> ReplaySoftmax(const std::vector<T>& x, int64_t rows, int64_t n,
                             bool log) {
  const SoftmaxPlan plan = PlanSoftmax(rows, n, 132);
  const int threads = static_cast<int>(plan.launch.threads);
  std::vector<T> y(x.size());
  struct Stat {
    double max, sum;
  };
  for (int64_t row = 0; row < rows; ++row) {
    const T* xr = x.data() + row * n;
    T* yr = y.data() + row * n;
    std::vector<Stat> stats(plan.chunks);
    for (int64_t c = 0; c < plan.chunks; ++c) {  // Rows, or ChunkStats
      const int64_t begin = c * plan.chunk;
      const int64_t end = std::min(n, begin + plan.chunk);
      std::vector<T> m(threads, -std::numeric_limits<T>::infinity());
      for (int t = 0; t < threads; ++t) {
        for (int64_t i = begin + t; i < end; i += threads) {
          m[t] = MaxPick(xr[i], m[t]);
        }
      }
      const T mc = TreeMax(m);
      std::vector<double> s(threads, 0.0);
      for (int t = 0; t < threads; ++t) {
        for (int64_t i = begin + t; i < end; i += threads) {
          s[t] += static_cast<double>(ShiftedExp(xr[i], mc));
        }
      }
      const double sc = TreeSum(s);
      if (!plan.two_pass) {
        const T divisor = RowDivisor<T>(sc, log);
        for (int64_t i = 0; i < n; ++i) {
          yr[i] = SoftmaxOutput(xr[i], mc, divisor, log);
        }
        break;
      }
      stats[c] = Stat{static_cast<double>(mc), ChunkSum(sc, mc)};
    }
    if (!plan.two_pass) continue;
    for (int64_t c = 0; c < plan.chunks; ++c) {  // ChunkWrite
      std::vector<double> m(threads, -std::numeric_limits<double>::infinity());
      for (int t = 0; t < threads; ++t) {
        for (int64_t k = t; k < plan.chunks; k += threads) {
          m[t] = MaxPick(stats[k].max, m[t]);
        }
      }
      const double mm = TreeMax(m);
      std::vector<double> s(threads, 0.0);
      for (int t = 0; t < threads; ++t) {
        for (int64_t k = t; k < plan.chunks; k += threads) {
          s[t] += stats[k].sum * ChunkWeight(stats[k].max, mm);
        }
      }
      const T divisor = RowDivisor<T>(TreeSum(s), log);
      const int64_t begin = c * plan.chunk;
      const int64_t end = std::min(n, begin + plan.chunk);
      for (int64_t i = begin; i < end; ++i) {
        yr[i] = SoftmaxOutput(xr[i], static_cast<T>(mm), divisor, log);
      }
    }
  }
  return y;
}

class SoftmaxMathTest : public CpuReference {
 protected:
  template <typename T>
  void Compare(const std::vector<T>& x, int64_t rows, int64_t n) {
    for (int log = 0; log < 2; ++log) {
      const View v = Contiguous({rows, n});
      std::vector<T> want(x.size());
      theta_softmax_args args{};
      args.struct_size = sizeof(args);
      args.log = log;
      args.input = v.Array(x.data(), cpu::testing::DtypeOf<T>());
      args.output = v.Array(want.data(), cpu::testing::DtypeOf<T>());
      ASSERT_TRUE(IsOk(api().softmax(stream_, &args)));
      const std::vector<T> got = ReplaySoftmax(x, rows, n, log != 0);
      for (size_t i = 0; i < x.size(); ++i) {
        const bool close = UlpDistance(got[i], want[i]) <= 8 ||
                           std::fabs(double(got[i]) - double(want[i])) <=
                               (sizeof(T) == 4 ? 1e-6 : 1e-14) *
                                   (1 + std::fabs(double(want[i])));
        ASSERT_TRUE(close) << "log " << log << " element " << i << ": "
                           << got[i] << " vs " << want[i];
      }
    }
  }
};

TEST_F(SoftmaxMathTest, ShortRowsOneBlockEach) {
  for (int64_t n : {1, 2, 10, 33, 257, 1000, 8192}) {
    const auto x = cpu::testing::Random<float>(3 * n, -20, 20, n);
    Compare<float>(x, 3, n);
    const auto y = cpu::testing::Random<double>(2 * n, -50, 50, n + 1);
    Compare<double>(y, 2, n);
  }
}

TEST_F(SoftmaxMathTest, LongRowsInTwoPasses) {
  const int64_t n = 3 * kSoftmaxChunk + 17;
  ASSERT_TRUE(PlanSoftmax(2, n, 132).two_pass);
  const auto x = cpu::testing::Random<float>(2 * n, -30, 30, 21);
  Compare<float>(x, 2, n);
  const auto y = cpu::testing::Random<double>(n, -30, 30, 22);
  Compare<double>(y, 1, n);
}

TEST_F(SoftmaxMathTest, InfinitiesAndNans) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t n : {int64_t{5}, 2 * kSoftmaxChunk + 3}) {
    std::vector<float> x(5 * n, 0.5f);
    for (int64_t i = 0; i < n; ++i) x[i] = -inf;              // row 0: all -inf
    x[1 * n + n / 2] = inf;                                   // row 1: one +inf
    x[2 * n + 1] = nan;                                       // row 2: a NaN
    for (int64_t i = 0; i < n / 2; ++i) x[3 * n + i] = -inf;  // half -inf
    x[4 * n + n - 1] = -inf;                                  // row 4: one -inf
    Compare<float>(x, 5, n);
  }
}

// ---------------------------------------------------------------------------
// gather and scatter_add: positions, indices and error keys
// ---------------------------------------------------------------------------

TEST(GatherMathTest, SplitPositionInvertsTheLayout) {
  for (int64_t jc : {1, 3, 7}) {
    for (int64_t ic : {1, 4, 5}) {
      for (int64_t e = 0; e < 5 * jc * ic; ++e) {
        int64_t o, j, i;
        SplitGatherPosition(e, jc, ic, &o, &j, &i);
        ASSERT_EQ((o * jc + j) * ic + i, e);
        ASSERT_LT(j, jc);
        ASSERT_LT(i, ic);
      }
    }
  }
}

TEST(GatherMathTest, IndicesWrapFromTheEnd) {
  int64_t w = -1;
  EXPECT_TRUE(WrapIndex(0, 5, &w));
  EXPECT_EQ(w, 0);
  EXPECT_TRUE(WrapIndex(-1, 5, &w));
  EXPECT_EQ(w, 4);
  EXPECT_TRUE(WrapIndex(-5, 5, &w));
  EXPECT_EQ(w, 0);
  EXPECT_FALSE(WrapIndex(5, 5, &w));
  EXPECT_FALSE(WrapIndex(-6, 5, &w));
  EXPECT_FALSE(WrapIndex(0, 0, &w));
}

TEST(GatherMathTest, ErrorKeysOrderByLaunchThenPosition) {
  EXPECT_LT(IndexErrorKey(0, 1000), IndexErrorKey(1, 0));
  EXPECT_LT(IndexErrorKey(3, 5), IndexErrorKey(3, 6));
  EXPECT_LT(IndexErrorKey(kMaxIndexErrorSequence + 50, int64_t{1} << 50),
            kNoIndexError);
  const uint64_t key = IndexErrorKey(17, 123456789);
  EXPECT_EQ(IndexErrorSequence(key), 17u);
  EXPECT_EQ(IndexErrorPosition(key), 123456789);
  EXPECT_EQ(IndexErrorPosition(IndexErrorKey(0, int64_t{1} << 45)),
            (int64_t{1} << kIndexErrorPositionBits) - 1);
}

class GatherReplayTest : public CpuReference {};

// gather_kernels.cu's GatherKernel and ScatterAddKernel over every position,
// against the CPU plugin.
TEST_F(GatherReplayTest, EveryAxisAndIndexShape) {
  const View src = Contiguous({4, 5, 3});
  const auto data = cpu::testing::Random<float>(src.Count(), -9, 9, 31);
  std::vector<float> rounded(data.size());
  for (size_t i = 0; i < data.size(); ++i) rounded[i] = std::round(data[i]);
  for (int axis = 0; axis < 3; ++axis) {
    const int64_t size = src.shape[axis];
    for (const View& iv : {Contiguous({6}), Contiguous({2, 3}),
                           Spaced({2, 2}, 2), Contiguous({})}) {
      std::vector<int64_t> idx(std::max<int64_t>(iv.Extent(), 1));
      for (size_t k = 0; k < idx.size(); ++k) {
        idx[k] = static_cast<int64_t>(k * 7 % (2 * size)) - size;
      }
      std::vector<int64_t> out_shape;
      for (int d = 0; d < axis; ++d) out_shape.push_back(src.shape[d]);
      for (int64_t s : iv.shape) out_shape.push_back(s);
      for (int d = axis + 1; d < 3; ++d) out_shape.push_back(src.shape[d]);
      const View ov = Spaced(out_shape, 2);
      std::vector<float> want(std::max<int64_t>(ov.Extent(), 1), -1.0f);
      theta_gather_args args{};
      args.struct_size = sizeof(args);
      args.axis = axis;
      args.source = src.Array(rounded.data(), THETA_DTYPE_F32);
      args.indices = iv.Array(idx.data(), THETA_DTYPE_I64);
      args.output = ov.Array(want.data(), THETA_DTYPE_F32);
      ASSERT_TRUE(IsOk(api().gather(stream_, &args)));

      const GatherGeometry g =
          MakeGatherGeometry(axis, args.source, args.indices, args.output);
      std::vector<float> got(want.size(), -1.0f);
      for (int64_t e = 0; e < g.outer_count * g.j_count * g.inner_count; ++e) {
        int64_t o, j, i, outer[2], index[2], inner[2], w;
        SplitGatherPosition(e, g.j_count, g.inner_count, &o, &j, &i);
        OffsetsOf(g.outer, o, outer);
        OffsetsOf(g.index, j, index);
        OffsetsOf(g.inner, i, inner);
        ASSERT_TRUE(WrapIndex(idx[index[0]], g.axis_size, &w));
        got[outer[1] + index[1] + inner[1]] =
            rounded[outer[0] + w * g.axis_stride + inner[0]];
      }
      ASSERT_EQ(got, want) << "axis " << axis;

      // scatter_add is the adjoint: the gathered values added back.
      std::vector<float> dst_want(rounded), dst_got(rounded);
      theta_gather_args sa = args;
      sa.source = ov.Array(want.data(), THETA_DTYPE_F32);
      sa.output = src.Array(dst_want.data(), THETA_DTYPE_F32);
      ASSERT_TRUE(IsOk(api().scatter_add(stream_, &sa)));
      const GatherGeometry h =
          MakeGatherGeometry(axis, sa.output, sa.indices, sa.source);
      for (int64_t e = 0; e < h.outer_count * h.j_count * h.inner_count; ++e) {
        int64_t o, j, i, outer[2], index[2], inner[2], w;
        SplitGatherPosition(e, h.j_count, h.inner_count, &o, &j, &i);
        OffsetsOf(h.outer, o, outer);
        OffsetsOf(h.index, j, index);
        OffsetsOf(h.inner, i, inner);
        ASSERT_TRUE(WrapIndex(idx[index[0]], h.axis_size, &w));
        dst_got[outer[0] + w * h.axis_stride + inner[0]] +=
            want[outer[1] + index[1] + inner[1]];
      }
      ASSERT_EQ(dst_got, dst_want) << "axis " << axis;
    }
  }
}

// The smallest error key is the CPU plugin's reported position.
TEST_F(GatherReplayTest, TheSmallestErrorKeyIsTheFirstBadPosition) {
  const View src = Contiguous({10, 2});
  std::vector<float> data(src.Count(), 1.0f);
  const std::vector<int32_t> idx = {1, -10, 9, 12, 0, -11, 3};
  const View iv = Contiguous({7});
  const View ov = Contiguous({7, 2});
  std::vector<float> out(ov.Count());
  theta_gather_args args{};
  args.struct_size = sizeof(args);
  args.axis = 0;
  args.source = src.Array(data.data(), THETA_DTYPE_F32);
  args.indices = iv.Array(idx.data(), THETA_DTYPE_I32);
  args.output = ov.Array(out.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(cpu::testing::IsError(api().gather(stream_, &args),
                                    THETA_STATUS_INVALID_ARGUMENT,
                                    {"index 12", "at position 3"}));
  const GatherGeometry g =
      MakeGatherGeometry(0, args.source, args.indices, args.output);
  uint64_t key = kNoIndexError;
  for (int64_t e = g.outer_count * g.j_count * g.inner_count - 1; e >= 0;
       --e) {  // any order: the minimum wins
    int64_t o, j, i, index[2], w;
    SplitGatherPosition(e, g.j_count, g.inner_count, &o, &j, &i);
    OffsetsOf(g.index, j, index);
    if (!WrapIndex(idx[index[0]], g.axis_size, &w)) {
      key = std::min<uint64_t>(key, IndexErrorKey(2, j));
    }
  }
  EXPECT_EQ(IndexErrorSequence(key), 2u);
  EXPECT_EQ(IndexErrorPosition(key), 3);
}

// ---------------------------------------------------------------------------
// Random numbers: rng_kernels.cu replayed, bit for bit
// ---------------------------------------------------------------------------

class RngMathTest : public CpuReference {
 protected:
  template <typename T>
  void Compare(theta_rng_distribution dist, uint64_t seed, uint64_t offset,
               double a, double b, const View& v) {
    std::vector<T> want(std::max<int64_t>(v.Extent(), 1), T(-99));
    std::vector<T> got = want;
    theta_rng_args args{};
    args.struct_size = sizeof(args);
    args.distribution = dist;
    args.seed = seed;
    args.offset = offset;
    args.a = a;
    args.b = b;
    args.output = v.Array(want.data(), cpu::testing::DtypeOf<T>());
    ASSERT_TRUE(IsOk(api().rng(stream_, &args)));

    const bool f32 = sizeof(T) == 4;
    const int lanes = RngLanes(dist, f32);
    const double scale = dist == THETA_RNG_NORMAL ? b : b - a;
    const StridedIndex<1> ix =
        Collapse<1>(v.ndim(), v.shape.data(), {v.strides.data()});
    const int64_t count = CountOf(ix);
    int64_t covered = 0;
    for (int64_t g = 0; g < RngGroups(offset, count, lanes); ++g) {
      int64_t begin, end;
      RngGroupRange(offset, count, lanes, g, &begin, &end);
      ASSERT_EQ(begin, covered);
      ASSERT_GT(end, begin);
      covered = end;
      const uint64_t n = offset + static_cast<uint64_t>(begin);
      const philox::Block block = philox::Philox4x32_10(n / lanes, 0, seed);
      int lane = static_cast<int>(n % lanes);
      for (int64_t e = begin; e < end; ++e, ++lane) {
        ASSERT_LT(lane, lanes);
        int64_t off;
        OffsetsOf(ix, e, &off);
        got[off] = RngValue<T>(dist, block, lane, a, scale);
      }
    }
    ASSERT_EQ(covered, count);
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_TRUE(cpu::testing::SameValue(got[i], want[i]))
          << "element " << i << " offset " << offset << ": " << got[i] << " vs "
          << want[i];
    }
  }
};

TEST_F(RngMathTest, MatchesTheCpuPluginBitForBit) {
  for (uint64_t offset : {uint64_t{0}, uint64_t{1}, uint64_t{3}, uint64_t{5},
                          (uint64_t{1} << 40) + 2, ~uint64_t{0} - 5}) {
    for (const View& v : {Contiguous({1}), Contiguous({7}), Contiguous({1025}),
                          Spaced({33, 7}, 2), Transposed({5, 9, 3})}) {
      for (theta_rng_distribution dist :
           {THETA_RNG_UNIFORM, THETA_RNG_NORMAL}) {
        Compare<float>(dist, 1234, offset, -2, 3, v);
        Compare<double>(dist, 99, offset, 0.5, 2, v);
      }
    }
  }
}

TEST(RngValueTest, MatchesPhiloxHeader) {
  for (uint64_t n = 0; n < 64; ++n) {
    const philox::Block b4 = philox::Philox4x32_10(n / 4, 0, 42);
    const philox::Block b2 = philox::Philox4x32_10(n / 2, 0, 42);
    EXPECT_EQ(RngValue<float>(THETA_RNG_UNIFORM, b4, n % 4, 0.0, 1.0),
              philox::UniformFloat(42, n));
    EXPECT_EQ(RngValue<double>(THETA_RNG_UNIFORM, b2, n % 2, 0.0, 1.0),
              philox::UniformDouble(42, n));
    EXPECT_EQ(RngValue<double>(THETA_RNG_NORMAL, b2, n % 2, 0.0, 1.0),
              philox::StandardNormal(42, n));
  }
}

}  // namespace
}  // namespace theta::cuda
