// Strided batched GEMM on OpenBLAS or oneDNN (gemm_provider.h), each
// single-threaded (openblas_set_num_threads(1) at plugin_create; oneDNN
// with a team of one, onednn_gemm.h), parallelised over the pool by batch
// items and by blocks of rows of C (or columns, when n is the larger). The
// blocks follow the pool's partition_threads(): its thread count, or a
// fixed count when the pool is deterministic (thread_pool.h). A product
// given a prepared B (ABI 1.2: gemm_prepare packs a float32 B here) runs
// on the packed kernel (packed_gemm.h) where UsePackedKernel says so, which
// cuts its work by fixed sizes, independent of the thread count.
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>

#include "backends/cpu/gemm_provider.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/onednn_gemm.h"
#include "backends/cpu/packed_gemm.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cpu {
namespace {

// Below this many multiply-adds a GEMM runs on the caller alone.
constexpr double kParallelFlops = 1 << 18;
// Smallest block of rows (or columns) of C given to one task.
constexpr int64_t kMinBlock = 32;
// The smallest B (k * n elements) that gemm_prepare packs.
constexpr int64_t kMinPackedElements = 4096;

// C = beta * C for an m x n matrix with row stride ldc; beta == 0 writes
// zeros without reading C.
template <typename T>
void ScaleC(T* c, int64_t m, int64_t n, int64_t ldc, T beta) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      std::fill(row, row + n, T(0));
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

// One block's product on `provider`; returns oneDNN's status (0: success;
// OpenBLAS reports none).
int CallBlas(GemmProvider provider, const theta_gemm_args& g, float alpha,
             float beta, const float* a, const float* b, float* c, int64_t m,
             int64_t n) {
  if (provider == GemmProvider::kOneDnn) {
    return OneDnnSgemm(g.trans_a != 0, g.trans_b != 0, m, n, g.k, alpha, a,
                       g.lda, b, g.ldb, beta, c, g.ldc);
  }
  cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
              g.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(g.k), alpha, a,
              static_cast<int>(g.lda), b, static_cast<int>(g.ldb), beta, c,
              static_cast<int>(g.ldc));
  return 0;
}

// Double precision is OpenBLAS's alone (ChooseGemmProvider).
int CallBlas(GemmProvider, const theta_gemm_args& g, double alpha, double beta,
             const double* a, const double* b, double* c, int64_t m,
             int64_t n) {
  cblas_dgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
              g.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(g.k), alpha, a,
              static_cast<int>(g.lda), b, static_cast<int>(g.ldb), beta, c,
              static_cast<int>(g.ldc));
  return 0;
}

// Returns the first nonzero status of a block's product, or 0.
template <typename T>
int RunGemm(ThreadPool& pool, GemmProvider provider, const theta_gemm_args& g) {
  const T alpha = static_cast<T>(g.alpha), beta = static_cast<T>(g.beta);
  const T* a = static_cast<const T*>(g.a);
  const T* b = static_cast<const T*>(g.b);
  T* c = static_cast<T*>(g.c);

  // Split the larger of m and n into one block per thread (counting batch
  // items). Each block packs its share of the operands again: with two
  // blocks per thread an LSTM step's small products ran slower (its
  // training step 3-5% slower in scan_bench than with one).
  const bool split_rows = g.m >= g.n;
  const int64_t extent = split_rows ? g.m : g.n;
  const double flops = static_cast<double>(g.m) * g.n * g.k * g.batch;
  int64_t blocks = 1;
  // One thread: one BLAS call (splitting would only pack B more often).
  // A deterministic pool cuts as if it had kDeterministicPartition threads,
  // so that every element of C comes from the same BLAS call shape for any
  // thread count (OpenBLAS may round a row differently in a block of
  // another height).
  const int threads = pool.partition_threads();
  if (threads > 1 && flops >= kParallelFlops && g.batch < threads) {
    int64_t wanted = (threads + g.batch - 1) / g.batch;
    blocks = std::max<int64_t>(1, std::min(wanted, extent / kMinBlock));
  }
  const int64_t block_size = (extent + blocks - 1) / blocks;
  blocks = (extent + block_size - 1) / block_size;
  const int64_t tasks = g.batch * blocks;
  int64_t grain = 1;
  if (flops < kParallelFlops) grain = tasks;

  std::atomic<int> failure{0};
  pool.ParallelFor(tasks, grain, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t i = t / blocks;
      const int64_t lo = (t % blocks) * block_size;
      const int64_t len = std::min(block_size, extent - lo);
      const T* ai = a + i * g.stride_a;
      const T* bi = b + i * g.stride_b;
      T* ci = c + i * g.stride_c;
      int64_t m = g.m, n = g.n;
      if (split_rows) {
        // Rows lo.. of op(A): rows of A, or columns of A when transposed.
        ai += g.trans_a ? lo : lo * g.lda;
        ci += lo * g.ldc;
        m = len;
      } else {
        // Columns lo.. of op(B): columns of B, or rows when transposed.
        bi += g.trans_b ? lo * g.ldb : lo;
        ci += lo;
        n = len;
      }
      if (g.k == 0) {
        ScaleC(ci, m, n, g.ldc, beta);
        continue;
      }
      // Both libraries write C without reading it when beta == 0, as the
      // ABI requires (gemm_test checks this with NaN in C, per provider).
      if (int s = CallBlas(provider, g, alpha, beta, ai, bi, ci, m, n)) {
        int expected = 0;
        failure.compare_exchange_strong(expected, s);
      }
    }
  });
  return failure.load();
}

