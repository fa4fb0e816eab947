#include "backends/cuda/allocator.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "backends/cuda/status.h"

namespace theta::cuda {

uint64_t CachingAllocator::SizeClass(uint64_t bytes) {
  if (bytes <= kMinClass) return kMinClass;
  const uint64_t step =
      std::clamp<uint64_t>(std::bit_floor(bytes - 1) / 4, kMinClass, kMaxStep);
  if (bytes > UINT64_MAX - (step - 1)) return 0;
  return (bytes + step - 1) / step * step;
}

CachingAllocator::CachingAllocator(Source source)
    : CachingAllocator(std::move(source), Options()) {}

CachingAllocator::CachingAllocator(Source source, Options options)
    : source_(std::move(source)), options_(options) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseCachedLocked();
}

theta_status* CachingAllocator::Allocate(uint64_t bytes, Block* out) {
  const uint64_t size = SizeClass(bytes);
  if (size == 0) {
    return MakeStatus(THETA_STATUS_OUT_OF_MEMORY,
                      StrCat("cannot allocate ", bytes, " bytes"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(size);
  if (it != cache_.end() && !it->second.empty()) {
    out->ptr = it->second.back();
    out->size = size;
    it->second.pop_back();
    if (it->second.empty()) cache_.erase(it);
    stats_.bytes_cached -= size;
    --stats_.blocks_cached;
    stats_.bytes_in_use += size;
    ++stats_.blocks_in_use;
    ++stats_.cache_hits;
    return nullptr;
  }
  void* ptr = nullptr;
  theta_status* status = source_.allocate(size, &ptr);
  if (status != nullptr && status->code == THETA_STATUS_OUT_OF_MEMORY &&
      stats_.blocks_cached > 0) {
    // Memory held by the cache may be what is missing.
    FreeStatus(status);
    ReleaseCachedLocked();
    ptr = nullptr;
    status = source_.allocate(size, &ptr);
  }
  if (status != nullptr) return status;
  out->ptr = ptr;
  out->size = size;
  ++stats_.source_allocations;
  stats_.bytes_in_use += size;
  ++stats_.blocks_in_use;
  return nullptr;
}

void CachingAllocator::Free(const Block& block) {
  if (block.ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.bytes_in_use -= block.size;
  --stats_.blocks_in_use;
  if (stats_.bytes_cached + block.size > options_.max_cached_bytes ||
      stats_.bytes_cached + block.size < stats_.bytes_cached) {
    source_.release(block.ptr, block.size);
    ++stats_.source_releases;
    return;
  }
  // A failed push_back (out of host memory) releases the block instead.
  try {
    cache_[block.size].push_back(block.ptr);
  } catch (...) {
    source_.release(block.ptr, block.size);
    ++stats_.source_releases;
    return;
  }
  stats_.bytes_cached += block.size;
  ++stats_.blocks_cached;
}

void CachingAllocator::ReleaseCached() {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseCachedLocked();
}

void CachingAllocator::ReleaseCachedLocked() {
  for (auto& [size, blocks] : cache_) {
    for (void* ptr : blocks) {
      source_.release(ptr, size);
      ++stats_.source_releases;
    }
  }
  cache_.clear();
  stats_.bytes_cached = 0;
  stats_.blocks_cached = 0;
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace theta::cuda
