// Planner: builds the Plan of one Executable for one set of input shapes, in
// passes that each do one thing:
//
//   1. key and slots   what the plan is for; where each kind of array lives
//   2. leaves          inputs, shared variables, constants
//   3. shapes          every node's output shapes (and host values), in
//                      schedule order, and which view ops can be views
//   4. lifetimes       the last reader of every buffer (views share theirs)
//   5. memory          an arena offset, a caller's array or an update buffer
//                      for every device value; in place where an input dies
//   6. outputs         final copies and uploads into the output arrays
//   7. launches        each node's prepared kernel calls
//   8. allocation      the arena, update buffers, static uploads
//
//   Planner planner(exe, input_shapes, input_strides, scalar_inputs);
//   absl::StatusOr<std::unique_ptr<Plan>> plan = planner.Build();
//
// Planning allocates (once per new set of shapes); running a plan does not.
#ifndef THETA_COMPILE_PLANNER_H_
#define THETA_COMPILE_PLANNER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "compile/arena_planner.h"
#include "compile/executable.h"
#include "compile/plan.h"

namespace theta {

class Planner {
 public:
  // `exe` must outlive the planner; the spans must outlive Build().
  Planner(Executable& exe, std::span<const Dims> input_shapes,
          std::span<const Dims> input_strides,
          std::span<const HostValue> scalar_inputs,
          std::span<const bool> writable_inputs = {});
  Planner(const Planner&) = delete;
  Planner& operator=(const Planner&) = delete;

  // Runs every pass; errors name the function and the node.
  absl::StatusOr<std::unique_ptr<Plan>> Build();

 private:
  using VarInfo = Executable::VarInfo;

  // 1. Key and slots.
  absl::Status SetKey();
  void LayOutSlots();
  // 2. Leaves.
  absl::Status BindLeaves();
  void BindHostConstants();
  // 3. Shapes.
  absl::Status InferShapes();
  void GatherInputs(const Node& node);
  absl::Status EvaluateHostNode(Node& node, std::span<Dims> out_shapes);
  absl::Status InferDeviceNode(Node& node, std::span<Dims> out_shapes);
  absl::Status CheckOutputShapes(const Node& node,
                                 std::span<const Dims> out_shapes);
  absl::Status TryView(const Node& node);
  const ArrayRef& LayoutOf(int idx, DType dtype);
  // 4. Lifetimes.
  void ComputeLifetimes();
  // 5. Memory.
  void PlaceInputs();
  void FindCallerPlacements();
  // Adds to external_output_of_ the intermediates an external output is
  // computed in place over (through chains of them).
  void ChainExternalOutputs();
  // The values an op built in a caller's array would copy verbatim into
  // windows of it (Op::OutputWindows) and that can be computed there
  // directly: each with its window.
  void FindValuesInOutputWindows();
  absl::Status PlaceNodes();
  absl::Status PlaceView(const Node& node, int idx);
  void PlaceUpdate(const Node& node, int idx, int u);
  void PlaceOverDyingInputOrAllocate(const Node& node, int k, int idx);
  // Whether variable idx is a root whose block (of the arena, or a
  // writable external input) dies at schedule index k.
  bool OwnsBlockDyingAt(int idx, int k) const;
  // Whether node k's input i may be overwritten by its launch: its own
  // block, read last by this node, through input i only.
  bool InputDiesAt(const Node& node, int k, int i) const;
  void RecordDyingInputs(const Node& node, int k);
  void FreeDeadBuffers(const Node& node, int k);
  void Allocate(int idx, DType dtype);
  // 6. Outputs.
  void PlaceGraphOutputs();
  // 7. Launches.
  absl::Status MakeLaunches();
  absl::Status MakeNodeLaunch(Node& node);
  // The NaN guard (compile/nan_guard.h; planner_nan_guard.cc): when the
  // executable's options ask for it, a scratch block in the arena reserved
  // before any node is placed, and the guard's launches around each node's
  // launch. No-ops when the guard is off.
  void ReserveNanGuardScratch();
  void PushNanGuardBefore(const Node& node, std::span<const ArrayRef> inputs,
                          std::span<const ArrayRef> outputs,
                          std::span<const bool> unread);
  void PushNanGuardAfter(const Node& node);
  // 8. Allocation.
  absl::Status AllocateMemory();
  absl::Status UploadStaticHostValues();

