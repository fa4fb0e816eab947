// Buffers, byte copies in every direction, memset, device information, and
// the steady state: repeating a kernel call allocates no host memory.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "backends/conformance/conformance.h"
#include "backends/kernel_args.h"
#include "backends/registry.h"
#include "testing/allocation_counter.h"

namespace theta::conformance {
namespace {

class MemoryTest : public ConformanceTest {};

TEST_P(MemoryTest, DeviceReportsANameAndMemory) {
  theta_device_info info{};
  info.struct_size = sizeof(info);
  ASSERT_TRUE(Ok(api().device_get_info(backend().plugin(),
                                       backend().device_index(), &info)));
  EXPECT_GT(std::strlen(info.name), 0u);
  EXPECT_GT(info.total_memory_bytes, 0u);
  EXPECT_LE(info.free_memory_bytes, info.total_memory_bytes);
}

TEST_P(MemoryTest, CopiesRoundTripAndMemsetWritesBytes) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{4097}, size_t{3} << 20}) {
    std::vector<uint8_t> host(bytes);
    for (size_t i = 0; i < bytes; ++i)
      host[i] = static_cast<uint8_t>(i * 7 + 3);
    DeviceArray a = UploadBytes(host.data(), bytes, THETA_DTYPE_U8);
    absl::StatusOr<backends::Buffer> b = backend().Allocate(bytes);
    ASSERT_TRUE(b.ok()) << b.status();
    if (bytes > 0) {
      ASSERT_TRUE(
          backend().CopyWithinDevice(b->data(), a.buffer.data(), bytes).ok());
    }
    DeviceArray copy{std::move(*b), THETA_DTYPE_U8};
    EXPECT_EQ(Download<uint8_t>(copy, bytes), host) << bytes << " bytes";
    if (bytes > 2) {
      ASSERT_TRUE(
          Ok(api().memset(stream(), static_cast<char*>(copy.buffer.data()) + 1,
                          0xAB, bytes - 2)));
      const std::vector<uint8_t> got = Download<uint8_t>(copy, bytes);
      EXPECT_EQ(got[0], host[0]);
      EXPECT_EQ(got[1], 0xAB);
      EXPECT_EQ(got[bytes - 2], 0xAB);
      EXPECT_EQ(got[bytes - 1], host[bytes - 1]);
    }
  }
}

