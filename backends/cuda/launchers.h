// The CUDA kernels (the *_kernels.cu files, built with nvcc) as plain C++
// launch functions: the host side (gemm.cc, reduce.cc, ...) checks the
// arguments, prepares strided index spaces and plans (launch.h) and calls
// these, which enqueue the kernels on `stream` and return the launch's
// error. Nothing here waits for the device.
#ifndef THETA_BACKENDS_CUDA_LAUNCHERS_H_
#define THETA_BACKENDS_CUDA_LAUNCHERS_H_

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "backends/api/theta_backend.h"
#include "backends/cuda/device_math.h"
#include "backends/cuda/launch.h"

namespace theta::cuda {

// Strided copy of elements of `element_size` (1, 4 or 8) bytes; operand 0
// of `index` is the destination, 1 the source (any strides).
struct CopyParams {
  StridedIndex<2> index;
  void* dst = nullptr;
  const void* src = nullptr;
  int element_size = 0;
};
cudaError_t LaunchCopy(const CopyParams& p, int sm_count, cudaStream_t stream);

// Writes the `element_size` low bytes of `bits` to every element.
struct FillParams {
  StridedIndex<1> index;
  void* data = nullptr;
  uint64_t bits = 0;
  int element_size = 0;
};
cudaError_t LaunchFill(const FillParams& p, int sm_count, cudaStream_t stream);

// C_i = beta * C_i for i in [0, batch), C_i an m x n row-major matrix with
// row stride ldc at c + i * stride_c; beta == 0 writes zeros without
// reading C (gemm with k == 0).
struct ScaleParams {
  void* c = nullptr;
  bool f64 = false;
  int64_t m = 0, n = 0, ldc = 0, stride_c = 0, batch = 0;
  double beta = 0;
};
cudaError_t LaunchScale(const ScaleParams& p, int sm_count,
                        cudaStream_t stream);

// A reduction (reduce.cc prepares it): outputs are the positions of `kept`
// (operands: input, output), each reduces the positions of `reduced`
// (operand: input) from its input offset. With plan.pieces > 1, `partials`
// holds plan.pieces * out_count accumulators of ReduceAccBytes bytes.
struct ReduceParams {
  int op = 0;
  theta_dtype dtype = THETA_DTYPE_F32;
  StridedIndex<2> kept;
  StridedIndex<1> reduced;
  int64_t out_count = 0;
  int64_t red_count = 0;
  const void* input = nullptr;
  void* output = nullptr;
  void* partials = nullptr;
  ReducePlan plan;
};
// Bytes of one accumulator (0 for an unsupported op and dtype pair).
size_t ReduceAccBytes(int op, theta_dtype dtype);
cudaError_t LaunchReduce(const ReduceParams& p, cudaStream_t stream);

// Softmax over rows of n elements: the rows are the positions of `rows`
// (operands: input, output), a row's elements are in_stride (out_stride)
// apart. The two-pass plan needs row_count * plan.chunks partials of
// kSoftmaxPartialBytes.
struct SoftmaxParams {
  theta_dtype dtype = THETA_DTYPE_F32;
  bool log = false;
  StridedIndex<2> rows;
  int64_t row_count = 0;
  int64_t n = 0;
  int64_t in_stride = 0;
  int64_t out_stride = 0;
  const void* input = nullptr;
  void* output = nullptr;
  void* partials = nullptr;
  SoftmaxPlan plan;
};
constexpr size_t kSoftmaxPartialBytes = 2 * sizeof(double);
cudaError_t LaunchSoftmax(const SoftmaxParams& p, cudaStream_t stream);

// gather and scatter_add (gather.cc prepares them). "big" has the indexed
// axis (gather: source, scatter_add: destination), "small" the other array.
// Position e of small splits into (outer o, index j, inner i)
// (SplitGatherPosition); `outer` and `inner` give offsets in big and small,
// `index` the offsets of j in the indices and in small. An index out of
// range is skipped and recorded at *error_key (IndexErrorKey(sequence, j)).
struct GatherParams {
  theta_dtype dtype = THETA_DTYPE_F32;
  theta_dtype index_dtype = THETA_DTYPE_I64;
  StridedIndex<2> outer;
  StridedIndex<2> index;
  StridedIndex<2> inner;
  int64_t outer_count = 0, j_count = 0, inner_count = 0;
  int64_t axis_size = 0;
  int64_t axis_stride = 0;
  const void* indices = nullptr;
  void* big = nullptr;
  void* small = nullptr;
  unsigned long long* error_key = nullptr;
  uint32_t sequence = 0;
};
cudaError_t LaunchGather(const GatherParams& p, int sm_count,
                         cudaStream_t stream);
// Adds with atomics (floats in no fixed order; integers wrap).
cudaError_t LaunchScatterAdd(const GatherParams& p, int sm_count,
                             cudaStream_t stream);
// Only checks the indices (every j), for a gather or scatter_add that moves
// no elements because its outer or inner part is empty.
cudaError_t LaunchCheckIndices(const GatherParams& p, int sm_count,
                               cudaStream_t stream);

// Random numbers: element e (row-major position of `index`) from counter
// offset + e; `scale` is b - a for uniform, the standard deviation b for
// normal.
struct RngParams {
  int distribution = THETA_RNG_UNIFORM;
  bool f32 = true;
  uint64_t seed = 0;
  uint64_t offset = 0;
  double a = 0;
  double scale = 0;
  StridedIndex<1> index;
  void* output = nullptr;
};
cudaError_t LaunchRng(const RngParams& p, int sm_count, cudaStream_t stream);

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_LAUNCHERS_H_
