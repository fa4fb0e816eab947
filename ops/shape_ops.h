// The shape ops behind ops/shape.h, for rewrites that inspect them.
#ifndef THETA_OPS_SHAPE_OPS_H_
#define THETA_OPS_SHAPE_OPS_H_

#include <optional>
#include <vector>

#include "graph/op.h"

namespace theta {

// Reorders, drops (broadcastable) and inserts (kNewAxis) dimensions. A view.
class DimShuffle : public Op {
 public:
  DimShuffle(std::vector<int> pattern, int input_ndim);
  const std::vector<int>& pattern() const { return pattern_; }
  int input_ndim() const { return input_ndim_; }
  // True when the pattern only inserts or drops broadcastable axes.
  bool keeps_order() const;

  std::string name() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool HostEvaluable() const override { return true; }
  absl::Status EvaluateOnHost(HostEvalContext& ctx) const override;
  int ViewOf() const override { return 0; }
  absl::Status MakeView(ViewContext& ctx) const override;
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  std::vector<int> pattern_;
  int input_ndim_;
};

// The elements of a static-length integer vector known at build time
// (constants, and stacks of constant and symbolic sizes).
std::vector<std::optional<int64_t>> KnownElements(const Var& v);

// Reshape to the int64 vector of input 1 (one entry may be -1). A view when
// the input's layout allows, else a copy.
class Reshape : public Op {
 public:
  explicit Reshape(int ndim) : ndim_(ndim) {}
  std::string name() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsShapeParameter(int input) const override { return input == 1; }
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
  int ndim_;
};

// The shape of its input as an int64 vector (axis < 0), or the size of one
// dimension as an int64 scalar; known on the host.
class Shape : public Op {
 public:
  explicit Shape(int axis = -1) : axis_(axis) {}
  int axis() const { return axis_; }
  std::string name() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool HostEvaluable() const override { return true; }
  bool HostNeedsValue(int input) const override { return false; }
  absl::Status EvaluateOnHost(HostEvalContext& ctx) const override;
  bool IsDifferentiable(int input) const override { return false; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  int axis_;
};

// Concatenation along an axis.
class Join : public Op {
 public:
  explicit Join(int axis) : axis_(axis) {}
  int axis() const { return axis_; }
  std::string name() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool HostEvaluable() const override { return true; }
  absl::Status EvaluateOnHost(HostEvalContext& ctx) const override;
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  int axis_;
};

// alloc(value, d0, d1, ...): `value` broadcast to the given sizes.
// `static_shape` (kUnknownDim where unknown) refines the output type, e.g.
// zeros_like(x) keeps x's known sizes.
class Alloc : public Op {
 public:
  explicit Alloc(Dims static_shape) : static_shape_(static_shape) {}
  std::string name() const override { return "Alloc"; }
  bool Foldable() const override { return false; }
  bool ConsumesHostValue(const Node& node, int input) const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsShapeParameter(int input) const override { return input > 0; }
  bool IsDifferentiable(int input) const override { return input == 0; }
  bool HostEvaluable() const override { return true; }
  absl::Status EvaluateOnHost(HostEvalContext& ctx) const override;
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  Dims static_shape_;
};

// arange(start, stop, step) and eye(n, m, k): computed on the host when a
// plan is built (their inputs are shape parameters) and copied in per run.
class Arange : public Op {
 public:
  explicit Arange(DType dtype) : dtype_(dtype) {}
  std::string name() const override;
  bool Foldable() const override { return false; }
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsShapeParameter(int input) const override { return true; }
  bool IsDifferentiable(int input) const override { return false; }
  bool HostEvaluable() const override { return true; }
  absl::Status EvaluateOnHost(HostEvalContext& ctx) const override;
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;

 private:
  DType dtype_;
};

class Eye : public Op {
 public:
  Eye(int64_t k, DType dtype) : k_(k), dtype_(dtype) {}
  std::string name() const override;
  bool Foldable() const override { return false; }
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsShapeParameter(int input) const override { return true; }
  bool IsDifferentiable(int input) const override { return false; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;

 private:
  int64_t k_;
  DType dtype_;
};

}  // namespace theta

#endif  // THETA_OPS_SHAPE_OPS_H_
