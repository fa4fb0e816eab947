// The table, plugin_create without a device (UNAVAILABLE with the driver's
// reason, never a crash), NULL handles, and every kernel's argument checks,
// which run before any device work: with stand-in handles (no CUDA calls
// happen for a rejected or empty request) they are tested anywhere.
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "backends/api/theta_backend.h"
#include "backends/cuda/cuda_extensions.h"
#include "backends/cuda/handles.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/status.h"

extern "C" const theta_backend_api* theta_backend_get_api(void);

namespace theta::cuda {
namespace {

const theta_backend_api& api() { return *theta_backend_get_api(); }

// Stores an int outside the enumerators, as a C caller may.
template <typename E>
void SetRaw(E* field, int value) {
  static_assert(sizeof(E) == sizeof(int));
  std::memcpy(field, &value, sizeof(value));
}

::testing::AssertionResult IsOk(theta_status* s) {
  if (s == nullptr) return ::testing::AssertionSuccess();
  ::testing::AssertionResult r = ::testing::AssertionFailure()
                                 << "code " << s->code << ": " << s->message;
  FreeStatus(s);
  return r;
}

::testing::AssertionResult IsError(theta_status* s, theta_status_code code,
                                   std::initializer_list<std::string> parts) {
  if (s == nullptr) return ::testing::AssertionFailure() << "got success";
  const std::string m = api().status_message(s);
  const theta_status_code got = api().status_code(s);
  api().status_free(s);
  if (got != code) {
    return ::testing::AssertionFailure()
           << "expected code " << code << ", got " << got << ": " << m;
  }
  for (const std::string& p : parts) {
    if (m.find(p) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "message \"" << m << "\" lacks \"" << p << "\"";
    }
  }
  return ::testing::AssertionSuccess() << m;
}

TEST(TableTest, HeaderDescribesThisBuild) {
  const theta_backend_api* table = theta_backend_get_api();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->struct_size, sizeof(theta_backend_api));
  EXPECT_EQ(table->abi_major, THETA_BACKEND_ABI_MAJOR);
  EXPECT_EQ(table->abi_minor, THETA_BACKEND_ABI_MINOR);
  EXPECT_STREQ(table->name, "cuda");
  EXPECT_NE(table->version, nullptr);
  const char* begin = reinterpret_cast<const char*>(&table->status_code);
  const char* end = reinterpret_cast<const char*>(table) + table->struct_size;
  for (const char* p = begin; p < end; p += sizeof(void*)) {
    void* slot;
    std::memcpy(&slot, p, sizeof(slot));
    EXPECT_NE(slot, nullptr) << "slot at byte " << p - begin;
  }
}

TEST(TableTest, CapabilityQuery) {
  const theta_backend_api* table = theta_backend_get_api();
  ASSERT_TRUE(THETA_API_HAS(table, theta_backend_api, supports));
  EXPECT_EQ(table->supports(nullptr, THETA_KERNEL_GEMM, THETA_DTYPE_F32), 1);
  EXPECT_EQ(table->supports(nullptr, THETA_KERNEL_GEMM, THETA_DTYPE_I64), 0);
  EXPECT_EQ(table->supports(nullptr, THETA_KERNEL_ELEMENTWISE, THETA_DTYPE_I32),
            1);
  EXPECT_EQ(
      table->supports(nullptr, THETA_KERNEL_SCATTER_ADD, THETA_DTYPE_BOOL), 0);
}

TEST(StatusTest, NullIsSuccess) {
  EXPECT_EQ(api().status_code(nullptr), THETA_STATUS_OK);
  EXPECT_STREQ(api().status_message(nullptr), "");
  api().status_free(nullptr);
}

TEST(PluginCreateTest, RejectsNullOut) {
  EXPECT_TRUE(IsError(api().plugin_create(nullptr),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"plugin_create", "out is NULL"}));
}

