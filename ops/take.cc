// Indexing by an integer array along one axis (Take, its gradient TakeInc)
// and the builders over them (take, one_hot); basic indexing is in
// subtensor.cc.
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/launches.h"
#include "ops/elementwise.h"
#include "ops/labels.h"
#include "ops/shape.h"
#include "ops/subtensor.h"
#include "ops/subtensor_ops.h"

namespace theta {

// ---------------------------------------------------------------------- Take

std::string Take::name() const {
  return absl::StrCat("Take{axis=", axis_, "}");
}

absl::StatusOr<std::vector<TensorType>> Take::OutputTypes(
    std::span<const Var> inputs) const {
  const TensorType& x = inputs[0].type();
  const TensorType& idx = inputs[1].type();
  if (IsFloat(idx.dtype()) || idx.dtype() == DType::kBool) {
    return absl::InvalidArgumentError(
        absl::StrCat("indices must be integers, got ", idx.ToString()));
  }
  if (axis_ < 0 || axis_ >= x.ndim()) {
    return absl::InvalidArgumentError(
        absl::StrCat("axis ", axis_, " out of range for ", x.ToString()));
  }
  Dims shape;
  for (int d = 0; d < axis_; ++d) shape.push_back(x.dim(d));
  for (int d = 0; d < idx.ndim(); ++d) shape.push_back(idx.dim(d));
  for (int d = axis_ + 1; d < x.ndim(); ++d) shape.push_back(x.dim(d));
  if (shape.size() > kMaxDims)
    return absl::InvalidArgumentError("result rank too large");
  return std::vector<TensorType>{TensorType(x.dtype(), shape)};
}

absl::Status Take::InferShapes(ShapeContext& ctx) const {
  const Dims& x = ctx.input_shapes[0];
  const Dims& idx = ctx.input_shapes[1];
  Dims shape;
  for (int d = 0; d < axis_; ++d) shape.push_back(x[d]);
  for (int d = 0; d < idx.size(); ++d) shape.push_back(idx[d]);
  for (int d = axis_ + 1; d < x.size(); ++d) shape.push_back(x[d]);
  if (x[axis_] == 0 && idx.product() > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot take from an empty dimension ", axis_));
  }
  ctx.output_shapes[0] = shape;
  return absl::OkStatus();
}

namespace {

class GatherLaunch : public Launch {
 public:
  GatherLaunch(const ArrayRef& source, const ArrayRef& indices,
               const ArrayRef& out, int axis, bool scatter,
               std::unique_ptr<Launch> copy_first)
      : source_(source),
        indices_(indices),
        out_(out),
        scatter_(scatter),
        copy_first_(std::move(copy_first)) {
    args_.struct_size = sizeof(args_);
    args_.axis = axis;
  }
  absl::Status Run(const ExecContext& ctx) override {
    if (copy_first_) {
      THETA_RETURN_IF_ERROR(copy_first_->Run(ctx));
    }
    args_.source = source_.ToAbi(ctx.slots);
    args_.indices = indices_.ToAbi(ctx.slots);
    args_.output = out_.ToAbi(ctx.slots);
    theta_stream* stream = ctx.backend->stream();
    return ctx.backend->Check(
        scatter_ ? ctx.backend->api().scatter_add(stream, &args_)
                 : ctx.backend->api().gather(stream, &args_),
        scatter_ ? "scatter_add" : "gather");
  }

