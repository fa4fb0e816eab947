// Direct calls to one backend's kernels, for the hand-written reference
// loops the benchmarks compare compiled functions against. Every failure
// aborts with the plugin's message: a reference that fails has no result
// worth reporting.
//
//   bench::DirectKernels k(backends::current());
//   backends::Buffer c = k.Alloc(m * n * sizeof(float));
//   k.Gemm(a, b, c.data(), /*trans_a=*/false, /*trans_b=*/false, m, n, k,
//          /*beta=*/0.0);
#ifndef THETA_BENCHMARKS_DIRECT_KERNELS_H_
#define THETA_BENCHMARKS_DIRECT_KERNELS_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "backends/api/theta_backend.h"
#include "backends/backend.h"
#include "graph/tensor.h"

namespace theta::bench {

class DirectKernels {
 public:
  explicit DirectKernels(backends::Backend& backend) : backend_(backend) {}

  backends::Backend& backend() { return backend_; }

  // Aborts with `what` and the plugin's message unless `status` is success.
  void Check(theta_status* status, std::string_view what);

  backends::Buffer Alloc(uint64_t bytes);
  // Copies `value` to `device` (which holds at least value.nbytes()) and
  // synchronizes; DownloadF32 too.
  void Upload(void* device, const Tensor& value);
  // A host copy of the float32 array of `shape` at `device`.
  Tensor DownloadF32(const void* device, const Dims& shape);
  void Zero(void* device, uint64_t bytes);
  void Synchronize();

  // C (m x n) = op(A) op(B) + beta C over compact row-major float32
  // matrices: op(A) is m x k, op(B) is k x n.
  void Gemm(const void* a, const void* b, void* c, bool trans_a, bool trans_b,
            int64_t m, int64_t n, int64_t k, double beta);

  // One fused float32 elementwise program over the index space `shape`.
  void Elementwise(std::span<const theta_ew_instr> code, uint32_t registers,
                   std::span<const int64_t> shape,
                   std::span<const theta_ew_operand> inputs,
                   std::span<const theta_ew_operand> outputs,
                   std::span<const double> params = {});

 private:
  backends::Backend& backend_;
};

// A float32 elementwise operand at `data` with `strides` (which must outlive
// the call it is passed to).
inline theta_ew_operand F32Operand(const void* data,
                                   std::span<const int64_t> strides) {
  return {const_cast<void*>(data), THETA_DTYPE_F32, strides.data()};
}

}  // namespace theta::bench

#endif  // THETA_BENCHMARKS_DIRECT_KERNELS_H_