// Here (no driver) plugin_create says why; on a GPU machine it works.
TEST(PluginCreateTest, WorksOrIsUnavailableWithTheDriversReason) {
  theta_plugin* plugin = reinterpret_cast<theta_plugin*>(0x1);
  theta_status* s = api().plugin_create(&plugin);
  if (s == nullptr) {
    ASSERT_NE(plugin, nullptr);
    int32_t count = 0;
    EXPECT_TRUE(IsOk(api().device_count(plugin, &count)));
    EXPECT_GE(count, 1);
    api().plugin_destroy(plugin);
    return;
  }
  EXPECT_EQ(plugin, nullptr);
  const std::string message = api().status_message(s);
  EXPECT_EQ(api().status_code(s), THETA_STATUS_UNAVAILABLE) << message;
  api().status_free(s);
  EXPECT_EQ(message.rfind("no CUDA device: ", 0), 0u) << message;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    EXPECT_NE(message.find(cudaGetErrorString(e)), std::string::npos)
        << message;
  }
  // Without a driver library (as here) the plain cause comes first.
  if (void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(driver);
  } else {
    EXPECT_EQ(message.rfind("no CUDA device: no NVIDIA driver / no GPU found "
                            "(cannot load the CUDA driver library "
                            "libcuda.so.1: ",
                            0),
              0u)
        << message;
  }
  std::printf("plugin_create: %s\n", message.c_str());
}

TEST(NullHandlesTest, AreRejectedOrIgnored) {
  const theta_status_code bad = THETA_STATUS_INVALID_ARGUMENT;
  int32_t count = 0;
  theta_device_info info{};
  info.struct_size = sizeof(info);
  theta_device* device = nullptr;
  theta_stream* stream = nullptr;
  theta_buffer* buffer = nullptr;
  char byte = 0;
  EXPECT_TRUE(IsError(api().device_count(nullptr, &count), bad,
                      {"device_count", "plugin is NULL"}));
  EXPECT_TRUE(IsError(api().device_get_info(nullptr, 0, &info), bad,
                      {"device_get_info"}));
  EXPECT_TRUE(
      IsError(api().device_open(nullptr, 0, &device), bad, {"device_open"}));
  EXPECT_TRUE(IsError(api().device_open(nullptr, 0, nullptr), bad,
                      {"device_open", "out is NULL"}));
  EXPECT_TRUE(IsError(api().stream_create(nullptr, &stream), bad,
                      {"stream_create", "device is NULL"}));
  EXPECT_TRUE(
      IsError(api().stream_synchronize(nullptr), bad, {"stream_synchronize"}));
  EXPECT_TRUE(IsError(api().buffer_alloc(nullptr, 8, &buffer), bad,
                      {"buffer_alloc", "device is NULL"}));
  EXPECT_EQ(api().buffer_data(nullptr), nullptr);
  EXPECT_TRUE(IsError(api().copy_host_to_device(nullptr, &byte, &byte, 1), bad,
                      {"copy_host_to_device", "stream is NULL"}));
  EXPECT_TRUE(IsError(api().copy_device_to_host(nullptr, &byte, &byte, 1), bad,
                      {"copy_device_to_host", "stream is NULL"}));
  EXPECT_TRUE(IsError(api().copy_device_to_device(nullptr, &byte, &byte, 1),
                      bad, {"copy_device_to_device", "stream is NULL"}));
  EXPECT_TRUE(
      IsError(api().memset(nullptr, &byte, 0, 1), bad, {"memset", "stream"}));
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  EXPECT_TRUE(
      IsError(api().gemm(nullptr, &g), bad, {"gemm", "stream is NULL"}));
  EXPECT_TRUE(
      IsError(api().elementwise(nullptr, nullptr), bad, {"elementwise"}));
  EXPECT_TRUE(IsError(api().reduce(nullptr, nullptr), bad, {"reduce"}));
  EXPECT_TRUE(IsError(api().softmax(nullptr, nullptr), bad, {"softmax"}));
  EXPECT_TRUE(IsError(api().gather(nullptr, nullptr), bad, {"gather"}));
  EXPECT_TRUE(IsError(api().scatter_add(nullptr, nullptr), bad, {"scatter"}));
  EXPECT_TRUE(IsError(api().copy(nullptr, nullptr), bad, {"copy"}));
  EXPECT_TRUE(IsError(api().fill(nullptr, nullptr, 0), bad, {"fill"}));
  EXPECT_TRUE(IsError(api().rng(nullptr, nullptr), bad, {"rng"}));
  EXPECT_EQ(api().get_extension(nullptr, THETA_CUDA_EXT_DEVICE_STATS), nullptr);
  api().buffer_free(nullptr);
  api().stream_destroy(nullptr);
  api().device_close(nullptr);
  api().plugin_destroy(nullptr);
}

