// The CUDA plugin on a real device against the CPU plugin (the reference):
// devices, buffers and copies, the caching allocator, GEMM, the NVRTC-fused
// elementwise kernel, and streams on several threads. Skips, printing the
// driver's reason, without a device (device_harness.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/api/theta_backend.h"
#include "backends/cuda/cuda_extensions.h"
#include "backends/cuda/device_harness.h"

namespace theta::cuda::device_testing {
namespace {

// ---------------------------------------------------------------------------
// Devices, buffers, copies, the allocator
// ---------------------------------------------------------------------------

TEST_F(DeviceTest, DevicesHaveNamesAndMemory) {
  int32_t count = 0;
  ASSERT_TRUE(
      Ok(CudaPlugin(), cuda().device_count(CudaPlugin().plugin, &count)));
  ASSERT_GE(count, 1);
  for (int32_t i = 0; i < count; ++i) {
    theta_device_info info;
    std::memset(&info, 0, sizeof(info));
    info.struct_size = sizeof(info);
    ASSERT_TRUE(Ok(CudaPlugin(),
                   cuda().device_get_info(CudaPlugin().plugin, i, &info)));
    EXPECT_GT(std::strlen(info.name), 0u);
    EXPECT_GT(info.total_memory_bytes, 0u);
    EXPECT_LE(info.free_memory_bytes, info.total_memory_bytes);
    std::printf("device %d: %s, %llu of %llu bytes free\n", i, info.name,
                static_cast<unsigned long long>(info.free_memory_bytes),
                static_cast<unsigned long long>(info.total_memory_bytes));
  }
  theta_device_info info{};
  info.struct_size = sizeof(info);
  EXPECT_TRUE(Error(CudaPlugin(),
                    cuda().device_get_info(CudaPlugin().plugin, count, &info),
                    THETA_STATUS_INVALID_ARGUMENT, {"out of range"}));
  theta_device* d = nullptr;
  EXPECT_TRUE(Error(CudaPlugin(),
                    cuda().device_open(CudaPlugin().plugin, -1, &d),
                    THETA_STATUS_INVALID_ARGUMENT, {"device index -1"}));
}

TEST_F(DeviceTest, BuffersAlignAndCopiesRoundTrip) {
  for (uint64_t n : {0ull, 1ull, 1000ull, 3ull << 20}) {
    std::vector<uint8_t> host(n), back(n, 0);
    for (uint64_t i = 0; i < n; ++i) host[i] = static_cast<uint8_t>(i * 7 + 1);
    theta_buffer* a = nullptr;
    theta_buffer* b = nullptr;
    ASSERT_TRUE(
        Ok(CudaPlugin(), cuda().buffer_alloc(CudaPlugin().device, n, &a)));
    ASSERT_TRUE(
        Ok(CudaPlugin(), cuda().buffer_alloc(CudaPlugin().device, n, &b)));
    void* da = cuda().buffer_data(a);
    void* db = cuda().buffer_data(b);
    if (n > 0) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(da) % 64, 0u);
      ASSERT_TRUE(Ok(
          CudaPlugin(),
          cuda().copy_host_to_device(CudaPlugin().stream, da, host.data(), n)));
      ASSERT_TRUE(Ok(CudaPlugin(), cuda().copy_device_to_device(
                                       CudaPlugin().stream, db, da, n)));
      ASSERT_TRUE(Ok(
          CudaPlugin(),
          cuda().copy_device_to_host(CudaPlugin().stream, back.data(), db, n)));
      ASSERT_TRUE(
          Ok(CudaPlugin(), cuda().stream_synchronize(CudaPlugin().stream)));
      EXPECT_EQ(host, back);
      ASSERT_TRUE(
          Ok(CudaPlugin(), cuda().memset(CudaPlugin().stream, db, 0x5a, n)));
      ASSERT_TRUE(Ok(
          CudaPlugin(),
          cuda().copy_device_to_host(CudaPlugin().stream, back.data(), db, n)));
      ASSERT_TRUE(
          Ok(CudaPlugin(), cuda().stream_synchronize(CudaPlugin().stream)));
      EXPECT_EQ(back, std::vector<uint8_t>(n, 0x5a));
    }
    cuda().buffer_free(a);
    cuda().buffer_free(b);
  }
}

