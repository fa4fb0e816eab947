#include "backends/cpu/gemm_provider.h"

#include <climits>
#include <cstdlib>

namespace theta::cpu {
namespace {

// On AVX-512, products with at most this many rows go to oneDNN.
constexpr int64_t kSmallM = 64;
// Prepared products with at most this many rows (and A not transposed) run
// on the packed kernel.
constexpr int64_t kPackedMaxM = 256;

}  // namespace

const char* GemmSelectionName(GemmSelection selection) {
  switch (selection) {
    case GemmSelection::kOpenBlas:
      return "openblas";
    case GemmSelection::kOneDnn:
      return "onednn";
    case GemmSelection::kPacked:
      return "packed";
    case GemmSelection::kAutomatic:
      break;
  }
  return "automatic";
}

const char* GemmProviderName(GemmProvider provider) {
  return provider == GemmProvider::kOneDnn ? "onednn" : "openblas";
}

bool ParseGemmSelection(std::string_view text, GemmSelection* out) {
  if (text.empty()) {
    *out = GemmSelection::kAutomatic;
  } else if (text == "openblas") {
    *out = GemmSelection::kOpenBlas;
  } else if (text == "onednn") {
    *out = GemmSelection::kOneDnn;
  } else if (text == "packed") {
    *out = GemmSelection::kPacked;
  } else {
    return false;
  }
  return true;
}

bool GemmSelectionFromEnvironment(GemmSelection* out, std::string* error) {
  const char* env = std::getenv("THETA_CPU_GEMM");
  if (ParseGemmSelection(env == nullptr ? "" : env, out)) return true;
  *error = "THETA_CPU_GEMM='" + std::string(env) +
           "' is none of openblas, onednn, packed, or unset (automatic)";
  return false;
}

int64_t SizeBeyondOpenBlas(const theta_gemm_args& g) {
  for (int64_t v : {g.m, g.n, g.k, g.lda, g.ldb, g.ldc}) {
    if (v > INT_MAX) return v;
  }
  return 0;
}

GemmProvider ChooseGemmProvider(GemmSelection selection,
                                const theta_gemm_args& g,
                                OneDnnSupport onednn) {
  if (g.dtype != THETA_DTYPE_F32) return GemmProvider::kOpenBlas;
  switch (selection) {
    case GemmSelection::kOpenBlas:
      return GemmProvider::kOpenBlas;
    case GemmSelection::kOneDnn:
      return GemmProvider::kOneDnn;
    case GemmSelection::kPacked:  // plain products: as automatic
    case GemmSelection::kAutomatic:
      break;
  }
  if (!onednn.available) return GemmProvider::kOpenBlas;
  // OpenBLAS's interface is 32-bit; oneDNN's is not.
  if (SizeBeyondOpenBlas(g) != 0) return GemmProvider::kOneDnn;
  if (onednn.avx512) {
    // Measured for issue #14 on Zen 5 with AVX-512, 1 thread: at the loops'
    // products, (32|64) x 256..2048, oneDNN ran 233-248 GFLOP/s and
    // OpenBLAS 98-114 (Haswell kernels) or 106-177 (SkylakeX). Larger
    // products were not measured there and stay on OpenBLAS.
    return g.m <= kSmallM && !g.trans_a ? GemmProvider::kOneDnn
                                        : GemmProvider::kOpenBlas;
  }
  // AVX2 (BM_GemmProvider, AMD EPYC without AVX-512, 1 thread, medians of
  // 3): OpenBLAS (Zen kernels) was as fast or faster at every
  // workload shape (up to 1.9x at 32x1024x256 and 256x1024x32 with A
  // transposed) except the matrix-vector products, where oneDNN took 0.43 us
  // against 0.92 (1x64x64, the scan recurrence's step).
  return g.m == 1 || g.n == 1 ? GemmProvider::kOneDnn : GemmProvider::kOpenBlas;
}

bool UsePackedKernel(GemmSelection selection, const theta_gemm_args& g) {
  switch (selection) {
    case GemmSelection::kOpenBlas:
    case GemmSelection::kOneDnn:
      return false;
    case GemmSelection::kPacked:
      return true;
    case GemmSelection::kAutomatic:
      break;
  }
  // backend_bench BM_GemmPrepared, AMD EPYC (Zen 3, AVX2), OpenBLAS Zen
  // kernels, oneDNN 2.6.3 avx2, 1 thread, GFLOP/s, medians of 6 (two
  // interleaved runs of 3): at the recurrent loops' products (m 32 or 64,
  // A plain, B plain or transposed) the packed kernel ran 95.6-98.8 against
  // OpenBLAS's 69.9-84.5 and oneDNN's 44.2-90.5 (32x256x1024 with B
  // transposed: 97.2 vs 69.9 and 68.7), with 2 threads 124-144 against
  // 94-118 and 67-126; at 256x512x784 97.1 vs 93.2 (2 threads: 139 vs 128);
  // at 1x64x64 22.2 vs oneDNN's 18.7. With more rows it gained nothing (1
  // thread: 1600x1024x128 94.9 vs 94.5, 1024^3 95.1 vs 95.3) and lost with
  // 2 threads (1600x1024x128: 121 vs 139); with A transposed it lost at 3
  // of 4 shapes (512x2048x64: 81.5 vs 90.4; 784x512x256: 89.4 vs 95.8).
  return !g.trans_a && g.m <= kPackedMaxM;
}

}  // namespace theta::cpu
