// The table, plugin instances, devices, streams, buffers, byte copies,
// statuses and the cpu.num_threads and cpu.blas_core extensions.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {
namespace {

TEST(TableTest, HeaderDescribesThisBuild) {
  const theta_backend_api* table = theta_backend_get_api();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table, theta_backend_get_api());
  EXPECT_EQ(table->struct_size, sizeof(theta_backend_api));
  EXPECT_EQ(table->abi_major, THETA_BACKEND_ABI_MAJOR);
  EXPECT_EQ(table->abi_minor, THETA_BACKEND_ABI_MINOR);
  EXPECT_STREQ(table->name, "cpu");
  EXPECT_NE(table->version, nullptr);
  EXPECT_TRUE(THETA_API_HAS(table, theta_backend_api, rng));
  EXPECT_TRUE(THETA_API_HAS(table, theta_backend_api, gemm_operand_free));
  // Every slot is filled.
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
  EXPECT_EQ(table->supports(nullptr, THETA_KERNEL_GEMM, THETA_DTYPE_F64), 1);
  EXPECT_EQ(table->supports(nullptr, THETA_KERNEL_GEMM, THETA_DTYPE_I32), 0);
  EXPECT_EQ(table->supports(nullptr, THETA_KERNEL_COPY, THETA_DTYPE_BOOL), 1);
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

TEST(PluginCreateTest, BadThreadCountIsAnErrorNamingIt) {
  for (const char* bad : {"abc", "0", "-1", "4x", "100000"}) {
    ScopedThreadsEnv env(0);
    setenv("THETA_NUM_THREADS", bad, 1);
    theta_plugin* plugin = nullptr;
    const std::string value = std::string("THETA_NUM_THREADS='") + bad + "'";
    EXPECT_TRUE(IsError(api().plugin_create(&plugin),
                        THETA_STATUS_INVALID_ARGUMENT,
                        {"plugin_create", value.c_str(),
                         "is not a whole number of threads in [1, 1024]"}))
        << value;
    EXPECT_EQ(plugin, nullptr);
    if (plugin != nullptr) api().plugin_destroy(plugin);
  }
}

TEST(PluginCreateTest, InstancesAreIndependent) {
  theta_plugin* a = nullptr;
  theta_plugin* b = nullptr;
  {
    ScopedThreadsEnv env(1);
    ASSERT_TRUE(IsOk(api().plugin_create(&a)));
  }
  {
    ScopedThreadsEnv env(3);
    ASSERT_TRUE(IsOk(api().plugin_create(&b)));
  }
  auto threads = reinterpret_cast<int32_t (*)(theta_plugin*)>(
      api().get_extension(a, "cpu.num_threads"));
  ASSERT_NE(threads, nullptr);
  EXPECT_EQ(threads(a), 1);
  EXPECT_EQ(threads(b), 3);
  api().plugin_destroy(a);
  api().plugin_destroy(b);
}

class PluginApiTest : public PluginTest {};

TEST_P(PluginApiTest, NumThreadsExtension) {
  const int32_t n = NumThreads();
  if (GetParam() == 0) {
    EXPECT_GE(n, 1);
  } else {
    EXPECT_EQ(n, GetParam());
  }
  EXPECT_EQ(api().get_extension(plugin_, "cpu.no_such_thing"), nullptr);
  EXPECT_EQ(api().get_extension(plugin_, nullptr), nullptr);
  EXPECT_EQ(api().get_extension(nullptr, "cpu.num_threads"), nullptr);
}

TEST_P(PluginApiTest, BlasCoreExtensionNamesTheOpenBlasKernel) {
  auto core = reinterpret_cast<const char* (*)(theta_plugin*)>(
      api().get_extension(plugin_, "cpu.blas_core"));
  ASSERT_NE(core, nullptr);
  const char* name = core(plugin_);
  ASSERT_NE(name, nullptr);
  EXPECT_GT(std::strlen(name), 0u);
}

TEST(CpuFeaturesTest, ThisProcessorRunsTheKernels) {
  // plugin_create refuses, naming them, when features are missing; the
  // machines that run this suite have them.
  EXPECT_EQ(MissingCpuFeatures(), nullptr) << MissingCpuFeatures();
}

TEST(CpuFeaturesTest, NamesWhatIsMissing) {
  EXPECT_EQ(MissingFeatures(true, true), nullptr);
  EXPECT_STREQ(MissingFeatures(false, true), "AVX2");
  EXPECT_STREQ(MissingFeatures(true, false), "FMA");
  EXPECT_STREQ(MissingFeatures(false, false), "AVX2 and FMA");
}

TEST_P(PluginApiTest, OneDeviceWithInfo) {
  int32_t count = 0;
  ASSERT_TRUE(IsOk(api().device_count(plugin_, &count)));
  EXPECT_EQ(count, 1);
  theta_device_info info;
  std::memset(&info, 0xff, sizeof(info));
  info.struct_size = sizeof(info);
  ASSERT_TRUE(IsOk(api().device_get_info(plugin_, 0, &info)));
  EXPECT_EQ(std::string(info.name).rfind("cpu", 0), 0u) << info.name;
  EXPECT_GT(info.total_memory_bytes, 0u);
  EXPECT_LE(info.free_memory_bytes, info.total_memory_bytes);
  EXPECT_EQ(info.flags, THETA_DEVICE_HOST_MEMORY);

  EXPECT_TRUE(IsError(api().device_get_info(plugin_, 1, &info),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"device_get_info", "device index 1 out of range"}));
  EXPECT_TRUE(IsError(api().device_get_info(plugin_, 0, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"info is NULL"}));
  EXPECT_TRUE(IsError(api().device_count(plugin_, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"device_count"}));
  theta_device* device = nullptr;
  EXPECT_TRUE(IsError(api().device_open(plugin_, -1, &device),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"device_open", "device index -1"}));
  EXPECT_EQ(device, nullptr);
}

