// Reduction kernels (the schedule is PlanReduce's, launch.h):
//   ThreadPerOutput: each thread folds one output's range in order.
//   BlockPerOutput:  a block's threads fold interleaved elements of one
//                    output's range, then combine their accumulators as a
//                    tree in shared memory.
//   Merge:           folds the pieces' partial accumulators of each output
//                    in piece order.
// Accumulators and their combine step are device_math.h's Reducer; every
// order is fixed, so results do not vary from run to run.
#include <cuda_runtime.h>

#include "backends/cuda/launchers.h"

namespace theta::cuda {
namespace {

__device__ inline int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }

// Folds the reduced positions r0, r0 + step, ... < r1 of the output whose
// first input element is at `base`.
template <typename R, typename T>
__device__ typename R::Acc FoldRange(const T* in, const StridedIndex<1>& red,
                                     int64_t base, int64_t r0, int64_t r1,
                                     int64_t step) {
  typename R::Acc acc = R::Init();
  if (red.rank == 1) {
    const int64_t s = red.stride[0][0];
    for (int64_t r = r0; r < r1; r += step) R::Add(acc, in[base + r * s], r);
  } else {
    for (int64_t r = r0; r < r1; r += step) {
      int64_t off;
      OffsetsOf(red, r, &off);
      R::Add(acc, in[base + off], r);
    }
  }
  return acc;
}

template <typename R, typename T>
__global__ void ThreadPerOutput(ReduceParams p) {
  using Acc = typename R::Acc;
  using Out = typename R::Out;
  const T* in = static_cast<const T*>(p.input);
  const int64_t pieces = p.plan.pieces;
  const int64_t units = p.out_count * pieces;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t u = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       u < units; u += step) {
    // Neighbouring threads take neighbouring outputs of one piece.
    const int64_t piece = u / p.out_count;
    const int64_t o = u - piece * p.out_count;
    int64_t off[2];
    OffsetsOf(p.kept, o, off);
    const int64_t r0 = piece * p.plan.piece_len;
    const int64_t r1 = Min(p.red_count, r0 + p.plan.piece_len);
    const Acc acc = FoldRange<R, T>(in, p.reduced, off[0], r0, r1, 1);
    if (pieces == 1) {
      static_cast<Out*>(p.output)[off[1]] = R::Final(acc);
    } else {
      static_cast<Acc*>(p.partials)[u] = acc;
    }
  }
}

template <typename R, typename T>
__global__ void BlockPerOutput(ReduceParams p) {
  using Acc = typename R::Acc;
  using Out = typename R::Out;
  extern __shared__ __align__(16) unsigned char shared[];
  Acc* sh = reinterpret_cast<Acc*>(shared);
  const T* in = static_cast<const T*>(p.input);
  const int64_t pieces = p.plan.pieces;
  const int64_t units = p.out_count * pieces;
  const unsigned t = threadIdx.x;
  for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {
    const int64_t piece = u / p.out_count;
    const int64_t o = u - piece * p.out_count;
    int64_t off[2];
    OffsetsOf(p.kept, o, off);
    const int64_t r0 = piece * p.plan.piece_len;
    const int64_t r1 = Min(p.red_count, r0 + p.plan.piece_len);
    sh[t] = FoldRange<R, T>(in, p.reduced, off[0], r0 + t, r1, blockDim.x);
    __syncthreads();
    for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {
      if (t < w) sh[t] = R::Combine(sh[t], sh[t + w]);
      __syncthreads();
    }
    if (t == 0) {
      if (pieces == 1) {
        static_cast<Out*>(p.output)[off[1]] = R::Final(sh[0]);
      } else {
        static_cast<Acc*>(p.partials)[u] = sh[0];
      }
    }
    __syncthreads();
  }
}

