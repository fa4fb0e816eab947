#include "backends/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "backends/cpu/test_util.h"

namespace theta::cpu {
namespace {

using testing::ScopedThreadsEnv;

// Every index of [0, n) is visited exactly once, in ranges of >= grain
// (but the last), for several pool sizes.
TEST(ThreadPoolTest, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {1, 2, 7, 100, 1023, 1025, 100003}) {
      for (int64_t grain : {1, 16, 1000, 200000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::mutex mu;
        std::vector<std::pair<int64_t, int64_t>> ranges;
        pool.ParallelFor(n, grain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
          std::lock_guard<std::mutex> lock(mu);
          ranges.emplace_back(b, e);
        });
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(hits[i].load(), 1) << "threads " << threads << " n " << n
                                       << " grain " << grain << " i " << i;
        }
        if (ranges.size() > 1) {
          for (auto [b, e] : ranges) EXPECT_GE(e - b, grain);
        }
      }
    }
  }
}

TEST(ThreadPoolTest, EmptyAndNegativeRangesDoNothing) {
  ThreadPool pool(3);
  int calls = 0;
  pool.ParallelFor(0, 1, [&](int64_t, int64_t) { ++calls; });
  pool.ParallelFor(-5, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ThreadPoolTest, SmallWorkRunsInlineOnTheCaller) {
  ThreadPool pool(4);
  std::thread::id id;
  int calls = 0;
  pool.ParallelFor(100, 1000, [&](int64_t b, int64_t e) {
    id = std::this_thread::get_id();
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 100);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(ThreadPoolTest, UsesSeveralThreadsForLargeWork) {
  ThreadPool pool(3);
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::thread::id> ids;
  // Each range waits (sleeping, with a generous timeout) until a second
  // thread has joined: this fails only if no worker ever wakes up.
  pool.ParallelFor(8, 1, [&](int64_t, int64_t) {
    std::unique_lock<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(20),
                [&] { return ids.size() >= 2; });
  });
  EXPECT_GE(ids.size(), 2u);
}

TEST(ThreadPoolTest, NestedCallsRunInline) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  pool.ParallelFor(8, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      pool.ParallelFor(
          1000, 1, [&](int64_t b2, int64_t e2) { total.fetch_add(e2 - b2); });
    }
  });
  EXPECT_EQ(total.load(), 8000);
}

TEST(ThreadPoolTest, RethrowsTheFirstException) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.ParallelFor(64, 1,
                                [&](int64_t b, int64_t) {
                                  if (b >= 0) throw std::runtime_error("boom");
                                }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int64_t> total{0};
  pool.ParallelFor(1000, 10,
                   [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
  EXPECT_EQ(total.load(), 1000);
}

TEST(ThreadPoolTest, ConcurrentCallersAllComplete) {
  ThreadPool pool(3);
  std::vector<std::thread> callers;
  std::atomic<int64_t> total{0};
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        pool.ParallelFor(4096, 64,
                         [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(total.load(), 4 * 50 * 4096);
}

TEST(ThreadPoolTest, ManyShortJobsInARow) {
  ThreadPool pool(3);
  int64_t sum = 0;
  for (int rep = 0; rep < 2000; ++rep) {
    std::atomic<int64_t> part{0};
    pool.ParallelFor(64, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) part.fetch_add(i);
    });
    sum += part.load();
  }
  EXPECT_EQ(sum, 2000 * (63 * 64 / 2));
}

TEST(ThreadPoolTest, ThreadCountComesFromTheEnvironment) {
  std::string error;
  {
    ScopedThreadsEnv env(3);
    EXPECT_EQ(ThreadCountFromEnvironment(&error), 3);
  }
  {
    ScopedThreadsEnv env(1);
    EXPECT_EQ(ThreadCountFromEnvironment(&error), 1);
  }
  {
    ScopedThreadsEnv env(kMaxThreads);
    EXPECT_EQ(ThreadCountFromEnvironment(&error), kMaxThreads);
  }
  int fallback;
  {
    ScopedThreadsEnv env(0);
    fallback = ThreadCountFromEnvironment(&error);
    EXPECT_GE(fallback, 1);
  }
  {
    // Set but empty reads as unset.
    ScopedThreadsEnv env(0);
    setenv("THETA_NUM_THREADS", "", 1);
    EXPECT_EQ(ThreadCountFromEnvironment(&error), fallback);
  }
  EXPECT_EQ(error, "");
}

TEST(ThreadPoolTest, BadThreadCountsAreErrorsNamingTheValue) {
  for (const char* bad : {"abc", "0", "-1", "-2", "4x", " 3", "+3", "1025",
                          "100000", "99999999999999999999"}) {
    ScopedThreadsEnv env(0);
    setenv("THETA_NUM_THREADS", bad, 1);
    std::string error;
    EXPECT_EQ(ThreadCountFromEnvironment(&error), 0) << "'" << bad << "'";
    EXPECT_EQ(error, "THETA_NUM_THREADS='" + std::string(bad) +
                         "' is not a whole number of threads in [1, 1024]; "
                         "unset it to use the CPUs this process may run on");
  }
}

TEST(ThreadPoolTest, NonPositiveSizeMeansOneThread) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.num_threads(), 1);
}

}  // namespace
}  // namespace theta::cpu
