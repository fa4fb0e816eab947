// THETA_DETERMINISTIC=1: the same kernels on the same inputs give bitwise
// the same results with 1, 2 and 4 threads (GEMM of many shapes, with B
// plain and prepared, long reductions, softmax), and the variable itself is
// validated.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backends/cpu/test_util.h"
#include "backends/kernel_args.h"

namespace theta::cpu::testing {
namespace {

// A plugin, device and stream made under THETA_NUM_THREADS=threads and
// THETA_DETERMINISTIC=1.
class DeterministicPlugin {
 public:
  explicit DeterministicPlugin(int threads) {
    ScopedThreadsEnv threads_env(threads);
    ScopedEnv deterministic_env("THETA_DETERMINISTIC", "1");
    EXPECT_TRUE(IsOk(api().plugin_create(&plugin_)));
    EXPECT_TRUE(IsOk(api().device_open(plugin_, 0, &device_)));
    EXPECT_TRUE(IsOk(api().stream_create(device_, &stream_)));
  }
  ~DeterministicPlugin() {
    api().stream_destroy(stream_);
    api().device_close(device_);
    api().plugin_destroy(plugin_);
  }
  theta_plugin* plugin() const { return plugin_; }
  theta_stream* stream() const { return stream_; }

 private:
  theta_plugin* plugin_ = nullptr;
  theta_device* device_ = nullptr;
  theta_stream* stream_ = nullptr;
};

// Values at a 64-byte aligned address, as in the plugin's buffers. The
// comparison needs the same alignment in every run: Eigen computes the
// elements before the first vector-aligned one (and after the last full
// vector) with its scalar functions, whose exp rounds differently from the
// vectorised one, so a result also depends on its address modulo 32.
template <typename T>
class Aligned {
 public:
  explicit Aligned(const std::vector<T>& values)
      : size_(values.size()), storage_(values.size() + kPad) {
    std::copy(values.begin(), values.end(), data());
  }
  T* data() {
    const auto p = reinterpret_cast<uintptr_t>(storage_.data());
    return reinterpret_cast<T*>((p + 63) & ~uintptr_t{63});
  }
  std::vector<T> values() { return std::vector<T>(data(), data() + size_); }

