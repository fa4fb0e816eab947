#include "benchmarks/direct_kernels.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "backends/kernel_args.h"

namespace theta::bench {
namespace {

[[noreturn]] void Die(std::string_view what, std::string_view message) {
  std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(message.size()), message.data());
  std::abort();
}

void CheckOk(const absl::Status& status, std::string_view what) {
  if (!status.ok()) Die(what, std::string(status.message()));
}

}  // namespace

void DirectKernels::Check(theta_status* status, std::string_view what) {
  CheckOk(backend_.Check(status, what), what);
}

backends::Buffer DirectKernels::Alloc(uint64_t bytes) {
  absl::StatusOr<backends::Buffer> buffer = backend_.Allocate(bytes);
  CheckOk(buffer.status(), "allocate");
  return *std::move(buffer);
}

void DirectKernels::Upload(void* device, const Tensor& value) {
  CheckOk(backend_.CopyToDevice(device, value.raw_data(), value.nbytes()),
          "copy to device");
  Synchronize();  // `value` may go away once this returns
}

Tensor DirectKernels::DownloadF32(const void* device, const Dims& shape) {
  Tensor value(DType::kFloat32, shape);
  CheckOk(backend_.CopyToHost(value.raw_data(), device, value.nbytes()),
          "copy to host");
  Synchronize();
  return value;
}

void DirectKernels::Zero(void* device, uint64_t bytes) {
  Check(backend_.api().memset(backend_.stream(), device, 0, bytes), "memset");
}

void DirectKernels::Synchronize() {
  CheckOk(backend_.Synchronize(), "synchronize");
}

void DirectKernels::Gemm(const void* a, const void* b, void* c, bool trans_a,
                         bool trans_b, int64_t m, int64_t n, int64_t k,
                         double beta) {
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = 1.0;
  g.beta = beta;
  g.a = a;
  g.lda = trans_a ? m : k;
  g.b = b;
  g.ldb = trans_b ? k : n;
  g.c = c;
  g.ldc = n;
  g.batch = 1;
  Check(backend_.api().gemm(backend_.stream(), &g), "gemm");
}

void DirectKernels::Elementwise(std::span<const theta_ew_instr> code,
                                uint32_t registers,
                                std::span<const int64_t> shape,
                                std::span<const theta_ew_operand> inputs,
                                std::span<const theta_ew_operand> outputs,
                                std::span<const double> params) {
  const theta_ew_program program =
      backends::EwProgram(THETA_DTYPE_F32, registers, code);
  const theta_elementwise_args args =
      backends::ElementwiseArgs(program, shape, inputs, outputs, params);
  Check(backend_.api().elementwise(backend_.stream(), &args), "elementwise");
}

}  // namespace theta::bench
