// A caller built against ABI 1.0: it knows the table only up to `rng`
// (THETA_BACKEND_API_SIZE_1_0) and fills argument structs of their frozen
// 1.0 sizes. Every kernel must work for it exactly as for a current caller,
// a struct below its 1.0 size must be refused, and the loader must take
// the cut table, reporting the capability query as missing. Then the
// capability query of the full table must agree with the kernels.
#include <cstring>
#include <string>
#include <vector>

#include "backends/conformance/conformance.h"
#include "backends/kernel_args.h"
#include "backends/plugin_library.h"

namespace theta::conformance {
namespace {

class Abi10CallerTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The table as a 1.0 caller sees it: cut to its 1.0 length, with
    // nothing of the plugin's past that point (poisoned, never read).
    std::memset(static_cast<void*>(&cut_), 0xA5, sizeof(cut_));
    std::memcpy(static_cast<void*>(&cut_), &api(), THETA_BACKEND_API_SIZE_1_0);
    cut_.struct_size = THETA_BACKEND_API_SIZE_1_0;
  }

  theta_backend_api cut_;
};

TEST_P(Abi10CallerTest, LoaderTakesTheCutTableAndReportsTheQueryMissing) {
  ASSERT_TRUE(backends::ValidateApiTable(&cut_).ok());
  std::vector<std::string> missing;
  const theta_backend_api full = backends::CompleteApiTable(cut_, &missing);
  EXPECT_EQ(missing, (std::vector<std::string>{"supports", "gemm_prepare"}));
  ASSERT_NE(full.supports, nullptr);
  EXPECT_EQ(
      full.supports(backend().plugin(), THETA_KERNEL_COPY, THETA_DTYPE_F32), 0);
  EXPECT_EQ(full.gemm, api().gemm);
  EXPECT_EQ(full.rng, api().rng);
  // One byte short of 1.0 is refused, naming the sizes.
  theta_backend_api shorter = cut_;
  shorter.struct_size = THETA_BACKEND_API_SIZE_1_0 - 1;
  const absl::Status s = backends::ValidateApiTable(&shorter);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("older than the loader"), std::string::npos);
}

// A plugin built against ABI 1.1 (the table through `supports`): the
// loader puts stand-ins for the prepared operands that prepare nothing.
TEST_P(Abi10CallerTest, LoaderGivesA11TableStandInsThatPrepareNothing) {
  theta_backend_api cut11;
  std::memset(static_cast<void*>(&cut11), 0xA5, sizeof(cut11));
  const size_t size_1_1 = THETA_FIELD_END(theta_backend_api, supports);
  std::memcpy(static_cast<void*>(&cut11), &api(), size_1_1);
  cut11.struct_size = size_1_1;
  ASSERT_TRUE(backends::ValidateApiTable(&cut11).ok());
  std::vector<std::string> missing;
  const theta_backend_api full = backends::CompleteApiTable(cut11, &missing);
  EXPECT_EQ(missing, std::vector<std::string>{"gemm_prepare"});
  EXPECT_EQ(full.supports, api().supports);
  const float b[4] = {1, 2, 3, 4};
  theta_gemm_prepare_args p{};
  p.struct_size = sizeof(p);
  p.dtype = THETA_DTYPE_F32;
  p.k = p.n = 2;
  p.data = b, p.ld = 2;
  int sentinel = 0;
  theta_gemm_operand* operand =
      reinterpret_cast<theta_gemm_operand*>(&sentinel);
  ASSERT_TRUE(Ok(full.gemm_prepare(stream(), &p, &operand)));
  EXPECT_EQ(operand, nullptr);
  full.gemm_operand_free(stream(), nullptr);
}

TEST_P(Abi10CallerTest, GemmWithThe10Struct) {
  const std::vector<double> a = {1, 2, 3, 4, 5, 6}, b = {1, 0, 0, 1, 1, 1};
  DeviceArray da = Upload(a), db = Upload(b),
              dc = Upload(std::vector<double>(4));
  theta_gemm_args g;
  std::memset(&g, 0, sizeof(g));
  g.struct_size = THETA_GEMM_ARGS_SIZE_1_0;
  g.dtype = THETA_DTYPE_F64;
  g.m = 2, g.n = 2, g.k = 3;
  g.alpha = 1;
  g.a = da.buffer.data(), g.lda = 3;
  g.b = db.buffer.data(), g.ldb = 2;
  g.c = dc.buffer.data(), g.ldc = 2;
  g.batch = 1;
  ASSERT_TRUE(Ok(cut_.gemm(stream(), &g)));
  // [1 2 3; 4 5 6] x [1 0; 0 1; 1 1]
  EXPECT_EQ(Download<double>(dc, 4), (std::vector<double>{4, 5, 10, 11}));
  g.struct_size = THETA_GEMM_ARGS_SIZE_1_0 - 1;
  EXPECT_TRUE(Invalid(cut_.gemm(stream(), &g), "struct_size"));
}

