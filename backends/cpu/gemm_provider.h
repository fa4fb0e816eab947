// Which code computes a GEMM in the CPU plugin: OpenBLAS, oneDNN, or, for a
// float32 product given a prepared B (ABI 1.2's prepared_b), the plugin's
// packed kernel (packed_gemm.h).
//
// THETA_CPU_GEMM chooses, read once when the plugin is created:
//   unset or empty  automatic: the policies below, per call
//   "openblas"      every product on OpenBLAS, prepared ones included (they
//                   read the plain B: the packed kernel is off, so this
//                   reproduces the library path of before ABI 1.2 for A/B
//                   runs)
//   "onednn"        every float32 product on oneDNN, prepared ones included
//                   (float64 stays on OpenBLAS: oneDNN has no
//                   double-precision GEMM)
//   "packed"        every prepared float32 product on the packed kernel,
//                   whatever its shape; other products as automatic (for
//                   tests and benchmarks of the kernel)
// Any other value, or "onednn" where oneDNN cannot be loaded, makes
// plugin_create fail with a message naming it. Without oneDNN the
// automatic choice is OpenBLAS throughout.
//
// The automatic policy (ChooseGemmProvider) follows measurements of the two
// libraries called at the same shapes, single-threaded, in backend_bench
// (BM_GemmProvider); gemm_provider.cc gives the figures behind each rule:
//   - a size or leading dimension above INT_MAX: oneDNN (OpenBLAS's
//     interface is 32-bit);
//   - oneDNN on AVX-512: oneDNN for products of at most 64 rows with A not
//     transposed (the recurrent loops' per-step products), else OpenBLAS;
//   - oneDNN on AVX2: oneDNN for matrix-vector products (m or n is 1), else
//     OpenBLAS.
// A product given a prepared B runs on the packed kernel when A is not
// transposed and m <= 256 (UsePackedKernel; measured in backend_bench's
// BM_GemmPrepared), else as above on the plain B.
// The choice depends only on the call's dtype, shape and transposes and on
// the machine, never on the thread count, so THETA_DETERMINISTIC holds.
#ifndef THETA_BACKENDS_CPU_GEMM_PROVIDER_H_
#define THETA_BACKENDS_CPU_GEMM_PROVIDER_H_

#include <string>
#include <string_view>

#include "backends/api/theta_backend.h"

namespace theta::cpu {

enum class GemmProvider { kOpenBlas, kOneDnn };
enum class GemmSelection { kAutomatic, kOpenBlas, kOneDnn, kPacked };

// "automatic", "openblas", "onednn". Static strings.
const char* GemmSelectionName(GemmSelection selection);
const char* GemmProviderName(GemmProvider provider);

// "openblas" / "onednn" / "" (automatic) to a selection; false for anything
// else.
bool ParseGemmSelection(std::string_view text, GemmSelection* out);

// THETA_CPU_GEMM as above. On a bad value returns false and sets *error to
// a message naming the variable, its value and the values allowed.
bool GemmSelectionFromEnvironment(GemmSelection* out, std::string* error);

// The first of m, n, k, lda, ldb and ldc above INT_MAX, which OpenBLAS's
// 32-bit interface cannot take, or 0 when all fit.
int64_t SizeBeyondOpenBlas(const theta_gemm_args& g);

// What the automatic choice knows of oneDNN on this machine
// (onednn_gemm.h).
struct OneDnnSupport {
  bool available = false;  // libdnnl.so.2 loaded
  bool avx512 = false;     // its kernels run AVX-512
};

// The provider of one call. A forced oneDNN is only ever passed with
// oneDNN available (plugin_create and cpu.set_gemm_provider refuse it
// otherwise).
GemmProvider ChooseGemmProvider(GemmSelection selection,
                                const theta_gemm_args& g, OneDnnSupport onednn);

// Whether a float32 product given a prepared B (g.prepared_b, k >= 1) runs
// on the packed kernel (packed_gemm.h) rather than on ChooseGemmProvider's
// library with the plain B: never under a forced library, always under
// "packed", else by the shape rule above.
bool UsePackedKernel(GemmSelection selection, const theta_gemm_args& g);

}  // namespace theta::cpu

#endif  // THETA_BACKENDS_CPU_GEMM_PROVIDER_H_