TEST_F(DeviceTest, ImpossibleAllocationsAreOutOfMemory) {
  theta_buffer* b = nullptr;
  EXPECT_TRUE(Error(
      CudaPlugin(), cuda().buffer_alloc(CudaPlugin().device, 1ull << 60, &b),
      THETA_STATUS_OUT_OF_MEMORY, {"buffer_alloc", "cudaMalloc"}));
  EXPECT_EQ(b, nullptr);
  // The failure leaves nothing behind for later calls.
  ASSERT_TRUE(
      Ok(CudaPlugin(), cuda().buffer_alloc(CudaPlugin().device, 64, &b)));
  ASSERT_TRUE(Ok(CudaPlugin(), cuda().stream_synchronize(CudaPlugin().stream)));
  cuda().buffer_free(b);
}

TEST_F(DeviceTest, ATrainingLoopReusesCachedBlocks) {
  const std::vector<uint64_t> sizes = {4, 4096, 4096, 123457, 1 << 22};
  uint64_t mallocs_after_first_step = 0;
  for (int step = 0; step < 20; ++step) {
    std::vector<theta_buffer*> bufs(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      ASSERT_TRUE(Ok(CudaPlugin(), cuda().buffer_alloc(CudaPlugin().device,
                                                       sizes[i], &bufs[i])));
    }
    for (theta_buffer* b : bufs) cuda().buffer_free(b);
    if (step == 0) mallocs_after_first_step = Stats().cuda_mallocs;
  }
  const theta_cuda_device_stats s = Stats();
  EXPECT_EQ(s.cuda_mallocs, mallocs_after_first_step);
  EXPECT_GE(s.cache_hits, 19 * sizes.size());
  EXPECT_GT(s.bytes_cached, 0u);
  auto release = reinterpret_cast<theta_cuda_release_cached_memory_fn>(
      cuda().get_extension(CudaPlugin().plugin,
                           THETA_CUDA_EXT_RELEASE_CACHED_MEMORY));
  ASSERT_NE(release, nullptr);
  ASSERT_TRUE(Ok(CudaPlugin(), release(CudaPlugin().plugin)));
  const theta_cuda_device_stats after = Stats();
  EXPECT_EQ(after.bytes_cached, 0u);
  EXPECT_GT(after.cuda_frees, s.cuda_frees);
  EXPECT_GE(after.compute_capability, 80);
  EXPECT_GT(after.multiprocessors, 0);
}

// ---------------------------------------------------------------------------
// GEMM
// ---------------------------------------------------------------------------

struct GemmCase {
  int trans_a, trans_b;
  int64_t m, n, k, batch;
  double alpha, beta;
  int64_t pad;  // extra columns in each leading dimension
};

template <typename T>
void CheckGemm(const GemmCase& c) {
  const int64_t a_rows = c.trans_a ? c.k : c.m, a_cols = c.trans_a ? c.m : c.k;
  const int64_t b_rows = c.trans_b ? c.n : c.k, b_cols = c.trans_b ? c.k : c.n;
  const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.n + c.pad;
  const int64_t sa = a_rows * lda + 3, sb = b_rows * ldb, sc = c.m * ldc + 1;
  auto a = Random<T>(std::max<int64_t>(1, sa * c.batch), -1, 1, 1);
  auto b = Random<T>(std::max<int64_t>(1, sb * c.batch), -1, 1, 2);
  auto cc = Random<T>(std::max<int64_t>(1, sc * c.batch), -1, 1, 3);
  if (c.beta == 0) {
    for (T& x : cc) x = std::numeric_limits<T>::quiet_NaN();  // not read
  }
  const Outcome o =
      RunBoth({ToBytes(a), ToBytes(b), ToBytes(cc)},
              [&](const Loaded& p, const std::vector<void*>& ptr) {
                theta_gemm_args g{};
                g.struct_size = sizeof(g);
                g.dtype = sizeof(T) == 4 ? THETA_DTYPE_F32 : THETA_DTYPE_F64;
                g.trans_a = c.trans_a;
                g.trans_b = c.trans_b;
                g.m = c.m;
                g.n = c.n;
                g.k = c.k;
                g.alpha = c.alpha;
                g.beta = c.beta;
                g.a = ptr[0];
                g.lda = lda;
                g.stride_a = sa;
                g.b = ptr[1];
                g.ldb = ldb;
                g.stride_b = sb;
                g.c = ptr[2];
                g.ldc = ldc;
                g.stride_c = sc;
                g.batch = c.batch;
                return p.api->gemm(p.stream, &g);
              });
  // Untouched padding compares too (NaN == NaN for ExpectClose).
  ExpectClose<T>(o.cuda[2], o.cpu[2], 4, sizeof(T) == 4 ? 2e-5 : 1e-13, "gemm");
}

