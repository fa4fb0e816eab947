#include "compile/arena_planner.h"

#include "gtest/gtest.h"

namespace theta {
namespace {

TEST(ArenaPlannerTest, ReusesFreedRanges) {
  ArenaPlanner arena;
  int64_t a = arena.Allocate(100);
  int64_t b = arena.Allocate(200);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 128);  // 64-byte aligned
  arena.Free(a);
  int64_t c = arena.Allocate(64);
  EXPECT_EQ(c, 0);  // fits in a's range
  EXPECT_EQ(arena.size(), 128 + 256);
}

TEST(ArenaPlannerTest, MergesAdjacentFreeRanges) {
  ArenaPlanner arena;
  int64_t a = arena.Allocate(64);
  int64_t b = arena.Allocate(64);
  int64_t c = arena.Allocate(64);
  arena.Free(a);
  arena.Free(b);
  EXPECT_EQ(arena.Allocate(128), 0);  // a and b merged
  arena.Free(c);
  EXPECT_EQ(arena.size(), 192);
}

TEST(ArenaPlannerTest, GrowsTheLastFreeRangeInsteadOfAppending) {
  ArenaPlanner arena;
  int64_t a = arena.Allocate(64);
  int64_t b = arena.Allocate(64);
  arena.Free(b);
  int64_t c = arena.Allocate(256);
  EXPECT_EQ(c, 64);
  EXPECT_EQ(arena.size(), 64 + 256);
  (void)a;
}

TEST(ArenaPlannerTest, BestFitChoosesTheSmallestRange) {
  ArenaPlanner arena;
  int64_t big = arena.Allocate(1024);
  int64_t sep1 = arena.Allocate(64);
  int64_t small = arena.Allocate(128);
  int64_t sep2 = arena.Allocate(64);
  arena.Free(big);
  arena.Free(small);
  EXPECT_EQ(arena.Allocate(100), small);
  (void)sep1;
  (void)sep2;
}

}  // namespace
}  // namespace theta
