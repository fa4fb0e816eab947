// The CUDA plugin's nvcc kernels on a real device against the CPU plugin
// (the reference): reductions, softmax, gather and scatter_add, copy, fill
// and rng. Skips, printing the driver's reason, without a device
// (device_harness.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/api/theta_backend.h"
#include "backends/cuda/device_harness.h"

namespace theta::cuda::device_testing {
namespace {

// ---------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------

template <typename T>
void CheckReduce(theta_reduce_op op, const Shape& in, const std::vector<T>& x,
                 uint32_t mask, theta_dtype dtype) {
  std::vector<int64_t> out_dims = in.dims;
  for (int d = 0; d < in.ndim(); ++d) {
    if (mask >> d & 1) out_dims[d] = 1;
  }
  const Shape out = Contiguous(out_dims, 2);  // spaced output
  const bool arg = op == THETA_REDUCE_ARGMAX || op == THETA_REDUCE_ARGMIN;
  const size_t out_size = arg ? 8 : sizeof(T);
  const Bytes init(std::max<int64_t>(out.Extent(), 1) * out_size, 0x33);
  const Outcome o = RunBoth(
      {ToBytes(x), init}, [&](const Loaded& p, const std::vector<void*>& ptr) {
        theta_reduce_args a{};
        a.struct_size = sizeof(a);
        a.op = op;
        a.input = in.Array(ptr[0], dtype);
        a.axes_mask = mask;
        a.output = out.Array(ptr[1], arg ? THETA_DTYPE_I64 : dtype);
        return p.api->reduce(p.stream, &a);
      });
  const std::string what =
      "reduce op " + std::to_string(op) + " mask " + std::to_string(mask);
  if (arg) {
    ExpectClose<int64_t>(o.cuda[1], o.cpu[1], 0, 0, what);
  } else if constexpr (std::is_floating_point_v<T>) {
    const bool sum = op == THETA_REDUCE_SUM || op == THETA_REDUCE_PROD;
    ExpectClose<T>(o.cuda[1], o.cpu[1], sum ? 4 : 0,
                   sum ? (sizeof(T) == 4 ? 1e-6 : 1e-11) : 0, what);
  } else {
    ExpectClose<T>(o.cuda[1], o.cpu[1], 0, 0, what);
  }
}

template <typename T>
void CheckAllOps(const Shape& in, const std::vector<T>& x, uint32_t mask,
                 theta_dtype dtype) {
  for (theta_reduce_op op :
       {THETA_REDUCE_SUM, THETA_REDUCE_PROD, THETA_REDUCE_MAX, THETA_REDUCE_MIN,
        THETA_REDUCE_ARGMAX, THETA_REDUCE_ARGMIN}) {
    const bool arg = op == THETA_REDUCE_ARGMAX || op == THETA_REDUCE_ARGMIN;
    if (arg && __builtin_popcount(mask) != 1) continue;
    if (dtype == THETA_DTYPE_BOOL &&
        (op == THETA_REDUCE_SUM || op == THETA_REDUCE_PROD)) {
      continue;
    }
    CheckReduce<T>(op, in, x, mask, dtype);
  }
}

TEST_F(DeviceTest, ReduceEveryMaskAndDtype) {
  const Shape s = Contiguous({6, 7, 5});
  std::vector<float> f = Random<float>(210, -3, 3, 61);
  for (float& v : f) v = std::round(v);  // ties for ARGMAX/ARGMIN
  const auto d = Random<double>(210, -1, 1, 62);
  const auto i = Random<int32_t>(210, -5, 5, 63);
  const auto l = Random<int64_t>(210, -5, 5, 64);
  const auto u = Random<uint8_t>(210, 0, 9, 65);
  const auto b = Random<uint8_t>(210, 0, 1, 66);
  for (uint32_t mask = 0; mask < 8; ++mask) {
    CheckAllOps(s, f, mask, THETA_DTYPE_F32);
    CheckAllOps(s, d, mask, THETA_DTYPE_F64);
    CheckAllOps(s, i, mask, THETA_DTYPE_I32);
    CheckAllOps(s, l, mask, THETA_DTYPE_I64);
    CheckAllOps(s, u, mask, THETA_DTYPE_U8);
    CheckAllOps(s, b, mask, THETA_DTYPE_BOOL);
  }
  const Shape t = Transposed({9, 4, 11});
  const auto tf = Random<float>(396, -1, 1, 67);
  for (uint32_t mask : {1u, 2u, 4u, 5u, 7u}) {
    CheckAllOps(t, tf, mask, THETA_DTYPE_F32);
  }
}

TEST_F(DeviceTest, ReduceLongRowsColumnsAndEverything) {
  const auto x = Random<float>(3 * 200000, -1, 1, 71);
  CheckAllOps(Contiguous({3, 200000}), x, 2, THETA_DTYPE_F32);
  CheckAllOps(Contiguous({200000, 3}), x, 1, THETA_DTYPE_F32);
  CheckAllOps(Contiguous({600, 1000}), x, 1, THETA_DTYPE_F32);
  CheckAllOps(Contiguous({600000}), x, 1, THETA_DTYPE_F32);
  const auto y = Random<double>(1 << 20, -1, 1, 72);
  CheckReduce(THETA_REDUCE_SUM, Contiguous({1 << 20}), y, 1, THETA_DTYPE_F64);
}

TEST_F(DeviceTest, ReduceNansInfinitiesAndEmptySets) {
  auto x = Random<float>(5 * 400, -1, 1, 81);
  x[7] = NAN;
  x[300] = NAN;
  x[2 * 400 + 399] = NAN;
  x[3 * 400 + 10] = INFINITY;
  x[3 * 400 + 11] = INFINITY;
  x[4 * 400] = -INFINITY;
  for (uint32_t mask : {1u, 2u, 3u}) {
    CheckAllOps(Contiguous({5, 400}), x, mask, THETA_DTYPE_F32);
  }
  const std::vector<float> none;
  for (uint32_t mask : {2u, 3u, 6u}) {
    for (theta_reduce_op op : {THETA_REDUCE_SUM, THETA_REDUCE_PROD,
                               THETA_REDUCE_MAX, THETA_REDUCE_MIN}) {
      CheckReduce(op, Contiguous({3, 0, 4}), none, mask, THETA_DTYPE_F32);
    }
  }
}

// ---------------------------------------------------------------------------
// Softmax
// ---------------------------------------------------------------------------

template <typename T>
void CheckSoftmax(const Shape& in, const Shape& out, const std::vector<T>& x,
                  bool in_place) {
  const theta_dtype dt = sizeof(T) == 4 ? THETA_DTYPE_F32 : THETA_DTYPE_F64;
  for (int log = 0; log < 2; ++log) {
    const Bytes y(std::max<int64_t>(out.Extent(), 1) * sizeof(T), 0);
    const Outcome o = RunBoth(
        {ToBytes(x), y}, [&](const Loaded& p, const std::vector<void*>& ptr) {
          theta_softmax_args a{};
          a.struct_size = sizeof(a);
          a.log = log;
          a.input = in.Array(ptr[0], dt);
          a.output = in_place ? a.input : out.Array(ptr[1], dt);
          return p.api->softmax(p.stream, &a);
        });
    const int k = in_place ? 0 : 1;
    ExpectClose<T>(o.cuda[k], o.cpu[k], 16, sizeof(T) == 4 ? 2e-6 : 1e-13,
                   std::string("softmax log ") + std::to_string(log));
  }
}

TEST_F(DeviceTest, SoftmaxShortAndLongRowsStridedAndInPlace) {
  for (int64_t n : {1, 10, 33, 1000, 8192, 8193, 50000}) {
    const auto x = Random<float>(3 * n, -20, 20, n);
    CheckSoftmax(Contiguous({3, n}), Contiguous({3, n}), x, false);
    CheckSoftmax(Contiguous({3, n}), Contiguous({3, n}), x, true);
    const auto y = Random<double>(2 * n, -20, 20, n + 1);
    CheckSoftmax(Contiguous({2, n}), Contiguous({2, n}), y, false);
  }
  const auto z = Random<float>(4 * 5 * 6, -5, 5, 91);
  CheckSoftmax(Transposed({4, 5, 6}), Contiguous({4, 5, 6}, 2), z, false);
  CheckSoftmax(Transposed({4, 5, 6}), Transposed({4, 5, 6}), z, true);
}

TEST_F(DeviceTest, SoftmaxInfinitiesAndNans) {
  for (int64_t n : {int64_t{5}, int64_t{20000}}) {
    std::vector<float> x(5 * n, 0.5f);
    for (int64_t i = 0; i < n; ++i) x[i] = -INFINITY;
    x[n + n / 2] = INFINITY;
    x[2 * n + 1] = NAN;
    for (int64_t i = 0; i < n / 2; ++i) x[3 * n + i] = -INFINITY;
    x[5 * n - 1] = -INFINITY;
    CheckSoftmax(Contiguous({5, n}), Contiguous({5, n}), x, false);
  }
}

// ---------------------------------------------------------------------------
// gather and scatter_add
// ---------------------------------------------------------------------------

template <typename T, typename I>
void CheckGather(const Shape& src, int axis, const Shape& idx_shape,
                 const std::vector<I>& idx, theta_dtype dt, theta_dtype it) {
  std::vector<int64_t> out_dims;
  for (int d = 0; d < axis; ++d) out_dims.push_back(src.dims[d]);
  for (int64_t s : idx_shape.dims) out_dims.push_back(s);
  for (int d = axis + 1; d < src.ndim(); ++d) out_dims.push_back(src.dims[d]);
  const Shape out = Contiguous(out_dims, 2);
  auto x = Random<T>(std::max<int64_t>(src.Extent(), 1), -9, 9, 101);
  if constexpr (std::is_floating_point_v<T>) {
    for (T& v : x) v = std::round(v);  // exact sums in any order
  }
  const Bytes y(std::max<int64_t>(out.Extent(), 1) * sizeof(T), 0);
  const Outcome g =
      RunBoth({ToBytes(x), ToBytes(idx), y},
              [&](const Loaded& p, const std::vector<void*>& ptr) {
                theta_gather_args a{};
                a.struct_size = sizeof(a);
                a.axis = axis;
                a.source = src.Array(ptr[0], dt);
                a.indices = idx_shape.Array(ptr[1], it);
                a.output = out.Array(ptr[2], dt);
                return p.api->gather(p.stream, &a);
              });
  ASSERT_EQ(g.cuda[2], g.cpu[2]) << "gather axis " << axis;
  if (dt == THETA_DTYPE_BOOL) return;
  // scatter_add of the gathered values into x (duplicates accumulate; the
  // values are small integers, so float sums are exact in any order).
  const Outcome s =
      RunBoth({g.cpu[2], ToBytes(idx), ToBytes(x)},
              [&](const Loaded& p, const std::vector<void*>& ptr) {
                theta_gather_args a{};
                a.struct_size = sizeof(a);
                a.axis = axis;
                a.source = out.Array(ptr[0], dt);
                a.indices = idx_shape.Array(ptr[1], it);
                a.output = src.Array(ptr[2], dt);
                return p.api->scatter_add(p.stream, &a);
              });
  ASSERT_EQ(s.cuda[2], s.cpu[2]) << "scatter_add axis " << axis;
}

TEST_F(DeviceTest, GatherAndScatterAddEveryAxisAndDtype) {
  const Shape src = Contiguous({6, 5, 4});
  for (int axis = 0; axis < 3; ++axis) {
    const int64_t size = src.dims[axis];
    std::vector<int64_t> idx64;
    std::vector<int32_t> idx32;
    for (int k = 0; k < 12; ++k) {  // negatives and duplicates
      idx64.push_back(k * 7 % (2 * size) - size);
      idx32.push_back(static_cast<int32_t>(idx64.back()));
    }
    const Shape is = Contiguous({3, 4});
    CheckGather<float, int64_t>(src, axis, is, idx64, THETA_DTYPE_F32,
                                THETA_DTYPE_I64);
    CheckGather<double, int32_t>(src, axis, is, idx32, THETA_DTYPE_F64,
                                 THETA_DTYPE_I32);
    CheckGather<int32_t, int64_t>(src, axis, is, idx64, THETA_DTYPE_I32,
                                  THETA_DTYPE_I64);
    CheckGather<int64_t, int32_t>(src, axis, is, idx32, THETA_DTYPE_I64,
                                  THETA_DTYPE_I32);
    CheckGather<uint8_t, int64_t>(src, axis, is, idx64, THETA_DTYPE_U8,
                                  THETA_DTYPE_I64);
    CheckGather<uint8_t, int64_t>(src, axis, is, idx64, THETA_DTYPE_BOOL,
                                  THETA_DTYPE_I64);
    CheckGather<float, int64_t>(Transposed({6, 5, 4}), axis, Shape{}, {1},
                                THETA_DTYPE_F32, THETA_DTYPE_I64);
  }
  // An embedding-style lookup: many rows, many duplicate indices.
  std::vector<int32_t> rows = Random<int32_t>(5000, 0, 99, 102);
  CheckGather<float, int32_t>(Contiguous({100, 64}), 0, Contiguous({5000}),
                              rows, THETA_DTYPE_F32, THETA_DTYPE_I32);
}

TEST_F(DeviceTest, OutOfRangeIndicesAreReportedBySynchronize) {
  const std::vector<float> x(20, 1.0f);
  const std::vector<int32_t> idx = {1, -10, 9, 12, 0, -11, 3};
  const Shape src = Contiguous({10, 2}), is = Contiguous({7}),
              out = Contiguous({7, 2});
  Buffers b(CudaPlugin(), {ToBytes(x), ToBytes(idx), Bytes(56)});
  theta_gather_args a{};
  a.struct_size = sizeof(a);
  a.axis = 0;
  a.source = src.Array(b.ptrs()[0], THETA_DTYPE_F32);
  a.indices = is.Array(b.ptrs()[1], THETA_DTYPE_I32);
  a.output = out.Array(b.ptrs()[2], THETA_DTYPE_F32);
  // The bad indices are found on the device: the calls themselves succeed.
  ASSERT_TRUE(Ok(CudaPlugin(), cuda().gather(CudaPlugin().stream, &a)));
  ASSERT_TRUE(Ok(CudaPlugin(), cuda().gather(CudaPlugin().stream, &a)));
  EXPECT_TRUE(Error(CudaPlugin(),
                    cuda().stream_synchronize(CudaPlugin().stream),
                    THETA_STATUS_INVALID_ARGUMENT,
                    {"gather: index 12 out of range [-10, 10) at position 3"}));
  // Reported once; the stream works on.
  EXPECT_TRUE(Ok(CudaPlugin(), cuda().stream_synchronize(CudaPlugin().stream)));
  theta_gather_args s = a;
  s.source = out.Array(b.ptrs()[2], THETA_DTYPE_F32);
  s.output = src.Array(b.ptrs()[0], THETA_DTYPE_F32);
  ASSERT_TRUE(Ok(CudaPlugin(), cuda().scatter_add(CudaPlugin().stream, &s)));
  EXPECT_TRUE(Error(CudaPlugin(),
                    cuda().stream_synchronize(CudaPlugin().stream),
                    THETA_STATUS_INVALID_ARGUMENT,
                    {"scatter_add: index 12", "at position 3"}));
  EXPECT_TRUE(Ok(CudaPlugin(), cuda().stream_synchronize(CudaPlugin().stream)));
  // Indices are checked even when no element moves (an empty outer part).
  const Shape empty_src{{0, 10}, {10, 1}}, empty_out{{0, 7}, {7, 1}};
  theta_gather_args e = a;
  e.axis = 1;
  e.source = empty_src.Array(b.ptrs()[0], THETA_DTYPE_F32);
  e.output = empty_out.Array(b.ptrs()[2], THETA_DTYPE_F32);
  ASSERT_TRUE(Ok(CudaPlugin(), cuda().gather(CudaPlugin().stream, &e)));
  EXPECT_TRUE(Error(
      CudaPlugin(), cuda().stream_synchronize(CudaPlugin().stream),
      THETA_STATUS_INVALID_ARGUMENT, {"gather: index 12", "at position 3"}));
}

// ---------------------------------------------------------------------------
// copy, fill, rng
// ---------------------------------------------------------------------------

template <typename T>
void CheckCopy(const Shape& src, const Shape& dst, theta_dtype dt) {
  const auto x = Random<T>(std::max<int64_t>(src.Extent(), 1), -50, 50, 111);
  const Bytes y(std::max<int64_t>(dst.Extent(), 1) * sizeof(T), 0x11);
  const Outcome o = RunBoth(
      {ToBytes(x), y}, [&](const Loaded& p, const std::vector<void*>& ptr) {
        theta_copy_args a{};
        a.struct_size = sizeof(a);
        a.source = src.Array(ptr[0], dt);
        a.destination = dst.Array(ptr[1], dt);
        return p.api->copy(p.stream, &a);
      });
  ASSERT_EQ(o.cuda[1], o.cpu[1]);
}

TEST_F(DeviceTest, CopyTransposesBroadcastsAndSlices) {
  const std::vector<int64_t> d = {7, 8, 9};
  CheckCopy<float>(Contiguous(d), Contiguous(d), THETA_DTYPE_F32);
  CheckCopy<float>(Transposed(d), Contiguous(d), THETA_DTYPE_F32);
  CheckCopy<double>(Contiguous(d), Transposed(d), THETA_DTYPE_F64);
  CheckCopy<uint8_t>(Transposed(d), Contiguous(d, 3), THETA_DTYPE_U8);
  CheckCopy<int64_t>(Shape{d, {0, 9, 1}}, Contiguous(d), THETA_DTYPE_I64);
  CheckCopy<int32_t>(Contiguous({5, 3}, 2), Contiguous({5, 3}),
                     THETA_DTYPE_I32);
  CheckCopy<float>(Shape{{}, {}}, Shape{{}, {}}, THETA_DTYPE_F32);
}

TEST_F(DeviceTest, CopyReadsReversedViews) {
  const auto x = Random<int32_t>(12, -100, 100, 121);
  Buffers b(CudaPlugin(), {ToBytes(x), Bytes(48)});
  const std::vector<int64_t> dims = {3, 4}, rev = {4, -1}, fwd = {4, 1};
  theta_copy_args a{};
  a.struct_size = sizeof(a);
  a.source = theta_array{static_cast<int32_t*>(b.ptrs()[0]) + 3,
                         THETA_DTYPE_I32, 2, dims.data(), rev.data()};
  a.destination =
      theta_array{b.ptrs()[1], THETA_DTYPE_I32, 2, dims.data(), fwd.data()};
  ASSERT_TRUE(Ok(CudaPlugin(), cuda().copy(CudaPlugin().stream, &a)));
  const auto got = FromBytes<int32_t>(b.Download({Bytes(48), Bytes(48)})[1]);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) EXPECT_EQ(got[r * 4 + c], x[r * 4 + 3 - c]);
  }
}