 private:
  ArrayRef source_, indices_, out_;
  bool scatter_;
  std::unique_ptr<Launch> copy_first_;
  theta_gather_args args_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Launch>> Take::MakeLaunch(
    LaunchContext& ctx) const {
  return std::unique_ptr<Launch>(new GatherLaunch(
      ctx.inputs[0], ctx.inputs[1], ctx.outputs[0], axis_, false, nullptr));
}

std::vector<Var> Take::Grad(Node& node,
                            std::span<const Var> output_grads) const {
  std::vector<Var> grads(node.num_inputs());
  if (!output_grads[0].defined()) return grads;
  grads[0] =
      ApplyOp1(std::make_shared<TakeInc>(axis_),
               {zeros_like(node.input(0)), output_grads[0], node.input(1)},
               std::source_location::current());
  return grads;
}

// ------------------------------------------------------------------- TakeInc

std::string TakeInc::name() const {
  return absl::StrCat("TakeInc{axis=", axis_, "}");
}

absl::StatusOr<std::vector<TensorType>> TakeInc::OutputTypes(
    std::span<const Var> inputs) const {
  Take take(axis_);
  absl::StatusOr<std::vector<TensorType>> part =
      take.OutputTypes(std::vector<Var>{inputs[0], inputs[2]});
  if (!part.ok()) return part.status();
  const TensorType& y = inputs[1].type();
  if (y.dtype() != inputs[0].dtype() || y.ndim() != (*part)[0].ndim()) {
    return absl::InvalidArgumentError(
        absl::StrCat("value ", y.ToString(), " does not match the ",
                     "indexed part ", (*part)[0].ToString()));
  }
  return std::vector<TensorType>{inputs[0].type()};
}

absl::Status TakeInc::InferShapes(ShapeContext& ctx) const {
  const Dims& x = ctx.input_shapes[0];
  const Dims& y = ctx.input_shapes[1];
  const Dims& idx = ctx.input_shapes[2];
  Dims part;
  for (int d = 0; d < axis_; ++d) part.push_back(x[d]);
  for (int d = 0; d < idx.size(); ++d) part.push_back(idx[d]);
  for (int d = axis_ + 1; d < x.size(); ++d) part.push_back(x[d]);
  if (part != y) {
    return absl::InvalidArgumentError(
        absl::StrCat("value of shape ", y.ToString(),
                     " for an indexed part of shape ", part.ToString()));
  }
  ctx.output_shapes[0] = x;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> TakeInc::MakeLaunch(
    LaunchContext& ctx) const {
  const ArrayRef& x = ctx.inputs[0];
  const ArrayRef& out = ctx.outputs[0];
  std::unique_ptr<Launch> copy;
  if (!(x.slot == out.slot && x.byte_offset == out.byte_offset)) {
    copy = MakeCopyLaunch(x, out);
  }
  return std::unique_ptr<Launch>(new GatherLaunch(
      ctx.inputs[1], ctx.inputs[2], out, axis_, true, std::move(copy)));
}

std::vector<Var> TakeInc::Grad(Node& node,
                               std::span<const Var> output_grads) const {
  std::vector<Var> grads(node.num_inputs());
  if (!output_grads[0].defined()) return grads;
  grads[0] = output_grads[0];
  grads[1] = take(output_grads[0], node.input(2), axis_);
  return grads;
}

// ------------------------------------------------------------------ builders

Var take(const Var& x, const Var& indices, int axis, std::source_location loc) {
  if (axis < 0) axis += x.ndim();
  return ApplyOp1(std::make_shared<Take>(axis), {x, indices}, loc);
}

Var one_hot(const Var& labels, DimArg depth, DType dtype,
            std::source_location loc) {
  if (IsFloat(labels.dtype())) {
    ThrowAt(MakeSourceInfo(loc),
            absl::StrCat("one_hot: labels must be integers, got ",
                         labels.type().ToString()));
  }
  Var classes_count = DimArgToVar(depth, loc);
  // Labels out of [0, depth) are an error at run time, not rows of zeros
  // (unless the caller checked them already, naming itself).
  const Node* owner = labels.owner();
  const bool checked = owner != nullptr &&
                       dynamic_cast<const CheckLabels*>(&owner->op()) &&
                       owner->input(1).get() == classes_count.get();
  Var expanded = expand_dims(
      checked ? labels
              : check_labels(labels, classes_count, "one_hot", "position", loc),
      labels.ndim(), loc);
  Var classes = arange(0, Operand(classes_count, loc), 1, loc);
  return cast(eq(expanded, classes), dtype, loc);
}

}  // namespace theta
