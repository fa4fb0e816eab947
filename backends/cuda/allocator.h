// A caching allocator for device memory, so that a training loop that frees
// and allocates the same sizes every step calls cudaMalloc only in its first
// step. Requests are rounded up to size classes; a freed block goes back to
// the cache of its class and serves the next request of that class. Cached
// blocks are released on demand (ReleaseCached, the plugin's
// "cuda.release_cached_memory" extension), when an allocation would
// otherwise fail, and when the allocator is destroyed (device_close).
//
// The underlying allocate/release functions are given at construction, so
// the bookkeeping is tested without a device:
//
//   CachingAllocator a({.allocate = CudaMalloc, .release = CudaFree});
//   CachingAllocator::Block b;
//   if (theta_status* s = a.Allocate(1000, &b)) return s;
//   a.Free(b);  // cached: the next Allocate(1000) reuses it
//
// Thread-safe. Freeing a block makes it immediately reusable: the ABI has
// the caller synchronize before buffer_free.
#ifndef THETA_BACKENDS_CUDA_ALLOCATOR_H_
#define THETA_BACKENDS_CUDA_ALLOCATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "backends/api/theta_backend.h"

namespace theta::cuda {

class CachingAllocator {
 public:
  struct Source {
    // Allocates `bytes` (a size class); NULL on success, else a status
    // (OUT_OF_MEMORY makes the allocator release its cache and retry once).
    std::function<theta_status*(uint64_t bytes, void** out)> allocate;
    // Returns a block obtained from `allocate` of that size.
    std::function<void(void* ptr, uint64_t bytes)> release;
  };
  struct Options {
    // A freed block that would take the cache above this is released.
    uint64_t max_cached_bytes = UINT64_MAX;
  };
  struct Block {
    void* ptr = nullptr;
    uint64_t size = 0;  // the size class
  };
  struct Stats {
    uint64_t bytes_in_use = 0;  // by size class
    uint64_t bytes_cached = 0;
    uint64_t blocks_in_use = 0;
    uint64_t blocks_cached = 0;
    uint64_t source_allocations = 0;  // calls of Source::allocate that worked
    uint64_t source_releases = 0;
    uint64_t cache_hits = 0;
  };

  // Smallest size class; every class is a multiple of it, so blocks keep the
  // source's alignment (cudaMalloc: 256 bytes).
  static constexpr uint64_t kMinClass = 512;
  // Classes step by a quarter of the power of two below the request, at
  // most this much (2 MiB), so rounding wastes at most 25% and 2 MiB.
  static constexpr uint64_t kMaxStep = uint64_t{2} << 20;

  // The size class of a request of `bytes` > 0: kMinClass for small
  // requests, else `bytes` rounded up to a multiple of
  // clamp(bit_floor(bytes - 1) / 4, kMinClass, kMaxStep). 0 when the class
  // would not fit in 64 bits.
  static uint64_t SizeClass(uint64_t bytes);

  explicit CachingAllocator(Source source);
  CachingAllocator(Source source, Options options);
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;
  // Releases the cached blocks; blocks still in use are left alone.
  ~CachingAllocator();

  // A block of at least `bytes` (> 0) bytes, from the cache when one of the
  // class is there. On failure *out is unchanged and the status says why.
  theta_status* Allocate(uint64_t bytes, Block* out);
  // Returns a block from Allocate to the cache.
  void Free(const Block& block);
  // Releases every cached block to the source.
  void ReleaseCached();
  Stats stats() const;

 private:
  void ReleaseCachedLocked();

  const Source source_;
  const Options options_;
  mutable std::mutex mu_;
  std::map<uint64_t, std::vector<void*>> cache_;  // size class -> blocks
  Stats stats_;
};

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_ALLOCATOR_H_
