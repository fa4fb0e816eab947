// Softmax and log-softmax kernels (device_math.h has the row math, launch.h
// the schedule):
//   Rows:        one block per row; the block reduces the row's maximum and
//                sum as trees in shared memory, then writes the row.
//   ChunkStats:  pass one of long rows: each block gives its chunk's
//                maximum and sum of exponentials.
//   ChunkWrite:  pass two: each block merges its row's chunk statistics
//                (every block of the row the same way) and writes its chunk.
// An output may be the input: a block writes an element only after every
// read of the statistics it depends on, and only the thread that read it.
#include <cuda_runtime.h>

#include <limits>

#include "backends/cuda/launchers.h"

namespace theta::cuda {
namespace {

constexpr int kMaxThreads = kDefaultThreads;

// The block's maximum (NaN if any thread has NaN). Every thread gets it.
template <typename T>
__device__ T BlockMax(T v, T* sh) {
  const unsigned t = threadIdx.x;
  sh[t] = v;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {
    if (t < w) sh[t] = MaxPick(sh[t + w], sh[t]);
    __syncthreads();
  }
  const T m = sh[0];
  __syncthreads();
  return m;
}

// The block's sum, added as a fixed tree. Every thread gets it.
__device__ double BlockSum(double v, double* sh) {
  const unsigned t = threadIdx.x;
  sh[t] = v;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {
    if (t < w) sh[t] = sh[t] + sh[t + w];
    __syncthreads();
  }
  const double s = sh[0];
  __syncthreads();
  return s;
}

struct ChunkStat {
  double max;
  double sum;
};

template <typename T>
__global__ void __launch_bounds__(kMaxThreads) Rows(SoftmaxParams p) {
  __shared__ T sh_max[kMaxThreads];
  __shared__ double sh_sum[kMaxThreads];
  const T* in = static_cast<const T*>(p.input);
  T* out = static_cast<T*>(p.output);
  const int64_t n = p.n, sx = p.in_stride, sy = p.out_stride;
  for (int64_t row = blockIdx.x; row < p.row_count; row += gridDim.x) {
    int64_t off[2];
    OffsetsOf(p.rows, row, off);
    const T* x = in + off[0];
    T* y = out + off[1];
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      m = MaxPick(x[i * sx], m);
    }
    m = BlockMax(m, sh_max);
    double s = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      s += static_cast<double>(ShiftedExp(x[i * sx], m));
    }
    s = BlockSum(s, sh_sum);
    const T divisor = RowDivisor<T>(s, p.log);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      y[i * sy] = SoftmaxOutput(x[i * sx], m, divisor, p.log);
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kMaxThreads) ChunkStats(SoftmaxParams p) {
  __shared__ T sh_max[kMaxThreads];
  __shared__ double sh_sum[kMaxThreads];
  const T* in = static_cast<const T*>(p.input);
  ChunkStat* stats = static_cast<ChunkStat*>(p.partials);
  const int64_t chunks = p.plan.chunks, chunk = p.plan.chunk;
  const int64_t sx = p.in_stride;
  for (int64_t u = blockIdx.x; u < p.row_count * chunks; u += gridDim.x) {
    const int64_t row = u / chunks;
    const int64_t c = u - row * chunks;
    int64_t off[2];
    OffsetsOf(p.rows, row, off);
    const T* x = in + off[0];
    const int64_t begin = c * chunk;
    const int64_t end = begin + chunk < p.n ? begin + chunk : p.n;
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      m = MaxPick(x[i * sx], m);
    }
    m = BlockMax(m, sh_max);
    double s = 0;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      s += static_cast<double>(ShiftedExp(x[i * sx], m));
    }
    s = BlockSum(s, sh_sum);
    if (threadIdx.x == 0) {
      stats[u] = ChunkStat{static_cast<double>(m),
                           ChunkSum(s, static_cast<double>(m))};
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kMaxThreads) ChunkWrite(SoftmaxParams p) {
  __shared__ double sh_max[kMaxThreads];
  __shared__ double sh_sum[kMaxThreads];
  const T* in = static_cast<const T*>(p.input);
  T* out = static_cast<T*>(p.output);
  const ChunkStat* stats = static_cast<const ChunkStat*>(p.partials);
  const int64_t chunks = p.plan.chunks, chunk = p.plan.chunk;
  const int64_t sx = p.in_stride, sy = p.out_stride;
  for (int64_t u = blockIdx.x; u < p.row_count * chunks; u += gridDim.x) {
    const int64_t row = u / chunks;
    const int64_t c = u - row * chunks;
    const ChunkStat* row_stats = stats + row * chunks;
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t k = threadIdx.x; k < chunks; k += blockDim.x) {
      m = MaxPick(row_stats[k].max, m);
    }
    m = BlockMax(m, sh_max);
    double s = 0;
    for (int64_t k = threadIdx.x; k < chunks; k += blockDim.x) {
      s += row_stats[k].sum * ChunkWeight(row_stats[k].max, m);
    }
    s = BlockSum(s, sh_sum);
    const T row_max = static_cast<T>(m);
    const T divisor = RowDivisor<T>(s, p.log);
    int64_t off[2];
    OffsetsOf(p.rows, row, off);
    const T* x = in + off[0];
    T* y = out + off[1];
    const int64_t begin = c * chunk;
    const int64_t end = begin + chunk < p.n ? begin + chunk : p.n;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      y[i * sy] = SoftmaxOutput(x[i * sx], row_max, divisor, p.log);
    }
  }
}

template <typename T>
cudaError_t Run(const SoftmaxParams& p, cudaStream_t stream) {
  const LaunchShape& l = p.plan.launch;
  if (l.blocks == 0) return cudaSuccess;
  if (!p.plan.two_pass) {
    Rows<T><<<l.blocks, l.threads, 0, stream>>>(p);
    return cudaGetLastError();
  }
  ChunkStats<T><<<l.blocks, l.threads, 0, stream>>>(p);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return e;
  ChunkWrite<T><<<l.blocks, l.threads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchSoftmax(const SoftmaxParams& p, cudaStream_t stream) {
  static_assert(sizeof(ChunkStat) == kSoftmaxPartialBytes);
  switch (p.dtype) {
    case THETA_DTYPE_F32:
      return Run<float>(p, stream);
    case THETA_DTYPE_F64:
      return Run<double>(p, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace theta::cuda