TEST_P(Abi10CallerTest, ElementwiseWithThe10Structs) {
  const std::vector<float> x = {1, -2, 3, -4};
  DeviceArray dx = Upload(x), dy = Upload(std::vector<float>(4));
  const int64_t shape[] = {4}, unit[] = {1};
  const theta_ew_instr code[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                 {THETA_EW_ABS, 1, 0, 0, 0},
                                 {THETA_EW_STORE, 0, 1, 0, 0}};
  theta_ew_program program = backends::EwProgram(THETA_DTYPE_F32, 2, {code, 3});
  program.struct_size = THETA_EW_PROGRAM_SIZE_1_0;
  const theta_ew_operand in{dx.buffer.data(), THETA_DTYPE_F32, unit};
  const theta_ew_operand out{dy.buffer.data(), THETA_DTYPE_F32, unit};
  theta_elementwise_args args =
      backends::ElementwiseArgs(program, shape, {&in, 1}, {&out, 1});
  args.struct_size = THETA_ELEMENTWISE_ARGS_SIZE_1_0;
  ASSERT_TRUE(Ok(cut_.elementwise(stream(), &args)));
  EXPECT_EQ(Download<float>(dy, 4), (std::vector<float>{1, 2, 3, 4}));
  args.struct_size = THETA_ELEMENTWISE_ARGS_SIZE_1_0 - 1;
  EXPECT_TRUE(Invalid(cut_.elementwise(stream(), &args), "struct_size"));
}

TEST_P(Abi10CallerTest, ReduceSoftmaxWithThe10Structs) {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6};
  DeviceArray dx = Upload(x), dsum = Upload(std::vector<double>(2));
  DeviceArray dsm = Upload(std::vector<double>(6));
  const View m = Contiguous({2, 3}), col = Contiguous({2, 1});
  theta_reduce_args r;
  std::memset(&r, 0, sizeof(r));
  r.struct_size = THETA_REDUCE_ARGS_SIZE_1_0;
  r.op = THETA_REDUCE_SUM;
  r.input = dx.Array(m);
  r.axes_mask = 2;
  r.output = dsum.Array(col);
  ASSERT_TRUE(Ok(cut_.reduce(stream(), &r)));
  EXPECT_EQ(Download<double>(dsum, 2), (std::vector<double>{6, 15}));

  theta_softmax_args s;
  std::memset(&s, 0, sizeof(s));
  s.struct_size = THETA_SOFTMAX_ARGS_SIZE_1_0;
  s.log = 0;
  s.input = dx.Array(m);
  s.output = dsm.Array(m);
  ASSERT_TRUE(Ok(cut_.softmax(stream(), &s)));
  const std::vector<double> p = Download<double>(dsm, 6);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
  EXPECT_NEAR(p[2] / p[1], std::exp(1.0), 1e-12);
  s.struct_size = THETA_SOFTMAX_ARGS_SIZE_1_0 - 1;
  EXPECT_TRUE(Invalid(cut_.softmax(stream(), &s), "struct_size"));
}

TEST_P(Abi10CallerTest, GatherScatterCopyFillWithThe10Structs) {
  const std::vector<float> src = {10, 11, 12, 13};
  const std::vector<int64_t> idx = {3, 0, 3};
  DeviceArray ds = Upload(src), di = Upload(idx);
  DeviceArray dg = Upload(std::vector<float>(3));
  DeviceArray dacc = Upload(std::vector<float>(4));
  DeviceArray dcopy = Upload(std::vector<float>(4));
  const View v4 = Contiguous({4}), v3 = Contiguous({3});
  theta_gather_args g;
  std::memset(&g, 0, sizeof(g));
  g.struct_size = THETA_GATHER_ARGS_SIZE_1_0;
  g.axis = 0;
  g.source = ds.Array(v4);
  g.indices = di.Array(v3);
  g.output = dg.Array(v3);
  ASSERT_TRUE(Ok(cut_.gather(stream(), &g)));
  EXPECT_EQ(Download<float>(dg, 3), (std::vector<float>{13, 10, 13}));

  theta_gather_args sa = g;  // scatter the gathered values back, adding
  sa.source = dg.Array(v3);
  sa.output = dacc.Array(v4);
  ASSERT_TRUE(Ok(cut_.scatter_add(stream(), &sa)));
  EXPECT_EQ(Download<float>(dacc, 4), (std::vector<float>{10, 0, 0, 26}));

  theta_copy_args c;
  std::memset(&c, 0, sizeof(c));
  c.struct_size = THETA_COPY_ARGS_SIZE_1_0;
  c.source = ds.Array(v4);
  c.destination = dcopy.Array(v4);
  ASSERT_TRUE(Ok(cut_.copy(stream(), &c)));
  EXPECT_EQ(Download<float>(dcopy, 4), src);
  c.struct_size = THETA_COPY_ARGS_SIZE_1_0 - 1;
  EXPECT_TRUE(Invalid(cut_.copy(stream(), &c), "struct_size"));

  const theta_array whole = dcopy.Array(v4);
  ASSERT_TRUE(Ok(cut_.fill(stream(), &whole, 2.5)));
  EXPECT_EQ(Download<float>(dcopy, 4),
            (std::vector<float>{2.5, 2.5, 2.5, 2.5}));
}