 private:
  static constexpr size_t kPad = 64 / sizeof(T);
  size_t size_;
  std::vector<T> storage_;
};

int32_t Extension(theta_plugin* plugin, const char* name) {
  auto fn = reinterpret_cast<int32_t (*)(theta_plugin*)>(
      api().get_extension(plugin, name));
  return fn == nullptr ? -1 : fn(plugin);
}

struct GemmCase {
  int64_t m, n, k, batch;
  bool ta, tb;
};

template <typename T>
std::vector<T> RunGemm(theta_stream* stream, const GemmCase& c) {
  const int64_t sa = c.m * c.k, sb = c.k * c.n, sc = c.m * c.n;
  Aligned<T> a(Random<T>(sa * c.batch, -1, 1, 11));
  Aligned<T> b(Random<T>(sb * c.batch, -1, 1, 12));
  Aligned<T> out(Random<T>(sc * c.batch, -1, 1, 13));
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = DtypeOf<T>();
  g.trans_a = c.ta;
  g.trans_b = c.tb;
  g.m = c.m;
  g.n = c.n;
  g.k = c.k;
  g.alpha = 0.75;
  g.beta = 0.5;
  g.a = a.data();
  g.lda = c.ta ? c.m : c.k;
  g.stride_a = sa;
  g.b = b.data();
  g.ldb = c.tb ? c.k : c.n;
  g.stride_b = sb;
  g.c = out.data();
  g.ldc = c.n;
  g.stride_c = sc;
  g.batch = c.batch;
  EXPECT_TRUE(IsOk(api().gemm(stream, &g)));
  return out.values();
}

// RunGemm's product with one float32 B for every batch item, prepared
// first (gemm_prepare) and passed as prepared_b.
std::vector<float> RunPreparedGemm(theta_stream* stream, const GemmCase& c) {
  const int64_t sa = c.m * c.k, sc = c.m * c.n;
  Aligned<float> a(Random<float>(sa * c.batch, -1, 1, 14));
  Aligned<float> b(Random<float>(c.k * c.n, -1, 1, 15));
  Aligned<float> out(Random<float>(sc * c.batch, -1, 1, 16));
  const theta_gemm_prepare_args p = backends::GemmPrepareArgs(
      THETA_DTYPE_F32, c.tb, c.k, c.n, b.data(), c.tb ? c.k : c.n);
  theta_gemm_operand* prepared = nullptr;
  EXPECT_TRUE(IsOk(api().gemm_prepare(stream, &p, &prepared)));
  EXPECT_NE(prepared, nullptr);
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.trans_a = c.ta;
  g.trans_b = c.tb;
  g.m = c.m;
  g.n = c.n;
  g.k = c.k;
  g.alpha = 0.75;
  g.beta = 0.5;
  g.a = a.data();
  g.lda = c.ta ? c.m : c.k;
  g.stride_a = sa;
  g.b = b.data();
  g.ldb = p.ld;
  g.c = out.data();
  g.ldc = c.n;
  g.stride_c = sc;
  g.batch = c.batch;
  g.prepared_b = prepared;
  EXPECT_TRUE(IsOk(api().gemm(stream, &g)));
  api().gemm_operand_free(stream, prepared);
  return out.values();
}

std::vector<float> RunReduce(theta_stream* stream, theta_reduce_op op,
                             std::vector<int64_t> shape, uint32_t mask) {
  const View in = Contiguous(shape);
  std::vector<int64_t> out_shape = shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (mask >> d & 1) out_shape[d] = 1;
  }
  const View out = Contiguous(out_shape);
  Aligned<float> x(Random<float>(in.Count(), -1, 1, 21));
  Aligned<float> y(std::vector<float>(static_cast<size_t>(out.Count())));
  theta_reduce_args a{};
  a.struct_size = sizeof(a);
  a.op = op;
  a.input = in.Array(x.data(), THETA_DTYPE_F32);
  a.axes_mask = mask;
  a.output = out.Array(y.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsOk(api().reduce(stream, &a)));
  return y.values();
}

template <typename T>
std::vector<T> RunSoftmax(theta_stream* stream, std::vector<int64_t> shape,
                          bool log) {
  const View v = Contiguous(shape);
  Aligned<T> x(Random<T>(v.Count(), -20, 20, 31));
  Aligned<T> y(std::vector<T>(static_cast<size_t>(v.Count())));
  theta_softmax_args a{};
  a.struct_size = sizeof(a);
  a.log = log;
  a.input = v.Array(x.data(), DtypeOf<T>());
  a.output = v.Array(y.data(), DtypeOf<T>());
  EXPECT_TRUE(IsOk(api().softmax(stream, &a)));
  return y.values();
}

// Bitwise equality, with the first differing index in the failure.
template <typename T>
::testing::AssertionResult SameBits(const std::vector<T>& a,
                                    const std::vector<T>& b) {
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure()
           << "sizes " << a.size() << " and " << b.size();
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) {
      return ::testing::AssertionFailure()
             << "index " << i << ": " << a[i] << " vs " << b[i];
    }
  }
  return ::testing::AssertionSuccess();
}

// Every kernel result of `run` with 2 and 4 threads equals the one with 1.
template <typename Run>
void ExpectSameForAnyThreadCount(const Run& run) {
  DeterministicPlugin one(1);
  const auto want = run(one.stream());
  for (int threads : {2, 4}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    DeterministicPlugin many(threads);
    ASSERT_EQ(Extension(many.plugin(), "cpu.num_threads"), threads);
    EXPECT_TRUE(SameBits(run(many.stream()), want));
  }
}

TEST(DeterminismTest, GemmIsBitwiseTheSameForAnyThreadCount) {
  // Tall, wide, odd and transposed shapes, single and batched: each is cut
  // into several blocks whose heights differ from one thread count to the
  // next without THETA_DETERMINISTIC.
  const GemmCase cases[] = {
      {512, 256, 300, 1, false, false}, {37, 1000, 129, 1, false, true},
      {1000, 64, 64, 1, true, false},   {333, 333, 333, 1, true, true},
      {96, 1024, 256, 3, false, false}, {32, 4096, 1024, 1, false, false},
  };
  for (const GemmCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << "m " << c.m << " n " << c.n << " k "
                                      << c.k << " batch " << c.batch);
    ExpectSameForAnyThreadCount(
        [&](theta_stream* s) { return RunGemm<float>(s, c); });
    ExpectSameForAnyThreadCount(
        [&](theta_stream* s) { return RunGemm<double>(s, c); });
  }
}

