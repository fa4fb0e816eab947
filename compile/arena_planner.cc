#include "compile/arena_planner.h"

#include <iterator>

namespace theta {

int64_t ArenaPlanner::Allocate(int64_t bytes) {
  int64_t size = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (size == 0) size = kAlignment;
  auto best = free_.end();
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second >= size &&
        (best == free_.end() || it->second < best->second)) {
      best = it;
    }
  }
  int64_t offset;
  if (best != free_.end()) {
    offset = best->first;
    int64_t remaining = best->second - size;
    free_.erase(best);
    if (remaining > 0) free_[offset + size] = remaining;
  } else if (!free_.empty() &&
             std::prev(free_.end())->first + std::prev(free_.end())->second ==
                 end_) {
    // Extend the free range at the end of the arena.
    auto last = std::prev(free_.end());
    offset = last->first;
    free_.erase(last);
    end_ = offset + size;
  } else {
    offset = end_;
    end_ += size;
  }
  used_[offset] = size;
  return offset;
}

void ArenaPlanner::Free(int64_t offset) {
  auto it = used_.find(offset);
  if (it == used_.end()) return;
  int64_t size = it->second;
  used_.erase(it);
  auto next = free_.lower_bound(offset);
  if (next != free_.end() && offset + size == next->first) {
    size += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == offset) {
      prev->second += size;
      return;
    }
  }
  free_[offset] = size;
}

}  // namespace theta
