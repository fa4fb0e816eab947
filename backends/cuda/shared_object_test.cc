// Loads libtheta_cuda.so the way Theta's loader does (dlopen, the one entry
// point, then only the table): it loads without a driver, keeps its
// internals hidden, and plugin_create either works or says why not.
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
    return "backends/cuda/libtheta_cuda.so";
  }
  return std::string(srcdir) + "/" + workspace +
         "/backends/cuda/libtheta_cuda.so";
}

TEST(SharedObjectTest, LoadsAndCreatesOrExplains) {
  void* lib = dlopen(LibraryPath().c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  // Internal symbols are not exported.
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
  EXPECT_STREQ(api->name, "cuda");

  theta_plugin* plugin = nullptr;
  theta_status* s = api->plugin_create(&plugin);
  if (s != nullptr) {
    const std::string message = api->status_message(s);
    EXPECT_EQ(api->status_code(s), THETA_STATUS_UNAVAILABLE) << message;
    EXPECT_EQ(message.rfind("no CUDA device: ", 0), 0u) << message;
    api->status_free(s);
    std::printf("plugin_create: %s\n", message.c_str());
  } else {
    theta_device* device = nullptr;
    theta_stream* stream = nullptr;
    ASSERT_EQ(api->device_open(plugin, 0, &device), nullptr);
    ASSERT_EQ(api->stream_create(device, &stream), nullptr);
    // C = A B for 2 x 3 and 3 x 2 matrices, through device buffers.
    const std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {1, 0, 0, 1, 1, 1};
    std::vector<float> c(4, -1);
    theta_buffer* bufs[3] = {};
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(api->buffer_alloc(device, 24, &bufs[i]), nullptr);
    }
    ASSERT_EQ(api->copy_host_to_device(stream, api->buffer_data(bufs[0]),
                                       a.data(), 24),
              nullptr);
    ASSERT_EQ(api->copy_host_to_device(stream, api->buffer_data(bufs[1]),
                                       b.data(), 24),
              nullptr);
    theta_gemm_args g{};
    g.struct_size = sizeof(g);
    g.dtype = THETA_DTYPE_F32;
    g.m = 2;
    g.n = 2;
    g.k = 3;
    g.alpha = 1;
    g.a = api->buffer_data(bufs[0]);
    g.lda = 3;
    g.b = api->buffer_data(bufs[1]);
    g.ldb = 2;
    g.c = api->buffer_data(bufs[2]);
    g.ldc = 2;
    g.batch = 1;
    ASSERT_EQ(api->gemm(stream, &g), nullptr);
    ASSERT_EQ(api->copy_device_to_host(stream, c.data(), g.c, 16), nullptr);
    ASSERT_EQ(api->stream_synchronize(stream), nullptr);
    EXPECT_EQ(c, (std::vector<float>{4, 5, 10, 11}));
    for (theta_buffer* buf : bufs) api->buffer_free(buf);
    api->stream_destroy(stream);
    api->device_close(device);
    api->plugin_destroy(plugin);
  }
  // The library stays loaded, as Theta's registry keeps plugins until exit:
  // cuBLAS and NVRTC carry their own C++ runtime, whose emergency exception
  // pool LeakSanitizer would report once unloaded.
}

}  // namespace