TEST_P(PluginApiTest, DeviceInfoHonoursAnOlderStructSize) {
  // A caller built when the struct ended after `name`.
  theta_device_info info;
  std::memset(&info, 0xab, sizeof(info));
  info.struct_size = offsetof(theta_device_info, total_memory_bytes);
  ASSERT_TRUE(IsOk(api().device_get_info(plugin_, 0, &info)));
  EXPECT_EQ(std::string(info.name).rfind("cpu", 0), 0u);
  EXPECT_EQ(info.total_memory_bytes, 0xababababababababull);
  EXPECT_EQ(info.free_memory_bytes, 0xababababababababull);
  EXPECT_EQ(info.flags, 0xababababababababull);

  // A 1.2 caller: everything but `flags`.
  std::memset(&info, 0xab, sizeof(info));
  info.struct_size = THETA_DEVICE_INFO_SIZE_1_0;
  ASSERT_TRUE(IsOk(api().device_get_info(plugin_, 0, &info)));
  EXPECT_GT(info.total_memory_bytes, 0u);
  EXPECT_EQ(info.flags, 0xababababababababull);
}

TEST_P(PluginApiTest, BuffersAreAligned) {
  for (uint64_t bytes : {1ull, 3ull, 64ull, 1000ull, 1ull << 20}) {
    theta_buffer* buffer = nullptr;
    ASSERT_TRUE(IsOk(api().buffer_alloc(device_, bytes, &buffer)));
    void* data = api().buffer_data(buffer);
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 64, 0u);
    std::memset(data, 1, bytes);  // the whole buffer is usable
    api().buffer_free(buffer);
  }
  theta_buffer* empty = nullptr;
  ASSERT_TRUE(IsOk(api().buffer_alloc(device_, 0, &empty)));
  ASSERT_NE(empty, nullptr);
  api().buffer_free(empty);
  api().buffer_free(nullptr);
}

TEST_P(PluginApiTest, HugeAllocationIsOutOfMemory) {
  theta_buffer* buffer = nullptr;
#ifndef __SANITIZE_ADDRESS__  // ASan aborts on impossible sizes by default
  EXPECT_TRUE(IsError(api().buffer_alloc(device_, 1ull << 62, &buffer),
                      THETA_STATUS_OUT_OF_MEMORY,
                      {"buffer_alloc", "cannot allocate"}));
  EXPECT_EQ(buffer, nullptr);
#endif
  EXPECT_TRUE(IsError(api().buffer_alloc(device_, ~0ull, &buffer),
                      THETA_STATUS_OUT_OF_MEMORY, {"buffer_alloc"}));
  EXPECT_TRUE(IsError(api().buffer_alloc(nullptr, 8, &buffer),
                      THETA_STATUS_INVALID_ARGUMENT, {"device is NULL"}));
}

