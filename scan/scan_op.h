// The Scan op: a loop whose body is a graph (the inner graph), compiled once
// and run as a plan of kernel calls per step, reading sequence rows and
// earlier outputs through views and writing each step's results straight
// into the output rows.
//
// Node inputs: [n_steps, sequences..., initial states..., non-sequences...].
// Node outputs: one per ScanOutput, in order.
#ifndef THETA_SCAN_SCAN_OP_H_
#define THETA_SCAN_SCAN_OP_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "compile/early_stop.h"
#include "compile/executable.h"
#include "graph/op.h"
#include "graph/source_info.h"

namespace theta {

struct ScanSequence {
  std::vector<int> taps;  // as listed by the user
  std::string name;       // for errors
  // Read from the last usable position backwards (go_backwards; gradients
  // read some sequences backwards and others forwards).
  bool backwards = false;
  int lo() const;  // min(min taps, 0)
  int hi() const;  // max(max taps, 0)
};

enum class ScanOutputKind {
  kMap,        // not fed back; N rows
  kRecurrent,  // fed back through negative taps; N rows; initial (m, ...)
  kLast,       // fed back through tap -1; only the final state is output
};

struct ScanOutput {
  ScanOutputKind kind = ScanOutputKind::kMap;
  std::vector<int> taps;  // kRecurrent: all negative; kLast: {-1}
  std::string name;
  // kMap only: rows are stored in reverse iteration order (row N-1-u for
  // iteration u). Used by gradients, whose loops run backwards but whose
  // results are wanted in forward order.
  bool reverse_storage = false;
  // kRecurrent only: the output array begins with the initial value's m
  // rows (the states at times -m .. -1), then the N step rows: m + N rows.
  // Set when compiling (scan_store_initial_rows) where the output is also
  // read joined after its initial rows, as a gradient's backward loop reads
  // the states: that reader then takes the array itself, not a copy.
  bool stores_initial_rows = false;
  int m() const;  // rows of the initial state (max |tap|; 0 for kMap)
  // Rows of the output array before the first step's row.
  int rows_before_steps() const { return stores_initial_rows ? m() : 0; }
};

// Everything that defines a loop besides its node inputs.
struct ScanSpec {
  std::vector<ScanSequence> sequences;
  std::vector<ScanOutput> outputs;
  int num_non_sequences = 0;
  // Non-sequences that are small values known on the host (shapes): the
  // body receives them as host values, so that it may use them as shape
  // parameters.
  std::vector<bool> non_sequence_on_host;
  int truncate_gradient = -1;
  bool has_until = false;
  std::string name;
  SourceInfo source;  // where scan() was called

  // The body: placeholders for every slice, tap and non-sequence, in node
  // input order (sequence taps, output taps (kRecurrent, then kLast), non-
  // sequences), and one inner output per ScanOutput (then `until`).
  std::vector<Var> inner_inputs;
  std::vector<Var> inner_outputs;

  int num_initial_states() const;  // outputs that are not kMap
  int first_initial_input() const {
    return 1 + static_cast<int>(sequences.size());
  }
  int first_non_sequence_input() const {
    return first_initial_input() + num_initial_states();
  }
  // Index in inner_inputs of the first placeholder of sequence s / output o
  // (outputs that are not kMap) / non-sequence j.
  int inner_sequence_input(int s) const;
  int inner_output_input(int o) const;
  int inner_non_sequence_input(int j) const;
  // Which initial-state node input belongs to output o (-1 for kMap).
  int initial_input_of_output(int o) const;
};

// A loop with `until` has as many output rows as steps ran: it is an
// EarlyStopOp (compile/early_stop.h).
class Scan final : public Op, public EarlyStopOp {
 public:
  explicit Scan(std::shared_ptr<const ScanSpec> spec);
  const ScanSpec& spec() const { return *spec_; }
  const std::shared_ptr<const ScanSpec>& spec_ptr() const { return spec_; }

  std::string name() const override;
  bool Equals(const Op& other) const override;
  size_t Hash() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  absl::Status InferShapesForRows(ShapeContext& ctx,
                                  std::optional<int64_t> rows) const override;
  bool IsShapeParameter(int input) const override { return input == 0; }
  bool ConsumesHostValue(const Node& node, int input) const override;
  bool IsDifferentiable(int input) const override { return input > 0; }
  bool Foldable() const override { return false; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

  // The compiled body for `backend` (compiled on first use, then shared by
  // every plan and every node using this op); with `nan_guard`, a body
  // compiled with the NaN guard (compile/nan_guard.h).
  absl::StatusOr<Executable*> Body(backends::Backend& backend,
                                   bool nan_guard = false) const;

 private:
  std::shared_ptr<const ScanSpec> spec_;
  mutable std::mutex mu_;
  mutable std::map<std::pair<backends::Backend*, bool>,
                   std::unique_ptr<Executable>>
      bodies_;
};

const Scan* AsScan(const Node* node);

// Creates a Scan node; the inputs are [n_steps, sequences..., initial
// states..., non-sequences...].
std::vector<Var> MakeScanNode(std::shared_ptr<const ScanSpec> spec,
                              std::vector<Var> inputs);

}  // namespace theta

#endif  // THETA_SCAN_SCAN_OP_H_
