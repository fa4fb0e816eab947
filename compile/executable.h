// Executable: a rewritten graph turned into kernel calls on one backend.
//
// Create() schedules the graph and classifies every variable: computed on
// the device, or a small value known on the host (shapes, shape arithmetic,
// scalar inputs). For each distinct set of input shapes the Planner
// (compile/planner.h) builds a Plan once: shapes inferred node by node,
// device memory planned in one arena (a buffer is reused once its last
// reader has run; an elementwise kernel may write over an input that dies
// with it), and each node's kernel calls prepared. Running a plan (here)
// then only fills a table of base addresses and calls the prepared launches.
//
//   absl::StatusOr<std::unique_ptr<Executable>> exe =
//       Executable::Create(std::move(graph), inputs, backend, options);
//   std::vector<Tensor> outputs;
//   absl::StatusOr<Plan*> plan =
//       (*exe)->PlanAndRun(shapes, tensors, {}, outputs);
//
// Inputs and outputs are bound either to host tensors (what Function does:
// copied in and out, or, on a backend whose memory is the host's, read and
// written in place) or to device arrays the caller provides per run
// ("external"; what a loop body does, reading and writing slices of the
// loop's buffers without copies).
#ifndef THETA_COMPILE_EXECUTABLE_H_
#define THETA_COMPILE_EXECUTABLE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "compile/early_stop.h"
#include "compile/plan.h"
#include "graph/function_graph.h"
#include "graph/ir.h"
#include "graph/op.h"
#include "graph/runtime.h"
#include "graph/shared.h"

namespace theta {

struct ExecutableOptions {
  std::string name;
  // Inputs are device arrays bound by the caller for each run (their shapes
  // and strides given when the plan is built); otherwise host tensors.
  bool external_inputs = false;
  // Host tensor inputs (non-external mode) are read in place: each run
  // binds the tensor's memory to the input's slot instead of copying it to
  // the device. Only for a backend whose memory is the host's; kernels
  // never write to such an input.
  bool bind_host_inputs = false;
  // The user outputs (not the updates) are written to device arrays bound
  // by the caller for each run (contiguous, of the planned shapes);
  // otherwise into the arena, to be read back with ReadOutput().
  bool external_outputs = false;
  // Inputs given as host values (small tensors of static shape, passed to
  // GetPlan/Run as HostValues), by input index; empty: none beyond the
  // scalar inputs of non-external mode.
  std::vector<bool> host_inputs;
  // The last `num_updates` graph outputs are new values of these shared
  // variables (applied by ApplyUpdates after a run).
  std::vector<std::shared_ptr<SharedStorage>> update_targets;
  // Check every node's floating outputs for a NaN or Inf its inputs did not
  // hold (compile/nan_guard.h); loops guard their bodies too.
  bool nan_guard = false;
};

class Executable {
 public:
  // `graph` must be rewritten already; its outputs are what runs produce
  // (user outputs first, then update values). Classifies every variable and
  // copies large constants to the device. Fails when a shape parameter
  // depends on tensor data (the message names the node and where it was
  // created) or the backend cannot hold the constants.
  static absl::StatusOr<std::unique_ptr<Executable>> Create(
      std::unique_ptr<FunctionGraph> graph, std::vector<Var> inputs,
      backends::Backend& backend, ExecutableOptions options);
  Executable(const Executable&) = delete;
  Executable& operator=(const Executable&) = delete;

  FunctionGraph& graph() const { return *graph_; }
  const std::vector<Var>& inputs() const { return inputs_; }
  backends::Backend& backend() const { return *backend_; }
  const std::string& name() const { return options_.name; }
  int num_outputs() const { return graph_->num_outputs(); }
  const std::vector<std::shared_ptr<SharedStorage>>& update_targets() const {
    return options_.update_targets;
  }
  int num_user_outputs() const {
    return num_outputs() - static_cast<int>(options_.update_targets.size());
  }

  // True when input i is a scalar whose value is read on the host.
  bool input_is_host_value(int i) const { return input_host_known_[i]; }

  // Returns the plan for these input shapes (and, for inputs that shape
  // parameters depend on, values), building it on first use. `strides` is
  // used for external inputs only (empty: contiguous). Errors name the
  // function, the node and where it was created.
  // `writable_inputs` (external inputs only; empty: none) flags the
  // inputs the plan may overwrite once it has read them last, as it does
  // its own dying buffers: a loop's sequence whose outer array dies there.
  absl::StatusOr<Plan*> GetPlan(std::span<const Dims> input_shapes,
                                std::span<const Dims> input_strides,
                                std::span<const HostValue> scalar_inputs,
                                std::span<const bool> writable_inputs = {});

  // One run of `plan`. Non-external inputs: `host_inputs` are copied in
  // (or bound in place: ExecutableOptions::bind_host_inputs);
  // external inputs/outputs: their device addresses (element (0,...,0)).
  // Scalar inputs' values are taken from `scalar_inputs` (indexed like
  // inputs; entries for non-scalar inputs are ignored).
  absl::Status Run(Plan& plan, std::span<const Tensor> host_inputs,
                   std::span<void* const> external_inputs,
                   std::span<void* const> external_outputs,
                   std::span<const HostValue> scalar_inputs);