TEST_F(DeviceTest, FillConvertsLikeAStore) {
  const struct {
    theta_dtype dtype;
    double value;
  } cases[] = {{THETA_DTYPE_F32, 1.25}, {THETA_DTYPE_F64, -3.5},
               {THETA_DTYPE_I32, 3.7},  {THETA_DTYPE_I64, -1e30},
               {THETA_DTYPE_U8, 300},   {THETA_DTYPE_BOOL, -0.5},
               {THETA_DTYPE_F32, 0},    {THETA_DTYPE_I32, NAN}};
  for (const auto& c : cases) {
    for (const Shape& s : {Contiguous({1000}), Contiguous({10, 7}, 3)}) {
      const Bytes init(s.Extent() * SizeOf(c.dtype), 0xee);
      const Outcome o =
          RunBoth({init}, [&](const Loaded& p, const std::vector<void*>& ptr) {
            const theta_array a = s.Array(ptr[0], c.dtype);
            return p.api->fill(p.stream, &a, c.value);
          });
      ASSERT_EQ(o.cuda[0], o.cpu[0])
          << "dtype " << c.dtype << " value " << c.value;
    }
  }
}

TEST_F(DeviceTest, RngMatchesTheCpuBitForBit) {
  for (uint64_t offset : {0ull, 1ull, 3ull, (1ull << 40) + 2, ~0ull - 5}) {
    for (const Shape& s :
         {Contiguous({1}), Contiguous({7}), Contiguous({100003}),
          Contiguous({33, 7}, 2), Transposed({5, 9, 3})}) {
      for (theta_rng_distribution dist :
           {THETA_RNG_UNIFORM, THETA_RNG_NORMAL}) {
        for (theta_dtype dt : {THETA_DTYPE_F32, THETA_DTYPE_F64}) {
          const Bytes init(s.Extent() * SizeOf(dt), 0);
          const Outcome o = RunBoth(
              {init}, [&](const Loaded& p, const std::vector<void*>& ptr) {
                theta_rng_args a{};
                a.struct_size = sizeof(a);
                a.distribution = dist;
                a.seed = 1234;
                a.offset = offset;
                a.a = dist == THETA_RNG_NORMAL ? 0.5 : -2;
                a.b = dist == THETA_RNG_NORMAL ? 2 : 3;
                a.output = s.Array(ptr[0], dt);
                return p.api->rng(p.stream, &a);
              });
          const std::string what = "rng offset " + std::to_string(offset);
          // Uniform numbers agree bit for bit; normal ones to the last bits
          // of log and cos (NormalDrawsAgree).
          if (dist == THETA_RNG_UNIFORM && dt == THETA_DTYPE_F32) {
            ExpectClose<float>(o.cuda[0], o.cpu[0], 0, 0, what);
          } else if (dist == THETA_RNG_UNIFORM) {
            ExpectClose<double>(o.cuda[0], o.cpu[0], 0, 0, what);
          } else if (dt == THETA_DTYPE_F32) {
            ExpectNormalDrawsAgree<float>(o.cuda[0], o.cpu[0], 0.5, what);
          } else {
            ExpectNormalDrawsAgree<double>(o.cuda[0], o.cpu[0], 0.5, what);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace theta::cuda::device_testing
