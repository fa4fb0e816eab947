// One elementwise opcode over a block of registers: the vectorised
// counterpart of theta::ew::Apply (elementwise_semantics.h), used by the
// elementwise interpreter. Integer types and the simple float ops agree with
// the reference exactly; float transcendentals within the ulps stated in
// elementwise_semantics.h.
//
//   ApplyBlock<float>(THETA_EW_EXP, dst, a, nullptr, nullptr, n);
#ifndef THETA_BACKENDS_CPU_ELEMENTWISE_OPS_H_
#define THETA_BACKENDS_CPU_ELEMENTWISE_OPS_H_

#include <cstdint>

namespace theta::cpu {

// dst[i] = op(a[i], b[i], c[i]) for i in [0, n). T is float, double, int32_t
// or int64_t; `op` is a computing opcode (COPY, unary, binary or ternary:
// ew::Arity(op) >= 1). Sources the op does not read may be NULL. dst may be
// the same array as any source (no other overlap); no alignment is needed.
// Returns false for an opcode it lacks.
template <typename T>
bool ApplyBlock(int op, T* dst, const T* a, const T* b, const T* c, int64_t n);

// The opcode's name for messages, e.g. "ADD"; NULL for an unknown opcode.
const char* OpcodeName(int op);

}  // namespace theta::cpu

#endif  // THETA_BACKENDS_CPU_ELEMENTWISE_OPS_H_
