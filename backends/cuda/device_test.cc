// The CUDA plugin's kernels on a real device, each against the CPU plugin
// (the reference) run on the same inputs; both plugins are loaded from
// their shared objects, as Theta loads them. Without a device every test
// skips and prints the driver's reason (or fails, with
// THETA_CUDA_REQUIRE_DEVICE=1).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/api/theta_backend.h"
#include "backends/cuda/cuda_extensions.h"

namespace {

using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------------------
// Loading the plugins
// ---------------------------------------------------------------------------

struct Loaded {
  void* lib = nullptr;
  const theta_backend_api* api = nullptr;
  theta_plugin* plugin = nullptr;
  theta_device* device = nullptr;
  theta_stream* stream = nullptr;
  std::string why_not;  // empty when usable

  bool ok() const { return why_not.empty(); }
};

std::string Runfile(const std::string& rel) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return rel;
  return std::string(srcdir) + "/" + workspace + "/" + rel;
}

// The message of a status, which is freed; "" for success.
std::string Take(const theta_backend_api* api, theta_status* s) {
  if (s == nullptr) return "";
  std::string m = api->status_message(s);
  if (m.empty()) m = "(empty message)";
  api->status_free(s);
  return m;
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

void Close(Loaded* p) {
  if (p->stream) p->api->stream_destroy(p->stream);
  if (p->device) p->api->device_close(p->device);
  if (p->plugin) p->api->plugin_destroy(p->plugin);
  *p = Loaded();  // the libraries stay loaded until exit
}

Loaded g_cpu, g_cuda;

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

// THETA_CUDA_REQUIRE_DEVICE=1 (run_on_gpu.sh sets it) turns the skip into
// a failure, so that a GPU machine whose driver is broken does not pass.
bool DeviceRequired() {
  const char* v = std::getenv("THETA_CUDA_REQUIRE_DEVICE");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(g_cpu.ok()) << "CPU plugin: " << g_cpu.why_not;
    if (!g_cuda.ok()) {
      ASSERT_FALSE(DeviceRequired())
          << "THETA_CUDA_REQUIRE_DEVICE=1 but " << g_cuda.why_not;
      GTEST_SKIP() << g_cuda.why_not;
    }
  }
  const theta_backend_api& cuda() const { return *g_cuda.api; }
};

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

// ---------------------------------------------------------------------------
// Running one call on both plugins
// ---------------------------------------------------------------------------

