#include "ops/shape_ops.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "graph/launches.h"
#include "ops/elementwise.h"
#include "ops/elementwise_op.h"
#include "ops/grad_util.h"
#include "ops/reduce.h"
#include "ops/reduce_ops.h"
#include "ops/shape.h"
#include "ops/subtensor.h"

namespace theta {
namespace {

absl::Status InvalidArg(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

// Index of element `flat` of a row-major `shape` into one of `source_shape`
// under a dimension map (out dim d reads source dim map[d], -1 for none).
int64_t MapIndex(int64_t flat, const Dims& shape, const std::vector<int>& map,
                 const Dims& source_shape) {
  Dims source_strides = ContiguousStrides(source_shape);
  int64_t offset = 0;
  for (int d = shape.size() - 1; d >= 0; --d) {
    const int64_t size = std::max<int64_t>(shape[d], 1);
    const int64_t pos = flat % size;
    flat /= size;
    if (map[d] >= 0) offset += pos * source_strides[map[d]];
  }
  return offset;
}

void CopyHostElement(const HostValue& from, int64_t i, HostValue& to,
                     int64_t j) {
  if (IsFloat(to.dtype)) {
    to.Set(static_cast<int>(j), from.AsDouble(static_cast<int>(i)));
  } else {
    to.SetInt(static_cast<int>(j), from.AsInt(static_cast<int>(i)));
  }
}

// Device data computed on the host when the plan is built, copied into the
// output on each run.
class PrecomputedLaunch : public Launch {
 public:
  static absl::StatusOr<std::unique_ptr<Launch>> Create(
      LaunchContext& ctx, const std::vector<double>& values) {
    auto launch = std::unique_ptr<PrecomputedLaunch>(new PrecomputedLaunch());
    const ArrayRef& out = ctx.outputs[0];
    launch->out_ = out;
    Tensor host =
        Tensor(DType::kFloat64,
               std::span<const int64_t>(out.shape.data(), out.shape.size()));
    std::copy(values.begin(), values.end(), host.data<double>());
    host = host.astype(out.dtype);
    absl::StatusOr<backends::Buffer> buffer =
        ctx.backend.Allocate(host.nbytes());
    if (!buffer.ok()) return buffer.status();
    THETA_RETURN_IF_ERROR(ctx.backend.CopyToDevice(
        buffer->data(), host.raw_data(), host.nbytes()));
    THETA_RETURN_IF_ERROR(ctx.backend.Synchronize());
    launch->data_ = *std::move(buffer);
    return std::unique_ptr<Launch>(std::move(launch));
  }

  absl::Status Run(const ExecContext& ctx) override {
    return ctx.backend->CopyWithinDevice(out_.Address(ctx.slots), data_.data(),
                                         out_.nbytes());
  }

 private:
  ArrayRef out_;
  backends::Buffer data_;
};

}  // namespace

// ---------------------------------------------------------------- DimShuffle

DimShuffle::DimShuffle(std::vector<int> pattern, int input_ndim)
    : pattern_(std::move(pattern)), input_ndim_(input_ndim) {}

bool DimShuffle::keeps_order() const {
  int last = -1;
  for (int p : pattern_) {
    if (p < 0) continue;
    if (p < last) return false;
    last = p;
  }
  return true;
}

std::string DimShuffle::name() const {
  std::vector<std::string> parts;
  for (int p : pattern_) parts.push_back(p < 0 ? "x" : absl::StrCat(p));
  return absl::StrCat("DimShuffle{", absl::StrJoin(parts, ","), "}");
}

absl::StatusOr<std::vector<TensorType>> DimShuffle::OutputTypes(
    std::span<const Var> inputs) const {
  const TensorType& t = inputs[0].type();
  if (t.ndim() != input_ndim_) {
    return InvalidArg(absl::StrCat("expects an input of rank ", input_ndim_,
                                   ", got ", t.ToString()));
  }
  std::vector<bool> used(t.ndim(), false);
  Dims shape;
  for (int p : pattern_) {
    if (p == kNewAxis) {
      shape.push_back(1);
      continue;
    }
    if (p < 0 || p >= t.ndim()) {
      return InvalidArg(absl::StrCat("pattern entry ", p,
                                     " is not a dimension of a rank-", t.ndim(),
                                     " input"));
    }
    if (used[p]) {
      return InvalidArg(absl::StrCat("dimension ", p, " appears twice"));
    }
    used[p] = true;
    shape.push_back(t.dim(p));
  }
  for (int d = 0; d < t.ndim(); ++d) {
    if (!used[d] && !t.broadcastable(d)) {
      return InvalidArg(absl::StrCat(
          "dimension ", d, " of ", t.ToString(),
          " is dropped, but only dimensions of static size 1 can be"));
    }
  }
  if (shape.size() > kMaxDims) {
    return InvalidArg(absl::StrCat("result rank ", shape.size(),
                                   " exceeds the maximum of ", kMaxDims));
  }
  return std::vector<TensorType>{TensorType(t.dtype(), shape)};
}

absl::Status DimShuffle::InferShapes(ShapeContext& ctx) const {
  Dims& out = ctx.output_shapes[0];
  out = Dims();
  for (int p : pattern_) out.push_back(p < 0 ? 1 : ctx.input_shapes[0][p]);
  for (int d = 0; d < input_ndim_; ++d) {
    if (std::find(pattern_.begin(), pattern_.end(), d) == pattern_.end() &&
        ctx.input_shapes[0][d] != 1) {
      return InvalidArg(absl::StrCat("dropped dimension ", d, " has size ",
                                     ctx.input_shapes[0][d], ", not 1"));
    }
  }
  return absl::OkStatus();
}

absl::Status DimShuffle::EvaluateOnHost(HostEvalContext& ctx) const {
  const HostValue& in = *ctx.inputs[0];
  HostValue& out = ctx.outputs[0];
  out.dtype = in.dtype;
  out.shape = Dims();
  for (int p : pattern_) out.shape.push_back(p < 0 ? 1 : in.shape[p]);
  std::vector<int> map(pattern_.begin(), pattern_.end());
  for (int64_t i = 0; i < out.size(); ++i) {
    CopyHostElement(in, MapIndex(i, out.shape, map, in.shape), out, i);
  }
  return absl::OkStatus();
}

absl::Status DimShuffle::MakeView(ViewContext& ctx) const {
  const ArrayRef& in = ctx.inputs[0];
  ArrayRef& out = ctx.output;
  out.byte_offset = in.byte_offset;
  out.strides = Dims();
  for (int p : pattern_) out.strides.push_back(p < 0 ? 0 : in.strides[p]);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> DimShuffle::MakeLaunch(
    LaunchContext& ctx) const {
  return std::unique_ptr<Launch>(new NoLaunch());
}

namespace {

// When `gz` is a keepdims sum over exactly the axes `pattern` inserts and
// `pattern` keeps the other axes in order, the same sum without keepdims
// (what dimshuffling gz by the inverse pattern would give); else undefined.
Var SumWithoutKeptAxes(const Var& gz, const std::vector<int>& pattern) {
  const Node* owner = gz.owner();
  const auto* reduce =
      owner != nullptr ? dynamic_cast<const Reduce*>(&owner->op()) : nullptr;
  if (reduce == nullptr || reduce->reduce_op() != THETA_REDUCE_SUM ||
      !reduce->keepdims()) {
    return Var();
  }
  std::vector<int> inserted;
  int next = 0;
  for (size_t d = 0; d < pattern.size(); ++d) {
    if (pattern[d] < 0) {
      inserted.push_back(static_cast<int>(d));
    } else if (pattern[d] != next++) {
      return Var();  // a transpose as well
    }
  }
  if (inserted != reduce->axes()) return Var();
  return sum(owner->input(0), AxisList(inserted), /*keepdims=*/false);
}

}  // namespace

std::vector<Var> DimShuffle::Grad(Node& node,
                                  std::span<const Var> output_grads) const {
  const Var& gz = output_grads[0];
  if (!gz.defined()) return {Var()};
  std::vector<int> inverse(input_ndim_, kNewAxis);
  for (size_t d = 0; d < pattern_.size(); ++d) {
    if (pattern_[d] >= 0) inverse[pattern_[d]] = static_cast<int>(d);
  }
  // Output axes the pattern inserted are dropped; gz may not know they have
  // size 1 (it came through ops that lost static sizes): then transpose and
  // reshape to the input's shape instead.
  bool droppable = true;
  for (size_t d = 0; d < pattern_.size(); ++d) {
    if (pattern_[d] < 0 && !gz.type().broadcastable(static_cast<int>(d))) {
      droppable = false;
    }
  }
  if (droppable) {
    // The gradient of a broadcast (x, y) -> (1, y) -> (n, y) is a sum with
    // keepdims and then this drop of the kept axis: build the sum without
    // keepdims instead (one node less per broadcast in every backward pass).
    if (const Var dropped = SumWithoutKeptAxes(gz, pattern_);
        dropped.defined()) {
      return {dropped};
    }
    return {dimshuffle(gz, inverse)};
  }
  std::vector<int> order;
  for (int i = 0; i < input_ndim_; ++i) {
    if (inverse[i] >= 0) order.push_back(inverse[i]);
  }
  for (size_t d = 0; d < pattern_.size(); ++d) {
    if (pattern_[d] < 0) order.push_back(static_cast<int>(d));
  }
  return {reshape(dimshuffle(gz, order), shape(node.input(0)))};
}

// ------------------------------------------------------------------- Reshape

std::vector<std::optional<int64_t>> KnownElements(const Var& v) {
  const int64_t n = v.ndim() == 1 ? v.type().dim(0) : 1;
  std::vector<std::optional<int64_t>> out(n < 0 ? 0 : n);
  if (v->kind() == VarKind::kConstant) {
    for (int64_t i = 0; i < n; ++i) {
      out[i] = static_cast<int64_t>(v->constant_value().GetAsDouble(i));
    }
    return out;
  }
  Node* owner = v.owner();
  if (owner == nullptr) return out;
  if (const auto* join = dynamic_cast<const Join*>(&owner->op());
      join != nullptr && join->axis() == 0) {
    std::vector<std::optional<int64_t>> joined;
    for (const Var& piece : owner->inputs()) {
      if (piece.ndim() != 1 || piece.type().dim(0) == kUnknownDim) return out;
      for (const auto& e : KnownElements(piece)) joined.push_back(e);
    }
    return joined.size() == out.size() ? joined : out;
  }
  if (const auto* ds = dynamic_cast<const DimShuffle*>(&owner->op());
      ds != nullptr && owner->input(0).ndim() == 0 && n == 1) {
    const Var& scalar = owner->input(0);
    if (scalar->kind() == VarKind::kConstant) {
      out[0] = static_cast<int64_t>(scalar->constant_value().GetAsDouble(0));
    }
  }
  return out;
}

std::string Reshape::name() const {
  return absl::StrCat("Reshape{", ndim_, "}");
}

absl::StatusOr<std::vector<TensorType>> Reshape::OutputTypes(
    std::span<const Var> inputs) const {
  const TensorType& shape_type = inputs[1].type();
  if (shape_type.ndim() != 1 || IsFloat(shape_type.dtype()) ||
      shape_type.dim(0) != ndim_) {
    return InvalidArg(
        absl::StrCat("the target shape must be an integer vector of length ",
                     ndim_, ", got ", shape_type.ToString()));
  }
  Dims shape = Dims::Filled(ndim_, kUnknownDim);
  std::vector<std::optional<int64_t>> elements = KnownElements(inputs[1]);
  bool all_known = true;
  for (int d = 0; d < ndim_; ++d) {
    if (!elements[d].has_value()) {
      all_known = false;
    } else if (*elements[d] >= 0) {
      shape[d] = *elements[d];
    }
  }
  if (all_known) {
    int64_t known = 1;
    int infer = -1;
    for (int d = 0; d < ndim_; ++d) {
      const int64_t s = *elements[d];
      if (s == -1) {
        if (infer >= 0)
          return InvalidArg("more than one -1 in the target shape");
        infer = d;
      } else if (s < 0) {
        return InvalidArg(
            absl::StrCat("negative size ", s, " in the target shape"));
      } else {
        shape[d] = s;
      }
    }
    THETA_RETURN_IF_ERROR(CheckShapeFits(shape, inputs[0].dtype()));
    for (int d = 0; d < ndim_; ++d) {
      if (d != infer) known *= shape[d];
    }
    const TensorType& in = inputs[0].type();
    if (in.fully_known()) {
      const int64_t total = in.shape().product();
      if (infer >= 0 && known > 0) {
        shape[infer] = total / known;
      }
      if ((infer < 0 && known != total) ||
          (infer >= 0 && (known == 0 || total % known != 0))) {
        return InvalidArg(absl::StrCat("cannot reshape ", in.ToString(), " (",
                                       total, " elements) to shape ",
                                       shape.ToString()));
      }
    }
  }
  return std::vector<TensorType>{TensorType(inputs[0].dtype(), shape)};
}

absl::Status Reshape::InferShapes(ShapeContext& ctx) const {
  const HostValue& target = *ctx.input_values[1];
  const Dims& in = ctx.input_shapes[0];
  const int64_t total = in.product();
  Dims out = Dims::Filled(ndim_, 0);
  int64_t known = 1;
  int infer = -1;
  for (int d = 0; d < ndim_; ++d) {
    const int64_t s = target.AsInt(d);
    if (s == -1 && infer < 0) {
      infer = d;
      continue;
    }
    if (s < 0) {
      return InvalidArg(absl::StrCat("invalid size ", s, " in target shape ",
                                     target.ToString()));
    }
    out[d] = s;
  }
  if (absl::Status s =
          CheckShapeFits(out, ctx.node.output_variable(0)->type().dtype());
      !s.ok()) {
    return s;
  }
  for (int d = 0; d < ndim_; ++d) {
    if (d != infer) known *= out[d];
  }
  if (infer >= 0) {
    if (known == 0 || total % known != 0) {
      return InvalidArg(absl::StrCat("cannot reshape an array of shape ",
                                     in.ToString(), " to ", target.ToString()));
    }
    out[infer] = total / known;
  } else if (known != total) {
    return InvalidArg(absl::StrCat("cannot reshape an array of shape ",
                                   in.ToString(), " (", total, " elements) to ",
                                   target.ToString()));
  }
  ctx.output_shapes[0] = out;
  return absl::OkStatus();
}

absl::Status Reshape::EvaluateOnHost(HostEvalContext& ctx) const {
  const HostValue& in = *ctx.inputs[0];
  const HostValue& target = *ctx.inputs[1];
  HostValue& out = ctx.outputs[0];
  Dims out_shape;
  Dims in_shapes[2] = {in.shape, target.shape};
  const HostValue* values[2] = {&in, &target};
  Dims shapes[1];
  ShapeContext sc{ctx.node, in_shapes, values, shapes};
  THETA_RETURN_IF_ERROR(InferShapes(sc));
  out = in;
  out.shape = shapes[0];
  return absl::OkStatus();
}

absl::Status Reshape::MakeView(ViewContext& ctx) const {
  const ArrayRef& in = ctx.inputs[0];
  if (!in.contiguous()) return ViewNeedsCopy();
  ctx.output.byte_offset = in.byte_offset;
  ctx.output.strides = ContiguousStrides(ctx.output.shape);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> Reshape::MakeLaunch(
    LaunchContext& ctx) const {
  // The input is not contiguous: copy it into the contiguous output, read in
  // the input's row-major order.
  ArrayRef dst = ctx.outputs[0];
  dst.shape = ctx.inputs[0].shape;
  dst.strides = ContiguousStrides(dst.shape);
  return MakeCopyLaunch(ctx.inputs[0], dst);
}

std::vector<Var> Reshape::Grad(Node& node,
                               std::span<const Var> output_grads) const {
  if (!output_grads[0].defined()) return {Var(), Var()};
  return {reshape(output_grads[0], shape(node.input(0))), Var()};
}

// --------------------------------------------------------------------- Shape

std::string Shape::name() const {
  return axis_ < 0 ? "Shape" : absl::StrCat("Shape_i{", axis_, "}");
}

absl::StatusOr<std::vector<TensorType>> Shape::OutputTypes(
    std::span<const Var> inputs) const {
  if (axis_ >= inputs[0].ndim()) {
    return InvalidArg(absl::StrCat("axis ", axis_, " out of range for ",
                                   inputs[0].type().ToString()));
  }
  if (axis_ >= 0) return std::vector<TensorType>{TensorType(DType::kInt64, {})};
  return std::vector<TensorType>{
      TensorType(DType::kInt64, {static_cast<int64_t>(inputs[0].ndim())})};
}

absl::Status Shape::InferShapes(ShapeContext& ctx) const {
  ctx.output_shapes[0] =
      axis_ >= 0 ? Dims()
                 : Dims({static_cast<int64_t>(ctx.input_shapes[0].size())});
  return absl::OkStatus();
}

absl::Status Shape::EvaluateOnHost(HostEvalContext& ctx) const {
  HostValue& out = ctx.outputs[0];
  out.dtype = DType::kInt64;
  const Dims& in = ctx.input_shapes[0];
  if (axis_ >= 0) {
    out.shape = Dims();
    out.ints[0] = in[axis_];
  } else {
    out.shape = Dims({static_cast<int64_t>(in.size())});
    for (int d = 0; d < in.size(); ++d) out.ints[d] = in[d];
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> Shape::MakeLaunch(
    LaunchContext& ctx) const {
  return absl::InternalError("Shape is always evaluated on the host");
}

std::vector<Var> Shape::Grad(Node& node, std::span<const Var>) const {
  return {Var()};  // a shape does not depend on the values
}

// ---------------------------------------------------------------------- Join

std::string Join::name() const {
  return absl::StrCat("Join{axis=", axis_, "}");
}

absl::StatusOr<std::vector<TensorType>> Join::OutputTypes(
    std::span<const Var> inputs) const {
  if (inputs.empty()) return InvalidArg("needs at least one input");
  const TensorType& first = inputs[0].type();
  if (axis_ < 0 || axis_ >= first.ndim()) {
    return InvalidArg(
        absl::StrCat("axis ", axis_, " out of range for rank ", first.ndim()));
  }
  Dims shape = first.shape();
  for (size_t i = 1; i < inputs.size(); ++i) {
    const TensorType& t = inputs[i].type();
    if (t.dtype() != first.dtype() || t.ndim() != first.ndim()) {
      return InvalidArg(absl::StrCat("input ", i, " is ", t.ToString(),
                                     ", input 0 is ", first.ToString()));
    }
    for (int d = 0; d < t.ndim(); ++d) {
      if (d == axis_) {
        shape[d] = (shape[d] == kUnknownDim || t.dim(d) == kUnknownDim)
                       ? kUnknownDim
                       : shape[d] + t.dim(d);
      } else if (shape[d] == kUnknownDim) {
        shape[d] = t.dim(d);
      } else if (t.dim(d) != kUnknownDim && t.dim(d) != shape[d]) {
        return InvalidArg(absl::StrCat("input ", i, " has size ", t.dim(d),
                                       " in dimension ", d, ", input 0 has ",
                                       shape[d]));
      }
    }
  }
  return std::vector<TensorType>{TensorType(first.dtype(), shape)};
}

absl::Status Join::InferShapes(ShapeContext& ctx) const {
  Dims out = ctx.input_shapes[0];
  for (size_t i = 1; i < ctx.input_shapes.size(); ++i) {
    const Dims& s = ctx.input_shapes[i];
    for (int d = 0; d < s.size(); ++d) {
      if (d == axis_) {
        out[d] += s[d];
      } else if (s[d] != out[d]) {
        return InvalidArg(
            absl::StrCat("input ", i, " has shape ", s.ToString(),
                         ", input 0 has ", ctx.input_shapes[0].ToString(),
                         "; they may differ only in dimension ", axis_));
      }
    }
  }
  ctx.output_shapes[0] = out;
  return absl::OkStatus();
}

absl::Status Join::EvaluateOnHost(HostEvalContext& ctx) const {
  Dims shapes[1];
  ShapeContext sc{ctx.node, ctx.input_shapes, ctx.inputs, shapes};
  THETA_RETURN_IF_ERROR(InferShapes(sc));
  HostValue& out = ctx.outputs[0];
  out.shape = shapes[0];
  const Dims out_strides = ContiguousStrides(out.shape);
  int64_t axis_offset = 0;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const HostValue& in = *ctx.inputs[i];
    const Dims in_strides = ContiguousStrides(in.shape);
    for (int64_t e = 0; e < in.size(); ++e) {
      int64_t rest = e, offset = 0;
      for (int d = 0; d < in.shape.size(); ++d) {
        int64_t pos = rest / in_strides[d];
        rest %= in_strides[d];
        if (d == axis_) pos += axis_offset;
        offset += pos * out_strides[d];
      }
      CopyHostElement(in, e, out, offset);
    }
    axis_offset += in.shape[axis_];
  }
  return absl::OkStatus();
}

namespace {

class JoinLaunch : public Launch {
 public:
  JoinLaunch(LaunchContext& ctx, int axis) {
    const ArrayRef& out = ctx.outputs[0];
    int64_t offset = 0;
    for (const ArrayRef& in : ctx.inputs) {
      ArrayRef dst = out;
      dst.shape = in.shape;
      dst.byte_offset += offset * out.strides[axis] *
                         static_cast<int64_t>(DTypeSize(out.dtype));
      offset += in.shape[axis];
      copies_.push_back(MakeCopyLaunch(in, dst));
    }
  }
  absl::Status Run(const ExecContext& ctx) override {
    for (auto& copy : copies_) {
      THETA_RETURN_IF_ERROR(copy->Run(ctx));
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<Launch>> copies_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Launch>> Join::MakeLaunch(
    LaunchContext& ctx) const {
  return std::unique_ptr<Launch>(new JoinLaunch(ctx, axis_));
}

std::vector<Var> Join::Grad(Node& node,
                            std::span<const Var> output_grads) const {
  const Var& gz = output_grads[0];
  std::vector<Var> grads(node.num_inputs());
  if (!gz.defined()) return grads;
  // Constant bounds while the sizes are known statically, so the pieces
  // keep static sizes (stack's pieces of size 1 stay broadcastable).
  int64_t static_offset = 0;
  Var offset;
  for (int i = 0; i < node.num_inputs(); ++i) {
    const int64_t size = node.input(i).type().dim(axis_);
    std::vector<Slice> slices(node.input(i).ndim(), Slice::All());
    if (!offset.defined() && size != kUnknownDim) {
      slices[axis_] = Slice(static_offset, static_offset + size);
      static_offset += size;
    } else {
      if (!offset.defined()) {
        offset = constant(static_cast<double>(static_offset), DType::kInt64);
      }
      Var end = offset + shape_i(node.input(i), axis_);
      slices[axis_] = Slice(offset, end);
      offset = end;
    }
    grads[i] = slice(gz, slices);
  }
  return grads;
}

// --------------------------------------------------------------------- Alloc

bool Alloc::ConsumesHostValue(const Node& node, int input) const {
  return input == 0 && node.input(0).type().shape().product() == 1 &&
         node.input(0).type().fully_known();
}

absl::StatusOr<std::vector<TensorType>> Alloc::OutputTypes(
    std::span<const Var> inputs) const {
  const int ndim = static_cast<int>(inputs.size()) - 1;
  if (inputs[0].ndim() > ndim) {
    return InvalidArg(absl::StrCat("value of rank ", inputs[0].ndim(),
                                   " cannot fill a rank-", ndim, " tensor"));
  }
  Dims shape = Dims::Filled(ndim, kUnknownDim);
  for (int d = 0; d < ndim; ++d) {
    const Var& dim = inputs[d + 1];
    if (dim.ndim() != 0 || IsFloat(dim.dtype())) {
      return InvalidArg(absl::StrCat("size of dimension ", d,
                                     " must be an integer scalar, got ",
                                     dim.type().ToString()));
    }
    if (dim->kind() == VarKind::kConstant) {
      shape[d] = static_cast<int64_t>(dim->constant_value().GetAsDouble(0));
    } else if (d < static_shape_.size()) {
      shape[d] = static_shape_[d];
    }
  }
  THETA_RETURN_IF_ERROR(CheckShapeFits(shape, inputs[0].dtype()));
  return std::vector<TensorType>{TensorType(inputs[0].dtype(), shape)};
}

absl::Status Alloc::InferShapes(ShapeContext& ctx) const {
  const int ndim = static_cast<int>(ctx.input_shapes.size()) - 1;
  Dims out = Dims::Filled(ndim, 0);
  for (int d = 0; d < ndim; ++d) {
    out[d] = ctx.input_values[d + 1]->AsInt(0);
    if (out[d] < 0) {
      return InvalidArg(
          absl::StrCat("negative size ", out[d], " for dimension ", d));
    }
  }
  if (absl::Status s =
          CheckShapeFits(out, ctx.node.output_variable(0)->type().dtype());
      !s.ok()) {
    return s;
  }
  const Dims& value = ctx.input_shapes[0];
  const int offset = ndim - value.size();
  for (int d = 0; d < value.size(); ++d) {
    if (value[d] != 1 && value[d] != out[d + offset]) {
      return InvalidArg(absl::StrCat("value of shape ", value.ToString(),
                                     " does not broadcast to ",
                                     out.ToString()));
    }
  }
  ctx.output_shapes[0] = out;
  return absl::OkStatus();
}

absl::Status Alloc::EvaluateOnHost(HostEvalContext& ctx) const {
  Dims shapes[1];
  ShapeContext sc{ctx.node, ctx.input_shapes, ctx.inputs, shapes};
  THETA_RETURN_IF_ERROR(InferShapes(sc));
  HostValue& out = ctx.outputs[0];
  const HostValue& value = *ctx.inputs[0];
  out.shape = shapes[0];
  const int offset = out.shape.size() - value.shape.size();
  std::vector<int> map(out.shape.size(), -1);
  for (int d = 0; d < value.shape.size(); ++d) {
    if (value.shape[d] != 1) map[d + offset] = d;
  }
  for (int64_t i = 0; i < out.size(); ++i) {
    CopyHostElement(value, MapIndex(i, out.shape, map, value.shape), out, i);
  }
  return absl::OkStatus();
}

namespace {

class FillLaunch : public Launch {
 public:
  FillLaunch(const ArrayRef& out, int32_t host_slot)
      : out_(out), host_slot_(host_slot) {}
  absl::Status Run(const ExecContext& ctx) override {
    if (out_.numel() == 0) return absl::OkStatus();
    theta_array array = out_.ToAbi(ctx.slots);
    return ctx.backend->Check(
        ctx.backend->api().fill(ctx.backend->stream(), &array,
                                ctx.host_values[host_slot_].AsDouble(0)),
        "fill");
  }

 private:
  ArrayRef out_;
  int32_t host_slot_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Launch>> Alloc::MakeLaunch(
    LaunchContext& ctx) const {
  const ArrayRef& out = ctx.outputs[0];
  if (ctx.input_host_slots[0] >= 0 && ConsumesHostValue(ctx.node, 0)) {
    return std::unique_ptr<Launch>(
        new FillLaunch(out, ctx.input_host_slots[0]));
  }
  // Broadcast the value by copying it with stride 0 along new dimensions.
  const ArrayRef& value = ctx.inputs[0];
  ArrayRef src = out;
  src.slot = value.slot;
  src.byte_offset = value.byte_offset;
  src.dtype = value.dtype;
  const int offset = out.shape.size() - value.shape.size();
  for (int d = 0; d < out.shape.size(); ++d) {
    const int vd = d - offset;
    src.strides[d] = (vd < 0 || value.shape[vd] == 1) ? 0 : value.strides[vd];
  }
  return MakeCopyLaunch(src, out);
}

std::vector<Var> Alloc::Grad(Node& node,
                             std::span<const Var> output_grads) const {
  std::vector<Var> grads(node.num_inputs());
  if (!output_grads[0].defined()) return grads;
  grads[0] = SumToBroadcast(output_grads[0], node.input(0).type());
  return grads;
}

// -------------------------------------------------------------- Arange, Eye

std::string Arange::name() const {
  return absl::StrCat("ARange{", DTypeName(dtype_), "}");
}

absl::StatusOr<std::vector<TensorType>> Arange::OutputTypes(
    std::span<const Var> inputs) const {
  for (const Var& v : inputs) {
    if (v.ndim() != 0) {
      return InvalidArg(absl::StrCat(
          "start, stop and step must be scalars, got ", v.type().ToString()));
    }
  }
  int64_t length = kUnknownDim;
  if (inputs[0]->kind() == VarKind::kConstant &&
      inputs[1]->kind() == VarKind::kConstant &&
      inputs[2]->kind() == VarKind::kConstant) {
    const double start = inputs[0]->constant_value().GetAsDouble(0);
    const double stop = inputs[1]->constant_value().GetAsDouble(0);
    const double step = inputs[2]->constant_value().GetAsDouble(0);
    if (step == 0) return InvalidArg("step is 0");
    length = std::max<int64_t>(
        0, static_cast<int64_t>(std::ceil((stop - start) / step)));
  }
  return std::vector<TensorType>{TensorType(dtype_, {length})};
}

absl::Status Arange::InferShapes(ShapeContext& ctx) const {
  const double start = ctx.input_values[0]->AsDouble(0);
  const double stop = ctx.input_values[1]->AsDouble(0);
  const double step = ctx.input_values[2]->AsDouble(0);
  if (step == 0) return InvalidArg("arange: step is 0");
  ctx.output_shapes[0] = Dims({std::max<int64_t>(
      0, static_cast<int64_t>(std::ceil((stop - start) / step)))});
  return absl::OkStatus();
}

absl::Status Arange::EvaluateOnHost(HostEvalContext& ctx) const {
  Dims shapes[1];
  ShapeContext sc{ctx.node, ctx.input_shapes, ctx.inputs, shapes};
  THETA_RETURN_IF_ERROR(InferShapes(sc));
  if (shapes[0][0] > kMaxHostElements) {
    return absl::InternalError("arange too long for the host");
  }
  HostValue& out = ctx.outputs[0];
  out.shape = shapes[0];
  const double start = ctx.inputs[0]->AsDouble(0);
  const double step = ctx.inputs[2]->AsDouble(0);
  for (int64_t i = 0; i < shapes[0][0]; ++i) {
    out.Set(static_cast<int>(i), start + static_cast<double>(i) * step);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> Arange::MakeLaunch(
    LaunchContext& ctx) const {
  const double start = ctx.input_values[0]->AsDouble(0);
  const double step = ctx.input_values[2]->AsDouble(0);
  std::vector<double> values(ctx.outputs[0].numel());
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = start + static_cast<double>(i) * step;
  }
  return PrecomputedLaunch::Create(ctx, values);
}

std::string Eye::name() const { return absl::StrCat("Eye{k=", k_, "}"); }

absl::StatusOr<std::vector<TensorType>> Eye::OutputTypes(
    std::span<const Var> inputs) const {
  Dims shape = Dims::Filled(2, kUnknownDim);
  for (int i = 0; i < 2; ++i) {
    if (inputs[i].ndim() != 0 || IsFloat(inputs[i].dtype())) {
      return InvalidArg("n and m must be integer scalars");
    }
    if (inputs[i]->kind() == VarKind::kConstant) {
      shape[i] =
          static_cast<int64_t>(inputs[i]->constant_value().GetAsDouble(0));
    }
  }
  return std::vector<TensorType>{TensorType(dtype_, shape)};
}

absl::Status Eye::InferShapes(ShapeContext& ctx) const {
  const int64_t n = ctx.input_values[0]->AsInt(0);
  const int64_t m = ctx.input_values[1]->AsInt(0);
  if (n < 0 || m < 0) return InvalidArg("eye: negative size");
  ctx.output_shapes[0] = Dims({n, m});
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> Eye::MakeLaunch(
    LaunchContext& ctx) const {
  const int64_t n = ctx.outputs[0].shape[0];
  const int64_t m = ctx.outputs[0].shape[1];
  std::vector<double> values(n * m, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t j = i + k_;
    if (j >= 0 && j < m) values[i * m + j] = 1.0;
  }
  return PrecomputedLaunch::Create(ctx, values);
}

}  // namespace theta
