// The rng kernel: one thread per Philox block, writing the up to 4 (uniform
// F32) or 2 numbers that block yields for the draw (device_math.h maps
// counters to numbers exactly as the CPU plugin does).
#include <cuda_runtime.h>

#include "backends/cuda/launchers.h"
#include "backends/cuda/strided.h"

namespace theta::cuda {
namespace {

template <typename T>
__global__ void RngKernel(RngParams p, int64_t count, int lanes) {
  T* out = static_cast<T*>(p.output);
  const int64_t groups = RngGroups(p.offset, count, lanes);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       g < groups; g += step) {
    int64_t begin, end;
    RngGroupRange(p.offset, count, lanes, g, &begin, &end);
    const uint64_t n = p.offset + static_cast<uint64_t>(begin);
    const uint64_t lanes64 = static_cast<uint64_t>(lanes);
    const philox::Block block = philox::Philox4x32_10(n / lanes64, 0, p.seed);
    int lane = static_cast<int>(n % lanes64);
    for (int64_t e = begin; e < end; ++e, ++lane) {
      int64_t off;
      OffsetsOf(p.index, e, &off);
      out[off] = RngValue<T>(p.distribution, block, lane, p.a, p.scale);
    }
  }
}

}  // namespace

cudaError_t LaunchRng(const RngParams& p, int sm_count, cudaStream_t stream) {
  const int64_t count = CountOf(p.index);
  const int lanes = RngLanes(p.distribution, p.f32);
  const LaunchShape l =
      GridStride(RngGroups(p.offset, count, lanes), kDefaultThreads,
                 MaxBlocks(sm_count, kDefaultThreads));
  if (l.blocks == 0) return cudaSuccess;
  if (p.f32) {
    RngKernel<float><<<l.blocks, l.threads, 0, stream>>>(p, count, lanes);
  } else {
    RngKernel<double><<<l.blocks, l.threads, 0, stream>>>(p, count, lanes);
  }
  return cudaGetLastError();
}

}  // namespace theta::cuda
