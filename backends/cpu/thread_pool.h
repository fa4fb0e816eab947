// A fixed pool of worker threads that runs a loop's iterations in parallel;
// the calling thread participates. Waits spin briefly (pause instructions,
// tens of microseconds) before sleeping on a condition variable: a worker
// waiting for the next job, and the caller waiting for the workers to
// finish, so back-to-back kernels skip the futex wake-ups while an idle
// pool still costs nothing.
//
//   std::string error;
//   ThreadPool pool(ThreadCountFromEnvironment(&error));  // 0: see error
//   pool.ParallelFor(n, /*grain=*/4096, [&](int64_t b, int64_t e) { ... });
#ifndef THETA_BACKENDS_CPU_THREAD_POOL_H_
#define THETA_BACKENDS_CPU_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace theta::cpu {

// The most threads THETA_NUM_THREADS may ask for.
inline constexpr int kMaxThreads = 1024;

// Under THETA_DETERMINISTIC=1, kernels cut their work as a pool of this many
// threads would, whatever the pool's real size (see ThreadPool::
// partition_threads()).
inline constexpr int kDeterministicPartition = 8;

// The thread count the plugin uses: THETA_NUM_THREADS when it is set (and
// not empty), else the number of CPUs in this process's affinity mask
// (sched_getaffinity), at least 1. A THETA_NUM_THREADS that is not a whole
// number in [1, kMaxThreads] ("0", "-1", "abc", "4x", "100000") is an
// error: returns 0 and sets *error to a message naming the variable, its
// value and the allowed range (the plugin fails to load with it).
int ThreadCountFromEnvironment(std::string* error);

// THETA_DETERMINISTIC: 1 when it is "1", 0 when it is unset, empty or "0".
// Any other value ("yes", "2", " 1") is an error: returns -1 and sets *error
// to a message naming the variable, its value and the values allowed (the
// plugin fails to load with it).
int DeterministicFromEnvironment(std::string* error);

// Determinism: every kernel computes each output value in an order that
// depends only on the sizes of its arguments, except GEMM, which by default
// cuts C into one block of rows (or columns) per thread, and the OpenBLAS
// kernel that computes a block may round differently for another block
// shape. A pool made with `deterministic` reports partition_threads() ==
// kDeterministicPartition, and GEMM cuts by that: results are then bitwise
// the same for any thread count, at the price of more, smaller BLAS calls
// when the pool has fewer threads (and of at most kDeterministicPartition
// tasks per GEMM when it has more). THETA_DETERMINISTIC=1 turns it on.
// Results also depend on the operands' addresses modulo 64 (Eigen computes
// the elements before its first aligned vector with scalar functions, which
// round differently); a compiled function's buffers are 64-byte aligned
// and their offsets follow from shapes, so its results do not vary.
class ThreadPool {
 public:
  // `num_threads` counts the caller: num_threads - 1 workers are started.
  // Values below 1 are treated as 1. Throws std::system_error when a thread
  // cannot be started.
  explicit ThreadPool(int num_threads, bool deterministic = false);
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }
  bool deterministic() const { return deterministic_; }
  // The thread count kernels size their partitions by: num_threads(), or
  // kDeterministicPartition for a deterministic pool.
  int partition_threads() const {
    return deterministic_ ? kDeterministicPartition : num_threads_;
  }

  // Calls fn(begin, end) on disjoint ranges covering [0, n), each of at
  // least `grain` items except possibly the last, and returns when all are
  // done. Runs fn(0, n) inline on the caller when n <= grain, when the pool
  // has one thread, when called from inside a ParallelFor (nesting), or when
  // another thread is already using the pool. The first exception thrown by
  // fn is rethrown here after every range has finished or been skipped.
  // Thread-safe. fn is only referenced, never copied or allocated.
  template <typename Fn>
  void ParallelFor(int64_t n, int64_t grain, const Fn& fn) {
    Run(n, grain, RangeFn(fn));
  }

 private:
  // A non-owning reference to a callable void(int64_t, int64_t).
  class RangeFn {
   public:
    template <typename Fn>
    explicit RangeFn(const Fn& fn)
        : fn_(&fn), call_([](const void* f, int64_t begin, int64_t end) {
            (*static_cast<const Fn*>(f))(begin, end);
          }) {}
    void operator()(int64_t begin, int64_t end) const {
      call_(fn_, begin, end);
    }

   private:
    const void* fn_;
    void (*call_)(const void*, int64_t, int64_t);
  };
  struct Job;

  void Run(int64_t n, int64_t grain, RangeFn fn);

  void WorkerLoop();
  static void RunChunks(Job& job);

  const int num_threads_;
  const bool deterministic_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // workers wait for a job or stop_
  std::condition_variable done_cv_;  // the caller waits for active_ == 0
  Job* job_ = nullptr;               // the job being run, guarded by mu_
  uint64_t generation_ = 0;          // bumped per job, guarded by mu_
  // generation_, readable without mu_ by workers spinning for the next job.
  std::atomic<uint64_t> published_generation_{0};
  // Workers inside the current job: changed under mu_, read without it by
  // the caller spinning for the job's end.
  std::atomic<int> active_{0};
  bool stop_ = false;
  bool busy_ = false;  // a ParallelFor is running, guarded by mu_
};

}  // namespace theta::cpu

#endif  // THETA_BACKENDS_CPU_THREAD_POOL_H_
