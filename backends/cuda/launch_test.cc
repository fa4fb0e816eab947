// Launch-configuration arithmetic: grid-stride shapes, block sizes and the
// reduction and softmax schedules, for empty, small and huge inputs.
#include "backends/cuda/launch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace theta::cuda {
namespace {

constexpr int kH100Sms = 132;

TEST(MaxBlocksTest, ScalesWithTheDeviceAndStaysInRange) {
  EXPECT_EQ(MaxBlocks(kH100Sms, 256), kH100Sms * 8 * 4);
  EXPECT_EQ(MaxBlocks(kH100Sms, 32), kH100Sms * 64 * 4);
  EXPECT_GE(MaxBlocks(0, 256), 1);
  EXPECT_GE(MaxBlocks(1, 4096), 1);
  EXPECT_LE(MaxBlocks(1 << 30, 1), kMaxGridBlocks);
}

TEST(GridStrideTest, ZeroItemsLaunchNothing) {
  const LaunchShape l = GridStride(0, 256, 1000);
  EXPECT_EQ(l.blocks, 0u);
  EXPECT_EQ(l.threads, 256u);
  EXPECT_EQ(GridStride(-5, 256, 1000).blocks, 0u);
}

TEST(GridStrideTest, SmallCountsGetOneThreadEach) {
  EXPECT_EQ(GridStride(1, 256, 1000).blocks, 1u);
  EXPECT_EQ(GridStride(256, 256, 1000).blocks, 1u);
  EXPECT_EQ(GridStride(257, 256, 1000).blocks, 2u);
  EXPECT_EQ(GridStride(2560, 256, 1000).blocks, 10u);
}

TEST(GridStrideTest, HugeCountsAreCapped) {
  const int64_t huge = int64_t{1} << 50;
  EXPECT_EQ(GridStride(huge, 256, 4224).blocks, 4224u);
  EXPECT_EQ(GridStride(huge, 256, kMaxGridBlocks * 4).blocks,
            static_cast<uint32_t>(kMaxGridBlocks));
  EXPECT_EQ(GridStride(huge, 256, 0).blocks, 1u);  // never zero for work
}

// The loop `for (i = b * T + t; i < n; i += B * T)` visits every item once.
TEST(GridStrideTest, TheLoopCoversEveryItemOnce) {
  for (int64_t count : {1, 7, 255, 256, 1000, 5000}) {
    for (int64_t max_blocks : {1, 3, 1000}) {
      const LaunchShape l = GridStride(count, 64, max_blocks);
      std::vector<int> seen(count, 0);
      const int64_t step = int64_t{l.blocks} * l.threads;
      for (int64_t b = 0; b < l.blocks; ++b) {
        for (int64_t t = 0; t < l.threads; ++t) {
          for (int64_t i = b * l.threads + t; i < count; i += step) ++seen[i];
        }
      }
      for (int64_t i = 0; i < count; ++i) {
        ASSERT_EQ(seen[i], 1) << "count " << count << " item " << i;
      }
    }
  }
}

TEST(PowerOfTwoThreadsTest, RoundsUpAndClamps) {
  EXPECT_EQ(PowerOfTwoThreads(0, 32, 256), 32);
  EXPECT_EQ(PowerOfTwoThreads(1, 32, 256), 32);
  EXPECT_EQ(PowerOfTwoThreads(32, 32, 256), 32);
  EXPECT_EQ(PowerOfTwoThreads(33, 32, 256), 64);
  EXPECT_EQ(PowerOfTwoThreads(200, 32, 256), 256);
  EXPECT_EQ(PowerOfTwoThreads(int64_t{1} << 40, 32, 256), 256);
}

// Pieces cover the reduced range exactly: every piece non-empty.
void ExpectPiecesCover(const ReducePlan& p, int64_t red_count) {
  ASSERT_GE(p.pieces, 1);
  if (red_count == 0) return;
  EXPECT_GE(p.pieces * p.piece_len, red_count);
  EXPECT_LT((p.pieces - 1) * p.piece_len, red_count);
  if (p.pieces > 1) {
    EXPECT_GT(p.merge.blocks, 0u);
  } else {
    EXPECT_EQ(p.merge.blocks, 0u);
  }
}

TEST(PlanReduceTest, NoOutputsLaunchNothing) {
  const ReducePlan p = PlanReduce(0, 100, true, kH100Sms);
  EXPECT_EQ(p.launch.blocks, 0u);
}

TEST(PlanReduceTest, EmptyReductionsWriteIdentitiesOneThreadEach) {
  const ReducePlan p = PlanReduce(1000, 0, true, kH100Sms);
  EXPECT_EQ(p.kind, ReducePlan::Kind::kThreadPerOutput);
  EXPECT_EQ(p.pieces, 1);
  EXPECT_EQ(p.piece_len, 0);
  EXPECT_EQ(p.launch.blocks, 4u);  // 1000 outputs, 256 threads
}

TEST(PlanReduceTest, ShortReductionsAreOneThreadPerOutput) {
  const ReducePlan p = PlanReduce(1 << 20, 3, true, kH100Sms);
  EXPECT_EQ(p.kind, ReducePlan::Kind::kThreadPerOutput);
  EXPECT_EQ(p.pieces, 1);
  EXPECT_EQ(p.piece_len, 3);
}

TEST(PlanReduceTest, ColumnSumsOverManyOutputsAreOneThreadPerOutput) {
  // A sum over axis 0 of a (1000, 4096) row-major matrix.
  const ReducePlan p = PlanReduce(4096, 1000, false, kH100Sms);
  EXPECT_EQ(p.kind, ReducePlan::Kind::kThreadPerOutput);
  ExpectPiecesCover(p, 1000);
}

TEST(PlanReduceTest, LongColumnsAreSplitIntoPieces) {
  // (10^6, 1024) summed over axis 0: 1024 outputs cannot fill the device.
  const ReducePlan p = PlanReduce(1024, 1000000, false, kH100Sms);
  EXPECT_EQ(p.kind, ReducePlan::Kind::kThreadPerOutput);
  EXPECT_GT(p.pieces, 1);
  ExpectPiecesCover(p, 1000000);
}

TEST(PlanReduceTest, RowSumsAreOneBlockPerOutput) {
  const ReducePlan p = PlanReduce(10000, 1000, true, kH100Sms);
  EXPECT_EQ(p.kind, ReducePlan::Kind::kBlockPerOutput);
  EXPECT_EQ(p.launch.threads, 256u);
  EXPECT_EQ(p.pieces, 1);
  EXPECT_EQ(int64_t{p.launch.blocks}, MaxBlocks(kH100Sms, 256));  // < 10000
  // Shorter rows get smaller blocks.
  EXPECT_EQ(PlanReduce(10000, 40, true, kH100Sms).launch.threads, 64u);
}

TEST(PlanReduceTest, AFullReductionUsesTheWholeDevice) {
  const int64_t n = int64_t{1} << 28;
  const ReducePlan p = PlanReduce(1, n, true, kH100Sms);
  EXPECT_EQ(p.kind, ReducePlan::Kind::kBlockPerOutput);
  EXPECT_GE(p.pieces, kH100Sms);
  EXPECT_LE(p.pieces, 1024);
  EXPECT_EQ(p.launch.blocks, static_cast<uint32_t>(p.pieces));
  ExpectPiecesCover(p, n);
  EXPECT_EQ(p.merge.blocks, 1u);
}

TEST(PlanReduceTest, HugeInputsStayWithinGridLimits) {
  const int64_t outputs = int64_t{1} << 40;
  for (bool contiguous : {true, false}) {
    const ReducePlan p = PlanReduce(outputs, 1 << 10, contiguous, kH100Sms);
    EXPECT_GT(p.launch.blocks, 0u);
    EXPECT_LE(int64_t{p.launch.blocks}, kMaxGridBlocks);
    EXPECT_EQ(p.pieces, 1);
  }
}

TEST(PlanSoftmaxTest, EmptyLaunchesNothing) {
  EXPECT_EQ(PlanSoftmax(0, 10, kH100Sms).launch.blocks, 0u);
  EXPECT_EQ(PlanSoftmax(10, 0, kH100Sms).launch.blocks, 0u);
}

TEST(PlanSoftmaxTest, ShortRowsAreOneBlockEach) {
  const SoftmaxPlan p = PlanSoftmax(1000, 10, kH100Sms);
  EXPECT_FALSE(p.two_pass);
  EXPECT_EQ(p.launch.threads, 32u);
  EXPECT_EQ(p.launch.blocks, 1000u);
  EXPECT_EQ(p.chunks, 1);
  EXPECT_EQ(p.chunk, 10);
  const SoftmaxPlan q = PlanSoftmax(3, kSoftmaxChunk, kH100Sms);
  EXPECT_FALSE(q.two_pass);
  EXPECT_EQ(q.launch.threads, 256u);
}

TEST(PlanSoftmaxTest, LongRowsTakeTwoPassesOverChunks) {
  const SoftmaxPlan p = PlanSoftmax(2, kSoftmaxChunk + 1, kH100Sms);
  EXPECT_TRUE(p.two_pass);
  EXPECT_EQ(p.chunk, kSoftmaxChunk);
  EXPECT_EQ(p.chunks, 2);
  EXPECT_EQ(p.launch.blocks, 4u);
  const SoftmaxPlan q = PlanSoftmax(1, int64_t{1} << 30, kH100Sms);
  EXPECT_EQ(q.chunks, (int64_t{1} << 30) / kSoftmaxChunk);
  EXPECT_EQ(int64_t{q.launch.blocks}, MaxBlocks(kH100Sms, 256));
}

TEST(PlanSoftmaxTest, ManyRowsAreCapped) {
  const SoftmaxPlan p = PlanSoftmax(int64_t{1} << 40, 16, kH100Sms);
  EXPECT_EQ(int64_t{p.launch.blocks}, MaxBlocks(kH100Sms, 32));
}

}  // namespace
}  // namespace theta::cuda
