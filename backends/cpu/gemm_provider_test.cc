// THETA_CPU_GEMM, the cpu.gemm_provider extensions and the automatic choice.
// Which library served a call is told apart by a leading dimension above
// INT_MAX: oneDNN takes it, OpenBLAS's 32-bit interface refuses it.
#include "backends/cpu/gemm_provider.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdlib>
#include <string>

#include "backends/cpu/onednn_gemm.h"
#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {
namespace {

// A plugin, device and stream made under THETA_CPU_GEMM=`env`.
struct Plugin {
  explicit Plugin(const char* env) {
    ScopedEnv scoped("THETA_CPU_GEMM", env);
    EXPECT_TRUE(IsOk(api().plugin_create(&plugin)));
    EXPECT_TRUE(IsOk(api().device_open(plugin, 0, &device)));
    EXPECT_TRUE(IsOk(api().stream_create(device, &stream)));
  }
  ~Plugin() {
    if (stream) api().stream_destroy(stream);
    if (device) api().device_close(device);
    if (plugin) api().plugin_destroy(plugin);
  }
  std::string Selection() const {
    using Fn = const char* (*)(theta_plugin*);
    auto fn =
        reinterpret_cast<Fn>(api().get_extension(plugin, "cpu.gemm_provider"));
    return fn == nullptr ? "(no extension)" : fn(plugin);
  }
  int32_t Select(const char* name) const {
    using Fn = int32_t (*)(theta_plugin*, const char*);
    auto fn = reinterpret_cast<Fn>(
        api().get_extension(plugin, "cpu.set_gemm_provider"));
    return fn == nullptr ? -2 : fn(plugin, name);
  }
  theta_plugin* plugin = nullptr;
  theta_device* device = nullptr;
  theta_stream* stream = nullptr;
};

// C (1x1) = A (1x1, lda above INT_MAX) B: 2 * 3. Only A's first element
// is read, so the huge leading dimension is harmless.
template <typename T>
theta_status* ProductWithHugeLda(const Plugin& p, T* c) {
  static T a = 2, b = 3;
  *c = -1;
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = DtypeOf<T>();
  g.m = g.n = g.k = 1;
  g.alpha = 1;
  g.beta = 0;
  g.a = &a;
  g.lda = int64_t{INT_MAX} + 5;
  g.b = &b;
  g.ldb = 1;
  g.c = c;
  g.ldc = 1;
  g.batch = 1;
  return api().gemm(p.stream, &g);
}

TEST(GemmProvider, ParsesTheNamesAndNothingElse) {
  GemmSelection s;
  EXPECT_TRUE(ParseGemmSelection("", &s));
  EXPECT_EQ(s, GemmSelection::kAutomatic);
  EXPECT_TRUE(ParseGemmSelection("openblas", &s));
  EXPECT_EQ(s, GemmSelection::kOpenBlas);
  EXPECT_TRUE(ParseGemmSelection("onednn", &s));
  EXPECT_EQ(s, GemmSelection::kOneDnn);
  EXPECT_TRUE(ParseGemmSelection("packed", &s));
  EXPECT_EQ(s, GemmSelection::kPacked);
  EXPECT_STREQ(GemmSelectionName(s), "packed");
  for (const char* bad : {"OpenBLAS", "mkl", " onednn", "auto", "Packed"}) {
    EXPECT_FALSE(ParseGemmSelection(bad, &s)) << bad;
  }
}

TEST(GemmProvider, BadEnvironmentValueFailsPluginCreateNamingIt) {
  ScopedEnv env("THETA_CPU_GEMM", "mkl");
  theta_plugin* plugin = nullptr;
  EXPECT_TRUE(
      IsError(api().plugin_create(&plugin), THETA_STATUS_INVALID_ARGUMENT,
              {"THETA_CPU_GEMM='mkl'", "openblas", "onednn", "packed"}));
  EXPECT_EQ(plugin, nullptr);
}

TEST(GemmProvider, ForcedOneDnnServesFloat32) {
  Plugin p("onednn");
  EXPECT_EQ(p.Selection(), "onednn");
  float c;
  ASSERT_TRUE(IsOk(ProductWithHugeLda(p, &c)));
  EXPECT_EQ(c, 6.0f);
}

TEST(GemmProvider, ForcedOpenBlasServesFloat32) {
  Plugin p("openblas");
  EXPECT_EQ(p.Selection(), "openblas");
  float c;
  EXPECT_TRUE(IsError(ProductWithHugeLda(p, &c), THETA_STATUS_UNIMPLEMENTED,
                      {"OpenBLAS's 32-bit interface"}));
}

TEST(GemmProvider, Float64StaysOnOpenBlasEvenWhenOneDnnIsForced) {
  Plugin p("onednn");
  double c;
  EXPECT_TRUE(IsError(ProductWithHugeLda(p, &c), THETA_STATUS_UNIMPLEMENTED,
                      {"OpenBLAS's 32-bit interface"}));
}

TEST(GemmProvider, AutomaticGivesOneDnnWhatOpenBlasCannotTake) {
  Plugin p(nullptr);
  EXPECT_EQ(p.Selection(), "automatic");
  float c;
  ASSERT_TRUE(IsOk(ProductWithHugeLda(p, &c)));
  EXPECT_EQ(c, 6.0f);
}

TEST(GemmProvider, ExtensionSwitchesTheProvider) {
  Plugin p("");
  EXPECT_EQ(p.Select("openblas"), 0);
  EXPECT_EQ(p.Selection(), "openblas");
  float c;
  EXPECT_TRUE(IsError(ProductWithHugeLda(p, &c), THETA_STATUS_UNIMPLEMENTED,
                      {"32-bit"}));
  EXPECT_EQ(p.Select("onednn"), 0);
  ASSERT_TRUE(IsOk(ProductWithHugeLda(p, &c)));
  EXPECT_EQ(c, 6.0f);
  EXPECT_EQ(p.Select("mkl"), -1);
  EXPECT_EQ(p.Selection(), "onednn");  // unchanged by a refused name
  EXPECT_EQ(p.Select(""), 0);
  EXPECT_EQ(p.Selection(), "automatic");
}

TEST(GemmProvider, ReportsOneDnnVersionAndIsa) {
  Plugin p(nullptr);
  using Fn = const char* (*)(theta_plugin*);
  auto fn =
      reinterpret_cast<Fn>(api().get_extension(p.plugin, "cpu.onednn_isa"));
  ASSERT_NE(fn, nullptr);
  const std::string isa = fn(p.plugin);
  // "2.6.3 avx2": a version, a space, and a known instruction set.
  EXPECT_NE(isa.find(' '), std::string::npos) << isa;
  EXPECT_EQ(isa.find("unknown"), std::string::npos) << isa;
}

theta_gemm_args Shape(theta_dtype dtype, int64_t m, int64_t n, int64_t k,
                      bool ta = false, bool tb = false) {
  theta_gemm_args g{};
  g.dtype = dtype;
  g.m = m;
  g.n = n;
  g.k = k;
  g.trans_a = ta;
  g.trans_b = tb;
  g.lda = ta ? m : k;
  g.ldb = tb ? k : n;
  g.ldc = n;
  g.batch = 1;
  return g;
}

TEST(GemmProvider, ForcedSelectionsAndDoublesIgnoreTheShape) {
  const theta_gemm_args f32 = Shape(THETA_DTYPE_F32, 32, 1024, 256);
  const theta_gemm_args f64 = Shape(THETA_DTYPE_F64, 32, 1024, 256);
  for (bool avx512 : {false, true}) {
    EXPECT_EQ(ChooseGemmProvider(GemmSelection::kOneDnn, f32, {true, avx512}),
              GemmProvider::kOneDnn);
    EXPECT_EQ(ChooseGemmProvider(GemmSelection::kOpenBlas, f32, {true, avx512}),
              GemmProvider::kOpenBlas);
    for (GemmSelection s : {GemmSelection::kAutomatic, GemmSelection::kOneDnn,
                            GemmSelection::kOpenBlas}) {
      EXPECT_EQ(ChooseGemmProvider(s, f64, {true, avx512}),
                GemmProvider::kOpenBlas);
    }
  }
}

TEST(GemmProvider, AutomaticOnAvx2TakesOneDnnForMatrixVectorProducts) {
  const auto choose = [](const theta_gemm_args& g) {
    return ChooseGemmProvider(GemmSelection::kAutomatic, g, {true, false});
  };
  EXPECT_EQ(choose(Shape(THETA_DTYPE_F32, 1, 64, 64)), GemmProvider::kOneDnn);
  EXPECT_EQ(choose(Shape(THETA_DTYPE_F32, 64, 1, 64)), GemmProvider::kOneDnn);
  EXPECT_EQ(choose(Shape(THETA_DTYPE_F32, 32, 1024, 256)),
            GemmProvider::kOpenBlas);
  EXPECT_EQ(choose(Shape(THETA_DTYPE_F32, 256, 1024, 32, true)),
            GemmProvider::kOpenBlas);
}

TEST(GemmProvider, AutomaticOnAvx512TakesOneDnnForFewRows) {
  const auto choose = [](const theta_gemm_args& g) {
    return ChooseGemmProvider(GemmSelection::kAutomatic, g, {true, true});
  };
  EXPECT_EQ(choose(Shape(THETA_DTYPE_F32, 32, 1024, 256)),
            GemmProvider::kOneDnn);
  EXPECT_EQ(choose(Shape(THETA_DTYPE_F32, 64, 512, 2048, false, true)),
            GemmProvider::kOneDnn);
  EXPECT_EQ(choose(Shape(THETA_DTYPE_F32, 65, 512, 2048)),
            GemmProvider::kOpenBlas);
  EXPECT_EQ(choose(Shape(THETA_DTYPE_F32, 64, 2048, 512, true)),
            GemmProvider::kOpenBlas);
}

TEST(GemmProvider, AutomaticGivesOneDnnSizesAboveOpenBlasRange) {
  theta_gemm_args g = Shape(THETA_DTYPE_F32, 4, 4, 4);
  g.ldc = int64_t{INT_MAX} + 1;
  for (bool avx512 : {false, true}) {
    EXPECT_EQ(ChooseGemmProvider(GemmSelection::kAutomatic, g, {true, avx512}),
              GemmProvider::kOneDnn);
  }
}

TEST(GemmProvider, AutomaticWithoutOneDnnIsOpenBlasThroughout) {
  theta_gemm_args huge = Shape(THETA_DTYPE_F32, 4, 4, 4);
  huge.ldc = int64_t{INT_MAX} + 1;
  for (const theta_gemm_args& g : {huge, Shape(THETA_DTYPE_F32, 1, 64, 64),
                                   Shape(THETA_DTYPE_F32, 32, 1024, 256)}) {
    EXPECT_EQ(ChooseGemmProvider(GemmSelection::kAutomatic, g, {}),
              GemmProvider::kOpenBlas);
  }
}

TEST(GemmProvider, PackedKernelTakesFewRowsWithAPlain) {
  const auto use = [](const theta_gemm_args& g) {
    return UsePackedKernel(GemmSelection::kAutomatic, g);
  };
  // The LSTM loops' per-step products, B plain or transposed.
  EXPECT_TRUE(use(Shape(THETA_DTYPE_F32, 32, 1024, 256)));
  EXPECT_TRUE(use(Shape(THETA_DTYPE_F32, 64, 512, 2048, false, true)));
  EXPECT_TRUE(use(Shape(THETA_DTYPE_F32, 1, 64, 64)));
  EXPECT_TRUE(use(Shape(THETA_DTYPE_F32, 256, 512, 784)));
  EXPECT_FALSE(use(Shape(THETA_DTYPE_F32, 257, 512, 784)));
  EXPECT_FALSE(use(Shape(THETA_DTYPE_F32, 128, 512, 64, true)));
}

TEST(GemmProvider, ForcedLibrariesTurnThePackedKernelOff) {
  const theta_gemm_args lstm = Shape(THETA_DTYPE_F32, 32, 1024, 256);
  const theta_gemm_args tall = Shape(THETA_DTYPE_F32, 1600, 1024, 128, true);
  EXPECT_FALSE(UsePackedKernel(GemmSelection::kOpenBlas, lstm));
  EXPECT_FALSE(UsePackedKernel(GemmSelection::kOneDnn, lstm));
  EXPECT_TRUE(UsePackedKernel(GemmSelection::kPacked, lstm));
  EXPECT_TRUE(UsePackedKernel(GemmSelection::kPacked, tall));
  // Plain products under "packed" are chosen as under automatic.
  for (bool avx512 : {false, true}) {
    for (const theta_gemm_args& g :
         {lstm, tall, Shape(THETA_DTYPE_F32, 1, 64, 64)}) {
      EXPECT_EQ(
          ChooseGemmProvider(GemmSelection::kPacked, g, {true, avx512}),
          ChooseGemmProvider(GemmSelection::kAutomatic, g, {true, avx512}));
    }
  }
}

TEST(GemmProvider, MissingLibraryIsNamedWithHowToInstallIt) {
  const std::string error = OneDnnLoadError("libtheta_no_such_dnnl.so.2");
  EXPECT_NE(error.find("cannot load libtheta_no_such_dnnl.so.2"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("apt-get install libdnnl2"), std::string::npos) << error;
  // The library the plugin loads is there (tools/setup.sh installs it).
  EXPECT_EQ(OneDnnLoadError(kOneDnnLibrary), "");
}

}  // namespace
}  // namespace theta::cpu::testing
