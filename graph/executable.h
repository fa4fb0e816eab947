// Executable: a rewritten graph turned into kernel calls on one backend.
//
// At construction the graph is scheduled and every variable classified:
// computed on the device, or a small value known on the host (shapes, shape
// arithmetic, scalar inputs). For each distinct set of input shapes a Plan
// is built once: shapes inferred node by node, device memory planned in one
// arena (a buffer is reused once its last reader has run; an elementwise
// kernel may write over an input that dies with it), and each node's kernel
// calls prepared. Running a plan then only fills a table of base addresses
// and calls the prepared launches.
//
// Inputs and outputs are bound either to host tensors (copied in and out;
// what Function does) or to device arrays the caller provides per run
// ("external"; what a loop body does, reading and writing slices of the
// loop's buffers without copies).
#ifndef THETA_GRAPH_EXECUTABLE_H_
#define THETA_GRAPH_EXECUTABLE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
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
  // Outputs are written to device arrays bound by the caller for each run
  // (contiguous, of the planned shapes); otherwise into the arena, to be
  // read back with OutputRef().
  bool external_outputs = false;
  // Inputs given as host values (small tensors of static shape, passed to
  // GetPlan/Run as HostValues), by input index; empty: none beyond the
  // scalar inputs of non-external mode.
  std::vector<bool> host_inputs;
  // The last `num_updates` graph outputs are new values of these shared
  // variables (applied by ApplyUpdates after a run).
  std::vector<std::shared_ptr<SharedStorage>> update_targets;
};

// The plan for one set of input shapes.
class Plan {
 public:
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // Number of plugin kernel calls per run.
  int kernel_launches() const { return static_cast<int>(launches_.size()); }
  int64_t arena_bytes() const { return arena_bytes_; }
  int inplace_outputs() const { return inplace_outputs_; }
  // One line per launch: "Elemwise{add} -> arena[0:4096) [in place]".
  const std::vector<std::string>& description() const { return description_; }

 private:
  friend class Executable;

  // Key.
  std::vector<Dims> input_shapes_;
  std::vector<Dims> input_strides_;  // external inputs only
  std::vector<Dims> shared_shapes_;
  std::vector<HostValue> key_values_;
  std::vector<std::pair<const Node*, int64_t>> row_hints_;

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

  // Updates: result buffer index (or -1 when computed in place into the
  // shared variable's own buffer) and the result's shape.
  struct UpdateAction {
    int buffer = -1;
    Dims shape;
  };
  std::vector<UpdateAction> updates_;
  int inplace_outputs_ = 0;
};

class Executable : private RowCountSink {
 public:
  // `graph` must be rewritten already; its outputs are what runs produce
  // (user outputs first, then update values).
  Executable(std::unique_ptr<FunctionGraph> graph, std::vector<Var> inputs,
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
  absl::StatusOr<Plan*> GetPlan(std::span<const Dims> input_shapes,
                                std::span<const Dims> input_strides,
                                std::span<const HostValue> scalar_inputs);

  // One run of `plan`. Non-external inputs: `host_inputs` are copied in;
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

  // Non-external outputs after a run: copies output i into `out` (reusing
  // its storage when possible; call Synchronize before reading).
  absl::Status ReadOutput(Plan& plan, int i, Tensor& out);
  // Applies the shared-variable updates of the last run.
  void ApplyUpdates(Plan& plan);

  int64_t plans_built() const { return plans_built_; }

  // Runs that must be repeated because a loop stopped at another step than
  // planned: GetPlan then plans for the reported count.
  void ReportRows(const Node* node, int64_t rows) override {
    row_hints_[node] = rows;
  }
  Plan* last_plan() const { return last_plan_; }

 private:
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

  void Classify();
  VarInfo& Info(const Variable* v) { return vars_[var_index_.at(v)]; }
  absl::StatusOr<std::unique_ptr<Plan>> BuildPlan(
      std::span<const Dims> input_shapes, std::span<const Dims> input_strides,
      std::span<const HostValue> scalar_inputs);
  absl::Status EvaluateDynamicHostValues(Plan& plan,
                                         std::span<const HostValue> scalars);
  // Adds to `external_output_of` the intermediates an external output is
  // computed in place over (through chains of them). `readers`: how many
  // node inputs read each variable.
  void ChainExternalOutputs(
      std::span<const Dims> shape, const std::vector<bool>& is_view,
      std::span<const int> readers,
      const absl::flat_hash_map<const Variable*, int>& update_of,
      absl::flat_hash_map<const Variable*, int>& external_output_of);
  // The values an op built in a caller's array would copy verbatim into
  // windows of it (Op::OutputWindows) and that can be computed there
  // directly: each with its window.
  absl::flat_hash_map<const Variable*, ArrayRef> ValuesInOutputWindows(
      const Plan& plan, std::span<const Dims> shape,
      const std::vector<bool>& is_view, std::span<const int> readers,
      const absl::flat_hash_map<const Variable*, int>& update_of,
      const absl::flat_hash_map<const Variable*, int>& external_output_of);
  std::string Where(const Node& node) const;

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
  absl::flat_hash_map<const Node*, int64_t> row_hints_;
  Plan* last_plan_ = nullptr;
  int64_t plans_built_ = 0;
};

}  // namespace theta

#endif  // THETA_GRAPH_EXECUTABLE_H_
