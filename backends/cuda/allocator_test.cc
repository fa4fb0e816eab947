// The caching allocator's size classes, reuse, release and statistics,
// over a fake source that hands out addresses without touching memory.
#include "backends/cuda/allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "backends/cuda/status.h"

namespace theta::cuda {
namespace {

// Hands out distinct fake addresses (never dereferenced) and fails with
// OUT_OF_MEMORY beyond `capacity` bytes live at the source.
class FakeSource {
 public:
  explicit FakeSource(uint64_t capacity = UINT64_MAX) : capacity_(capacity) {}

  CachingAllocator::Source Make() {
    CachingAllocator::Source s;
    s.allocate = [this](uint64_t bytes, void** out) -> theta_status* {
      ++calls;
      if (live_bytes + bytes > capacity_) {
        return MakeStatus(THETA_STATUS_OUT_OF_MEMORY, "fake: out of memory");
      }
      next_ += (bytes + 4095) / 4096 * 4096 + 4096;
      *out = reinterpret_cast<void*>(next_);
      live.insert(*out);
      live_bytes += bytes;
      return nullptr;
    };
    s.release = [this](void* ptr, uint64_t bytes) {
      EXPECT_EQ(live.erase(ptr), 1u) << "release of an unknown block";
      live_bytes -= bytes;
    };
    return s;
  }

  std::set<void*> live;
  uint64_t live_bytes = 0;
  int calls = 0;