TEST_F(DeviceTest, GemmMatchesTheCpu) {
  const GemmCase cases[] = {
      {0, 0, 2, 3, 4, 1, 1, 0, 0},       {1, 0, 17, 9, 33, 1, 1, 0, 2},
      {0, 1, 64, 65, 66, 2, 0.5, 1, 1},  {1, 1, 5, 7, 3, 3, -2, 0.25, 0},
      {0, 0, 128, 256, 512, 2, 1, 0, 0}, {0, 0, 8, 8, 0, 2, 1, 2, 0},
      {0, 0, 8, 8, 0, 1, 1, 0, 0},       {1, 0, 1, 300, 1000, 4, 1, 1, 3},
      {0, 0, 0, 5, 5, 1, 1, 0, 0},
  };
  for (const GemmCase& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "m " << c.m << " n " << c.n << " k " << c.k << " trans "
                 << c.trans_a << c.trans_b << " batch " << c.batch);
    CheckGemm<float>(c);
    CheckGemm<double>(c);
  }
}

// ---------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------

theta_ew_instr I(int op, int dst, int a = 0, int b = 0, int c = 0) {
  return theta_ew_instr{static_cast<uint16_t>(op), static_cast<uint16_t>(dst),
                        static_cast<uint16_t>(a), static_cast<uint16_t>(b),
                        static_cast<uint16_t>(c)};
}

struct EwOperand {
  theta_dtype dtype;
  Shape shape;  // strides over the index space
  Bytes data;
};

// Runs `instrs` over the index space `dims` on both plugins; inputs and
// outputs as given (outputs start filled with their data); compares the
// outputs.
void CheckElementwise(theta_dtype compute, uint32_t registers,
                      const std::vector<theta_ew_instr>& instrs,
                      const std::vector<int64_t>& dims,
                      const std::vector<EwOperand>& inputs,
                      const std::vector<EwOperand>& outputs,
                      const std::vector<double>& params, int64_t ulps,
                      const std::string& what) {
  std::vector<Bytes> host;
  for (const auto& o : inputs) host.push_back(o.data);
  for (const auto& o : outputs) host.push_back(o.data);
  const Outcome out = RunBoth(host, [&](const Loaded& p,
                                        const std::vector<void*>& ptr) {
    theta_ew_program program{sizeof(theta_ew_program), compute, registers,
                             static_cast<uint32_t>(instrs.size()),
                             instrs.data()};
    std::vector<theta_ew_operand> in, ou;
    for (size_t i = 0; i < inputs.size(); ++i) {
      in.push_back({ptr[i], inputs[i].dtype, inputs[i].shape.strides.data()});
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      ou.push_back({ptr[inputs.size() + i], outputs[i].dtype,
                    outputs[i].shape.strides.data()});
    }
    theta_elementwise_args a{};
    a.struct_size = sizeof(a);
    a.program = &program;
    a.ndim = static_cast<int32_t>(dims.size());
    a.shape = dims.data();
    a.num_inputs = static_cast<int32_t>(in.size());
    a.inputs = in.data();
    a.num_outputs = static_cast<int32_t>(ou.size());
    a.outputs = ou.data();
    a.num_params = static_cast<int32_t>(params.size());
    a.params = params.data();
    return p.api->elementwise(p.stream, &a);
  });
  for (size_t i = 0; i < outputs.size(); ++i) {
    const size_t k = inputs.size() + i;
    const std::string w = what + " output " + std::to_string(i);
    switch (outputs[i].dtype) {
      case THETA_DTYPE_F32:
        ExpectClose<float>(out.cuda[k], out.cpu[k], ulps, 1e-6, w);
        break;
      case THETA_DTYPE_F64:
        // A value computed in float and stored as double carries float's
        // rounding: the two plugins' expf may differ in its last bit.
        ExpectClose<double>(out.cuda[k], out.cpu[k], ulps,
                            compute == THETA_DTYPE_F32 ? 1e-6 : 1e-13, w);
        break;
      case THETA_DTYPE_I32:
        ExpectClose<int32_t>(out.cuda[k], out.cpu[k], 0, 0, w);
        break;
      case THETA_DTYPE_I64:
        ExpectClose<int64_t>(out.cuda[k], out.cpu[k], 0, 0, w);
        break;
      default:
        ExpectClose<uint8_t>(out.cuda[k], out.cpu[k], 0, 0, w);
        break;
    }
  }
}

