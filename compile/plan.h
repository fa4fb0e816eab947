// Plan: what one Executable runs for one set of input shapes, built once by
// the Planner (compile/planner.h) and run many times by the Executable: the
// key it was built for, the slot table and device memory (one arena, update
// buffers), the host values, and the prepared launches. Its fields are the
// planner's and the executor's; users read the counters.
//
//   absl::StatusOr<Plan*> plan = exe.GetPlan(shapes, {}, scalars);
//   (*plan)->kernel_launches();
#ifndef THETA_COMPILE_PLAN_H_
#define THETA_COMPILE_PLAN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "graph/dims.h"
#include "graph/ir.h"
#include "graph/runtime.h"

namespace theta {

// The plan for one set of input shapes.
class Plan {
 public:
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // Number of plugin kernel calls per run.
  int kernel_launches() const { return static_cast<int>(launches_.size()); }
  // Host tensor inputs copied to the device per run (the others are bound
  // in place, or read on the host).
  int inputs_copied() const { return static_cast<int>(input_uploads_.size()); }
  int64_t arena_bytes() const { return arena_bytes_; }
  int inplace_outputs() const { return inplace_outputs_; }
  // Launches the NaN guard added (compile/nan_guard.h); 0 when it is off.
  int nan_guard_launches() const { return nan_guard_launches_; }
  // One line per launch: "Elemwise{add} -> arena[0:4096) [in place]".
  const std::vector<std::string>& description() const { return description_; }

 private:
  friend class Executable;
  friend class Planner;

  // Key.
  std::vector<Dims> input_shapes_;
  std::vector<Dims> input_strides_;    // external inputs only
  std::vector<bool> writable_inputs_;  // external inputs only; may be empty
  std::vector<Dims> shared_shapes_;
  std::vector<HostValue> key_values_;
  // Loops that stop early: the rows each was planned for (when reported).
  std::vector<std::pair<const Node*, int64_t>> early_stop_rows_;

  // Memory: slot 0 is the arena; then shared variables, device constants,
  // update buffers, external inputs, external outputs.
  backends::Buffer arena_;
  int64_t arena_bytes_ = 0;
  std::vector<backends::Buffer> update_buffers_;
  std::vector<void*> slots_;
  int32_t first_update_slot_ = 0;
  int32_t first_external_input_slot_ = 0;
  int32_t first_external_output_slot_ = 0;

  // Host values: static ones computed when planning, dynamic ones (that
  // depend on scalar inputs outside the key) recomputed per run.
  std::vector<HostValue> host_values_;
  struct HostStep {
    Node* node;
    std::vector<int32_t> input_slots;  // -1: value not needed
    std::vector<Dims> input_shapes;
    int32_t first_output_slot;
  };
  std::vector<HostStep> dynamic_host_steps_;

  // Function inputs copied to the device per run (non-external mode).
  struct InputUpload {
    int input;
    ArrayRef ref;
  };
  std::vector<InputUpload> input_uploads_;
  // Function inputs whose host memory is bound to their external input slot
  // per run instead (ExecutableOptions::bind_host_inputs).
  std::vector<int> input_bindings_;
  std::vector<int32_t> input_host_slots_;  // per input; -1 if not host-known

  std::vector<std::unique_ptr<Launch>> launches_;
  std::vector<const Node*> launch_nodes_;  // for error messages
  std::vector<std::string> description_;

  // Outputs: a device array, or a host value.
  struct OutputSource {
    int32_t host_slot = -1;
    ArrayRef ref;
  };
  std::vector<OutputSource> outputs_;

  // Update u is computed into update_buffers_[u] (never in place: see
  // Planner::PlaceUpdate) and swapped in with this shape after the call.
  std::vector<Dims> update_shapes_;
  // Between Executable::BeginFixedInputs and EndFixedInputs: which slots
  // stay fixed (one flag per slot), and whether the launches hold prepared
  // operands.
  std::unique_ptr<bool[]> fixed_slots_;
  bool fixed_operands_prepared_ = false;
  int inplace_outputs_ = 0;
  int nan_guard_launches_ = 0;
};

}  // namespace theta

#endif  // THETA_COMPILE_PLAN_H_