  int Index(const Variable* v) const { return exe_.var_index_.at(v); }
  const VarInfo& Info(const Variable* v) const { return exe_.vars_[Index(v)]; }
  absl::Status Annotate(const absl::Status& status,
                        const std::string& prefix) const;
  absl::Status AtNode(const absl::Status& status, const Node& node) const;

  Executable& exe_;
  std::span<const Dims> input_shapes_;
  std::span<const Dims> input_strides_;
  std::span<const HostValue> scalar_inputs_;
  std::span<const bool> writable_inputs_;
  std::unique_ptr<Plan> plan_;
  std::string function_prefix_;

  // Slot layout (slot 0 is the arena).
  int32_t num_shared_ = 0;
  int32_t num_constants_ = 0;
  int32_t num_updates_ = 0;
  int32_t first_shared_slot_ = 1;
  int32_t first_constant_slot_ = 0;
  int first_update_output_ = 0;

  // Per variable (indexed like Executable::vars_).
  std::vector<Dims> shape_;
  std::vector<ArrayRef> ref_;
  std::vector<bool> on_device_;
  std::vector<ArrayRef> layout_;  // pass 3: layouts seen by views
  std::vector<bool> is_view_;
  std::vector<int> root_;      // the variable whose buffer a view shares
  std::vector<int> last_use_;  // schedule index of the last reader
  std::vector<bool> needs_upload_;
  std::vector<int64_t> arena_offset_;
  std::vector<bool> inplace_;
  std::vector<int> readers_;  // node inputs reading each variable
  // External inputs the plan may overwrite at their last use.
  std::vector<bool> writable_;
  // Per node with inputs its launch may overwrite (LaunchContext::
  // inputs_dying): one flag per input.
  absl::flat_hash_map<const Node*, absl::InlinedVector<bool, 4>> dying_inputs_;

  // Scratch for one node's inputs, views and launch, reused across nodes so
  // that planning a node does not allocate for them.
  std::vector<Dims> in_shapes_;
  std::vector<const HostValue*> in_values_;
  std::vector<ArrayRef> launch_in_refs_;
  std::vector<int32_t> launch_in_host_slots_;
  std::vector<ArrayRef> launch_out_refs_;
  absl::InlinedVector<bool, 4> launch_unread_;

  ArenaPlanner arena_;
  // Which graph outputs are update values (of which update), which values
  // are written into caller's arrays (external output index), and which
  // into windows of them.
  absl::flat_hash_map<const Variable*, int> update_of_;
  absl::flat_hash_map<const Variable*, int> external_output_of_;
  absl::flat_hash_map<const Variable*, ArrayRef> window_of_;
  std::vector<bool> update_placed_;

  // Host values uploaded once (host slot, variable) or per run (launches).
  std::vector<std::pair<int32_t, int>> static_uploads_;
  std::vector<std::unique_ptr<Launch>> upload_launches_;
  std::vector<std::string> upload_descriptions_;
  // Copies and uploads into output arrays after the last node.
  std::vector<std::pair<ArrayRef, ArrayRef>> final_copies_;
  std::vector<std::pair<int32_t, ArrayRef>> final_uploads_;
  // The NaN guard's scratch (slot -1 when the guard is off) and the launch
  // that checks the node whose launch was just made.
  ArrayRef nan_guard_scratch_;
  std::unique_ptr<Launch> nan_guard_after_;
};

}  // namespace theta

#endif  // THETA_COMPILE_PLANNER_H_
