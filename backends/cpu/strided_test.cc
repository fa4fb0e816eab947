#include "backends/cpu/strided.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace theta::cpu {
namespace {

TEST(CollapseTest, MergesContiguousAndDropsUnitDims) {
  const int64_t shape[] = {2, 1, 3, 4};
  const int64_t a[] = {12, 99, 4, 1};  // contiguous (dim 1 has size 1)
  const int64_t b[] = {0, 5, 4, 1};    // broadcast along dim 0
  Layout<1> la = Collapse<1>(4, shape, {a});
  EXPECT_EQ(la.rank, 1);
  EXPECT_EQ(la.shape[0], 24);
  EXPECT_EQ(la.InnerStride(0), 1);
  Layout<2> lab = Collapse<2>(4, shape, {a, b});
  ASSERT_EQ(lab.rank, 2);
  EXPECT_EQ(lab.shape[0], 2);
  EXPECT_EQ(lab.shape[1], 12);
  EXPECT_EQ(lab.stride[1][0], 0);
}

TEST(CollapseTest, ScalarAndAllOnesGiveRankOne) {
  Layout<1> l = Collapse<1>(0, nullptr, {nullptr});
  EXPECT_EQ(l.rank, 1);
  EXPECT_EQ(l.Count(), 1);
  const int64_t shape[] = {1, 1};
  const int64_t s[] = {7, 3};
  l = Collapse<1>(2, shape, {s});
  EXPECT_EQ(l.Count(), 1);
  EXPECT_EQ(l.InnerStride(0), 0);
}

TEST(CollapseTest, KeepsEmptyDims) {
  const int64_t shape[] = {3, 0, 2};
  const int64_t s[] = {0, 2, 1};
  EXPECT_EQ(Collapse<1>(3, shape, {s}).Count(), 0);
}

// Walk visits exactly the offsets of linear indices [start, start + count)
// in order, for random layouts (short rows included).
TEST(WalkTest, VisitsRangesInRowMajorOrder) {
  std::mt19937 gen(42);
  for (int trial = 0; trial < 300; ++trial) {
    const int rank = 1 + static_cast<int>(gen() % 4);
    int64_t shape[kMaxDims], s0[kMaxDims], s1[kMaxDims];
    for (int d = 0; d < rank; ++d) {
      shape[d] = 1 + gen() % 6;
      s0[d] = gen() % 3 == 0 ? 0 : 1 + gen() % 50;
      s1[d] = 1 + gen() % 50;
    }
    const Layout<2> l = Collapse<2>(rank, shape, {s0, s1});
    const int64_t total = l.Count();
    std::vector<int64_t> want0, want1;
    for (int64_t i = 0; i < total; ++i) {
      int64_t rem = i, o0 = 0, o1 = 0;
      for (int d = rank - 1; d >= 0; --d) {
        o0 += (rem % shape[d]) * s0[d];
        o1 += (rem % shape[d]) * s1[d];
        rem /= shape[d];
      }
      want0.push_back(o0);
      want1.push_back(o1);
    }
    const int64_t start = gen() % total;
    const int64_t count = gen() % (total - start + 1);
    std::vector<int64_t> got0, got1;
    int64_t expect_k = 0;
    Walk(l, start, count, [&](const int64_t* off, int64_t len, int64_t k) {
      EXPECT_EQ(k, expect_k);
      expect_k += len;
      for (int64_t t = 0; t < len; ++t) {
        got0.push_back(off[0] + t * l.InnerStride(0));
        got1.push_back(off[1] + t * l.InnerStride(1));
      }
    });
    ASSERT_EQ(static_cast<int64_t>(got0.size()), count) << "trial " << trial;
    for (int64_t i = 0; i < count; ++i) {
      ASSERT_EQ(got0[i], want0[start + i]) << "trial " << trial << " i " << i;
      ASSERT_EQ(got1[i], want1[start + i]) << "trial " << trial << " i " << i;
    }
  }
}

}  // namespace
}  // namespace theta::cpu