template <typename T>
EwOperand Operand(theta_dtype dtype, const Shape& s, const std::vector<T>& v) {
  return EwOperand{dtype, s, ToBytes(v)};
}

// Every computing opcode, in each compute dtype, on values that exercise
// its edges (zeros, negatives, NaN and infinities for floats).
TEST_F(DeviceTest, EveryOpcodeInEveryComputeDtype) {
  const std::vector<int64_t> dims = {1000};
  const Shape s = Contiguous(dims);
  std::vector<double> a = Random<double>(1000, -6, 6, 11);
  std::vector<double> b = Random<double>(1000, -6, 6, 12);
  std::vector<double> c = Random<double>(1000, -6, 6, 13);
  for (int i = 0; i < 1000; i += 37) b[i] = 0;
  a[1] = std::nan("");
  a[2] = INFINITY;
  a[3] = -INFINITY;
  a[4] = 0.5;
  a[5] = 2.5;
  a[6] = -0.0;
  for (theta_dtype ct :
       {THETA_DTYPE_F32, THETA_DTYPE_F64, THETA_DTYPE_I32, THETA_DTYPE_I64}) {
    for (int op = 3; op < 128; ++op) {
      if (theta::ew::Arity(op) < 1) continue;
      const std::vector<theta_ew_instr> prog = {
          I(THETA_EW_LOAD, 0, 0), I(THETA_EW_LOAD, 1, 1),
          I(THETA_EW_LOAD, 2, 2), I(op, 3, 0, 1, 2), I(THETA_EW_STORE, 0, 3)};
      std::vector<EwOperand> in, out;
      if (ct == THETA_DTYPE_F32) {
        auto f = [](const std::vector<double>& v) {
          return std::vector<float>(v.begin(), v.end());
        };
        for (const auto* v : {&a, &b, &c}) in.push_back(Operand(ct, s, f(*v)));
        out.push_back(Operand(ct, s, std::vector<float>(1000)));
      } else if (ct == THETA_DTYPE_F64) {
        for (const auto* v : {&a, &b, &c}) in.push_back(Operand(ct, s, *v));
        out.push_back(Operand(ct, s, std::vector<double>(1000)));
      } else {
        auto toi = [](const std::vector<double>& v) {
          std::vector<int64_t> r;
          for (double x : v) r.push_back(theta::ew::Convert<int64_t>(x * 3));
          return r;
        };
        for (const auto* v : {&a, &b, &c}) {
          in.push_back(Operand(THETA_DTYPE_I64, s, toi(*v)));
        }
        out.push_back(Operand(
            ct, s, std::vector<int64_t>(ct == THETA_DTYPE_I32 ? 500 : 1000)));
      }
      // Transcendentals differ by a few ulps between libm and CUDA's.
      CheckElementwise(ct, 4, prog, dims, in, out, {}, 16,
                       std::string("opcode ") + std::to_string(op) +
                           " compute dtype " + std::to_string(ct));
    }
  }
}

