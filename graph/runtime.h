// Run-time data structures of compiled functions: where an array lives
// (ArrayRef), small values known on the host (HostValue), and the prepared
// kernel call of one node (Launch). Nothing here allocates when used.
#ifndef THETA_GRAPH_RUNTIME_H_
#define THETA_GRAPH_RUNTIME_H_

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "backends/api/theta_backend.h"
#include "backends/backend.h"
#include "graph/dims.h"
#include "graph/dtype.h"

namespace theta {

// A device array of a plan: base address slot[slot] plus byte_offset, with
// shape and strides in elements. Slots are filled per call (a shared
// variable's buffer may change between calls); everything else is planned.
struct ArrayRef {
  int32_t slot = -1;
  int64_t byte_offset = 0;
  DType dtype = DType::kFloat32;
  Dims shape;
  Dims strides;

  int64_t numel() const { return shape.product(); }
  int64_t nbytes() const {
    return numel() * static_cast<int64_t>(DTypeSize(dtype));
  }
  bool contiguous() const { return IsContiguous(shape, strides); }
  void* Address(void* const* slots) const {
    return static_cast<char*>(slots[slot]) + byte_offset;
  }
  // The ABI view of this array; shape and strides point into *this, which
  // must outlive the returned struct.
  theta_array ToAbi(void* const* slots) const {
    return theta_array{Address(slots), theta::ToAbi(dtype), shape.size(),
                       shape.data(), strides.data()};
  }
};

// A contiguous ArrayRef of `shape` at slot/offset.
inline ArrayRef MakeContiguousRef(int32_t slot, int64_t offset, DType dtype,
                                  const Dims& shape) {
  return ArrayRef{slot, offset, dtype, shape, ContiguousStrides(shape)};
}

inline constexpr int kMaxHostElements = 16;

// A small tensor whose value is known on the host while a function runs:
// shapes, shape arithmetic, scalar inputs such as a learning rate. Integer
// and bool values are held exactly in `ints`, floats in `floats`.
struct HostValue {
  DType dtype = DType::kInt64;
  Dims shape;
  int64_t ints[kMaxHostElements] = {};
  double floats[kMaxHostElements] = {};

  int64_t size() const { return shape.product(); }
  double AsDouble(int i) const {
    return IsFloat(dtype) ? floats[i] : static_cast<double>(ints[i]);
  }
  int64_t AsInt(int i) const {
    return IsFloat(dtype) ? static_cast<int64_t>(floats[i]) : ints[i];
  }
  void Set(int i, double value);  // converts to dtype (truncating for ints)
  void SetInt(int i, int64_t value);
  bool operator==(const HostValue& other) const;
  std::string ToString() const;
};

// What a Launch sees when it runs.
struct ExecContext {
  backends::Backend* backend = nullptr;
  void* const* slots = nullptr;
  const HostValue* host_values = nullptr;  // indexed by host slot
};

// The prepared kernel calls of one node for one plan (fixed shapes and
// buffer offsets): Run() only fills in addresses and calls the plugin.
class Launch {
 public:
  virtual ~Launch() = default;
  virtual absl::Status Run(const ExecContext& ctx) = 0;

  // A loop is about to Run this launch many times, and until
  // ReleaseFixedOperands the slots marked in `fixed_slots` keep their
  // addresses (in ctx.slots) and values: a loop's non-sequences, shared
  // variables, constants. A launch may prepare what it reads only from
  // those slots once (a GEMM's B: a prepared operand, ABI 1.2). The default
  // prepares nothing.
  virtual absl::Status PrepareFixedOperands(const ExecContext& ctx,
                                            std::span<const bool> fixed_slots) {
    return absl::OkStatus();
  }
  // Releases what PrepareFixedOperands prepared; called once after each
  // successful or failed PrepareFixedOperands.
  virtual void ReleaseFixedOperands(const ExecContext& ctx) {}
};

}  // namespace theta

#endif  // THETA_GRAPH_RUNTIME_H_
