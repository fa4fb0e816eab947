#include "backends/cuda/launch.h"

#include <algorithm>

namespace theta::cuda {
namespace {

// Resident threads per SM on sm_80 and sm_90.
constexpr int64_t kThreadsPerSm = 2048;
// Grid-stride kernels launch this many waves of resident blocks.
constexpr int64_t kWaves = 4;
// A reduction piece is split off only when each keeps at least this many
// elements.
constexpr int64_t kMinPieceThread = 64;
constexpr int64_t kMinPieceBlock = 4096;
constexpr int64_t kMaxPieces = 1024;
// Reductions at most this long are one thread per output.
constexpr int64_t kShortReduction = 16;
// Strided reductions with at least this many outputs are one thread each.
constexpr int64_t kManyOutputs = 512;

int64_t CeilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

}  // namespace

int64_t MaxBlocks(int sm_count, int threads) {
  const int64_t sms = std::max(sm_count, 1);
  const int64_t per_sm =
      std::max<int64_t>(1, kThreadsPerSm / std::max(threads, 1));
  return std::clamp<int64_t>(sms * per_sm * kWaves, 1, kMaxGridBlocks);
}

LaunchShape GridStride(int64_t count, int threads, int64_t max_blocks) {
  LaunchShape l;
  l.threads = static_cast<uint32_t>(threads);
  if (count <= 0) return l;
  const int64_t blocks = CeilDiv(count, threads);
  l.blocks = static_cast<uint32_t>(
      std::min({blocks, std::max<int64_t>(max_blocks, 1), kMaxGridBlocks}));
  return l;
}

int PowerOfTwoThreads(int64_t work, int min_threads, int max_threads) {
  int64_t t = min_threads;
  while (t < work && t < max_threads) t *= 2;
  return static_cast<int>(std::min<int64_t>(t, max_threads));
}

ReducePlan PlanReduce(int64_t out_count, int64_t red_count, bool contiguous,
                      int sm_count) {
  ReducePlan p;
  if (out_count <= 0) return p;
  const bool per_thread = red_count <= kShortReduction ||
                          (!contiguous && out_count >= kManyOutputs);
  if (per_thread) {
    p.kind = ReducePlan::Kind::kThreadPerOutput;
    const int64_t resident =
        static_cast<int64_t>(std::max(sm_count, 1)) * kThreadsPerSm;
    if (out_count < resident && red_count >= 2 * kMinPieceThread) {
      p.pieces = std::min({CeilDiv(resident, out_count),
                           red_count / kMinPieceThread, kMaxPieces});
    }
  } else {
    p.kind = ReducePlan::Kind::kBlockPerOutput;
    const int64_t resident_blocks =
        static_cast<int64_t>(std::max(sm_count, 1)) * 8;
    if (out_count < resident_blocks && red_count >= 2 * kMinPieceBlock) {
      p.pieces = std::min({CeilDiv(resident_blocks, out_count),
                           red_count / kMinPieceBlock, kMaxPieces});
    }
  }
  p.pieces = std::max<int64_t>(p.pieces, 1);
  p.piece_len = red_count == 0 ? 0 : CeilDiv(red_count, p.pieces);
  if (red_count > 0) p.pieces = CeilDiv(red_count, p.piece_len);
  const int64_t units = out_count * p.pieces;
  if (p.kind == ReducePlan::Kind::kThreadPerOutput) {
    p.launch = GridStride(units, kDefaultThreads,
                          MaxBlocks(sm_count, kDefaultThreads));
  } else {
    const int threads = PowerOfTwoThreads(red_count, 32, kDefaultThreads);
    p.launch.threads = static_cast<uint32_t>(threads);
    p.launch.blocks =
        static_cast<uint32_t>(std::min(units, MaxBlocks(sm_count, threads)));
  }
  if (p.pieces > 1) {
    p.merge = GridStride(out_count, kDefaultThreads,
                         MaxBlocks(sm_count, kDefaultThreads));
  }
  return p;
}

SoftmaxPlan PlanSoftmax(int64_t rows, int64_t n, int sm_count) {
  SoftmaxPlan p;
  if (rows <= 0 || n <= 0) return p;
  p.two_pass = n > kSoftmaxChunk;
  const int threads =
      p.two_pass ? kDefaultThreads : PowerOfTwoThreads(n, 32, kDefaultThreads);
  p.chunk = p.two_pass ? kSoftmaxChunk : n;
  p.chunks = CeilDiv(n, p.chunk);
  p.launch.threads = static_cast<uint32_t>(threads);
  p.launch.blocks = static_cast<uint32_t>(
      std::min(rows * p.chunks, MaxBlocks(sm_count, threads)));
  return p;
}

}  // namespace theta::cuda