TEST_P(Abi10CallerTest, RngWithThe10StructMatchesACurrentCaller) {
  DeviceArray old_out = Upload(std::vector<float>(8));
  DeviceArray new_out = Upload(std::vector<float>(8));
  const View v = Contiguous({8});
  theta_rng_args r;
  std::memset(&r, 0, sizeof(r));
  r.distribution = THETA_RNG_UNIFORM;
  r.seed = 42;
  r.offset = 5;
  r.a = -1;
  r.b = 1;
  r.struct_size = THETA_RNG_ARGS_SIZE_1_0;
  r.output = old_out.Array(v);
  ASSERT_TRUE(Ok(cut_.rng(stream(), &r)));
  r.struct_size = sizeof(r);
  r.output = new_out.Array(v);
  ASSERT_TRUE(Ok(api().rng(stream(), &r)));
  EXPECT_EQ(Download<float>(old_out, 8), Download<float>(new_out, 8));
}

THETA_CONFORMANCE_INSTANTIATE(Abi10CallerTest);

// The capability query against the kernels: each pair it reports runs, and
// for the kernels whose dtype rules it states (GEMM, softmax, RNG, fill,
// elementwise), each pair it does not report is refused.
class CapabilityTest : public ConformanceTest {};

TEST_P(CapabilityTest, QueryIsAnsweredAndAgreesWithTheKernels) {
  ASSERT_EQ(backend().api().abi_minor, THETA_BACKEND_ABI_MINOR);
  for (int d = THETA_DTYPE_F32; d <= THETA_DTYPE_BOOL; ++d) {
    const theta_dtype dtype = static_cast<theta_dtype>(d);
    SCOPED_TRACE(backends::DtypeName(dtype));
    DeviceArray buf = UploadBytes(std::vector<char>(64).data(), 64, dtype);
    const View v = Contiguous({2});
    const theta_array arr = buf.Array(v);

    theta_status* fill = api().fill(stream(), &arr, 1);
    EXPECT_EQ(fill == nullptr, backend().Supports(THETA_KERNEL_FILL, dtype));
    if (fill != nullptr) api().status_free(fill);

    theta_rng_args r{};
    r.struct_size = sizeof(r);
    r.distribution = THETA_RNG_NORMAL;
    r.b = 1;
    r.output = arr;
    theta_status* rng = api().rng(stream(), &r);
    EXPECT_EQ(rng == nullptr, backend().Supports(THETA_KERNEL_RNG, dtype));
    if (rng != nullptr) api().status_free(rng);

    const View m = Contiguous({1, 2});
    theta_softmax_args s{};
    s.struct_size = sizeof(s);
    s.input = s.output = buf.Array(m);
    theta_status* sm = api().softmax(stream(), &s);
    EXPECT_EQ(sm == nullptr, backend().Supports(THETA_KERNEL_SOFTMAX, dtype));
    if (sm != nullptr) api().status_free(sm);

    theta_gemm_args g{};
    g.struct_size = sizeof(g);
    g.dtype = dtype;
    g.m = g.n = g.k = 1;
    g.alpha = 1;
    g.a = buf.buffer.data();
    g.b = buf.buffer.data();
    g.c = static_cast<char*>(buf.buffer.data()) + 32;
    g.lda = g.ldb = g.ldc = 1;
    g.batch = 1;
    theta_status* gemm = api().gemm(stream(), &g);
    EXPECT_EQ(gemm == nullptr, backend().Supports(THETA_KERNEL_GEMM, dtype));
    if (gemm != nullptr) api().status_free(gemm);

    const theta_ew_instr code[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                   {THETA_EW_STORE, 0, 0, 0, 0}};
    const theta_ew_program program = backends::EwProgram(dtype, 1, {code, 2});
    const int64_t shape[] = {2}, unit[] = {1};
    const theta_ew_operand in{buf.buffer.data(), THETA_DTYPE_F32, unit};
    const theta_ew_operand out{static_cast<char*>(buf.buffer.data()) + 32,
                               THETA_DTYPE_F32, unit};
    const theta_elementwise_args e =
        backends::ElementwiseArgs(program, shape, {&in, 1}, {&out, 1});
    theta_status* ew = api().elementwise(stream(), &e);
    EXPECT_EQ(ew == nullptr,
              backend().Supports(THETA_KERNEL_ELEMENTWISE, dtype));
    if (ew != nullptr) api().status_free(ew);
    ASSERT_TRUE(Ok(api().stream_synchronize(stream())));
  }
  EXPECT_FALSE(backend().Supports(static_cast<theta_kernel>(THETA_KERNEL_COUNT),
                                  THETA_DTYPE_F32));
}

THETA_CONFORMANCE_INSTANTIATE(CapabilityTest);

}  // namespace
}  // namespace theta::conformance