TEST_F(DeviceTest, BroadcastMixedDtypesParamsAndEveryOutputDtype) {
  const std::vector<int64_t> dims = {3, 4, 5};
  const Shape full = Contiguous(dims);
  Shape row{{3, 4, 5}, {0, 0, 1}};  // (5,) broadcast
  Shape col{{3, 4, 5}, {4, 1, 0}};  // (3, 4, 1) broadcast
  Shape scalar{{3, 4, 5}, {0, 0, 0}};
  const auto x = Random<float>(60, -3, 3, 21);
  const auto r = Random<int64_t>(5, -4, 4, 22);
  const auto m = Random<uint8_t>(12, 0, 1, 23);
  const std::vector<double> s = {0.75};
  // y = select(m, x * p0 + r, exp(x) - s) stored to every dtype.
  const std::vector<theta_ew_instr> prog = {
      I(THETA_EW_LOAD, 0, 0),   I(THETA_EW_LOAD, 1, 1),
      I(THETA_EW_LOAD, 2, 2),   I(THETA_EW_LOAD, 3, 3),
      I(THETA_EW_PARAM, 4, 0),  I(THETA_EW_MUL, 5, 0, 4),
      I(THETA_EW_ADD, 5, 5, 1), I(THETA_EW_EXP, 6, 0),
      I(THETA_EW_SUB, 6, 6, 3), I(THETA_EW_SELECT, 5, 2, 5, 6),
      I(THETA_EW_STORE, 0, 5),  I(THETA_EW_STORE, 1, 5),
      I(THETA_EW_STORE, 2, 5),  I(THETA_EW_STORE, 3, 5),
      I(THETA_EW_STORE, 4, 5),  I(THETA_EW_STORE, 5, 5)};
  for (theta_dtype ct : {THETA_DTYPE_F32, THETA_DTYPE_F64}) {
    const std::vector<EwOperand> in = {
        Operand(THETA_DTYPE_F32, full, x), Operand(THETA_DTYPE_I64, row, r),
        Operand(THETA_DTYPE_BOOL, col, m),
        Operand(THETA_DTYPE_F64, scalar, std::vector<double>{1.5})};
    const std::vector<EwOperand> out = {
        Operand(THETA_DTYPE_F32, full, std::vector<float>(60)),
        Operand(THETA_DTYPE_F64, Transposed(dims), std::vector<double>(60)),
        Operand(THETA_DTYPE_I32, full, std::vector<int32_t>(60)),
        Operand(THETA_DTYPE_I64, Contiguous(dims, 2),
                std::vector<int64_t>(120, 9)),
        Operand(THETA_DTYPE_U8, full, std::vector<uint8_t>(60)),
        Operand(THETA_DTYPE_BOOL, full, std::vector<uint8_t>(60))};
    CheckElementwise(ct, 7, prog, dims, in, out, s, 8, "broadcast");
  }
}

TEST_F(DeviceTest, ElementwiseInPlaceAndRankZero) {
  const std::vector<int64_t> dims = {257};
  const Shape s = Contiguous(dims);
  const auto x = Random<double>(257, -2, 2, 31);
  // x = tanh(x) * 2 in place: output 0 is input 0.
  const std::vector<theta_ew_instr> prog = {
      I(THETA_EW_LOAD, 0, 0), I(THETA_EW_TANH, 0, 0), I(THETA_EW_ADD, 0, 0, 0),
      I(THETA_EW_STORE, 0, 0)};
  const Outcome o = RunBoth(
      {ToBytes(x)}, [&](const Loaded& p, const std::vector<void*>& ptr) {
        theta_ew_program program{sizeof(program), THETA_DTYPE_F64, 1, 4,
                                 prog.data()};
        theta_ew_operand op{ptr[0], THETA_DTYPE_F64, s.strides.data()};
        theta_elementwise_args a{};
        a.struct_size = sizeof(a);
        a.program = &program;
        a.ndim = 1;
        a.shape = dims.data();
        a.num_inputs = 1;
        a.inputs = &op;
        a.num_outputs = 1;
        a.outputs = &op;
        return p.api->elementwise(p.stream, &a);
      });
  ExpectClose<double>(o.cuda[0], o.cpu[0], 4, 1e-14, "in place");
  CheckElementwise(THETA_DTYPE_F32, 1,
                   {I(THETA_EW_PARAM, 0, 0), I(THETA_EW_SQRT, 0, 0),
                    I(THETA_EW_STORE, 0, 0)},
                   {}, {},
                   {Operand(THETA_DTYPE_F32, Shape{}, std::vector<float>{0})},
                   {2.0}, 2, "rank 0");
}

