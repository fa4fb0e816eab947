#include "backends/cpu/thread_pool.h"

#include <immintrin.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace theta::cpu {
namespace {

// True on pool workers, and on a caller while it runs a ParallelFor's
// ranges: a ParallelFor from such a thread runs inline.
thread_local bool tls_inside_pool = false;

// At most this many ranges per thread, so that a thread descheduled by the
// OS (two threads share about one core here) delays only a small share.
constexpr int64_t kChunksPerThread = 4;

// How long a wait spins before it sleeps. Kernels come back to back in a
// training step, but a scan step runs several small kernels on the caller
// alone between two parallel ones (tens of microseconds); a condition
// variable's wake-up costs about as much as a small kernel, so a worker must
// still be spinning when the next parallel kernel comes. A time, not a
// count of pause instructions: a pause took 10 ns on this project's machines
// but takes about 140 cycles on Skylake server parts.
constexpr std::chrono::microseconds kSpinTime{200};

// Spins until done() or kSpinTime has passed.
template <typename Done>
void SpinUntil(const Done& done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (uint32_t i = 1; !done(); ++i) {
    _mm_pause();
    // Read the clock every 64 pauses only.
    if (i % 64 == 0 && std::chrono::steady_clock::now() >= deadline) return;
  }
}

}  // namespace

int ThreadCountFromEnvironment(std::string* error) {
  if (const char* env = std::getenv("THETA_NUM_THREADS");
      env != nullptr && *env != '\0') {
    // Digits only: no sign, spaces or suffix; at most 7 of them.
    int64_t value = 0;
    size_t length = std::strlen(env);
    bool digits = length <= 7;
    for (size_t i = 0; digits && i < length; ++i) {
      digits = env[i] >= '0' && env[i] <= '9';
      value = value * 10 + (env[i] - '0');
    }
    if (digits && value >= 1 && value <= kMaxThreads) {
      return static_cast<int>(value);
    }
    *error = "THETA_NUM_THREADS='" + std::string(env) +
             "' is not a whole number of threads in [1, " +
             std::to_string(kMaxThreads) +
             "]; unset it to use the CPUs this process may run on";
    return 0;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count >= 1) return count;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

int DeterministicFromEnvironment(std::string* error) {
  const char* env = std::getenv("THETA_DETERMINISTIC");
  if (env == nullptr || std::strcmp(env, "") == 0 ||
      std::strcmp(env, "0") == 0) {
    return 0;
  }
  if (std::strcmp(env, "1") == 0) return 1;
  *error = "THETA_DETERMINISTIC='" + std::string(env) +
           "' is neither 1 (results bitwise the same for any "
           "THETA_NUM_THREADS) nor 0 or unset (the fastest partition)";
  return -1;
}

struct ThreadPool::Job {
  const RangeFn* fn;
  int64_t n;
  int64_t num_chunks;
  int workers_wanted;            // guarded by ThreadPool::mu_
  std::atomic<int64_t> next{0};  // next chunk to claim
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  std::exception_ptr error;  // guarded by error_mu
};

ThreadPool::ThreadPool(int num_threads, bool deterministic)
    : num_threads_(std::max(1, num_threads)), deterministic_(deterministic) {
  workers_.reserve(num_threads_ - 1);
  try {
    for (int i = 1; i < num_threads_; ++i) {
      workers_.emplace_back([this] { WorkerLoop(); });
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    throw;
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::RunChunks(Job& job) {
  for (;;) {
    int64_t c = job.next.fetch_add(1, std::memory_order_relaxed);
    if (c >= job.num_chunks) return;
    if (job.failed.load(std::memory_order_relaxed)) continue;  // skip
    // Chunk c covers [c * n / chunks, (c + 1) * n / chunks), computed
    // without overflow for any n.
    int64_t q = job.n / job.num_chunks, r = job.n % job.num_chunks;
    int64_t begin = c * q + std::min(c, r);
    int64_t end = begin + q + (c < r ? 1 : 0);
    try {
      (*job.fn)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.error_mu);
      if (!job.error) job.error = std::current_exception();
      job.failed.store(true, std::memory_order_relaxed);
    }
  }
}

void ThreadPool::WorkerLoop() {
  tls_inside_pool = true;
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!stop_ && generation_ == seen) {
      lock.unlock();
      SpinUntil([&] {
        return published_generation_.load(std::memory_order_acquire) != seen;
      });
      lock.lock();
    }
    work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    Job* job = job_;
    if (job == nullptr || job->workers_wanted <= 0) continue;
    --job->workers_wanted;
    ++active_;
    lock.unlock();
    RunChunks(*job);
    lock.lock();
    if (--active_ == 0) done_cv_.notify_one();
  }
}

void ThreadPool::Run(int64_t n, int64_t grain, RangeFn fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t num_chunks =
      std::min<int64_t>(n / grain, kChunksPerThread * num_threads_);
  bool inline_run = num_chunks <= 1 || num_threads_ == 1 || tls_inside_pool;
  if (!inline_run) {
    std::lock_guard<std::mutex> lock(mu_);
    if (busy_) {
      inline_run = true;
    } else {
      busy_ = true;
    }
  }
  if (inline_run) {
    fn(0, n);
    return;
  }

  Job job;
  job.fn = &fn;
  job.n = n;
  job.num_chunks = num_chunks;
  job.workers_wanted =
      static_cast<int>(std::min<int64_t>(num_chunks, num_threads_) - 1);
  int wake = job.workers_wanted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &job;
    ++generation_;
    published_generation_.store(generation_, std::memory_order_release);
  }
  for (int i = 0; i < wake; ++i) work_cv_.notify_one();

  tls_inside_pool = true;
  RunChunks(job);
  tls_inside_pool = false;

  // Workers still in `job` (which lives on this stack) end soon; a worker
  // that has not picked it up yet will find job_ cleared below.
  SpinUntil([&] { return active_.load(std::memory_order_acquire) == 0; });
  {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return active_ == 0; });
    job_ = nullptr;
    busy_ = false;
  }
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace theta::cpu