// Stand-in handles: a plugin without a driver, a device whose memory
// source always fails, a stream without a cudaStream_t. Rejected and empty
// requests return before touching them.
class ChecksTest : public ::testing::Test {
 protected:
  ChecksTest() {
    CachingAllocator::Source none;
    none.allocate = [](uint64_t, void**) -> theta_status* {
      return MakeStatus(THETA_STATUS_INTERNAL, "stand-in device");
    };
    none.release = [](void*, uint64_t) {};
    device_ = new theta_device(&plugin_, 0, std::move(none));
    stream_ = new theta_stream(device_);
  }
  ~ChecksTest() override {
    delete stream_;
    delete device_;
  }

  theta_plugin plugin_;
  theta_device* device_;
  theta_stream* stream_;
  const theta_status_code bad_ = THETA_STATUS_INVALID_ARGUMENT;
};

TEST_F(ChecksTest, ArgsStructSizeIsChecked) {
  theta_gemm_args g{};
  g.struct_size = 8;
  EXPECT_TRUE(
      IsError(api().gemm(stream_, &g), bad_, {"gemm", "struct_size is 8"}));
  // A 1.0 caller's struct is read: whatever follows (an empty product, or
  // no device here), its size is not the complaint.
  g.struct_size = THETA_GEMM_ARGS_SIZE_1_0;
  if (theta_status* s = api().gemm(stream_, &g)) {
    EXPECT_EQ(std::string(api().status_message(s)).find("struct_size"),
              std::string::npos)
        << api().status_message(s);
    api().status_free(s);
  }
  theta_reduce_args r{};
  r.struct_size = sizeof(r) - 1;
  EXPECT_TRUE(
      IsError(api().reduce(stream_, &r), bad_, {"reduce", "struct_size"}));
  EXPECT_TRUE(IsError(api().softmax(stream_, nullptr), bad_,
                      {"softmax", "args is NULL"}));
}

TEST_F(ChecksTest, Gemm) {
  float a[4] = {}, b[4] = {}, c[4] = {};
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.m = g.n = g.k = 2;
  g.a = a;
  g.b = b;
  g.c = c;
  g.lda = g.ldb = g.ldc = 2;
  g.batch = 1;
  theta_gemm_args x = g;
  x.dtype = THETA_DTYPE_I32;
  EXPECT_TRUE(IsError(Gemm(stream_, x), bad_, {"gemm: dtype I32"}));
  x = g;
  x.m = -1;
  EXPECT_TRUE(IsError(Gemm(stream_, x), bad_, {"gemm: m is -1"}));
  x = g;
  x.lda = 1;
  EXPECT_TRUE(IsError(Gemm(stream_, x), bad_, {"lda 1 is smaller"}));
  x = g;
  x.trans_b = 1;
  x.k = 3;
  x.lda = 3;
  EXPECT_TRUE(IsError(Gemm(stream_, x), bad_, {"ldb 2 is smaller", "3"}));
  x = g;
  x.c = nullptr;
  EXPECT_TRUE(IsError(Gemm(stream_, x), bad_, {"c is NULL"}));
  x = g;
  x.batch = 2;
  x.stride_c = 3;
  EXPECT_TRUE(IsError(Gemm(stream_, x), bad_, {"stride_c 3", "overlap"}));
  x = g;
  x.n = int64_t{1} << 31;
  x.ldb = x.ldc = x.n;
  EXPECT_TRUE(IsError(Gemm(stream_, x), THETA_STATUS_UNIMPLEMENTED,
                      {"32-bit interface"}));
  x = g;
  x.m = 0;  // no work, no device
  EXPECT_TRUE(IsOk(Gemm(stream_, x)));
  x = g;
  x.batch = 0;
  EXPECT_TRUE(IsOk(Gemm(stream_, x)));
}