// Reversed views (negative strides) of inputs, against a reference computed
// here.
TEST_F(DeviceTest, ElementwiseReadsReversedViews) {
  const std::vector<int64_t> dims = {4, 6};
  const auto x = Random<float>(24, -1, 1, 41);
  std::vector<float> got(24, 0);
  Buffers b(CudaPlugin(), {ToBytes(x), ToBytes(got)});
  const std::vector<int64_t> reversed = {-6, -1}, contiguous = {6, 1};
  const std::vector<theta_ew_instr> prog = {
      I(THETA_EW_LOAD, 0, 0), I(THETA_EW_NEG, 0, 0), I(THETA_EW_STORE, 0, 0)};
  theta_ew_program program{sizeof(program), THETA_DTYPE_F32, 1, 3, prog.data()};
  theta_ew_operand in{static_cast<float*>(b.ptrs()[0]) + 23, THETA_DTYPE_F32,
                      reversed.data()};
  theta_ew_operand out{b.ptrs()[1], THETA_DTYPE_F32, contiguous.data()};
  theta_elementwise_args a{};
  a.struct_size = sizeof(a);
  a.program = &program;
  a.ndim = 2;
  a.shape = dims.data();
  a.num_inputs = 1;
  a.inputs = &in;
  a.num_outputs = 1;
  a.outputs = &out;
  ASSERT_TRUE(Ok(CudaPlugin(), cuda().elementwise(CudaPlugin().stream, &a)));
  got = FromBytes<float>(b.Download({ToBytes(x), ToBytes(got)})[1]);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(got[i], -x[23 - i]) << i;
}

TEST_F(DeviceTest, ElementwiseWith64BitIndices) {
  // Two elements 2^30 apart: the kernel indexes with 64 bits.
  const int64_t far = int64_t{1} << 30;
  theta_buffer* big = nullptr;
  theta_buffer* small = nullptr;
  ASSERT_TRUE(Ok(CudaPlugin(),
                 cuda().buffer_alloc(CudaPlugin().device, far + 1, &big)));
  ASSERT_TRUE(
      Ok(CudaPlugin(), cuda().buffer_alloc(CudaPlugin().device, 8, &small)));
  ASSERT_TRUE(Ok(
      CudaPlugin(),
      cuda().memset(CudaPlugin().stream, cuda().buffer_data(big), 7, far + 1)));
  const std::vector<int64_t> dims = {2}, in_strides = {far}, out_strides = {1};
  const std::vector<theta_ew_instr> prog = {I(THETA_EW_LOAD, 0, 0),
                                            I(THETA_EW_STORE, 0, 0)};
  theta_ew_program program{sizeof(program), THETA_DTYPE_F32, 1, 2, prog.data()};
  theta_ew_operand in{cuda().buffer_data(big), THETA_DTYPE_U8,
                      in_strides.data()};
  theta_ew_operand out{cuda().buffer_data(small), THETA_DTYPE_F32,
                       out_strides.data()};
  theta_elementwise_args a{};
  a.struct_size = sizeof(a);
  a.program = &program;
  a.ndim = 1;
  a.shape = dims.data();
  a.num_inputs = 1;
  a.inputs = &in;
  a.num_outputs = 1;
  a.outputs = &out;
  ASSERT_TRUE(Ok(CudaPlugin(), cuda().elementwise(CudaPlugin().stream, &a)));
  float got[2] = {};
  ASSERT_TRUE(Ok(CudaPlugin(),
                 cuda().copy_device_to_host(CudaPlugin().stream, got,
                                            cuda().buffer_data(small), 8)));
  ASSERT_TRUE(Ok(CudaPlugin(), cuda().stream_synchronize(CudaPlugin().stream)));
  EXPECT_EQ(got[0], 7.0f);
  EXPECT_EQ(got[1], 7.0f);
  cuda().buffer_free(big);
  cuda().buffer_free(small);
}