TEST_P(MemoryTest, RepeatedKernelCallsAllocateNoHostMemory) {
  // One call of each kernel warms caches (compiled programs, scratch); the
  // same calls again must not touch the heap.
  const int64_t rows = 300, cols = 700;
  const View m = Contiguous({rows, cols}), col = Contiguous({rows, 1});
  const View mt = Transposed({rows, cols});
  DeviceArray x = Upload(Random<float>(rows * cols, -1, 1, 1));
  DeviceArray y = Upload(std::vector<float>(rows * cols));
  DeviceArray r = Upload(std::vector<float>(rows));
  DeviceArray idx = Upload(std::vector<int64_t>{5, 0, 299, 5});
  DeviceArray g = Upload(std::vector<float>(4 * cols));
  const theta_ew_instr code[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                 {THETA_EW_TANH, 0, 0, 0, 0},
                                 {THETA_EW_LOAD, 1, 1, 0, 0},
                                 {THETA_EW_MUL, 0, 0, 1, 0},
                                 {THETA_EW_STORE, 0, 0, 0, 0}};
  const theta_ew_program program =
      backends::EwProgram(THETA_DTYPE_F32, 2, code);
  const int64_t bcast[] = {1, 0};
  const theta_ew_operand in2[] = {
      {x.buffer.data(), THETA_DTYPE_F32, m.strides.data()},
      {r.buffer.data(), THETA_DTYPE_F32, bcast}};
  const theta_ew_operand out{y.buffer.data(), THETA_DTYPE_F32,
                             m.strides.data()};
  const theta_elementwise_args ew =
      backends::ElementwiseArgs(program, m.shape, in2, {&out, 1});
  // A wider program: six live F64 registers and two parameters (register
  // blocks of several kilobytes each, parameters filled once per range).
  const theta_ew_instr wide_code[] = {
      {THETA_EW_LOAD, 0, 0, 0, 0}, {THETA_EW_EXP, 1, 0, 0, 0},
      {THETA_EW_TANH, 2, 0, 0, 0}, {THETA_EW_SQUARE, 3, 0, 0, 0},
      {THETA_EW_LOAD, 4, 1, 0, 0}, {THETA_EW_MUL, 5, 1, 2, 0},
      {THETA_EW_ADD, 5, 5, 3, 0},  {THETA_EW_ADD, 5, 5, 4, 0},
      {THETA_EW_ADD, 5, 5, 0, 0},  {THETA_EW_PARAM, 6, 0, 0, 0},
      {THETA_EW_MUL, 5, 5, 6, 0},  {THETA_EW_PARAM, 7, 1, 0, 0},
      {THETA_EW_ADD, 5, 5, 7, 0},  {THETA_EW_STORE, 0, 5, 0, 0}};
  const theta_ew_program wide =
      backends::EwProgram(THETA_DTYPE_F64, 8, wide_code);
  const double wide_params[] = {0.5, -1.0};
  const theta_elementwise_args ew_wide =
      backends::ElementwiseArgs(wide, m.shape, in2, {&out, 1}, wide_params);
  theta_reduce_args sum{};
  sum.struct_size = sizeof(sum);
  sum.op = THETA_REDUCE_SUM;
  sum.input = x.Array(m);
  sum.axes_mask = 2;
  sum.output = r.Array(col);
  theta_reduce_args colsum = sum;  // few outputs over long columns: partials
  const View tall = Contiguous({rows * cols / 10, 10}),
             row10 = Contiguous({1, 10});
  colsum.input = x.Array(tall);
  colsum.axes_mask = 1;
  DeviceArray r10 = Upload(std::vector<float>(10));
  colsum.output = r10.Array(row10);
  theta_softmax_args sm{};
  sm.struct_size = sizeof(sm);
  sm.input = x.Array(mt);
  sm.output = y.Array(m);
  theta_gather_args ga{};
  ga.struct_size = sizeof(ga);
  ga.axis = 0;
  ga.source = x.Array(m);
  const View four = Contiguous({4}), picked = Contiguous({4, cols});
  ga.indices = idx.Array(four);
  ga.output = g.Array(picked);
  theta_gather_args sc = ga;
  sc.source = g.Array(picked);
  sc.output = y.Array(m);
  theta_copy_args cp{};
  cp.struct_size = sizeof(cp);
  cp.source = x.Array(mt);
  cp.destination = y.Array(m);
  theta_gemm_args gm{};
  gm.struct_size = sizeof(gm);
  gm.dtype = THETA_DTYPE_F32;
  gm.m = gm.n = gm.k = 128;
  gm.alpha = 1;
  gm.a = gm.b = x.buffer.data();
  gm.c = y.buffer.data();
  gm.lda = gm.ldb = gm.ldc = 128;
  gm.batch = 1;
  theta_rng_args rng{};
  rng.struct_size = sizeof(rng);
  rng.distribution = THETA_RNG_NORMAL;
  rng.b = 1;
  rng.output = y.Array(m);
  const theta_array fill = y.Array(m);
  const std::pair<const char*, std::function<theta_status*()>> calls[] = {
      {"elementwise", [&] { return api().elementwise(stream(), &ew); }},
      {"elementwise (wide)",
       [&] { return api().elementwise(stream(), &ew_wide); }},
      {"reduce", [&] { return api().reduce(stream(), &sum); }},
      {"reduce (columns)", [&] { return api().reduce(stream(), &colsum); }},
      {"softmax", [&] { return api().softmax(stream(), &sm); }},
      {"gather", [&] { return api().gather(stream(), &ga); }},
      {"scatter_add", [&] { return api().scatter_add(stream(), &sc); }},
      {"copy", [&] { return api().copy(stream(), &cp); }},
      {"gemm", [&] { return api().gemm(stream(), &gm); }},
      {"rng", [&] { return api().rng(stream(), &rng); }},
      {"fill", [&] { return api().fill(stream(), &fill, 0.5); }},
      {"stream_synchronize",
       [&] { return api().stream_synchronize(stream()); }},
  };
  for (const auto& [name, call] : calls) EXPECT_TRUE(Ok(call())) << name;
  // Every call again, twice, each counted on its own so that a failure
  // names the kernel that allocated.
  for (int round = 0; round < 2; ++round) {
    for (const auto& [name, call] : calls) {
      const int64_t before = HostAllocationCount();
      EXPECT_TRUE(Ok(call())) << name;
      EXPECT_EQ(HostAllocationCount() - before, 0)
          << name << " allocated host memory in round " << round;
    }
  }
}

THETA_CONFORMANCE_INSTANTIATE(MemoryTest);

// The CPU plugin is built with the suite: it must load, never be skipped.
TEST(ConformanceSetup, TheCpuBackendIsUnderTest) {
  const std::vector<std::string> names = BackendsUnderTest();
  if (std::getenv("THETA_CONFORMANCE_BACKENDS") != nullptr) {
    EXPECT_FALSE(names.empty())
        << "THETA_CONFORMANCE_BACKENDS names no backend";
    GTEST_SKIP() << "THETA_CONFORMANCE_BACKENDS chooses the backends";
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "cpu"), names.end());
  EXPECT_TRUE(backends::GetBackend("cpu").ok());
}

}  // namespace
}  // namespace theta::conformance
