// The plugin kit's kernel argument checks: the rules theta_backend.h states
// for each kernel's arguments that do not depend on how a plugin runs it,
// with the messages every plugin reports alike. A plugin calls the check
// first and then adds its own limits (a library's 32-bit sizes, ...).
//
//   if (theta_status* s = CheckGemm(args)) return s;
//
// Each returns NULL or an INVALID_ARGUMENT status naming the kernel and the
// argument. A NULL return with an empty problem (IsEmptyGemm) means the
// call is a no-op.
#ifndef THETA_BACKENDS_PLUGIN_KIT_CHECKS_H_
#define THETA_BACKENDS_PLUGIN_KIT_CHECKS_H_

#include "backends/api/theta_backend.h"

namespace theta::plugin_kit {

// GEMM: dtype F32 or F64; m, n, k, batch and the batch strides >= 0; and,
// unless the problem is empty, leading dimensions covering their rows,
// present operands, and a stride_c that keeps the batch's C apart.
theta_status* CheckGemm(const theta_gemm_args& args);
// m, n or batch is 0: nothing to compute.
bool IsEmptyGemm(const theta_gemm_args& args);

// What every prepared GEMM operand (ABI 1.2) remembers of the B it was made
// from, so that a GEMM given it can be checked against its own B.
struct PreparedOperandSource {
  theta_dtype dtype;
  int32_t trans;
  int64_t k, n;
  const void* data;
  int64_t ld;
};

// gemm_prepare: dtype F32 or F64, k and n >= 0, and unless op(B) is empty
// an ld covering its rows and data present.
theta_status* CheckGemmPrepare(const theta_gemm_prepare_args& args);
PreparedOperandSource SourceOf(const theta_gemm_prepare_args& args);
// A GEMM with prepared_b (after CheckGemm): the operand was prepared from
// exactly this call's B (dtype, b, ldb, trans_b, k, n), and one B serves
// every batch item (stride_b 0 when batch > 1). The message names the
// first field that differs.
theta_status* CheckPreparedMatches(const theta_gemm_args& args,
                                   const PreparedOperandSource& source);

// Elementwise, the program's header: present, a struct_size from its ABI
// 1.0 size up, a compute dtype of F32, F64, I32 or I64, and instructions
// present when it has any. (The program has no field past ABI 1.0 yet, so
// plugins read it in place; see the static_assert in checks.cc.)
theta_status* CheckProgramHeader(const theta_elementwise_args& args);

// Reduce: a known op, valid input and writable output, axes within the
// input's rank, exactly one axis for ARGMAX/ARGMIN (and not of size 0), no
// SUM/PROD of BOOL, the output dtype (the input's; I64 for the arg ops) and
// the output shape (the input's, reduced axes of size 1).
theta_status* CheckReduce(const theta_reduce_args& args);
// "SUM", "ARGMAX", ...; "?" for an unknown op.
const char* ReduceOpName(int op);

// Gather and scatter-add: `big` is the array indexed along `axis` (gather's
// source, scatter_add's destination), `small` the other one; the names are
// the message's. Valid arrays, I32 or I64 indices, big of rank >= 1 with
// axis in range, one dtype for big and small, and small's shape big's with
// the axis replaced by the indices' shape. (Index values are the kernels'
// to check: some plugins read them only on the device.) `fn` names the
// kernel.
theta_status* CheckGatherArrays(const char* fn, const theta_gather_args& args,
                                const theta_array& big, const char* big_name,
                                const theta_array& small,
                                const char* small_name);

// Copy: a valid source (negative strides allowed) and writable destination
// of one dtype and one shape.
theta_status* CheckCopy(const theta_copy_args& args);

// Fill: a valid, writable array.
theta_status* CheckFill(const theta_array& array);

// Softmax: valid input and output of one floating dtype and one shape, rank
// >= 1, and a writable output.
theta_status* CheckSoftmax(const theta_softmax_args& args);

// RNG: a valid writable F32 or F64 output and a known distribution.
theta_status* CheckRng(const theta_rng_args& args);

}  // namespace theta::plugin_kit

#endif  // THETA_BACKENDS_PLUGIN_KIT_CHECKS_H_