template <typename R>
__global__ void MergePieces(ReduceParams p) {
  using Acc = typename R::Acc;
  using Out = typename R::Out;
  const Acc* partials = static_cast<const Acc*>(p.partials);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       o < p.out_count; o += step) {
    Acc acc = partials[o];
    for (int64_t piece = 1; piece < p.plan.pieces; ++piece) {
      acc = R::Combine(acc, partials[piece * p.out_count + o]);
    }
    int64_t off[2];
    OffsetsOf(p.kept, o, off);
    static_cast<Out*>(p.output)[off[1]] = R::Final(acc);
  }
}

template <typename R, typename T>
cudaError_t Run(const ReduceParams& p, cudaStream_t stream) {
  const ReducePlan& plan = p.plan;
  if (plan.launch.blocks == 0) return cudaSuccess;
  if (plan.kind == ReducePlan::Kind::kThreadPerOutput) {
    ThreadPerOutput<R, T>
        <<<plan.launch.blocks, plan.launch.threads, 0, stream>>>(p);
  } else {
    const size_t shared = plan.launch.threads * sizeof(typename R::Acc);
    BlockPerOutput<R, T>
        <<<plan.launch.blocks, plan.launch.threads, shared, stream>>>(p);
  }
  if (plan.pieces > 1) {
    if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return e;
    MergePieces<R><<<plan.merge.blocks, plan.merge.threads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

// Calls f.template operator()<Reducer<T, OP, kBool>, T>() for the dtype;
// false for BOOL sums and products and unknown dtypes.
template <int OP, typename F>
bool ForDtype(theta_dtype dtype, F&& f) {
  constexpr bool kSumLike = OP == THETA_REDUCE_SUM || OP == THETA_REDUCE_PROD;
  switch (dtype) {
    case THETA_DTYPE_F32:
      f.template operator()<Reducer<float, OP, false>, float>();
      return true;
    case THETA_DTYPE_F64:
      f.template operator()<Reducer<double, OP, false>, double>();
      return true;
    case THETA_DTYPE_I32:
      f.template operator()<Reducer<int32_t, OP, false>, int32_t>();
      return true;
    case THETA_DTYPE_I64:
      f.template operator()<Reducer<int64_t, OP, false>, int64_t>();
      return true;
    case THETA_DTYPE_U8:
      f.template operator()<Reducer<uint8_t, OP, false>, uint8_t>();
      return true;
    case THETA_DTYPE_BOOL:
      if constexpr (!kSumLike) {
        f.template operator()<Reducer<uint8_t, OP, true>, uint8_t>();
        return true;
      }
      return false;
  }
  return false;
}

template <typename F>
bool ForOpAndDtype(int op, theta_dtype dtype, F&& f) {
  switch (op) {
    case THETA_REDUCE_SUM:
      return ForDtype<THETA_REDUCE_SUM>(dtype, f);
    case THETA_REDUCE_PROD:
      return ForDtype<THETA_REDUCE_PROD>(dtype, f);
    case THETA_REDUCE_MAX:
      return ForDtype<THETA_REDUCE_MAX>(dtype, f);
    case THETA_REDUCE_MIN:
      return ForDtype<THETA_REDUCE_MIN>(dtype, f);
    case THETA_REDUCE_ARGMAX:
      return ForDtype<THETA_REDUCE_ARGMAX>(dtype, f);
    case THETA_REDUCE_ARGMIN:
      return ForDtype<THETA_REDUCE_ARGMIN>(dtype, f);
    default:
      return false;
  }
}

}  // namespace

size_t ReduceAccBytes(int op, theta_dtype dtype) {
  size_t bytes = 0;
  ForOpAndDtype(op, dtype, [&]<typename R, typename T>() {
    bytes = sizeof(typename R::Acc);
  });
  return bytes;
}

cudaError_t LaunchReduce(const ReduceParams& p, cudaStream_t stream) {
  cudaError_t result = cudaErrorInvalidValue;
  ForOpAndDtype(p.op, p.dtype, [&]<typename R, typename T>() {
    result = Run<R, T>(p, stream);
  });
  return result;
}

}  // namespace theta::cuda