// Whether gemm_prepare packs B: float32 on a processor the packed kernel
// runs on, and at least kMinPackedElements elements (below that a product
// is a few hundred multiply-adds per row, and the libraries' own packing
// costs little).
bool WorthPacking(const theta_gemm_prepare_args& p) {
  return p.dtype == THETA_DTYPE_F32 && PackedGemmSupported() &&
         p.k * p.n >= kMinPackedElements;
}

}  // namespace

theta_status* GemmPrepare(ThreadPool& pool, const theta_gemm_prepare_args& p,
                          theta_gemm_operand** out) {
  *out = nullptr;
  if (theta_status* s = plugin_kit::CheckGemmPrepare(p)) return s;
  if (!WorthPacking(p)) return nullptr;
  *out = new theta_gemm_operand(pool, plugin_kit::SourceOf(p));
  return nullptr;
}

theta_status* Gemm(ThreadPool& pool, GemmSelection selection,
                   const theta_gemm_args& g) {
  if (theta_status* s = plugin_kit::CheckGemm(g)) return s;
  if (g.prepared_b != nullptr) {
    if (theta_status* s =
            plugin_kit::CheckPreparedMatches(g, g.prepared_b->source)) {
      return s;
    }
  }
  if (plugin_kit::IsEmptyGemm(g)) return nullptr;
  // A prepared operand is float32 (GemmPrepare); with k == 0 the plain
  // path scales C.
  if (g.prepared_b != nullptr && g.k > 0 && UsePackedKernel(selection, g)) {
    PackedGemm(pool, g, g.prepared_b->packed);
    return nullptr;
  }
  static const OneDnnSupport onednn{OneDnnAvailable(), OneDnnUsesAvx512()};
  const GemmProvider provider = ChooseGemmProvider(selection, g, onednn);
  if (provider == GemmProvider::kOpenBlas) {
    if (const int64_t v = SizeBeyondOpenBlas(g)) {
      return Unimplemented("gemm: size ", v,
                           " exceeds OpenBLAS's 32-bit interface (max ",
                           INT_MAX, ")");
    }
  }
  const int failure = g.dtype == THETA_DTYPE_F32
                          ? RunGemm<float>(pool, provider, g)
                          : RunGemm<double>(pool, provider, g);
  if (failure == -1) {
    return MakeStatus(THETA_STATUS_UNAVAILABLE,
                      StrCat("gemm: oneDNN: ", OneDnnError()));
  }
  if (failure != 0) {
    return MakeStatus(
        THETA_STATUS_INTERNAL,
        StrCat("gemm: oneDNN's sgemm failed with dnnl_status ", failure,
               " on a ", g.m, "x", g.n, "x", g.k, " product"));
  }
  return nullptr;
}

}  // namespace theta::cpu