 private:
  uint64_t capacity_;
  uintptr_t next_ = 1 << 20;
};

TEST(SizeClassTest, SmallRequestsShareTheMinimumClass) {
  EXPECT_EQ(CachingAllocator::SizeClass(1), 512u);
  EXPECT_EQ(CachingAllocator::SizeClass(511), 512u);
  EXPECT_EQ(CachingAllocator::SizeClass(512), 512u);
  EXPECT_EQ(CachingAllocator::SizeClass(513), 1024u);
  EXPECT_EQ(CachingAllocator::SizeClass(2048), 2048u);
  EXPECT_EQ(CachingAllocator::SizeClass(2049), 2560u);
}

TEST(SizeClassTest, QuarterStepsBetweenPowersOfTwo) {
  const uint64_t mib = 1 << 20;
  EXPECT_EQ(CachingAllocator::SizeClass(mib + 1), mib + mib / 4);
  EXPECT_EQ(CachingAllocator::SizeClass(mib + mib / 4), mib + mib / 4);
  EXPECT_EQ(CachingAllocator::SizeClass(2 * mib - 1), 2 * mib);
  // Above 8 MiB the step stops growing at 2 MiB.
  EXPECT_EQ(CachingAllocator::SizeClass(64 * mib + 1), 66 * mib);
  EXPECT_EQ(CachingAllocator::SizeClass(1000 * mib + 5), 1002 * mib);
}

TEST(SizeClassTest, EveryClassCoversItsRequestWithBoundedWaste) {
  for (uint64_t bytes = 1; bytes < (uint64_t{1} << 40);
       bytes = bytes * 3 / 2 + 1) {
    for (uint64_t b : {bytes, bytes + 1, bytes + 511}) {
      const uint64_t c = CachingAllocator::SizeClass(b);
      ASSERT_GE(c, b);
      ASSERT_EQ(c % CachingAllocator::kMinClass, 0u) << b;
      // Rounding wastes less than max(512, min(bytes / 4, 2 MiB)).
      const uint64_t bound = std::max<uint64_t>(
          CachingAllocator::kMinClass,
          std::min<uint64_t>(b / 4, CachingAllocator::kMaxStep));
      ASSERT_LT(c - b, bound) << b << " -> " << c;
      ASSERT_LE(CachingAllocator::SizeClass(b),
                CachingAllocator::SizeClass(b + 1));
    }
  }
}

TEST(SizeClassTest, ImpossibleSizesHaveNoClass) {
  EXPECT_EQ(CachingAllocator::SizeClass(UINT64_MAX), 0u);
  EXPECT_EQ(CachingAllocator::SizeClass(UINT64_MAX - 100), 0u);
  EXPECT_NE(CachingAllocator::SizeClass(uint64_t{1} << 62), 0u);
}

TEST(CachingAllocatorTest, FreedBlocksAreReusedBySizeClass) {
  FakeSource source;
  CachingAllocator a(source.Make());
  CachingAllocator::Block b1, b2, b3;
  ASSERT_EQ(a.Allocate(1000, &b1), nullptr);
  EXPECT_EQ(b1.size, 1024u);
  a.Free(b1);
  ASSERT_EQ(a.Allocate(900, &b2), nullptr);  // same class: the same block
  EXPECT_EQ(b2.ptr, b1.ptr);
  ASSERT_EQ(a.Allocate(5000, &b3), nullptr);  // another class: a new one
  EXPECT_NE(b3.ptr, b1.ptr);
  const CachingAllocator::Stats s = a.stats();
  EXPECT_EQ(s.source_allocations, 2u);
  EXPECT_EQ(s.cache_hits, 1u);
  EXPECT_EQ(s.blocks_in_use, 2u);
  EXPECT_EQ(s.bytes_in_use, 1024u + CachingAllocator::SizeClass(5000));
  EXPECT_EQ(s.bytes_cached, 0u);
  a.Free(b2);
  a.Free(b3);
  EXPECT_EQ(a.stats().blocks_cached, 2u);
  EXPECT_EQ(source.live.size(), 2u);  // cached, not released
}

TEST(CachingAllocatorTest, ATrainingLoopAllocatesOnlyInItsFirstStep) {
  FakeSource source;
  CachingAllocator a(source.Make());
  const std::vector<uint64_t> sizes = {4, 4096, 4096, 123457, 1 << 22, 700};
  for (int step = 0; step < 50; ++step) {
    std::vector<CachingAllocator::Block> blocks(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      ASSERT_EQ(a.Allocate(sizes[i], &blocks[i]), nullptr);
    }
    for (const auto& b : blocks) a.Free(b);
  }
  const CachingAllocator::Stats s = a.stats();
  EXPECT_EQ(s.source_allocations, sizes.size());
  EXPECT_EQ(s.cache_hits, 49 * sizes.size());
  EXPECT_EQ(s.source_releases, 0u);
  EXPECT_EQ(source.calls, static_cast<int>(sizes.size()));
}

TEST(CachingAllocatorTest, ReleaseCachedReturnsEveryCachedBlock) {
  FakeSource source;
  CachingAllocator a(source.Make());
  CachingAllocator::Block keep, drop1, drop2;
  ASSERT_EQ(a.Allocate(100, &keep), nullptr);
  ASSERT_EQ(a.Allocate(100, &drop1), nullptr);
  ASSERT_EQ(a.Allocate(1 << 20, &drop2), nullptr);
  a.Free(drop1);
  a.Free(drop2);
  a.ReleaseCached();
  EXPECT_EQ(source.live, std::set<void*>{keep.ptr});
  const CachingAllocator::Stats s = a.stats();
  EXPECT_EQ(s.source_releases, 2u);
  EXPECT_EQ(s.bytes_cached, 0u);
  EXPECT_EQ(s.blocks_cached, 0u);
  EXPECT_EQ(s.blocks_in_use, 1u);
  a.Free(keep);
}

TEST(CachingAllocatorTest, DestructionReleasesTheCacheOnly) {
  FakeSource source;
  CachingAllocator::Block in_use, cached;
  {
    CachingAllocator a(source.Make());
    ASSERT_EQ(a.Allocate(10, &in_use), nullptr);
    ASSERT_EQ(a.Allocate(10, &cached), nullptr);
    a.Free(cached);
  }
  EXPECT_EQ(source.live, std::set<void*>{in_use.ptr});
}

TEST(CachingAllocatorTest, OutOfMemoryReleasesTheCacheAndRetries) {
  FakeSource source(/*capacity=*/4096);
  CachingAllocator a(source.Make());
  CachingAllocator::Block small, big;
  ASSERT_EQ(a.Allocate(3000, &small), nullptr);  // class 3072
  a.Free(small);                                 // cached: 3072 of 4096 held
  ASSERT_EQ(a.Allocate(2048, &big), nullptr);    // needs the cache released
  EXPECT_EQ(a.stats().source_releases, 1u);
  EXPECT_EQ(a.stats().bytes_cached, 0u);
  a.Free(big);
}

TEST(CachingAllocatorTest, OutOfMemoryWithNothingCachedIsReported) {
  FakeSource source(/*capacity=*/1024);
  CachingAllocator a(source.Make());
  CachingAllocator::Block b{reinterpret_cast<void*>(0x1), 7};
  theta_status* s = a.Allocate(4096, &b);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->code, THETA_STATUS_OUT_OF_MEMORY);
  EXPECT_EQ(s->message, "fake: out of memory");
  FreeStatus(s);
  EXPECT_EQ(b.ptr, reinterpret_cast<void*>(0x1));  // unchanged
  EXPECT_EQ(a.stats().blocks_in_use, 0u);
}

TEST(CachingAllocatorTest, OtherSourceErrorsKeepTheCache) {
  FakeSource fake;
  CachingAllocator::Source source = fake.Make();
  auto inner = source.allocate;
  bool fail = false;
  source.allocate = [&](uint64_t bytes, void** out) -> theta_status* {
    if (fail) return MakeStatus(THETA_STATUS_INTERNAL, "fake: broken");
    return inner(bytes, out);
  };
  CachingAllocator a(std::move(source));
  CachingAllocator::Block b;
  ASSERT_EQ(a.Allocate(10, &b), nullptr);
  a.Free(b);
  fail = true;
  theta_status* s = a.Allocate(100000, &b);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->code, THETA_STATUS_INTERNAL);
  FreeStatus(s);
  EXPECT_EQ(a.stats().blocks_cached, 1u);
}

