// Kernels of copy, fill and gemm's k == 0 scaling: grid-stride loops over a
// collapsed index space, with 32-bit index arithmetic when it fits.
#include <cuda_runtime.h>

#include "backends/cuda/launchers.h"
#include "backends/cuda/strided.h"

namespace theta::cuda {
namespace {

template <typename E, typename Idx>
__global__ void CopyKernel(StridedIndex<2, Idx> ix, Idx count, E* dst,
                           const E* src) {
  const Idx step = static_cast<Idx>(gridDim.x) * blockDim.x;
  for (Idx i = static_cast<Idx>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < count; i += step) {
    Idx off[2];
    OffsetsOf(ix, i, off);
    dst[off[0]] = src[off[1]];
  }
}

template <typename E, typename Idx>
__global__ void FillKernel(StridedIndex<1, Idx> ix, Idx count, E* data,
                           E value) {
  const Idx step = static_cast<Idx>(gridDim.x) * blockDim.x;
  for (Idx i = static_cast<Idx>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < count; i += step) {
    Idx off;
    OffsetsOf(ix, i, &off);
    data[off] = value;
  }
}

template <typename T>
__global__ void ScaleKernel(ScaleParams p, T beta) {
  T* c = static_cast<T*>(p.c);
  const int64_t per_matrix = p.m * p.n;
  const int64_t count = per_matrix * p.batch;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       e < count; e += step) {
    const int64_t b = e / per_matrix;
    const int64_t r = e - b * per_matrix;
    const int64_t i = r / p.n;
    const int64_t j = r - i * p.n;
    T* x = c + b * p.stride_c + i * p.ldc + j;
    *x = beta == T(0) ? T(0) : *x * beta;
  }
}

template <typename E>
cudaError_t CopyTyped(const CopyParams& p, int sm_count, cudaStream_t stream) {
  const int64_t count = CountOf(p.index);
  const LaunchShape l =
      GridStride(count, kDefaultThreads, MaxBlocks(sm_count, kDefaultThreads));
  if (l.blocks == 0) return cudaSuccess;
  E* dst = static_cast<E*>(p.dst);
  const E* src = static_cast<const E*>(p.src);
  if (FitsInt32(p.index)) {
    CopyKernel<E, int32_t><<<l.blocks, l.threads, 0, stream>>>(
        Narrow(p.index), static_cast<int32_t>(count), dst, src);
  } else {
    CopyKernel<E, int64_t>
        <<<l.blocks, l.threads, 0, stream>>>(p.index, count, dst, src);
  }
  return cudaGetLastError();
}

template <typename E>
cudaError_t FillTyped(const FillParams& p, int sm_count, cudaStream_t stream) {
  const int64_t count = CountOf(p.index);
  const LaunchShape l =
      GridStride(count, kDefaultThreads, MaxBlocks(sm_count, kDefaultThreads));
  if (l.blocks == 0) return cudaSuccess;
  E* data = static_cast<E*>(p.data);
  const E value = static_cast<E>(p.bits);
  if (FitsInt32(p.index)) {
    FillKernel<E, int32_t><<<l.blocks, l.threads, 0, stream>>>(
        Narrow(p.index), static_cast<int32_t>(count), data, value);
  } else {
    FillKernel<E, int64_t>
        <<<l.blocks, l.threads, 0, stream>>>(p.index, count, data, value);
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchCopy(const CopyParams& p, int sm_count, cudaStream_t stream) {
  switch (p.element_size) {
    case 1:
      return CopyTyped<uint8_t>(p, sm_count, stream);
    case 4:
      return CopyTyped<uint32_t>(p, sm_count, stream);
    case 8:
      return CopyTyped<unsigned long long>(p, sm_count, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t LaunchFill(const FillParams& p, int sm_count, cudaStream_t stream) {
  switch (p.element_size) {
    case 1:
      return FillTyped<uint8_t>(p, sm_count, stream);
    case 4:
      return FillTyped<uint32_t>(p, sm_count, stream);
    case 8:
      return FillTyped<unsigned long long>(p, sm_count, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t LaunchScale(const ScaleParams& p, int sm_count,
                        cudaStream_t stream) {
  const int64_t count = p.m * p.n * p.batch;
  const LaunchShape l =
      GridStride(count, kDefaultThreads, MaxBlocks(sm_count, kDefaultThreads));
  if (l.blocks == 0) return cudaSuccess;
  if (p.f64) {
    ScaleKernel<double><<<l.blocks, l.threads, 0, stream>>>(p, p.beta);
  } else {
    ScaleKernel<float>
        <<<l.blocks, l.threads, 0, stream>>>(p, static_cast<float>(p.beta));
  }
  return cudaGetLastError();
}

}  // namespace theta::cuda
