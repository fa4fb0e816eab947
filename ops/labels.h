// Integer class labels checked against [0, depth) on the backend, for
// one_hot and cross-entropy: a label out of range is a run-time error that
// names the label, its position and the range (Theano's "y_idx value out of
// bounds"), never a row of zeros.
//
//   Var checked = check_labels(y, shape_i(p, 1), "categorical_crossentropy",
//                              "row");
//   Var onehot = cast(eq(expand_dims(checked, 1), arange(0, depth)), dtype);
#ifndef THETA_OPS_LABELS_H_
#define THETA_OPS_LABELS_H_

#include <cstdint>
#include <source_location>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "graph/dims.h"
#include "graph/ir.h"
#include "graph/op.h"
#include "graph/runtime.h"

namespace theta {

// labels (any integer dtype and rank) as int64, after checking every one
// lies in [0, depth) (depth an integer scalar known on the host). `what`
// names the caller and `unit` a position ("row", "position") in the error.
Var check_labels(const Var& labels, const Var& depth, std::string what,
                 std::string unit,
                 std::source_location loc = std::source_location::current());

// The op of check_labels. Per call it runs one elementwise kernel (the
// labels as int64, and out-of-range ones mapped below -depth) and one gather
// of a depth-byte table by the mapped labels, which the backend refuses at
// the first bad one; only then are the labels copied to the host to name
// it. Buffers are allocated once per plan.
class CheckLabels : public Op {
 public:
  CheckLabels(std::string what, std::string unit)
      : what_(std::move(what)), unit_(std::move(unit)) {}
  std::string name() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsShapeParameter(int input) const override { return input == 1; }
  bool IsDifferentiable(int input) const override { return false; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;

 private:
  std::string what_;
  std::string unit_;
};

// The error for the first label of `labels` (row-major, of `shape`) outside
// [0, depth): "<what>: label 5 at <unit> 1 is out of range [0, 3)" (a
// position of several dimensions reads "(1, 0)"). OK when none is.
absl::Status FirstLabelOutOfRange(std::string_view what, std::string_view unit,
                                  std::span<const int64_t> labels,
                                  const Dims& shape, int64_t depth);

// The error path of a launch whose backend refused a label: copies `labels`
// (an operand of any integer dtype and strides over `shape`) row-major as
// int64 into `scratch` (a device buffer of at least shape.product() int64s),
// brings them to the host and returns FirstLabelOutOfRange's error (an
// internal error when every label is in range after all).
absl::Status ExplainRefusedLabels(const ExecContext& ctx,
                                  const theta_ew_operand& labels,
                                  const Dims& shape, void* scratch,
                                  std::string_view what, std::string_view unit,
                                  int64_t depth);

}  // namespace theta

#endif  // THETA_OPS_LABELS_H_
