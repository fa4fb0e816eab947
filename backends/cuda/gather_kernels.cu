// gather and scatter_add kernels: one thread per element of the small array
// (gather's output, scatter_add's source), grid-stride. scatter_add adds
// with atomics: native ones for F32, F64 and I32, the unsigned 64-bit one
// for I64 (two's complement wraps alike), and a compare-and-swap on the
// enclosing aligned 32-bit word for U8.
#include <cuda_runtime.h>

#include "backends/cuda/launchers.h"

namespace theta::cuda {
namespace {

// Offsets of small position e in big and small; false (and the error
// recorded) when its index is out of range.
template <typename I>
__device__ bool Locate(const GatherParams& p, int64_t e, int64_t* big,
                       int64_t* small) {
  int64_t o, j, i;
  SplitGatherPosition(e, p.j_count, p.inner_count, &o, &j, &i);
  int64_t outer[2], index[2], inner[2];
  OffsetsOf(p.outer, o, outer);
  OffsetsOf(p.index, j, index);
  OffsetsOf(p.inner, i, inner);
  const int64_t v =
      static_cast<int64_t>(static_cast<const I*>(p.indices)[index[0]]);
  int64_t w;
  if (!WrapIndex(v, p.axis_size, &w)) {
    atomicMin(p.error_key,
              static_cast<unsigned long long>(IndexErrorKey(p.sequence, j)));
    return false;
  }
  *big = outer[0] + w * p.axis_stride + inner[0];
  *small = outer[1] + index[1] + inner[1];
  return true;
}

template <typename E, typename I>
__global__ void GatherKernel(GatherParams p) {
  const E* src = static_cast<const E*>(p.big);
  E* out = static_cast<E*>(p.small);
  const int64_t count = p.outer_count * p.j_count * p.inner_count;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       e < count; e += step) {
    int64_t big, small;
    if (Locate<I>(p, e, &big, &small)) out[small] = src[big];
  }
}

__device__ void AtomicAdd(float* p, float v) { atomicAdd(p, v); }
__device__ void AtomicAdd(double* p, double v) { atomicAdd(p, v); }
__device__ void AtomicAdd(int32_t* p, int32_t v) { atomicAdd(p, v); }
__device__ void AtomicAdd(int64_t* p, int64_t v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p),
            static_cast<unsigned long long>(v));
}
__device__ void AtomicAdd(uint8_t* p, uint8_t v) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  unsigned int* word = reinterpret_cast<unsigned int*>(address & ~uintptr_t{3});
  const unsigned int shift = static_cast<unsigned int>(address & 3) * 8;
  unsigned int old = *word;
  unsigned int assumed;
  do {
    assumed = old;
    const unsigned int byte = ((assumed >> shift) + v) & 0xffu;
    const unsigned int next = (assumed & ~(0xffu << shift)) | (byte << shift);
    old = atomicCAS(word, assumed, next);
  } while (old != assumed);
}

template <typename T, typename I>
__global__ void ScatterAddKernel(GatherParams p) {
  T* dst = static_cast<T*>(p.big);
  const T* src = static_cast<const T*>(p.small);
  const int64_t count = p.outer_count * p.j_count * p.inner_count;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       e < count; e += step) {
    int64_t big, small;
    if (Locate<I>(p, e, &big, &small)) AtomicAdd(dst + big, src[small]);
  }
}

template <typename I>
__global__ void CheckIndicesKernel(GatherParams p) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       j < p.j_count; j += step) {
    int64_t index[2], w;
    OffsetsOf(p.index, j, index);
    const int64_t v =
        static_cast<int64_t>(static_cast<const I*>(p.indices)[index[0]]);
    if (!WrapIndex(v, p.axis_size, &w)) {
      atomicMin(p.error_key,
                static_cast<unsigned long long>(IndexErrorKey(p.sequence, j)));
    }
  }
}

LaunchShape Shape(const GatherParams& p, int sm_count) {
  return GridStride(p.outer_count * p.j_count * p.inner_count, kDefaultThreads,
                    MaxBlocks(sm_count, kDefaultThreads));
}

template <typename E>
cudaError_t Gather(const GatherParams& p, const LaunchShape& l,
                   cudaStream_t stream) {
  if (p.index_dtype == THETA_DTYPE_I32) {
    GatherKernel<E, int32_t><<<l.blocks, l.threads, 0, stream>>>(p);
  } else {
    GatherKernel<E, int64_t><<<l.blocks, l.threads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t ScatterAdd(const GatherParams& p, const LaunchShape& l,
                       cudaStream_t stream) {
  if (p.index_dtype == THETA_DTYPE_I32) {
    ScatterAddKernel<T, int32_t><<<l.blocks, l.threads, 0, stream>>>(p);
  } else {
    ScatterAddKernel<T, int64_t><<<l.blocks, l.threads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchGather(const GatherParams& p, int sm_count,
                         cudaStream_t stream) {
  const LaunchShape l = Shape(p, sm_count);
  if (l.blocks == 0) return cudaSuccess;
  switch (p.dtype) {
    case THETA_DTYPE_U8:
    case THETA_DTYPE_BOOL:
      return Gather<uint8_t>(p, l, stream);
    case THETA_DTYPE_F32:
    case THETA_DTYPE_I32:
      return Gather<uint32_t>(p, l, stream);
    case THETA_DTYPE_F64:
    case THETA_DTYPE_I64:
      return Gather<unsigned long long>(p, l, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t LaunchCheckIndices(const GatherParams& p, int sm_count,
                               cudaStream_t stream) {
  const LaunchShape l = GridStride(p.j_count, kDefaultThreads,
                                   MaxBlocks(sm_count, kDefaultThreads));
  if (l.blocks == 0) return cudaSuccess;
  if (p.index_dtype == THETA_DTYPE_I32) {
    CheckIndicesKernel<int32_t><<<l.blocks, l.threads, 0, stream>>>(p);
  } else {
    CheckIndicesKernel<int64_t><<<l.blocks, l.threads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

cudaError_t LaunchScatterAdd(const GatherParams& p, int sm_count,
                             cudaStream_t stream) {
  const LaunchShape l = Shape(p, sm_count);
  if (l.blocks == 0) return cudaSuccess;
  switch (p.dtype) {
    case THETA_DTYPE_F32:
      return ScatterAdd<float>(p, l, stream);
    case THETA_DTYPE_F64:
      return ScatterAdd<double>(p, l, stream);
    case THETA_DTYPE_I32:
      return ScatterAdd<int32_t>(p, l, stream);
    case THETA_DTYPE_I64:
      return ScatterAdd<int64_t>(p, l, stream);
    case THETA_DTYPE_U8:
      return ScatterAdd<uint8_t>(p, l, stream);
    case THETA_DTYPE_BOOL:
      return cudaErrorInvalidValue;
  }
  return cudaErrorInvalidValue;
}

}  // namespace theta::cuda