TEST(DeterminismTest, PreparedGemmIsBitwiseTheSameForAnyThreadCount) {
  // The LSTM loops' per-step products (packed kernel), a tall one and one
  // with A transposed (plain B), and a batch sharing B.
  const GemmCase cases[] = {
      {32, 1024, 256, 1, false, false}, {64, 512, 2048, 1, false, true},
      {37, 1000, 129, 1, false, true},  {1000, 64, 64, 1, false, false},
      {300, 333, 65, 1, true, false},   {96, 1024, 256, 3, false, false},
  };
  for (const GemmCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << "m " << c.m << " n " << c.n << " k "
                                      << c.k << " batch " << c.batch);
    ExpectSameForAnyThreadCount(
        [&](theta_stream* s) { return RunPreparedGemm(s, c); });
  }
}

TEST(DeterminismTest, LongReductionsAreBitwiseTheSameForAnyThreadCount) {
  struct Case {
    std::vector<int64_t> shape;
    uint32_t mask;
  };
  const Case cases[] = {
      {{1 << 22}, 1},     // one output, pieces merged in order
      {{4096, 300}, 1},   // down the rows ("accumulate")
      {{300, 4096}, 2},   // along the rows ("per output")
      {{64, 64, 64}, 5},  // two axes around a kept one
      {{8, 1 << 18}, 2},  // few outputs, long rows
  };
  for (const Case& c : cases) {
    for (theta_reduce_op op : {THETA_REDUCE_SUM, THETA_REDUCE_MAX}) {
      SCOPED_TRACE(::testing::Message()
                   << "op " << op << " mask " << c.mask << " rank "
                   << c.shape.size() << " size " << c.shape.back());
      ExpectSameForAnyThreadCount(
          [&](theta_stream* s) { return RunReduce(s, op, c.shape, c.mask); });
    }
  }
}

TEST(DeterminismTest, SoftmaxIsBitwiseTheSameForAnyThreadCount) {
  for (bool log : {false, true}) {
    SCOPED_TRACE(log ? "log_softmax" : "softmax");
    ExpectSameForAnyThreadCount([&](theta_stream* s) {
      return RunSoftmax<float>(s, {256, 5000}, log);
    });
    ExpectSameForAnyThreadCount([&](theta_stream* s) {
      return RunSoftmax<double>(s, {3, 100000}, log);
    });
  }
}

TEST(DeterminismTest, ExtensionReportsTheSetting) {
  for (const char* value : {"1", "0", "", static_cast<const char*>(nullptr)}) {
    SCOPED_TRACE(value == nullptr ? "unset" : value);
    ScopedEnv env("THETA_DETERMINISTIC", value);
    theta_plugin* plugin = nullptr;
    ASSERT_TRUE(IsOk(api().plugin_create(&plugin)));
    const bool on = value != nullptr && std::strcmp(value, "1") == 0;
    EXPECT_EQ(Extension(plugin, "cpu.deterministic"), on ? 1 : 0);
    api().plugin_destroy(plugin);
  }
}

TEST(DeterminismTest, OtherValuesAreRejectedByName) {
  for (const char* value : {"yes", "2", " 1", "true", "-1"}) {
    SCOPED_TRACE(value);
    ScopedEnv env("THETA_DETERMINISTIC", value);
    theta_plugin* plugin = nullptr;
    EXPECT_TRUE(IsError(api().plugin_create(&plugin),
                        THETA_STATUS_INVALID_ARGUMENT,
                        {"THETA_DETERMINISTIC='" + std::string(value) + "'",
                         "neither 1", "nor 0 or unset"}));
    EXPECT_EQ(plugin, nullptr);
  }
}

}  // namespace
}  // namespace theta::cpu::testing
