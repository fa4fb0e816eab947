#include "backends/cuda/device_harness.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>

namespace theta::cuda::device_testing {
namespace {

Loaded g_cpu, g_cuda;

std::string Runfile(const std::string& rel) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return rel;
  return std::string(srcdir) + "/" + workspace + "/" + rel;
}

void Open(const std::string& path, Loaded* p) {
  p->lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (p->lib == nullptr) {
    p->why_not = std::string("dlopen failed: ") + dlerror();
    return;
  }
  auto get = reinterpret_cast<theta_backend_get_api_fn>(
      dlsym(p->lib, THETA_BACKEND_ENTRY_POINT));
  if (get == nullptr) {
    p->why_not = "no entry point";
    return;
  }
  p->api = get();
  p->why_not = Take(p->api, p->api->plugin_create(&p->plugin));
  if (!p->ok()) return;
  p->why_not = Take(p->api, p->api->device_open(p->plugin, 0, &p->device));
  if (!p->ok()) return;
  p->why_not = Take(p->api, p->api->stream_create(p->device, &p->stream));
}

// The libraries stay loaded until exit (as in Theta's registry).
void Close(Loaded* p) {
  if (p->stream) p->api->stream_destroy(p->stream);
  if (p->device) p->api->device_close(p->device);
  if (p->plugin) p->api->plugin_destroy(p->plugin);
  *p = Loaded();
}

class PluginsEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    Open(Runfile("backends/cpu/libtheta_cpu.so"), &g_cpu);
    Open(Runfile("backends/cuda/libtheta_cuda.so"), &g_cuda);
    if (!g_cuda.ok()) {
      std::printf("CUDA device tests skip: %s\n", g_cuda.why_not.c_str());
    }
  }
  void TearDown() override {
    Close(&g_cuda);
    Close(&g_cpu);
  }
};

const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new PluginsEnvironment);

bool DeviceRequired() {
  const char* v = std::getenv("THETA_CUDA_REQUIRE_DEVICE");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace

Loaded& CpuPlugin() { return g_cpu; }
Loaded& CudaPlugin() { return g_cuda; }

std::string Take(const theta_backend_api* api, theta_status* s) {
  if (s == nullptr) return "";
  std::string m = api->status_message(s);
  if (m.empty()) m = "(empty message)";
  api->status_free(s);
  return m;
}

::testing::AssertionResult Ok(const Loaded& p, theta_status* s) {
  if (s == nullptr) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << p.api->name << ": " << Take(p.api, s);
}

::testing::AssertionResult Error(const Loaded& p, theta_status* s,
                                 theta_status_code code,
                                 std::vector<std::string> parts) {
  if (s == nullptr) return ::testing::AssertionFailure() << "got success";
  const theta_status_code got = p.api->status_code(s);
  const std::string m = Take(p.api, s);
  if (got != code) {
    return ::testing::AssertionFailure()
           << "code " << got << " instead of " << code << ": " << m;
  }
  for (const auto& part : parts) {
    if (m.find(part) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "\"" << m << "\" lacks \"" << part << "\"";
    }
  }
  return ::testing::AssertionSuccess() << m;
}

void DeviceTest::SetUp() {
  (void)kEnvironment;
  ASSERT_TRUE(g_cpu.ok()) << "CPU plugin: " << g_cpu.why_not;
  if (!g_cuda.ok()) {
    ASSERT_FALSE(DeviceRequired())
        << "THETA_CUDA_REQUIRE_DEVICE=1 but " << g_cuda.why_not;
    GTEST_SKIP() << g_cuda.why_not;
  }
}

theta_cuda_device_stats Stats() {
  auto fn = reinterpret_cast<theta_cuda_device_stats_fn>(
      g_cuda.api->get_extension(g_cuda.plugin, THETA_CUDA_EXT_DEVICE_STATS));
  theta_cuda_device_stats s{};
  s.struct_size = sizeof(s);
  EXPECT_NE(fn, nullptr);
  if (fn != nullptr) {
    EXPECT_TRUE(Ok(g_cuda, fn(g_cuda.device, &s)));
  }
  return s;
}

Buffers::Buffers(const Loaded& p, const std::vector<Bytes>& host) : p_(p) {
  for (const Bytes& h : host) {
    theta_buffer* b = nullptr;
    EXPECT_TRUE(Ok(p, p.api->buffer_alloc(p.device, h.size(), &b)));
    buffers_.push_back(b);
    ptrs_.push_back(b ? p.api->buffer_data(b) : nullptr);
    if (b && !h.empty()) {
      EXPECT_TRUE(Ok(p, p.api->copy_host_to_device(p.stream, ptrs_.back(),
                                                   h.data(), h.size())));
    }
  }
}

Buffers::~Buffers() {
  for (theta_buffer* b : buffers_) p_.api->buffer_free(b);
}

std::vector<Bytes> Buffers::Download(const std::vector<Bytes>& like) {
  std::vector<Bytes> out;
  for (size_t i = 0; i < like.size(); ++i) {
    out.emplace_back(like[i].size());
    if (!like[i].empty() && ptrs_[i] != nullptr) {
      EXPECT_TRUE(
          Ok(p_, p_.api->copy_device_to_host(p_.stream, out.back().data(),
                                             ptrs_[i], like[i].size())));
    }
  }
  EXPECT_TRUE(Ok(p_, p_.api->stream_synchronize(p_.stream)));
  return out;
}

Outcome RunBoth(const std::vector<Bytes>& host, const Call& call) {
  Outcome o;
  for (const Loaded* p : {&g_cpu, &g_cuda}) {
    Buffers b(*p, host);
    EXPECT_TRUE(Ok(*p, call(*p, b.ptrs())));
    (p == &g_cpu ? o.cpu : o.cuda) = b.Download(host);
  }
  return o;
}

int64_t Shape::Count() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

int64_t Shape::Extent() const {
  if (Count() == 0) return 0;
  int64_t e = 1;
  for (int d = 0; d < ndim(); ++d) e += (dims[d] - 1) * strides[d];
  return e;
}

Shape Contiguous(std::vector<int64_t> dims, int64_t step) {
  Shape s{dims, std::vector<int64_t>(dims.size())};
  int64_t stride = step;
  for (int d = s.ndim() - 1; d >= 0; --d) {
    s.strides[d] = stride;
    stride *= std::max<int64_t>(dims[d], 1);
  }
  return s;
}

Shape Transposed(std::vector<int64_t> dims) {
  Shape s{dims, std::vector<int64_t>(dims.size())};
  int64_t stride = 1;
  for (int d = 0; d < s.ndim(); ++d) {
    s.strides[d] = stride;
    stride *= std::max<int64_t>(dims[d], 1);
  }
  return s;
}

size_t SizeOf(theta_dtype d) {
  return d == THETA_DTYPE_F64 || d == THETA_DTYPE_I64   ? 8
         : d == THETA_DTYPE_U8 || d == THETA_DTYPE_BOOL ? 1
                                                        : 4;
}

}  // namespace theta::cuda::device_testing
