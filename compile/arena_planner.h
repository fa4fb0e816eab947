// ArenaPlanner: assigns byte offsets in one device arena to buffers with
// known lifetimes, reusing freed ranges (best fit, adjacent free ranges
// merged). Planning only; nothing is allocated.
//
//   ArenaPlanner arena;
//   int64_t a = arena.Allocate(4096);   // 0
//   arena.Free(a);
//   int64_t b = arena.Allocate(1024);   // 0 again
#ifndef THETA_COMPILE_ARENA_PLANNER_H_
#define THETA_COMPILE_ARENA_PLANNER_H_

#include <cstdint>
#include <map>

namespace theta {

class ArenaPlanner {
 public:
  static constexpr int64_t kAlignment = 64;

  // Offset of a new range of `bytes` bytes (rounded up to the alignment).
  int64_t Allocate(int64_t bytes);
  // Returns the range starting at `offset` to the free list.
  void Free(int64_t offset);
  // Bytes the arena needs.
  int64_t size() const { return end_; }

 private:
  std::map<int64_t, int64_t> free_;  // offset -> size
  std::map<int64_t, int64_t> used_;  // offset -> size
  int64_t end_ = 0;
};

}  // namespace theta

#endif  // THETA_COMPILE_ARENA_PLANNER_H_
