// Launch-configuration arithmetic of the CUDA kernels, kept apart from the
// kernels so that it is tested on the host: grid-stride loops, block sizes
// for cooperative blocks, and the schedules of reductions and softmax.
// Every function is pure and handles zero-size and huge inputs: a grid
// never exceeds the hardware's limits, and a count of 0 gives 0 blocks
// (launch nothing).
//
//   LaunchShape l = GridStride(count, 256, MaxBlocks(sm_count, 256));
//   if (l.blocks > 0) kernel<<<l.blocks, l.threads, 0, stream>>>(...);
#ifndef THETA_BACKENDS_CUDA_LAUNCH_H_
#define THETA_BACKENDS_CUDA_LAUNCH_H_

#include <cstdint>

namespace theta::cuda {

// gridDim.x's hardware limit.
constexpr int64_t kMaxGridBlocks = (int64_t{1} << 31) - 1;
// Threads of the grid-stride kernels.
constexpr int kDefaultThreads = 256;

struct LaunchShape {
  uint32_t blocks = 0;
  uint32_t threads = 0;
};

// Blocks that keep every SM busy several times over; more only add
// scheduling. At least 1, at most kMaxGridBlocks.
int64_t MaxBlocks(int sm_count, int threads);

// A grid-stride loop over `count` items: ceil(count / threads) blocks,
// capped at max_blocks (each thread then takes several items).
LaunchShape GridStride(int64_t count, int threads, int64_t max_blocks);

// Threads of a block that cooperates on `work` items: the smallest power of
// two >= work, clamped to [min_threads, max_threads] (powers of two).
int PowerOfTwoThreads(int64_t work, int min_threads, int max_threads);

// The schedule of a reduction of `red_count` elements into each of
// `out_count` outputs. kThreadPerOutput: each thread reduces one output's
// elements in order (suits short reductions, and reductions whose elements
// are far apart in memory while neighbouring outputs are adjacent).
// kBlockPerOutput: a block's threads share one output and combine their
// partial results as a tree. Either splits the reduced range into `pieces`
// when there are too few outputs to fill the device; the pieces' partial
// results are then merged in order by a second kernel of `merge` shape.
struct ReducePlan {
  enum class Kind { kThreadPerOutput, kBlockPerOutput };
  Kind kind = Kind::kThreadPerOutput;
  LaunchShape launch;
  int64_t pieces = 1;
  int64_t piece_len = 0;  // elements of the reduced range per piece
  LaunchShape merge;      // blocks == 0 when pieces == 1
};

// `contiguous`: the reduced elements of one output are closer together in
// memory than neighbouring outputs (a reduction over the last axis).
ReducePlan PlanReduce(int64_t out_count, int64_t red_count, bool contiguous,
                      int sm_count);

// Rows up to this length are one block each; longer ones take two passes
// over chunks of this many elements.
constexpr int64_t kSoftmaxChunk = 8192;

// The schedule of a softmax over `rows` rows of `n` elements: one block per
// row (chunks == 1), or `chunks` blocks per row in each of two passes.
struct SoftmaxPlan {
  bool two_pass = false;
  LaunchShape launch;
  int64_t chunk = 0;   // elements per block
  int64_t chunks = 0;  // blocks per row
};

SoftmaxPlan PlanSoftmax(int64_t rows, int64_t n, int sm_count);

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_LAUNCH_H_