  // The shape of output i in `plan`.
  const Dims& OutputShape(const Plan& plan, int i) const {
    return plan.outputs_[i].ref.shape;
  }

  // A loop's runs of `plan`: from BeginFixedInputs to EndFixedInputs the
  // external inputs flagged in `fixed_inputs` keep the addresses given in
  // `external_inputs` and their values (a loop's non-sequences), as do the
  // shared variables and constants. Launches that read only such memory
  // prepare it once (prepared GEMM operands, ABI 1.2); the runs in between
  // must pass the same addresses for those inputs. Each Begin, whether it
  // succeeded or not, is followed by one End, which releases what it made.
  absl::Status BeginFixedInputs(Plan& plan,
                                std::span<void* const> external_inputs,
                                std::span<const bool> fixed_inputs);
  void EndFixedInputs(Plan& plan);

  // Non-external outputs after a run: copies output i into `out` (reusing
  // its storage when possible; call Synchronize before reading).
  absl::Status ReadOutput(Plan& plan, int i, Tensor& out);
  // Applies the shared-variable updates of the last run.
  void ApplyUpdates(Plan& plan);

  int64_t plans_built() const { return plans_built_; }

  // GetPlan, then Run with host inputs (what Function does), and the user
  // outputs into `outputs` (call Synchronize before reading them). With
  // external outputs, the run writes them in place: an entry is reused when
  // only `outputs` holds its storage, no input shares it and its dtype and
  // shape match, else replaced by a new tensor; otherwise they are copied
  // out of the arena (ReadOutput). After an error `outputs` holds the same
  // tensors, whose contents are unspecified. A loop that stops early at another
  // step than planned makes the plan be built again for the steps it ran, and
  // the run repeated (compile/early_stop.h). Returns the plan that ran, for
  // ApplyUpdates.
  absl::StatusOr<Plan*> PlanAndRun(std::span<const Dims> input_shapes,
                                   std::span<const Tensor> host_inputs,
                                   std::span<const HostValue> scalar_inputs,
                                   std::vector<Tensor>& outputs);

  Plan* last_plan() const { return last_plan_; }

 private:
  friend class Planner;

  struct VarInfo {
    const Variable* var = nullptr;
    bool host_known = false;  // value computed on the host
    bool dynamic = false;     // host value changes between runs of a plan
    bool shape_relevant = false;
    int input_index = -1;     // position among inputs, or -1
    int shared_index = -1;    // position among shared variables, or -1
    int constant_index = -1;  // position among device constants, or -1
    int32_t host_slot = -1;
  };

  Executable(std::unique_ptr<FunctionGraph> graph, std::vector<Var> inputs,
             backends::Backend& backend, ExecutableOptions options);
  // Construction's passes: which variables are host values, inputs, shared
  // variables or device constants; which host values key plans or change
  // per run; host slots; the constants' device copies.
  void ClassifyVariables();
  absl::Status MarkShapeRelevant();
  void MarkDynamicHostValues();
  void AssignHostSlots();
  absl::Status UploadConstants();
  VarInfo& Info(const Variable* v) { return vars_[var_index_.at(v)]; }
  absl::Status EvaluateDynamicHostValues(Plan& plan,
                                         std::span<const HostValue> scalars);
  // PlanAndRun's output tensors for `plan` (external outputs): the
  // caller's where reusable, else new ones in new_outputs_; their
  // addresses in output_addresses_.
  void BindOutputTensors(const Plan& plan, std::span<const Tensor> host_inputs,
                         std::vector<Tensor>& outputs);
  std::string Where(const Node& node) const;
  // Puts a shared variable that another function moved to its own backend
  // back on this one.
  absl::Status BringBack(SharedStorage& storage);
  // Brings every shared variable back and puts its address in its slot.
  absl::Status BindSharedVariables(Plan& plan);
  // `status` of launch `launch`, prefixed with the node it runs (or the
  // function, for launches of no node).
  absl::Status AtLaunch(const Plan& plan, size_t launch,
                        const absl::Status& status) const;

  std::unique_ptr<FunctionGraph> graph_;
  std::vector<Var> inputs_;
  backends::Backend* backend_;
  ExecutableOptions options_;

  std::vector<Node*> schedule_;
  std::vector<VarInfo> vars_;
  absl::flat_hash_map<const Variable*, int> var_index_;
  std::vector<bool> input_host_known_;
  std::vector<int> key_inputs_;  // scalar inputs whose values key plans
  std::vector<Var> shared_vars_;
  std::vector<Var> device_constants_;
  std::vector<backends::Buffer> constant_buffers_;
  int32_t num_host_slots_ = 0;

  std::vector<std::unique_ptr<Plan>> plans_;
  // The rows loops that stop early ran last (compile/early_stop.h), and
  // whether the graph has such loops at all (planning then skips the
  // per-node type checks).
  EarlyStopRows early_stop_rows_;
  bool has_early_stop_nodes_ = false;
  Plan* last_plan_ = nullptr;
  int64_t plans_built_ = 0;
  // PlanAndRun with external outputs: the tensors it allocated for the
  // run (undefined where the caller's is reused), and every output's
  // address; kept to allocate nothing per call.
  std::vector<Tensor> new_outputs_;
  std::vector<void*> output_addresses_;
};

}  // namespace theta

#endif  // THETA_COMPILE_EXECUTABLE_H_
