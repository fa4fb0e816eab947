// Float32 GEMM on a B operand packed once (ABI 1.2's prepared operands): the
// CPU plugin's own AVX2 + FMA kernel for the recurrent loops' small-m
// products, where the libraries re-pack the same weights on every call.
//
//   PackedB packed(pool, b, ldb, trans_b, k, n);  // once, at gemm_prepare
//   PackedGemm(pool, g, packed);                  // per product
//
// Layout: op(B) (k x n) cut into column panels kPackedPanelWidth floats
// wide; panel j holds columns [16j, 16j + 16) as k rows of 16 floats (one
// 64-byte line per row), panels stored one after the other from a 64-byte
// aligned base, the last one zero-padded past n.
//
// Kernel: 6 x 16 (12 accumulators of 8 floats), elements of A broadcast
// from A as stored (either transpose, any lda), k taken in blocks of
// kPackedKBlock. C is cut into tasks of fixed size (kPackedRowBlock rows by
// kPackedTaskPanels panels) that the pool runs in any order; how each
// element is summed depends only on m and k, so results are bitwise the same
// for any thread count, with or without THETA_DETERMINISTIC.
#ifndef THETA_BACKENDS_CPU_PACKED_GEMM_H_
#define THETA_BACKENDS_CPU_PACKED_GEMM_H_

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "backends/api/theta_backend.h"
#include "backends/cpu/thread_pool.h"

namespace theta::cpu {

// Columns per packed panel: the micro-kernel's width.
inline constexpr int64_t kPackedPanelWidth = 16;
// Rows of op(A) per micro-kernel call (a block's last strips may be lower).
inline constexpr int64_t kPackedStripRows = 6;
// Depth of one pass over a panel (C is updated after each): 256 rows of a
// panel are 16 KiB, which stay in L1 while a row block's strips use them.
inline constexpr int64_t kPackedKBlock = 256;
// Rows of C per task.
inline constexpr int64_t kPackedRowBlock = 96;
// Panels of C per task (64 columns).
inline constexpr int64_t kPackedTaskPanels = 4;

// Whether this processor has what the packed kernel runs on (AVX2 and FMA).
bool PackedGemmSupported();

// op(B) packed as above. Immutable once made; empty (no storage) when k or n
// is 0.
class PackedB {
 public:
  // Packs the k x n matrix op(B): B stored k x n with row stride ld, or,
  // when `trans`, stored n x k (op(B) = B^T). Packs panels in parallel on
  // `pool`. Throws std::bad_alloc when memory runs out. Requires
  // PackedGemmSupported() (it uses no vector code itself, but there is no
  // reason to pack for a kernel that cannot run).
  PackedB(ThreadPool& pool, const float* b, int64_t ld, bool trans, int64_t k,
          int64_t n);

  PackedB(const PackedB&) = delete;
  PackedB& operator=(const PackedB&) = delete;

  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  int64_t panels() const {
    return (n_ + kPackedPanelWidth - 1) / kPackedPanelWidth;
  }
  // Panel j: k rows of kPackedPanelWidth floats, 64-byte aligned.
  const float* panel(int64_t j) const {
    return data_.get() + j * k_ * kPackedPanelWidth;
  }
  // Bytes of packed storage.
  int64_t bytes() const {
    return panels() * k_ * kPackedPanelWidth * int64_t{sizeof(float)};
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float[], Free> data_;
  int64_t k_ = 0, n_ = 0;
};

// The F32 product of `g` with `b` in place of g.b: for every batch item i,
// C_i = alpha * op(A_i) * op(B) + beta * C_i, the same B for each item.
// Requires a checked call (CheckGemm, CheckPreparedMatches) with dtype F32,
// k >= 1, m, n, batch >= 1, g.k == b.k(), g.n == b.n() and
// PackedGemmSupported(). When beta == 0, C is not read. Allocates nothing.
void PackedGemm(ThreadPool& pool, const theta_gemm_args& g, const PackedB& b);

}  // namespace theta::cpu

#endif  // THETA_BACKENDS_CPU_PACKED_GEMM_H_