TEST_F(DeviceTest, EachDistinctProgramCompilesOnce) {
  const uint64_t before = Stats().elementwise_kernels;
  const std::vector<theta_ew_instr> prog = {
      I(THETA_EW_LOAD, 0, 0), I(THETA_EW_SOFTPLUS, 0, 0),
      I(THETA_EW_ATAN2, 0, 0, 0), I(THETA_EW_STORE, 0, 0)};
  const auto x = Random<float>(100, -1, 1, 51);
  for (int i = 0; i < 3; ++i) {
    CheckElementwise(
        THETA_DTYPE_F32, 1, prog, {100},
        {Operand(THETA_DTYPE_F32, Contiguous({100}), x)},
        {Operand(THETA_DTYPE_F32, Contiguous({100}), std::vector<float>(100))},
        {}, 8, "cached");
  }
  EXPECT_EQ(Stats().elementwise_kernels, before + 1);
  // Another rank after collapsing is another kernel.
  CheckElementwise(
      THETA_DTYPE_F32, 1, prog, {10, 10},
      {Operand(THETA_DTYPE_F32, Transposed({10, 10}), x)},
      {Operand(THETA_DTYPE_F32, Contiguous({10, 10}), std::vector<float>(100))},
      {}, 8, "rank 2");
  EXPECT_EQ(Stats().elementwise_kernels, before + 2);
}

// ---------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------

TEST_F(DeviceTest, StreamsOnSeveralThreadsRunIndependently) {
  constexpr int kThreads = 3;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &errors] {
      const theta_backend_api& api = *CudaPlugin().api;
      theta_stream* stream = nullptr;
      if (theta_status* s = api.stream_create(CudaPlugin().device, &stream)) {
        errors[t] = Take(&api, s);
        return;
      }
      const int n = 256;
      std::vector<float> a(n * n, 1.0f), c(n * n, 0.0f);
      theta_buffer* ba = nullptr;
      theta_buffer* bc = nullptr;
      std::string e =
          Take(&api, api.buffer_alloc(CudaPlugin().device, a.size() * 4, &ba));
      if (e.empty()) {
        e = Take(&api,
                 api.buffer_alloc(CudaPlugin().device, c.size() * 4, &bc));
      }
      if (e.empty()) {
        e = Take(&api, api.copy_host_to_device(stream, api.buffer_data(ba),
                                               a.data(), a.size() * 4));
      }
      for (int rep = 0; rep < 10 && e.empty(); ++rep) {
        theta_gemm_args g{};
        g.struct_size = sizeof(g);
        g.dtype = THETA_DTYPE_F32;
        g.m = g.n = g.k = n;
        g.alpha = t + 1;
        g.a = g.b = api.buffer_data(ba);
        g.lda = g.ldb = g.ldc = n;
        g.c = api.buffer_data(bc);
        g.batch = 1;
        e = Take(&api, api.gemm(stream, &g));
      }
      if (e.empty()) {
        e = Take(&api,
                 api.copy_device_to_host(stream, c.data(), api.buffer_data(bc),
                                         c.size() * 4));
      }
      if (e.empty()) e = Take(&api, api.stream_synchronize(stream));
      if (e.empty() && c[12345] != float(n * (t + 1))) {
        e = "wrong result " + std::to_string(c[12345]);
      }
      api.buffer_free(ba);
      api.buffer_free(bc);
      api.stream_destroy(stream);
      errors[t] = e;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
}

}  // namespace
}  // namespace theta::cuda::device_testing