TEST(CachingAllocatorTest, ImpossibleRequestIsOutOfMemory) {
  FakeSource source;
  CachingAllocator a(source.Make());
  CachingAllocator::Block b;
  theta_status* s = a.Allocate(UINT64_MAX, &b);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->code, THETA_STATUS_OUT_OF_MEMORY);
  EXPECT_NE(s->message.find("cannot allocate"), std::string::npos);
  FreeStatus(s);
  EXPECT_EQ(source.calls, 0);
}

TEST(CachingAllocatorTest, CacheLimitReleasesWhatDoesNotFit) {
  FakeSource source;
  CachingAllocator::Options options;
  options.max_cached_bytes = 2048;
  CachingAllocator a(source.Make(), options);
  CachingAllocator::Block b1, b2, b3;
  ASSERT_EQ(a.Allocate(1024, &b1), nullptr);
  ASSERT_EQ(a.Allocate(1024, &b2), nullptr);
  ASSERT_EQ(a.Allocate(1024, &b3), nullptr);
  a.Free(b1);
  a.Free(b2);
  a.Free(b3);  // over the limit: released
  const CachingAllocator::Stats s = a.stats();
  EXPECT_EQ(s.bytes_cached, 2048u);
  EXPECT_EQ(s.source_releases, 1u);
  EXPECT_EQ(source.live.size(), 2u);
}

TEST(CachingAllocatorTest, ConcurrentUseKeepsTheBooksStraight) {
  FakeSource source;
  std::mutex mu;  // the fake source itself is not thread-safe
  CachingAllocator::Source s = source.Make();
  auto alloc = s.allocate;
  auto release = s.release;
  s.allocate = [&](uint64_t bytes, void** out) {
    std::lock_guard<std::mutex> lock(mu);
    return alloc(bytes, out);
  };
  s.release = [&](void* p, uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu);
    release(p, bytes);
  };
  CachingAllocator a(std::move(s));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&a, t] {
      for (int i = 0; i < 500; ++i) {
        CachingAllocator::Block b;
        if (a.Allocate(512 * (1 + (i + t) % 5), &b) == nullptr) a.Free(b);
      }
    });
  }
  for (auto& t : threads) t.join();
  const CachingAllocator::Stats st = a.stats();
  EXPECT_EQ(st.blocks_in_use, 0u);
  EXPECT_EQ(st.bytes_in_use, 0u);
  EXPECT_EQ(st.blocks_cached, st.source_allocations);
  EXPECT_EQ(st.source_allocations + st.cache_hits, 2000u);
  EXPECT_LE(st.source_allocations, 20u);  // at most 4 threads x 5 classes
}

}  // namespace
}  // namespace theta::cuda
