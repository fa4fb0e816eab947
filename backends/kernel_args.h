// Builders for the ABI's argument structs, for code that calls a plugin's
// kernels directly (benchmarks, tests) rather than through compiled
// functions. The structs point into the spans given: keep them alive.
//
//   theta_elementwise_args a =
//       ElementwiseArgs(program, shape, {&in, 1}, {&out, 1}, params);
//   backend.api().elementwise(backend.stream(), &a);
//   theta_gemm_prepare_args p = GemmPrepareArgsFor(gemm_args);
#ifndef THETA_BACKENDS_KERNEL_ARGS_H_
#define THETA_BACKENDS_KERNEL_ARGS_H_

#include <cstdint>
#include <span>

#include "backends/api/theta_backend.h"

namespace theta::backends {

inline theta_elementwise_args ElementwiseArgs(
    const theta_ew_program& program, std::span<const int64_t> shape,
    std::span<const theta_ew_operand> inputs,
    std::span<const theta_ew_operand> outputs,
    std::span<const double> params = {}) {
  theta_elementwise_args a{};
  a.struct_size = sizeof(a);
  a.program = &program;
  a.ndim = static_cast<int32_t>(shape.size());
  a.shape = shape.data();
  a.num_inputs = static_cast<int32_t>(inputs.size());
  a.inputs = inputs.data();
  a.num_outputs = static_cast<int32_t>(outputs.size());
  a.outputs = outputs.data();
  a.num_params = static_cast<int32_t>(params.size());
  a.params = params.data();
  return a;
}

// A program over `code` (num_registers registers, compute dtype `compute`).
inline theta_ew_program EwProgram(theta_dtype compute, uint32_t num_registers,
                                  std::span<const theta_ew_instr> code) {
  return theta_ew_program{sizeof(theta_ew_program), compute, num_registers,
                          static_cast<uint32_t>(code.size()), code.data()};
}

// The request to prepare B of later GEMMs (ABI 1.2): op(B) is k x n,
// stored with row stride `ld`, transposed when `trans`.
inline theta_gemm_prepare_args GemmPrepareArgs(theta_dtype dtype, bool trans,
                                               int64_t k, int64_t n,
                                               const void* data, int64_t ld) {
  theta_gemm_prepare_args p{};
  p.struct_size = sizeof(p);
  p.dtype = dtype;
  p.trans = trans;
  p.k = k;
  p.n = n;
  p.data = data;
  p.ld = ld;
  return p;
}

// The request to prepare exactly the B of `g`, as its prepared_b must be.
inline theta_gemm_prepare_args GemmPrepareArgsFor(const theta_gemm_args& g) {
  return GemmPrepareArgs(g.dtype, g.trans_b != 0, g.k, g.n, g.b, g.ldb);
}

}  // namespace theta::backends

#endif  // THETA_BACKENDS_KERNEL_ARGS_H_