// ABI 1.2: preparing records the operand without touching the device (the
// table's entry, which sets no device), and a GEMM given it is checked
// against its own B before anything is enqueued (the kernel itself: the
// table's gemm entry would first make the absent device current).
TEST_F(ChecksTest, PreparedOperands) {
  float a[4] = {}, b[4] = {}, c[4] = {};
  theta_gemm_prepare_args p{};
  p.struct_size = sizeof(p);
  p.dtype = THETA_DTYPE_F32;
  p.k = p.n = 2;
  p.data = b;
  p.ld = 2;
  theta_gemm_operand* operand = nullptr;
  ASSERT_TRUE(IsOk(api().gemm_prepare(stream_, &p, &operand)));
  ASSERT_NE(operand, nullptr);
  EXPECT_EQ(operand->device, device_);
  EXPECT_EQ(operand->source.data, b);

  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.k = g.n = 2;
  g.m = 0;  // empty: accepted without a device once the operand matches
  g.a = a, g.b = b, g.c = c;
  g.lda = g.ldb = g.ldc = 2;
  g.batch = 1;
  g.prepared_b = operand;
  EXPECT_TRUE(IsOk(Gemm(stream_, g)));
  theta_gemm_args x = g;
  x.b = b + 1;
  EXPECT_TRUE(IsError(Gemm(stream_, x), bad_,
                      {"prepared_b was prepared from another B", "b differs"}));
  x = g;
  x.batch = 2, x.stride_b = 4, x.stride_c = 4, x.stride_a = 4;
  EXPECT_TRUE(IsError(Gemm(stream_, x), bad_, {"stride_b 0"}));
  CachingAllocator::Source none;
  none.allocate = [](uint64_t, void**) -> theta_status* {
    return MakeStatus(THETA_STATUS_INTERNAL, "stand-in device");
  };
  none.release = [](void*, uint64_t) {};
  theta_device other(&plugin_, 1, std::move(none));
  theta_stream other_stream(&other);
  EXPECT_TRUE(IsError(Gemm(&other_stream, g), bad_,
                      {"another device", "device 0", "device 1"}));

  p.dtype = THETA_DTYPE_I64;
  theta_gemm_operand* refused = operand;
  EXPECT_TRUE(IsError(api().gemm_prepare(stream_, &p, &refused), bad_,
                      {"gemm_prepare: dtype I64"}));
  EXPECT_EQ(refused, nullptr);
  EXPECT_TRUE(IsError(api().gemm_prepare(stream_, nullptr, &refused), bad_,
                      {"gemm_prepare", "args is NULL"}));
  p.dtype = THETA_DTYPE_F32;
  EXPECT_TRUE(IsError(api().gemm_prepare(stream_, &p, nullptr), bad_,
                      {"gemm_prepare: out is NULL"}));
  EXPECT_TRUE(IsError(api().gemm_prepare(nullptr, &p, &refused), bad_,
                      {"gemm_prepare", "stream is NULL"}));
  api().gemm_operand_free(stream_, operand);
  api().gemm_operand_free(stream_, nullptr);
}

