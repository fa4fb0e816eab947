// Linear algebra: dot with Theano's (NumPy's) 1-D/2-D semantics, batched
// matrix products, outer and tensordot. Products run as GEMM calls; a
// transposed operand is passed to GEMM as such, never copied.
//
//   Var h = dot(x, W) + b;            // one GEMM with bias after rewriting
//   Var s = batched_dot(q, k_t);      // (B, m, k) x (B, k, n) -> (B, m, n)
#ifndef THETA_OPS_LINALG_H_
#define THETA_OPS_LINALG_H_

#include <source_location>
#include <vector>

#include "graph/ir.h"

namespace theta {

// 1-D x 1-D: inner product; 2-D x 1-D and 1-D x 2-D: matrix-vector; 2-D x
// 2-D: matrix product; N-D x 1-D/2-D: over the last axis of a. Scalars
// multiply.
Var dot(const Var& a, const Var& b,
        std::source_location loc = std::source_location::current());
// (B, m, k) x (B, k, n) -> (B, m, n).
Var batched_dot(const Var& a, const Var& b,
                std::source_location loc = std::source_location::current());
// NumPy's matmul for rank 2 and 3 operands.
Var matmul(const Var& a, const Var& b,
           std::source_location loc = std::source_location::current());
Var outer(const Var& a, const Var& b,
          std::source_location loc = std::source_location::current());
// Sums a's `a_axes` against b's `b_axes`; the result has a's remaining
// axes, then b's.
Var tensordot(const Var& a, const Var& b, std::vector<int> a_axes,
              std::vector<int> b_axes,
              std::source_location loc = std::source_location::current());
// The last `axes` axes of a against the first `axes` axes of b.
Var tensordot(const Var& a, const Var& b, int axes = 2,
              std::source_location loc = std::source_location::current());

}  // namespace theta

#endif  // THETA_OPS_LINALG_H_