// Device buffers of one plugin holding copies of host buffers.
class Buffers {
 public:
  Buffers(const Loaded& p, const std::vector<Bytes>& host) : p_(p) {
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
  ~Buffers() {
    for (theta_buffer* b : buffers_) p_.api->buffer_free(b);
  }
  const std::vector<void*>& ptrs() const { return ptrs_; }
  std::vector<Bytes> Download(const std::vector<Bytes>& like) {
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

 private:
  const Loaded& p_;
  std::vector<theta_buffer*> buffers_;
  std::vector<void*> ptrs_;
};

using Call =
    std::function<theta_status*(const Loaded&, const std::vector<void*>&)>;

struct Outcome {
  std::vector<Bytes> cpu, cuda;
};

// Uploads `host` to each plugin, makes the call, downloads every buffer.
Outcome RunBoth(const std::vector<Bytes>& host, const Call& call) {
  Outcome o;
  for (const Loaded* p : {&g_cpu, &g_cuda}) {
    Buffers b(*p, host);
    EXPECT_TRUE(Ok(*p, call(*p, b.ptrs())));
    (p == &g_cpu ? o.cpu : o.cuda) = b.Download(host);
  }
  return o;
}

template <typename T>
Bytes ToBytes(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

template <typename T>
std::vector<T> FromBytes(const Bytes& b) {
  std::vector<T> v(b.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
  return v;
}

template <typename T>
std::vector<T> Random(size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<T> v(n);
  for (T& x : v) {
    if constexpr (std::is_floating_point_v<T>) {
      x = static_cast<T>(std::uniform_real_distribution<double>(lo, hi)(gen));
    } else {
      x = static_cast<T>(std::uniform_int_distribution<int64_t>(
          static_cast<int64_t>(lo), static_cast<int64_t>(hi))(gen));
    }
  }
  return v;
}

template <typename T>
int64_t Ulps(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
  }
  if (a == b) return 0;
  if (std::isinf(a) || std::isinf(b)) return INT64_MAX;
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  auto key = [](T x) {
    I i;
    std::memcpy(&i, &x, sizeof(T));
    return i < 0 ? static_cast<int64_t>(std::numeric_limits<I>::min()) -
                       static_cast<int64_t>(i)
                 : static_cast<int64_t>(i);
  };
  const int64_t d = key(a) - key(b);
  return d < 0 ? -d : d;
}

// Floats within `ulps` units in the last place or `rel` relative error;
// integers equal.
template <typename T>
void ExpectClose(const Bytes& got_bytes, const Bytes& want_bytes, int64_t ulps,
                 double rel, const std::string& what) {
  const std::vector<T> got = FromBytes<T>(got_bytes);
  const std::vector<T> want = FromBytes<T>(want_bytes);
  ASSERT_EQ(got.size(), want.size()) << what;
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 10; ++i) {
    bool close;
    if constexpr (std::is_floating_point_v<T>) {
      close = Ulps(got[i], want[i]) <= ulps ||
              std::fabs(double(got[i]) - double(want[i])) <=
                  rel * std::max(1.0, std::fabs(double(want[i])));
    } else {
      close = got[i] == want[i];
    }
    if (!close) {
      ++failures;
      ADD_FAILURE() << what << ": element " << i << " is " << +got[i]
                    << ", the CPU plugin gives " << +want[i];
    }
  }
}

struct Shape {
  std::vector<int64_t> dims, strides;
  int ndim() const { return static_cast<int>(dims.size()); }
  int64_t Count() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
  // Elements a buffer needs (1 + the largest offset); 0 when empty.
  int64_t Extent() const {
    if (Count() == 0) return 0;
    int64_t e = 1;
    for (int d = 0; d < ndim(); ++d) e += (dims[d] - 1) * strides[d];
    return e;
  }
  theta_array Array(void* data, theta_dtype dtype) const {
    return theta_array{data, dtype, ndim(), dims.data(), strides.data()};
  }
};

Shape Contiguous(std::vector<int64_t> dims, int64_t step = 1) {
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

// ---------------------------------------------------------------------------
// Devices, buffers, copies, the allocator
// ---------------------------------------------------------------------------

TEST_F(DeviceTest, DevicesHaveNamesAndMemory) {
  int32_t count = 0;
  ASSERT_TRUE(Ok(g_cuda, cuda().device_count(g_cuda.plugin, &count)));
  ASSERT_GE(count, 1);
  for (int32_t i = 0; i < count; ++i) {
    theta_device_info info;
    std::memset(&info, 0, sizeof(info));
    info.struct_size = sizeof(info);
    ASSERT_TRUE(Ok(g_cuda, cuda().device_get_info(g_cuda.plugin, i, &info)));
    EXPECT_GT(std::strlen(info.name), 0u);
    EXPECT_GT(info.total_memory_bytes, 0u);
    EXPECT_LE(info.free_memory_bytes, info.total_memory_bytes);
    std::printf("device %d: %s, %llu of %llu bytes free\n", i, info.name,
                static_cast<unsigned long long>(info.free_memory_bytes),
                static_cast<unsigned long long>(info.total_memory_bytes));
  }
  theta_device_info info{};
  info.struct_size = sizeof(info);
  EXPECT_TRUE(Error(g_cuda, cuda().device_get_info(g_cuda.plugin, count, &info),
                    THETA_STATUS_INVALID_ARGUMENT, {"out of range"}));
  theta_device* d = nullptr;
  EXPECT_TRUE(Error(g_cuda, cuda().device_open(g_cuda.plugin, -1, &d),
                    THETA_STATUS_INVALID_ARGUMENT, {"device index -1"}));
}

TEST_F(DeviceTest, BuffersAlignAndCopiesRoundTrip) {
  for (uint64_t n : {0ull, 1ull, 1000ull, 3ull << 20}) {
    std::vector<uint8_t> host(n), back(n, 0);
    for (uint64_t i = 0; i < n; ++i) host[i] = static_cast<uint8_t>(i * 7 + 1);
    theta_buffer* a = nullptr;
    theta_buffer* b = nullptr;
    ASSERT_TRUE(Ok(g_cuda, cuda().buffer_alloc(g_cuda.device, n, &a)));
    ASSERT_TRUE(Ok(g_cuda, cuda().buffer_alloc(g_cuda.device, n, &b)));
    void* da = cuda().buffer_data(a);
    void* db = cuda().buffer_data(b);
    if (n > 0) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(da) % 64, 0u);
      ASSERT_TRUE(Ok(g_cuda, cuda().copy_host_to_device(g_cuda.stream, da,
                                                        host.data(), n)));
      ASSERT_TRUE(
          Ok(g_cuda, cuda().copy_device_to_device(g_cuda.stream, db, da, n)));
      ASSERT_TRUE(Ok(g_cuda, cuda().copy_device_to_host(g_cuda.stream,
                                                        back.data(), db, n)));
      ASSERT_TRUE(Ok(g_cuda, cuda().stream_synchronize(g_cuda.stream)));
      EXPECT_EQ(host, back);
      ASSERT_TRUE(Ok(g_cuda, cuda().memset(g_cuda.stream, db, 0x5a, n)));
      ASSERT_TRUE(Ok(g_cuda, cuda().copy_device_to_host(g_cuda.stream,
                                                        back.data(), db, n)));
      ASSERT_TRUE(Ok(g_cuda, cuda().stream_synchronize(g_cuda.stream)));
      EXPECT_EQ(back, std::vector<uint8_t>(n, 0x5a));
    }
    cuda().buffer_free(a);
    cuda().buffer_free(b);
  }
}

TEST_F(DeviceTest, ImpossibleAllocationsAreOutOfMemory) {
  theta_buffer* b = nullptr;
  EXPECT_TRUE(Error(g_cuda, cuda().buffer_alloc(g_cuda.device, 1ull << 60, &b),
                    THETA_STATUS_OUT_OF_MEMORY,
                    {"buffer_alloc", "cudaMalloc"}));
  EXPECT_EQ(b, nullptr);
  // The failure leaves nothing behind for later calls.
  ASSERT_TRUE(Ok(g_cuda, cuda().buffer_alloc(g_cuda.device, 64, &b)));
  ASSERT_TRUE(Ok(g_cuda, cuda().stream_synchronize(g_cuda.stream)));
  cuda().buffer_free(b);
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

TEST_F(DeviceTest, ATrainingLoopReusesCachedBlocks) {
  const std::vector<uint64_t> sizes = {4, 4096, 4096, 123457, 1 << 22};
  uint64_t mallocs_after_first_step = 0;
  for (int step = 0; step < 20; ++step) {
    std::vector<theta_buffer*> bufs(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      ASSERT_TRUE(
          Ok(g_cuda, cuda().buffer_alloc(g_cuda.device, sizes[i], &bufs[i])));
    }
    for (theta_buffer* b : bufs) cuda().buffer_free(b);
    if (step == 0) mallocs_after_first_step = Stats().cuda_mallocs;
  }
  const theta_cuda_device_stats s = Stats();
  EXPECT_EQ(s.cuda_mallocs, mallocs_after_first_step);
  EXPECT_GE(s.cache_hits, 19 * sizes.size());
  EXPECT_GT(s.bytes_cached, 0u);
  auto release = reinterpret_cast<theta_cuda_release_cached_memory_fn>(
      cuda().get_extension(g_cuda.plugin,
                           THETA_CUDA_EXT_RELEASE_CACHED_MEMORY));
  ASSERT_NE(release, nullptr);
  ASSERT_TRUE(Ok(g_cuda, release(g_cuda.plugin)));
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
        ExpectClose<double>(out.cuda[k], out.cpu[k], ulps, 1e-13, w);
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

// Reversed views (negative strides) of inputs; the CPU plugin does not take
// them yet, so the reference is computed here.
TEST_F(DeviceTest, ElementwiseReadsReversedViews) {
  const std::vector<int64_t> dims = {4, 6};
  const auto x = Random<float>(24, -1, 1, 41);
  std::vector<float> got(24, 0);
  Buffers b(g_cuda, {ToBytes(x), ToBytes(got)});
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
  ASSERT_TRUE(Ok(g_cuda, cuda().elementwise(g_cuda.stream, &a)));
  got = FromBytes<float>(b.Download({ToBytes(x), ToBytes(got)})[1]);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(got[i], -x[23 - i]) << i;
}

TEST_F(DeviceTest, ElementwiseWith64BitIndices) {
  // Two elements 2^30 apart: the kernel indexes with 64 bits.
  const int64_t far = int64_t{1} << 30;
  theta_buffer* big = nullptr;
  theta_buffer* small = nullptr;
  ASSERT_TRUE(Ok(g_cuda, cuda().buffer_alloc(g_cuda.device, far + 1, &big)));
  ASSERT_TRUE(Ok(g_cuda, cuda().buffer_alloc(g_cuda.device, 8, &small)));
  ASSERT_TRUE(Ok(g_cuda, cuda().memset(g_cuda.stream, cuda().buffer_data(big),
                                       7, far + 1)));
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
  ASSERT_TRUE(Ok(g_cuda, cuda().elementwise(g_cuda.stream, &a)));
  float got[2] = {};
  ASSERT_TRUE(
      Ok(g_cuda, cuda().copy_device_to_host(g_cuda.stream, got,
                                            cuda().buffer_data(small), 8)));
  ASSERT_TRUE(Ok(g_cuda, cuda().stream_synchronize(g_cuda.stream)));
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
  Buffers b(g_cuda, {ToBytes(x), ToBytes(idx), Bytes(56)});
  theta_gather_args a{};
  a.struct_size = sizeof(a);
  a.axis = 0;
  a.source = src.Array(b.ptrs()[0], THETA_DTYPE_F32);
  a.indices = is.Array(b.ptrs()[1], THETA_DTYPE_I32);
  a.output = out.Array(b.ptrs()[2], THETA_DTYPE_F32);
  // The bad indices are found on the device: the calls themselves succeed.
  ASSERT_TRUE(Ok(g_cuda, cuda().gather(g_cuda.stream, &a)));
  ASSERT_TRUE(Ok(g_cuda, cuda().gather(g_cuda.stream, &a)));
  EXPECT_TRUE(Error(g_cuda, cuda().stream_synchronize(g_cuda.stream),
                    THETA_STATUS_INVALID_ARGUMENT,
                    {"gather: index 12 out of range [-10, 10) at position 3"}));
  // Reported once; the stream works on.
  EXPECT_TRUE(Ok(g_cuda, cuda().stream_synchronize(g_cuda.stream)));
  theta_gather_args s = a;
  s.source = out.Array(b.ptrs()[2], THETA_DTYPE_F32);
  s.output = src.Array(b.ptrs()[0], THETA_DTYPE_F32);
  ASSERT_TRUE(Ok(g_cuda, cuda().scatter_add(g_cuda.stream, &s)));
  EXPECT_TRUE(Error(g_cuda, cuda().stream_synchronize(g_cuda.stream),
                    THETA_STATUS_INVALID_ARGUMENT,
                    {"scatter_add: index 12", "at position 3"}));
  EXPECT_TRUE(Ok(g_cuda, cuda().stream_synchronize(g_cuda.stream)));
  // Indices are checked even when no element moves (an empty outer part).
  const Shape empty_src{{0, 10}, {10, 1}}, empty_out{{0, 7}, {7, 1}};
  theta_gather_args e = a;
  e.axis = 1;
  e.source = empty_src.Array(b.ptrs()[0], THETA_DTYPE_F32);
  e.output = empty_out.Array(b.ptrs()[2], THETA_DTYPE_F32);
  ASSERT_TRUE(Ok(g_cuda, cuda().gather(g_cuda.stream, &e)));
  EXPECT_TRUE(Error(g_cuda, cuda().stream_synchronize(g_cuda.stream),
                    THETA_STATUS_INVALID_ARGUMENT,
                    {"gather: index 12", "at position 3"}));
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
  Buffers b(g_cuda, {ToBytes(x), Bytes(48)});
  const std::vector<int64_t> dims = {3, 4}, rev = {4, -1}, fwd = {4, 1};
  theta_copy_args a{};
  a.struct_size = sizeof(a);
  a.source = theta_array{static_cast<int32_t*>(b.ptrs()[0]) + 3,
                         THETA_DTYPE_I32, 2, dims.data(), rev.data()};
  a.destination =
      theta_array{b.ptrs()[1], THETA_DTYPE_I32, 2, dims.data(), fwd.data()};
  ASSERT_TRUE(Ok(g_cuda, cuda().copy(g_cuda.stream, &a)));
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
          // Uniform numbers agree bit for bit; normal ones to the last bit of
          // log and cos (2 ulp).
          const int64_t ulps = dist == THETA_RNG_UNIFORM ? 0 : 2;
          if (dt == THETA_DTYPE_F32) {
            ExpectClose<float>(o.cuda[0], o.cpu[0], ulps, 0, what);
          } else {
            ExpectClose<double>(o.cuda[0], o.cpu[0], ulps, 0, what);
          }
        }
      }
    }
  }
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
      const theta_backend_api& api = *g_cuda.api;
      theta_stream* stream = nullptr;
      if (theta_status* s = api.stream_create(g_cuda.device, &stream)) {
        errors[t] = Take(&api, s);
        return;
      }
      const int n = 256;
      std::vector<float> a(n * n, 1.0f), c(n * n, 0.0f);
      theta_buffer* ba = nullptr;
      theta_buffer* bc = nullptr;
      std::string e =
          Take(&api, api.buffer_alloc(g_cuda.device, a.size() * 4, &ba));
      if (e.empty()) {
        e = Take(&api, api.buffer_alloc(g_cuda.device, c.size() * 4, &bc));
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