TEST_F(ChecksTest, Elementwise) {
  const int64_t shape[] = {2, 3};
  const int64_t empty_shape[] = {2, 0};
  const int64_t contiguous[] = {3, 1};
  const int64_t reversed[] = {-3, -1};
  const int64_t broadcast[] = {0, 1};
  float x[6] = {}, y[6] = {};
  theta_ew_instr instrs[] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                             {THETA_EW_EXP, 1, 0, 0, 0},
                             {THETA_EW_STORE, 0, 1, 0, 0}};
  theta_ew_program program{sizeof(theta_ew_program), THETA_DTYPE_F32, 2, 3,
                           instrs};
  theta_ew_operand in{x + 5, THETA_DTYPE_F32, reversed};
  theta_ew_operand out{y, THETA_DTYPE_F32, contiguous};
  theta_elementwise_args a{};
  a.struct_size = sizeof(a);
  a.program = &program;
  a.ndim = 2;
  a.shape = empty_shape;
  a.num_inputs = 1;
  a.inputs = &in;
  a.num_outputs = 1;
  a.outputs = &out;
  // Negative input strides are allowed; an empty index space is a no-op.
  EXPECT_TRUE(IsOk(Elementwise(stream_, a)));
  a.shape = shape;
  theta_ew_operand bad_out{y, THETA_DTYPE_F32, reversed};
  theta_elementwise_args b = a;
  b.outputs = &bad_out;
  EXPECT_TRUE(IsError(Elementwise(stream_, b), bad_,
                      {"output 0.strides[0] is -3", "negative"}));
  theta_ew_operand broadcast_out{y, THETA_DTYPE_F32, broadcast};
  b.outputs = &broadcast_out;
  EXPECT_TRUE(IsError(Elementwise(stream_, b), bad_,
                      {"output 0.strides[0] is 0", "must not broadcast"}));
  theta_ew_program p2 = program;
  p2.compute_dtype = THETA_DTYPE_U8;
  b = a;
  b.program = &p2;
  EXPECT_TRUE(IsError(Elementwise(stream_, b), bad_, {"compute dtype U8"}));
  theta_ew_instr unknown[] = {{200, 0, 0, 0, 0}};
  p2 = program;
  p2.instrs = unknown;
  p2.num_instrs = 1;
  EXPECT_TRUE(IsError(Elementwise(stream_, b), bad_, {"unknown opcode 200"}));
  theta_ew_instr unread[] = {{THETA_EW_STORE, 0, 1, 0, 0}};
  p2.instrs = unread;
  EXPECT_TRUE(IsError(Elementwise(stream_, b), bad_,
                      {"reads register 1 before any instruction writes it"}));
  theta_ew_instr far_input[] = {{THETA_EW_LOAD, 0, 3, 0, 0}};
  p2.instrs = far_input;
  EXPECT_TRUE(IsError(Elementwise(stream_, b), bad_,
                      {"uses input 3 but num_inputs is 1"}));
  theta_ew_instr far_param[] = {{THETA_EW_PARAM, 0, 0, 0, 0}};
  p2.instrs = far_param;
  EXPECT_TRUE(IsError(Elementwise(stream_, b), bad_,
                      {"uses param 0 but num_params is 0"}));
  b = a;
  b.program = nullptr;
  EXPECT_TRUE(IsError(Elementwise(stream_, b), bad_, {"program is NULL"}));
  b = a;
  b.ndim = 9;
  EXPECT_TRUE(IsError(Elementwise(stream_, b), bad_, {"ndim is 9"}));
  // A program that stores nothing does nothing.
  theta_ew_instr no_store[] = {{THETA_EW_LOAD, 0, 0, 0, 0}};
  p2 = program;
  p2.instrs = no_store;
  p2.num_instrs = 1;
  b = a;
  b.program = &p2;
  EXPECT_TRUE(IsOk(Elementwise(stream_, b)));
}

TEST_F(ChecksTest, Reduce) {
  const int64_t shape[] = {4, 5};
  const int64_t strides[] = {5, 1};
  const int64_t out_shape[] = {1, 5};
  const int64_t empty_out[] = {0, 5};
  float x[20] = {};
  float y[5] = {};
  int64_t idx[5] = {};
  theta_reduce_args r{};
  r.struct_size = sizeof(r);
  r.op = THETA_REDUCE_SUM;
  r.input = theta_array{x, THETA_DTYPE_F32, 2, shape, strides};
  r.axes_mask = 1;
  r.output = theta_array{y, THETA_DTYPE_F32, 2, out_shape, strides};
  theta_reduce_args b = r;
  b.axes_mask = 4;
  EXPECT_TRUE(
      IsError(Reduce(stream_, b), bad_, {"axes_mask 0x4", "axis 2", "rank 2"}));
  b = r;
  b.op = THETA_REDUCE_ARGMAX;
  b.axes_mask = 3;
  EXPECT_TRUE(IsError(Reduce(stream_, b), bad_, {"ARGMAX needs exactly one"}));
  b = r;
  b.op = THETA_REDUCE_ARGMAX;
  EXPECT_TRUE(IsError(Reduce(stream_, b), bad_,
                      {"ARGMAX output dtype is F32, expected I64"}));
  b.output = theta_array{idx, THETA_DTYPE_I64, 2, out_shape, strides};
  const int64_t zero_rows[] = {0, 5};
  b.input.shape = zero_rows;
  EXPECT_TRUE(IsError(Reduce(stream_, b), bad_, {"of size 0"}));
  b = r;
  b.input.dtype = THETA_DTYPE_BOOL;
  b.output.dtype = THETA_DTYPE_BOOL;
  EXPECT_TRUE(IsError(Reduce(stream_, b), bad_, {"SUM does not support BOOL"}));
  b = r;
  b.axes_mask = 2;
  EXPECT_TRUE(IsError(Reduce(stream_, b), bad_,
                      {"output shape (1, 5), expected (4, 1)"}));
  b = r;
  const int64_t negative[] = {-5, 1};
  b.input.strides = negative;
  EXPECT_TRUE(IsError(Reduce(stream_, b), bad_, {"negative strides"}));
  b = r;
  SetRaw(&b.op, 17);
  EXPECT_TRUE(IsError(Reduce(stream_, b), bad_, {"unknown op 17"}));
  // An empty output is a no-op.
  b = r;
  b.axes_mask = 2;
  const int64_t empty_in[] = {0, 5};
  b.input.shape = empty_in;
  const int64_t empty_out1[] = {0, 1};
  b.output.shape = empty_out1;
  EXPECT_TRUE(IsOk(Reduce(stream_, b)));
  (void)empty_out;
}