TEST_P(PluginApiTest, CopiesRoundTrip) {
  for (uint64_t n : {0ull, 1ull, 1000ull, 3ull << 20}) {  // 3 MiB: parallel
    std::vector<uint8_t> host(n), back(n, 0);
    for (uint64_t i = 0; i < n; ++i) host[i] = static_cast<uint8_t>(i * 7 + 1);
    theta_buffer* a = nullptr;
    theta_buffer* b = nullptr;
    ASSERT_TRUE(IsOk(api().buffer_alloc(device_, n, &a)));
    ASSERT_TRUE(IsOk(api().buffer_alloc(device_, n, &b)));
    void* da = api().buffer_data(a);
    void* db = api().buffer_data(b);
    ASSERT_TRUE(IsOk(api().copy_host_to_device(stream_, da, host.data(), n)));
    ASSERT_TRUE(IsOk(api().copy_device_to_device(stream_, db, da, n)));
    ASSERT_TRUE(IsOk(api().copy_device_to_host(stream_, back.data(), db, n)));
    ASSERT_TRUE(IsOk(api().stream_synchronize(stream_)));
    EXPECT_EQ(host, back);
    if (n > 0) {
      ASSERT_TRUE(IsOk(api().memset(stream_, db, 0x5a, n)));
      ASSERT_TRUE(IsOk(api().copy_device_to_host(stream_, back.data(), db, n)));
      EXPECT_EQ(back, std::vector<uint8_t>(n, 0x5a));
    }
    api().buffer_free(a);
    api().buffer_free(b);
  }
}

TEST_P(PluginApiTest, CopyErrorsNameTheProblem) {
  char x = 0;
  EXPECT_TRUE(IsError(api().copy_host_to_device(stream_, nullptr, &x, 1),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"copy_host_to_device", "destination is NULL"}));
  EXPECT_TRUE(IsError(api().copy_device_to_host(stream_, &x, nullptr, 1),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"copy_device_to_host", "source is NULL"}));
  EXPECT_TRUE(IsError(api().copy_device_to_device(nullptr, &x, &x, 1),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"copy_device_to_device", "stream is NULL"}));
  EXPECT_TRUE(IsError(api().memset(stream_, nullptr, 0, 4),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"memset", "destination is NULL"}));
  // Zero bytes need no pointers.
  EXPECT_TRUE(IsOk(api().copy_host_to_device(stream_, nullptr, nullptr, 0)));
  EXPECT_TRUE(IsOk(api().memset(stream_, nullptr, 0, 0)));
  EXPECT_TRUE(IsError(api().stream_synchronize(nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"stream_synchronize"}));
}

TEST_P(PluginApiTest, KernelsCheckStreamAndArgs) {
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  EXPECT_TRUE(IsError(api().gemm(nullptr, &g), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "stream is NULL"}));
  EXPECT_TRUE(IsError(api().gemm(stream_, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"gemm", "args is NULL"}));
  g.struct_size = 8;
  EXPECT_TRUE(IsError(api().gemm(stream_, &g), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "struct_size is 8"}));
  // A 1.0 caller's struct is read: the error is about its contents.
  g.struct_size = THETA_GEMM_ARGS_SIZE_1_0;
  g.dtype = THETA_DTYPE_I32;
  EXPECT_TRUE(IsError(api().gemm(stream_, &g), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm: dtype I32 is not supported"}));
  theta_reduce_args r{};
  r.struct_size = sizeof(r) - 1;
  EXPECT_TRUE(IsError(api().reduce(stream_, &r), THETA_STATUS_INVALID_ARGUMENT,
                      {"reduce", "struct_size"}));
  EXPECT_TRUE(IsError(api().fill(stream_, nullptr, 1.0),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"fill", "array is NULL"}));
  EXPECT_TRUE(IsError(api().elementwise(stream_, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"elementwise"}));
  EXPECT_TRUE(IsError(api().softmax(stream_, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"softmax"}));
  EXPECT_TRUE(IsError(api().gather(stream_, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"gather"}));
  EXPECT_TRUE(IsError(api().scatter_add(stream_, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"scatter_add"}));
  EXPECT_TRUE(IsError(api().copy(stream_, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"copy"}));
  EXPECT_TRUE(IsError(api().rng(stream_, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT, {"rng"}));
}

TEST_P(PluginApiTest, SeveralStreamsAndDevicesCoexist) {
  theta_device* d2 = nullptr;
  theta_stream* s2 = nullptr;
  ASSERT_TRUE(IsOk(api().device_open(plugin_, 0, &d2)));
  ASSERT_TRUE(IsOk(api().stream_create(d2, &s2)));
  ASSERT_TRUE(IsOk(api().stream_synchronize(s2)));
  theta_stream* s3 = nullptr;
  EXPECT_TRUE(IsError(api().stream_create(nullptr, &s3),
                      THETA_STATUS_INVALID_ARGUMENT, {"stream_create"}));
  EXPECT_EQ(s3, nullptr);
  api().stream_destroy(s2);
  api().device_close(d2);
}

THETA_CPU_INSTANTIATE_THREADS(PluginApiTest);

}  // namespace
}  // namespace theta::cpu::testing
