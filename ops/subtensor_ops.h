// The indexing ops behind ops/subtensor.h, for rewrites and scan.
#ifndef THETA_OPS_SUBTENSOR_OPS_H_
#define THETA_OPS_SUBTENSOR_OPS_H_

#include <optional>
#include <vector>

#include "graph/op.h"
#include "ops/subtensor.h"

namespace theta {

// One entry of a basic index: a range or a single index. Bounds are either
// constants or node inputs (integer scalars known on the host).
struct IndexEntry {
  bool is_index = false;
  int64_t start = kNone;
  int64_t stop = kNone;
  int64_t step = 1;
  int start_input = -1;  // node input holding start, or -1
  int stop_input = -1;

  bool operator==(const IndexEntry& o) const {
    return is_index == o.is_index && start == o.start && stop == o.stop &&
           step == o.step && start_input == o.start_input &&
           stop_input == o.stop_input;
  }
};

// `entries` with their bound inputs moved by `delta` node inputs (for an op
// built over the same bounds with other inputs before them).
std::vector<IndexEntry> ShiftBounds(std::vector<IndexEntry> entries, int delta);

// The resolved index for concrete shapes: per input dimension, the first
// element, the count and the step (count -1 marks a removed dimension).
struct ResolvedIndex {
  Dims start, count, step;
  bool removed[kMaxDims] = {};
};

// Resolves `entries` for an input of shape `shape` (Python semantics).
absl::StatusOr<ResolvedIndex> ResolveIndex(
    const std::vector<IndexEntry>& entries, const Dims& shape,
    std::span<const HostValue* const> input_values);

// x[entries]: a view when every step is positive, else a copy.
class Subtensor : public Op {
 public:
  explicit Subtensor(std::vector<IndexEntry> entries)
      : entries_(std::move(entries)) {}
  const std::vector<IndexEntry>& entries() const { return entries_; }

  std::string name() const override;
  bool Equals(const Op& other) const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsShapeParameter(int input) const override { return input > 0; }
  bool IsDifferentiable(int input) const override { return input == 0; }
  bool HostEvaluable() const override { return true; }
  absl::Status EvaluateOnHost(HostEvalContext& ctx) const override;
  int ViewOf() const override { return 0; }
  absl::Status MakeView(ViewContext& ctx) const override;
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  std::vector<IndexEntry> entries_;
};

// x with x[entries] set to / incremented by y: inputs (x, y, bounds...).
class IncSubtensor : public Op {
 public:
  IncSubtensor(std::vector<IndexEntry> entries, bool set)
      : entries_(std::move(entries)), set_(set) {}
  const std::vector<IndexEntry>& entries() const { return entries_; }
  bool set() const { return set_; }

  std::string name() const override;
  bool Equals(const Op& other) const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsShapeParameter(int input) const override { return input > 1; }
  bool IsDifferentiable(int input) const override { return input < 2; }
  bool CanRunInPlace(int input) const override { return input == 0; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  std::vector<IndexEntry> entries_;
  bool set_;
};

// Zeros of shape (d0, ..., d[r-1]) with values added into parts: inputs
// (y_0, ..., y_{P-1}, d0, ..., d[r-1], bounds...), y_p added at `parts[p]`
// (which may overlap; with one part, adding into zeros is setting). What
// inc_subtensor or set_subtensor into zeros compiles to (rewrite
// "place_in_zeros"), and increments of that (rewrite "merge_placements":
// the gradient through the slices of one tensor, as an LSTM's gates). No
// zeros are computed where the parts cover every element once; where one
// part covers the whole result (the gradient of every row of a loop's
// sequence) the result is its value itself, a view. Only compiled graphs
// hold it, so it has no gradient.
class PlaceInZeros : public Op {
 public:
  PlaceInZeros(std::vector<std::vector<IndexEntry>> parts, TensorType type)
      : parts_(std::move(parts)), type_(std::move(type)) {}
  const std::vector<std::vector<IndexEntry>>& parts() const { return parts_; }
  int num_parts() const { return static_cast<int>(parts_.size()); }
  // Inputs before the bounds: the values and the sizes.
  int num_leading_inputs() const { return num_parts() + rank(); }

  std::string name() const override;
  bool Equals(const Op& other) const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsShapeParameter(int input) const override {
    return input >= num_parts();
  }
  int ViewOf() const override { return num_parts() == 1 ? 0 : -1; }
  absl::Status MakeView(ViewContext& ctx) const override;
  // Where the parts cover the result once, each value's part (with positive
  // steps and the value's exact shape) is its window.
  std::vector<std::optional<ArrayRef>> OutputWindows(
      const WindowContext& ctx) const override;
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;

 private:
  int rank() const { return type_.ndim(); }
  // The parts, for a result of shape `out`.
  absl::StatusOr<std::vector<ResolvedIndex>> Parts(
      const Dims& out, std::span<const HostValue* const> values) const;
  // Part `part` of `out` as a window for a value of `value_shape` (none
  // where the part runs backwards or the value would broadcast into it).
  static std::optional<ArrayRef> Window(const ArrayRef& out,
                                        const ResolvedIndex& part,
                                        const Dims& value_shape);

  std::vector<std::vector<IndexEntry>> parts_;
  TensorType type_;
};

// How resolved parts of an array of shape `out` lie: whether two of them
// may share an element (judged from each part's bounding box, so parts that
// interleave with steps count as overlapping), and whether they cover every
// element exactly once.
struct PartsLayout {
  bool overlap = false;
  bool tiles = false;
};
PartsLayout LayOutParts(std::span<const ResolvedIndex> parts, const Dims& out);

// take(x, indices, axis): gather.
class Take : public Op {
 public:
  explicit Take(int axis) : axis_(axis) {}
  int axis() const { return axis_; }
  std::string name() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsDifferentiable(int input) const override { return input == 0; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  int axis_;
};

// x with y scatter-added at indices along axis: inputs (x, y, indices).
class TakeInc : public Op {
 public:
  explicit TakeInc(int axis) : axis_(axis) {}
  int axis() const { return axis_; }
  std::string name() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsDifferentiable(int input) const override { return input < 2; }
  bool CanRunInPlace(int input) const override { return input == 0; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  int axis_;
};

}  // namespace theta

#endif  // THETA_OPS_SUBTENSOR_OPS_H_