TEST_F(ChecksTest, Softmax) {
  const int64_t shape[] = {2, 3};
  const int64_t other[] = {3, 2};
  const int64_t strides[] = {3, 1};
  int32_t i[6] = {};
  float x[6] = {};
  theta_softmax_args s{};
  s.struct_size = sizeof(s);
  s.input = theta_array{i, THETA_DTYPE_I32, 2, shape, strides};
  s.output = s.input;
  EXPECT_TRUE(IsError(Softmax(stream_, s), bad_, {"softmax: input dtype I32"}));
  s.input = theta_array{x, THETA_DTYPE_F32, 0, nullptr, nullptr};
  s.output = s.input;
  EXPECT_TRUE(IsError(Softmax(stream_, s), bad_, {"rank 0"}));
  s.input = theta_array{x, THETA_DTYPE_F32, 2, shape, strides};
  s.output = theta_array{x, THETA_DTYPE_F32, 2, other, strides};
  EXPECT_TRUE(IsError(Softmax(stream_, s), bad_,
                      {"output shape (3, 2) differs from input shape (2, 3)"}));
  const int64_t empty[] = {0, 3};
  s.input.shape = empty;
  s.output.shape = empty;
  EXPECT_TRUE(IsOk(Softmax(stream_, s)));
}

TEST_F(ChecksTest, GatherAndScatterAdd) {
  const int64_t src_shape[] = {5, 2};
  const int64_t src_strides[] = {2, 1};
  const int64_t idx_shape[] = {3};
  const int64_t idx_strides[] = {1};
  const int64_t out_shape[] = {3, 2};
  float src[10] = {}, out[6] = {};
  int64_t idx[3] = {};
  float fidx[3] = {};
  theta_gather_args g{};
  g.struct_size = sizeof(g);
  g.axis = 0;
  g.source = theta_array{src, THETA_DTYPE_F32, 2, src_shape, src_strides};
  g.indices = theta_array{idx, THETA_DTYPE_I64, 1, idx_shape, idx_strides};
  g.output = theta_array{out, THETA_DTYPE_F32, 2, out_shape, src_strides};
  theta_gather_args b = g;
  b.indices.data = fidx;
  b.indices.dtype = THETA_DTYPE_F32;
  EXPECT_TRUE(IsError(Gather(stream_, b), bad_, {"indices dtype F32"}));
  b = g;
  b.axis = 2;
  EXPECT_TRUE(IsError(Gather(stream_, b), bad_, {"axis 2 out of range"}));
  b = g;
  b.output.shape = src_shape;
  EXPECT_TRUE(IsError(Gather(stream_, b), bad_,
                      {"output shape (5, 2), expected (3, 2)"}));
  theta_gather_args s = g;
  s.source = g.output;
  s.output = g.source;
  s.source.dtype = s.output.dtype = THETA_DTYPE_BOOL;
  EXPECT_TRUE(IsError(ScatterAdd(stream_, s), bad_, {"BOOL is not supported"}));
  const int64_t no_indices[] = {0};
  const int64_t no_rows[] = {0, 2};
  b = g;
  b.indices.shape = no_indices;
  b.output.shape = no_rows;
  EXPECT_TRUE(IsOk(Gather(stream_, b)));
}

