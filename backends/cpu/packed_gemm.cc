#include "backends/cpu/packed_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "backends/cpu/cpu_features.h"

namespace theta::cpu {
namespace {

constexpr int64_t kW = kPackedPanelWidth;
static_assert(kW == 16, "the micro-kernel holds a panel row in two vectors");
static_assert(kPackedRowBlock % kPackedStripRows == 0);

// Below this many multiply-adds a product runs on the caller alone.
constexpr double kParallelFlops = 1 << 18;
// Floats of B packed per task, at least.
constexpr int64_t kPackGrainFloats = 1 << 16;

void PackPanel(const float* b, int64_t ld, bool trans, int64_t k, int64_t n,
               int64_t j, float* dst) {
  const int64_t j0 = j * kW;
  const int64_t cols = std::min(kW, n - j0);
  if (!trans) {
    for (int64_t p = 0; p < k; ++p) {
      float* row = dst + p * kW;
      std::memcpy(row, b + p * ld + j0, static_cast<size_t>(cols) * 4);
      std::fill(row + cols, row + kW, 0.0f);
    }
    return;
  }
  // op(B)(p, j0 + c) = B(j0 + c, p): column c of the panel is row j0 + c of
  // B, read in order, kTransposeRows rows of the panel at a time (4 KiB,
  // which stay in L1 while the 16 columns are written into them).
  constexpr int64_t kTransposeRows = 64;
  for (int64_t p0 = 0; p0 < k; p0 += kTransposeRows) {
    const int64_t p1 = std::min(k, p0 + kTransposeRows);
    for (int64_t c = 0; c < cols; ++c) {
      const float* src = b + (j0 + c) * ld;
      for (int64_t p = p0; p < p1; ++p) dst[p * kW + c] = src[p];
    }
    for (int64_t p = p0; p < p1 && cols < kW; ++p) {
      std::fill(dst + p * kW + cols, dst + (p + 1) * kW, 0.0f);
    }
  }
}

// Lanes [0, count) of a mask, count clamped to [0, 8].
__attribute__((target("avx2,fma"))) inline __m256i FirstLanes(int64_t count) {
  const int c = static_cast<int>(std::clamp<int64_t>(count, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// How C is updated after one k block of a strip: C = alpha * acc + scale *
// C, reading C only when `read_c` (false for the first block under beta 0).
struct Update {
  float alpha;
  float scale;
  bool read_c;
};

// C[0:MR, 0:cols] (row stride ldc) updated with the product of an MR x kc
// strip of op(A) and kc rows of a packed panel. op(A)(r, p) is a[r * lda +
// p], or a[p * lda + r] when kTransA. cols in [1, 16]; the panel's columns
// past `cols` are zeros and are not stored.
template <int MR, bool kTransA>
__attribute__((target("avx2,fma"))) void MicroKernel(
    const float* a, int64_t lda, const float* panel, int64_t kc, float* c,
    int64_t ldc, int64_t cols, Update u) {
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    acc[r][0] = _mm256_setzero_ps();
    acc[r][1] = _mm256_setzero_ps();
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(panel + p * kW);
    const __m256 b1 = _mm256_load_ps(panel + p * kW + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 x =
          _mm256_broadcast_ss(kTransA ? a + p * lda + r : a + r * lda + p);
      acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
    }
  }
  const __m256 alpha = _mm256_set1_ps(u.alpha);
  const __m256 scale = _mm256_set1_ps(u.scale);
  if (cols == kW) {
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      float* row = c + r * ldc;
      __m256 v0 = _mm256_mul_ps(alpha, acc[r][0]);
      __m256 v1 = _mm256_mul_ps(alpha, acc[r][1]);
      if (u.read_c) {
        v0 = _mm256_fmadd_ps(scale, _mm256_loadu_ps(row), v0);
        v1 = _mm256_fmadd_ps(scale, _mm256_loadu_ps(row + 8), v1);
      }
      _mm256_storeu_ps(row, v0);
      _mm256_storeu_ps(row + 8, v1);
    }
    return;
  }
  // The last panel: masked loads and stores touch only the first `cols`.
  const __m256i m0 = FirstLanes(cols), m1 = FirstLanes(cols - 8);
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    float* row = c + r * ldc;
    __m256 v0 = _mm256_mul_ps(alpha, acc[r][0]);
    __m256 v1 = _mm256_mul_ps(alpha, acc[r][1]);
    if (u.read_c) {
      v0 = _mm256_fmadd_ps(scale, _mm256_maskload_ps(row, m0), v0);
      v1 = _mm256_fmadd_ps(scale, _mm256_maskload_ps(row + 8, m1), v1);
    }
    _mm256_maskstore_ps(row, m0, v0);
    _mm256_maskstore_ps(row + 8, m1, v1);
  }
}

using KernelFn = void (*)(const float*, int64_t, const float*, int64_t, float*,
                          int64_t, int64_t, Update);

template <bool kTransA>
constexpr KernelFn kKernels[kPackedStripRows + 1] = {nullptr,
                                                     MicroKernel<1, kTransA>,
                                                     MicroKernel<2, kTransA>,
                                                     MicroKernel<3, kTransA>,
                                                     MicroKernel<4, kTransA>,
                                                     MicroKernel<5, kTransA>,
                                                     MicroKernel<6, kTransA>};

// The height of the next strip when `rest` rows of a block remain: full
// strips, except that a remainder of 1 to 3 rows is merged with the strip
// before it and the two are split about evenly (7 = 4 + 3, 8 = 4 + 4, 9 = 5
// + 4), so that no strip but a block's only one is lower than 3 rows. A
// function of `rest` alone: the same rows form the same strips in any
// partition.
int64_t StripHeight(int64_t rest) {
  if (rest <= kPackedStripRows) return rest;
  if (rest < kPackedStripRows + 4) return (rest + 1) / 2;
  return kPackedStripRows;
}

// One task: rows [i0, i1) and panels [j0, j1) of batch item `item`'s C.
void RunTask(const theta_gemm_args& g, const PackedB& b, int64_t item,
             int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const float* a = static_cast<const float*>(g.a) + item * g.stride_a;
  float* c = static_cast<float*>(g.c) + item * g.stride_c;
  const bool ta = g.trans_a != 0;
  const KernelFn* kernels = ta ? kKernels<true> : kKernels<false>;
  const float alpha = static_cast<float>(g.alpha);
  const float beta = static_cast<float>(g.beta);
  for (int64_t p0 = 0; p0 < g.k; p0 += kPackedKBlock) {
    const int64_t kc = std::min(kPackedKBlock, g.k - p0);
    const Update u =
        p0 == 0 ? Update{alpha, beta, beta != 0.0f} : Update{alpha, 1.0f, true};
    for (int64_t j = j0; j < j1; ++j) {
      const float* panel = b.panel(j) + p0 * kW;
      const int64_t cols = std::min(kW, g.n - j * kW);
      for (int64_t i = i0; i < i1;) {
        const int64_t h = StripHeight(i1 - i);
        const float* ai = ta ? a + p0 * g.lda + i : a + i * g.lda + p0;
        kernels[h](ai, g.lda, panel, kc, c + i * g.ldc + j * kW, g.ldc, cols,
                   u);
        i += h;
      }
    }
  }
}

}  // namespace

bool PackedGemmSupported() {
  static const bool supported = MissingCpuFeatures() == nullptr;
  return supported;
}

PackedB::PackedB(ThreadPool& pool, const float* b, int64_t ld, bool trans,
                 int64_t k, int64_t n)
    : k_(k), n_(n) {
  if (k == 0 || n == 0) return;
  const int64_t panel_floats = k * kW;
  const int64_t panel_count = panels();
  if (panel_count > INT64_MAX / 4 / panel_floats ||
      static_cast<uint64_t>(panel_count * panel_floats) > SIZE_MAX / 4) {
    throw std::bad_alloc();
  }
  // A multiple of 64 bytes, as aligned_alloc wants: each panel is k lines.
  const size_t bytes = static_cast<size_t>(panel_count * panel_floats) * 4;
  data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
  if (data_ == nullptr) throw std::bad_alloc();
  float* base = data_.get();
  const int64_t grain = std::max<int64_t>(1, kPackGrainFloats / panel_floats);
  pool.ParallelFor(panel_count, grain, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      PackPanel(b, ld, trans, k, n, j, base + j * panel_floats);
    }
  });
}

void PackedGemm(ThreadPool& pool, const theta_gemm_args& g, const PackedB& b) {
  const int64_t row_blocks = (g.m + kPackedRowBlock - 1) / kPackedRowBlock;
  const int64_t groups =
      (b.panels() + kPackedTaskPanels - 1) / kPackedTaskPanels;
  const int64_t per_item = row_blocks * groups;
  const int64_t tasks = g.batch * per_item;
  const double flops = static_cast<double>(g.m) * g.n * g.k * g.batch;
  const int64_t grain = flops < kParallelFlops ? tasks : 1;
  pool.ParallelFor(tasks, grain, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t item = t / per_item;
      const int64_t rb = t % per_item / groups;
      const int64_t group = t % groups;
      const int64_t i0 = rb * kPackedRowBlock;
      const int64_t j0 = group * kPackedTaskPanels;
      RunTask(g, b, item, i0, std::min(g.m, i0 + kPackedRowBlock), j0,
              std::min(b.panels(), j0 + kPackedTaskPanels));
    }
  });
}

}  // namespace theta::cpu
