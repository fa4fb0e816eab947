// Grow-only temporary memory owned by a stream, so that kernels needing
// per-call work space (reduction partials, gathered indices) allocate only
// while a program warms up, never in its steady state.
//
//   int64_t* index = stream.scratch.Get<int64_t>(Scratch::kFirst, count);
//
// The ABI forbids concurrent calls on one stream, so a stream's scratch has
// one user at a time; a kernel may hand disjoint parts of it to the pool.
#ifndef THETA_BACKENDS_CPU_SCRATCH_H_
#define THETA_BACKENDS_CPU_SCRATCH_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace theta::cpu {

class Scratch {
 public:
  // Independent regions: a kernel that needs two arrays at once uses both.
  enum Slot { kFirst = 0, kSecond = 1, kNumSlots = 2 };

  // Room for `count` elements of T in `slot`, aligned for T, contents
  // unspecified, valid until the next Get on the same slot. Allocates only
  // when the slot's capacity is too small. Throws std::bad_alloc when
  // memory runs out (the plugin's edge reports it).
  template <typename T>
  T* Get(Slot slot, int64_t count) {
    static_assert(std::is_trivially_copyable_v<T> &&
                  alignof(T) <= alignof(std::max_align_t));
    return static_cast<T*>(Bytes(slot, static_cast<size_t>(count) * sizeof(T)));
  }

 private:
  struct Region {
    std::unique_ptr<std::byte[]> data;
    size_t size = 0;
  };

  void* Bytes(Slot slot, size_t bytes) {
    Region& r = regions_[slot];
    if (bytes > r.size) {
      // Grow geometrically so a slowly growing request allocates rarely,
      // except past kExactAbove, where doubling would pin too much. The old
      // region goes first, so the peak is the new size alone.
      const size_t size =
          bytes > kExactAbove ? bytes : std::max(bytes, r.size * 2);
      r.data.reset();
      r.size = 0;
      r.data.reset(new std::byte[size]);
      r.size = size;
    }
    return r.data.get();
  }

  static constexpr size_t kExactAbove = size_t{64} << 20;
  Region regions_[kNumSlots];
};

}  // namespace theta::cpu

#endif  // THETA_BACKENDS_CPU_SCRATCH_H_