TEST_F(ChecksTest, CopyAndFill) {
  const int64_t shape[] = {2, 3};
  const int64_t other[] = {3, 2};
  const int64_t strides[] = {3, 1};
  const int64_t reversed[] = {-3, -1};
  const int64_t broadcast[] = {0, 1};
  float x[6] = {}, y[6] = {};
  double z[6] = {};
  theta_copy_args c{};
  c.struct_size = sizeof(c);
  c.source = theta_array{x, THETA_DTYPE_F32, 2, shape, strides};
  c.destination = theta_array{y, THETA_DTYPE_F32, 2, shape, strides};
  theta_copy_args b = c;
  b.destination.data = z;
  b.destination.dtype = THETA_DTYPE_F64;
  EXPECT_TRUE(IsError(Copy(stream_, b), bad_, {"source dtype F32 differs"}));
  b = c;
  b.destination.shape = other;
  EXPECT_TRUE(IsError(Copy(stream_, b), bad_, {"source shape (2, 3) differs"}));
  b = c;
  b.destination.strides = reversed;
  EXPECT_TRUE(IsError(Copy(stream_, b), bad_,
                      {"destination.strides[0] is -3", "negative"}));
  b = c;
  b.destination.strides = broadcast;
  EXPECT_TRUE(IsError(Copy(stream_, b), bad_, {"must not broadcast"}));
  b = c;
  b.destination = b.source;  // identical: nothing to do
  EXPECT_TRUE(IsOk(Copy(stream_, b)));
  const int64_t empty[] = {2, 0};
  b = c;
  b.source.strides = reversed;  // allowed for the source
  b.source.shape = b.destination.shape = empty;
  EXPECT_TRUE(IsOk(Copy(stream_, b)));

  theta_array f{y, THETA_DTYPE_F32, 2, shape, broadcast};
  EXPECT_TRUE(IsError(Fill(stream_, f, 1.0), bad_, {"fill", "broadcast"}));
  f.strides = strides;
  SetRaw(&f.dtype, 9);
  EXPECT_TRUE(IsError(Fill(stream_, f, 1.0), bad_, {"invalid dtype 9"}));
}

TEST_F(ChecksTest, Rng) {
  const int64_t shape[] = {4};
  const int64_t strides[] = {1};
  int32_t i[4] = {};
  float x[4] = {};
  theta_rng_args r{};
  r.struct_size = sizeof(r);
  r.output = theta_array{i, THETA_DTYPE_I32, 1, shape, strides};
  EXPECT_TRUE(IsError(Rng(stream_, r), bad_, {"rng: output dtype I32"}));
  r.output = theta_array{x, THETA_DTYPE_F32, 1, shape, strides};
  SetRaw(&r.distribution, 5);
  EXPECT_TRUE(IsError(Rng(stream_, r), bad_, {"unknown distribution 5"}));
}

TEST_F(ChecksTest, BuffersFromAFailingSourceReportIt) {
  theta_buffer* buffer = reinterpret_cast<theta_buffer*>(0x1);
  EXPECT_TRUE(IsError(api().buffer_alloc(device_, 100, &buffer),
                      THETA_STATUS_INTERNAL,
                      {"buffer_alloc: stand-in device"}));
  EXPECT_EQ(buffer, nullptr);
  EXPECT_TRUE(IsError(api().buffer_alloc(device_, ~uint64_t{0}, &buffer),
                      THETA_STATUS_OUT_OF_MEMORY, {"buffer_alloc"}));
  // A zero-byte buffer needs no memory.
  ASSERT_TRUE(IsOk(api().buffer_alloc(device_, 0, &buffer)));
  EXPECT_EQ(api().buffer_data(buffer), nullptr);
  api().buffer_free(buffer);
}

TEST_F(ChecksTest, DeviceStatsExtensionFillsTheCallersFields) {
  auto stats = reinterpret_cast<theta_cuda_device_stats_fn>(
      api().get_extension(&plugin_, THETA_CUDA_EXT_DEVICE_STATS));
  ASSERT_NE(stats, nullptr);
  theta_cuda_device_stats s;
  std::memset(&s, 0xab, sizeof(s));
  s.struct_size = offsetof(theta_cuda_device_stats, cuda_mallocs);
  ASSERT_TRUE(IsOk(stats(device_, &s)));
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.bytes_cached, 0u);
  EXPECT_EQ(s.cuda_mallocs, 0xababababababababull);  // beyond struct_size
  EXPECT_EQ(api().get_extension(&plugin_, "cuda.no_such_thing"), nullptr);
  auto release = reinterpret_cast<theta_cuda_release_cached_memory_fn>(
      api().get_extension(&plugin_, THETA_CUDA_EXT_RELEASE_CACHED_MEMORY));
  ASSERT_NE(release, nullptr);
  EXPECT_TRUE(IsOk(release(&plugin_)));
}

}  // namespace
}  // namespace theta::cuda
