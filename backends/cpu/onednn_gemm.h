// oneDNN's single-precision GEMM (dnnl_sgemm) as one of the CPU plugin's
// GEMM providers (gemm_provider.h), run on the calling thread only: the
// plugin's pool parallelises, so oneDNN's own OpenMP threads would
// oversubscribe the cores.
//
// The plugin loads libdnnl.so.2 with dlopen at its first use rather than
// linking it: libdnnl.so references libstdc++'s std::string members, and
// linked in, GNU ld exports the plugin's own weak copies of them despite
// its version script (exports_test). A machine without oneDNN still gets
// the plugin, on OpenBLAS alone; THETA_CPU_GEMM=onednn then fails with the
// reason.
#ifndef THETA_BACKENDS_CPU_ONEDNN_GEMM_H_
#define THETA_BACKENDS_CPU_ONEDNN_GEMM_H_

#include <cstdint>
#include <string>

namespace theta::cpu {

// The soname the plugin loads.
inline constexpr char kOneDnnLibrary[] = "libdnnl.so.2";

// Whether oneDNN loaded; if not, OneDnnError() says why.
bool OneDnnAvailable();
const std::string& OneDnnError();

// Why `soname` cannot serve as oneDNN ("" when it can). Tests pass a
// missing name to see the message users get.
std::string OneDnnLoadError(const char* soname);

// C = alpha op(A) op(B) + beta C, all row-major, as cblas_sgemm; C is not
// read when beta == 0. Returns oneDNN's status (0 is success; -1 when
// oneDNN is not available).
int OneDnnSgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                float alpha, const float* a, int64_t lda, const float* b,
                int64_t ldb, float beta, float* c, int64_t ldc);

// The instruction set oneDNN's kernels run on here ("avx2",
// "avx512_core", ...; DNNL_MAX_CPU_ISA caps it), or "unavailable". Static
// string.
const char* OneDnnIsaName();

// True when that instruction set includes AVX-512 (avx512_core or later).
bool OneDnnUsesAvx512();

// "2.6.3", oneDNN's version at run time, or "unavailable". Static string.
const char* OneDnnVersion();

}  // namespace theta::cpu

#endif  // THETA_BACKENDS_CPU_ONEDNN_GEMM_H_
