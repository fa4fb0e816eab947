// Loads libtheta_cpu.so the way Theta's loader does (dlopen, the one entry
// point, then only the table) and runs a kernel through it.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "backends/api/theta_backend.h"

namespace {

std::string LibraryPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) {
    return "backends/cpu/libtheta_cpu.so";
  }
  return std::string(srcdir) + "/" + workspace +
         "/backends/cpu/libtheta_cpu.so";
}

TEST(SharedObjectTest, LoadsAndRunsAGemm) {
  void* lib = dlopen(LibraryPath().c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  // Internal symbols are not exported.
  EXPECT_EQ(dlsym(lib, "_ZN5theta3cpu10ThreadPoolC1Ei"), nullptr);
  // (The plugin kit is linked in statically and stays hidden too.)
  EXPECT_EQ(dlsym(lib, "_ZN5theta10plugin_kit10FreeStatusEP12theta_status"),
            nullptr);
  auto get_api = reinterpret_cast<theta_backend_get_api_fn>(
      dlsym(lib, THETA_BACKEND_ENTRY_POINT));
  ASSERT_NE(get_api, nullptr) << dlerror();
  const theta_backend_api* api = get_api();
  ASSERT_NE(api, nullptr);
  ASSERT_EQ(api->abi_major, THETA_BACKEND_ABI_MAJOR);
  ASSERT_TRUE(THETA_API_HAS(api, theta_backend_api, rng));

  theta_plugin* plugin = nullptr;
  theta_device* device = nullptr;
  theta_stream* stream = nullptr;
  ASSERT_EQ(api->plugin_create(&plugin), nullptr);
  ASSERT_EQ(api->device_open(plugin, 0, &device), nullptr);
  ASSERT_EQ(api->stream_create(device, &stream), nullptr);

  std::vector<float> a = {1, 2, 3, 4, 5, 6};  // 2 x 3
  std::vector<float> b = {1, 0, 0, 1, 1, 1};  // 3 x 2
  std::vector<float> c(4, 0);
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.m = 2;
  g.n = 2;
  g.k = 3;
  g.alpha = 1;
  g.a = a.data();
  g.lda = 3;
  g.b = b.data();
  g.ldb = 2;
  g.c = c.data();
  g.ldc = 2;
  g.batch = 1;
  ASSERT_EQ(api->gemm(stream, &g), nullptr);
  ASSERT_EQ(api->stream_synchronize(stream), nullptr);
  EXPECT_EQ(c, (std::vector<float>{4, 5, 10, 11}));

  g.dtype = THETA_DTYPE_I32;
  theta_status* s = api->gemm(stream, &g);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(api->status_code(s), THETA_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(api->status_message(s)).find("gemm"),
            std::string::npos);
  api->status_free(s);

  api->stream_destroy(stream);
  api->device_close(device);
  api->plugin_destroy(plugin);
  EXPECT_EQ(dlclose(lib), 0);
}

}  // namespace
