// CUDA source for a fused elementwise program: one kernel per distinct
// (program, compute dtype, operand dtypes, rank, index width), straight-line
// code with one statement per instruction. Every statement calls the
// reference semantics of backends/api/elementwise_semantics.h (theta::ew::
// Apply and Convert), which the source #includes (NVRTC gets the header's
// text, embedded in the plugin), so the kernel computes what the header
// defines. Shape and strides are kernel arguments.
//
//   EwKernelSpec spec = ...;                  // from a checked program
//   std::string name = EwKernelName(spec);    // "theta_ew_<hash>"
//   std::string src = GenerateEwSource(spec, name);
//
// Kernel arguments, in order (Idx is int or long, per spec.index64):
//   Idx count;  Idx shape[rank];
//   per input:  const In* data;  Idx strides[rank];
//   per output: Out* data;       Idx strides[rank];
//   double params[num_params]    (only when num_params > 0)
// where each Idx[rank] and double[n] is a struct of that array, passed by
// value. A grid-stride loop covers linear positions [0, count).
#ifndef THETA_BACKENDS_CUDA_EW_CODEGEN_H_
#define THETA_BACKENDS_CUDA_EW_CODEGEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "backends/api/theta_backend.h"

namespace theta::cuda {

struct EwKernelSpec {
  theta_dtype compute = THETA_DTYPE_F32;  // F32, F64, I32 or I64
  uint32_t num_registers = 0;
  std::vector<theta_ew_instr> instrs;  // checked: see EwCheckProgram
  std::vector<theta_dtype> inputs;
  std::vector<theta_dtype> outputs;
  int rank = 1;          // >= 1: the index space after collapsing
  bool index64 = false;  // 64-bit index arithmetic
  int num_params = 0;    // 1 + the largest PARAM index, 0 when none

  // The cache key: every field, serialised. Equal keys give equal source.
  std::string Key() const;
  // The same into `*key`, reusing its storage (no allocation once it has
  // held a key this long).
  void WriteKey(std::string* key) const;
};

// "theta_ew_" and 16 hex digits of a 64-bit hash of the key.
std::string EwKernelName(const EwKernelSpec& spec);

// The kernel's CUDA C++ source (see the file comment).
std::string GenerateEwSource(const EwKernelSpec& spec, const std::string& name);

// The C++ type of a dtype in generated code ("float", "unsigned char", ...).
const char* EwTypeName(theta_dtype dtype);

// "ADD" for THETA_EW_ADD; NULL for an unknown opcode.
const char* EwOpcodeName(int op);

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_EW_CODEGEN_H_
