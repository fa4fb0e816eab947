#include "ops/subtensor.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "graph/launches.h"
#include "ops/elementwise.h"
#include "ops/elementwise_op.h"
#include "ops/grad_util.h"
#include "ops/shape.h"
#include "ops/subtensor_ops.h"

namespace theta {
namespace {

absl::Status InvalidArg(const std::string& m) {
  return absl::InvalidArgumentError(m);
}

int64_t BoundValue(int64_t constant, int input,
                   std::span<const HostValue* const> values) {
  return input >= 0 ? values[input]->AsInt(0) : constant;
}

std::string EntriesToString(const std::vector<IndexEntry>& entries) {
  std::vector<std::string> parts;
  auto bound = [](int64_t v, int input) -> std::string {
    if (input >= 0) return absl::StrCat("$", input);
    return v == kNone ? "" : absl::StrCat(v);
  };
  for (const IndexEntry& e : entries) {
    if (e.is_index) {
      parts.push_back(bound(e.start, e.start_input));
    } else {
      std::string s = absl::StrCat(bound(e.start, e.start_input), ":",
                                   bound(e.stop, e.stop_input));
      if (e.step != 1) absl::StrAppend(&s, ":", e.step);
      parts.push_back(s);
    }
  }
  return absl::StrJoin(parts, ", ");
}

// The array of x[index] for x's array `in` (positive steps only, unless
// `allow_negative`).
ArrayRef IndexedView(const ArrayRef& in, const ResolvedIndex& r) {
  ArrayRef out = in;
  out.shape = Dims();
  out.strides = Dims();
  const int64_t dsize = static_cast<int64_t>(DTypeSize(in.dtype));
  bool empty = false;
  for (int d = 0; d < in.shape.size(); ++d) {
    if (!r.removed[d] && r.count[d] == 0) empty = true;
  }
  for (int d = 0; d < in.shape.size(); ++d) {
    if (!empty) out.byte_offset += r.start[d] * in.strides[d] * dsize;
    if (r.removed[d]) continue;
    out.shape.push_back(r.count[d]);
    out.strides.push_back(in.strides[d] * r.step[d]);
  }
  return out;
}

bool HasNegativeStep(const ResolvedIndex& r, int ndim) {
  for (int d = 0; d < ndim; ++d) {
    if (!r.removed[d] && r.step[d] < 0) return true;
  }
  return false;
}

// Shared type rule: the static shape of x[entries].
absl::StatusOr<Dims> IndexedType(const std::vector<IndexEntry>& entries,
                                 const TensorType& x,
                                 std::span<const Var> bounds_from,
                                 int first_bound_input) {
  if (static_cast<int>(entries.size()) > x.ndim()) {
    return InvalidArg(absl::StrCat("too many indices (", entries.size(),
                                   ") for a tensor of rank ", x.ndim()));
  }
  Dims shape;
  for (int d = 0; d < x.ndim(); ++d) {
    if (d >= static_cast<int>(entries.size())) {
      shape.push_back(x.dim(d));
      continue;
    }
    const IndexEntry& e = entries[d];
    for (int input : {e.start_input, e.stop_input}) {
      if (input < 0) continue;
      const Var& b = bounds_from[input];
      if (b.ndim() != 0 || IsFloat(b.dtype())) {
        return InvalidArg(absl::StrCat(
            "index bounds must be integer scalars, got ", b.type().ToString()));
      }
    }
    (void)first_bound_input;
    if (e.is_index) continue;
    if (e.step == 0) return InvalidArg("slice step cannot be zero");
    if (e.start_input >= 0 || e.stop_input >= 0 || x.dim(d) == kUnknownDim) {
      // A full range keeps the size; others are unknown statically.
      shape.push_back(e.start == kNone && e.stop == kNone && e.step == 1 &&
                              e.start_input < 0 && e.stop_input < 0
                          ? x.dim(d)
                          : kUnknownDim);
      continue;
    }
    Dims dshape = {x.dim(d)};
    absl::StatusOr<ResolvedIndex> r =
        ResolveIndex({e}, dshape, std::span<const HostValue* const>());
    if (!r.ok()) return r.status();
    shape.push_back(r->count[0]);
  }
  return shape;
}

}  // namespace

absl::StatusOr<ResolvedIndex> ResolveIndex(
    const std::vector<IndexEntry>& entries, const Dims& shape,
    std::span<const HostValue* const> values) {
  ResolvedIndex r;
  r.start = Dims::Filled(shape.size(), 0);
  r.count = shape;
  r.step = Dims::Filled(shape.size(), 1);
  for (int d = 0; d < shape.size() && d < static_cast<int>(entries.size());
       ++d) {
    const IndexEntry& e = entries[d];
    const int64_t n = shape[d];
    if (e.is_index) {
      int64_t i = BoundValue(e.start, e.start_input, values);
      if (i < 0) i += n;
      if (i < 0 || i >= n) {
        return InvalidArg(absl::StrCat(
            "index ", BoundValue(e.start, e.start_input, values),
            " is out of bounds for dimension ", d, " of size ", n));
      }
      r.start[d] = i;
      r.count[d] = 1;
      r.removed[d] = true;
      continue;
    }
    const int64_t step = e.step;
    int64_t start = BoundValue(e.start, e.start_input, values);
    int64_t stop = BoundValue(e.stop, e.stop_input, values);
    // Python's slice.indices(n).
    if (step > 0) {
      if (start == kNone) {
        start = 0;
      } else {
        if (start < 0) start += n;
        start = std::clamp<int64_t>(start, 0, n);
      }
      if (stop == kNone) {
        stop = n;
      } else {
        if (stop < 0) stop += n;
        stop = std::clamp<int64_t>(stop, 0, n);
      }
      r.count[d] = stop > start ? (stop - start + step - 1) / step : 0;
    } else {
      if (start == kNone) {
        start = n - 1;
      } else {
        if (start < 0) start += n;
        start = std::clamp<int64_t>(start, -1, n - 1);
      }
      if (stop == kNone) {
        stop = -1;
      } else {
        if (stop < 0) stop += n;
        stop = std::clamp<int64_t>(stop, -1, n - 1);
      }
      r.count[d] = start > stop ? (start - stop - step - 1) / (-step) : 0;
    }
    r.start[d] = r.count[d] > 0 ? start : 0;
    r.step[d] = step;
  }
  return r;
}

std::vector<IndexEntry> ShiftBounds(std::vector<IndexEntry> entries,
                                    int delta) {
  for (IndexEntry& e : entries) {
    if (e.start_input >= 0) e.start_input += delta;
    if (e.stop_input >= 0) e.stop_input += delta;
  }
  return entries;
}

namespace {

// OK when a value of shape `y` broadcasts to the part `r` selects of a
// rank-`ndim` tensor (the value of an inc_subtensor or set_subtensor).
absl::Status CheckValueFits(const Dims& y, const ResolvedIndex& r, int ndim) {
  Dims sub;
  for (int d = 0; d < ndim; ++d) {
    if (!r.removed[d]) sub.push_back(r.count[d]);
  }
  const int offset = sub.size() - y.size();
  for (int d = 0; d < y.size(); ++d) {
    if (offset < 0 || (y[d] != 1 && y[d] != sub[d + offset])) {
      return InvalidArg(absl::StrCat("value of shape ", y.ToString(),
                                     " does not fit the part of shape ",
                                     sub.ToString()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// ----------------------------------------------------------------- Subtensor

std::string Subtensor::name() const {
  return absl::StrCat("Subtensor{", EntriesToString(entries_), "}");
}

bool Subtensor::Equals(const Op& other) const {
  const auto* o = dynamic_cast<const Subtensor*>(&other);
  return o != nullptr && o->entries_ == entries_;
}

absl::StatusOr<std::vector<TensorType>> Subtensor::OutputTypes(
    std::span<const Var> inputs) const {
  absl::StatusOr<Dims> shape =
      IndexedType(entries_, inputs[0].type(), inputs, 1);
  if (!shape.ok()) return shape.status();
  return std::vector<TensorType>{TensorType(inputs[0].dtype(), *shape)};
}

absl::Status Subtensor::InferShapes(ShapeContext& ctx) const {
  absl::StatusOr<ResolvedIndex> r =
      ResolveIndex(entries_, ctx.input_shapes[0], ctx.input_values);
  if (!r.ok()) return r.status();
  Dims out;
  for (int d = 0; d < ctx.input_shapes[0].size(); ++d) {
    if (!r->removed[d]) out.push_back(r->count[d]);
  }
  ctx.output_shapes[0] = out;
  return absl::OkStatus();
}

absl::Status Subtensor::EvaluateOnHost(HostEvalContext& ctx) const {
  absl::StatusOr<ResolvedIndex> r =
      ResolveIndex(entries_, ctx.input_shapes[0], ctx.inputs);
  if (!r.ok()) return r.status();
  const HostValue& in = *ctx.inputs[0];
  HostValue& out = ctx.outputs[0];
  ArrayRef in_ref = MakeContiguousRef(0, 0, in.dtype, in.shape);
  ArrayRef view = IndexedView(in_ref, *r);
  out.dtype = in.dtype;
  out.shape = view.shape;
  const Dims out_strides = ContiguousStrides(view.shape);
  for (int64_t e = 0; e < view.numel(); ++e) {
    int64_t rest = e, offset = view.byte_offset /
                               static_cast<int64_t>(DTypeSize(in.dtype));
    for (int d = 0; d < view.shape.size(); ++d) {
      offset += (rest / out_strides[d]) * view.strides[d];
      rest %= out_strides[d];
    }
    if (IsFloat(out.dtype)) {
      out.Set(static_cast<int>(e), in.AsDouble(static_cast<int>(offset)));
    } else {
      out.SetInt(static_cast<int>(e), in.AsInt(static_cast<int>(offset)));
    }
  }
  return absl::OkStatus();
}

absl::Status Subtensor::MakeView(ViewContext& ctx) const {
  const ArrayRef& in = ctx.inputs[0];
  absl::StatusOr<ResolvedIndex> r =
      ResolveIndex(entries_, in.shape, ctx.input_values);
  if (!r.ok()) return r.status();
  if (HasNegativeStep(*r, in.shape.size())) return ViewNeedsCopy();
  ArrayRef view = IndexedView(in, *r);
  ctx.output.byte_offset = view.byte_offset;
  ctx.output.strides = view.strides;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> Subtensor::MakeLaunch(
    LaunchContext& ctx) const {
  // Negative steps: copy through a reversed (negative-stride) view.
  absl::StatusOr<ResolvedIndex> r =
      ResolveIndex(entries_, ctx.inputs[0].shape, ctx.input_values);
  if (!r.ok()) return r.status();
  return MakeCopyLaunch(IndexedView(ctx.inputs[0], *r), ctx.outputs[0]);
}

std::vector<Var> Subtensor::Grad(Node& node,
                                 std::span<const Var> output_grads) const {
  std::vector<Var> grads(node.num_inputs());
  if (!output_grads[0].defined()) return grads;
  std::vector<Var> inputs = {zeros_like(node.input(0)), output_grads[0]};
  for (int i = 1; i < node.num_inputs(); ++i) inputs.push_back(node.input(i));
  grads[0] =
      ApplyOp1(std::make_shared<IncSubtensor>(ShiftBounds(entries_, 1), false),
               std::move(inputs), std::source_location::current());
  return grads;
}

// -------------------------------------------------------------- IncSubtensor

std::string IncSubtensor::name() const {
  return absl::StrCat(set_ ? "SetSubtensor{" : "IncSubtensor{",
                      EntriesToString(entries_), "}");
}

bool IncSubtensor::Equals(const Op& other) const {
  const auto* o = dynamic_cast<const IncSubtensor*>(&other);
  return o != nullptr && o->entries_ == entries_ && o->set_ == set_;
}

absl::StatusOr<std::vector<TensorType>> IncSubtensor::OutputTypes(
    std::span<const Var> inputs) const {
  absl::StatusOr<Dims> sub = IndexedType(entries_, inputs[0].type(), inputs, 2);
  if (!sub.ok()) return sub.status();
  const TensorType& y = inputs[1].type();
  if (y.dtype() != inputs[0].dtype()) {
    return InvalidArg(absl::StrCat("value of dtype ", DTypeName(y.dtype()),
                                   " for a tensor of dtype ",
                                   DTypeName(inputs[0].dtype())));
  }
  if (y.ndim() > sub->size()) {
    return InvalidArg(absl::StrCat("value of rank ", y.ndim(),
                                   " for a part of rank ", sub->size()));
  }
  return std::vector<TensorType>{inputs[0].type()};
}

absl::Status IncSubtensor::InferShapes(ShapeContext& ctx) const {
  std::span<const HostValue* const> bounds = ctx.input_values;
  absl::StatusOr<ResolvedIndex> r =
      ResolveIndex(entries_, ctx.input_shapes[0], bounds);
  if (!r.ok()) return r.status();
  if (absl::Status s =
          CheckValueFits(ctx.input_shapes[1], *r, ctx.input_shapes[0].size());
      !s.ok()) {
    return s;
  }
  ctx.output_shapes[0] = ctx.input_shapes[0];
  return absl::OkStatus();
}

namespace {

class IncSubtensorLaunch : public Launch {
 public:
  static absl::StatusOr<std::unique_ptr<Launch>> Create(
      LaunchContext& ctx, const std::vector<IndexEntry>& entries, bool set) {
    auto launch = std::unique_ptr<IncSubtensorLaunch>(new IncSubtensorLaunch());
    const ArrayRef& x = ctx.inputs[0];
    const ArrayRef& out = ctx.outputs[0];
    if (!(x.slot == out.slot && x.byte_offset == out.byte_offset)) {
      launch->copy_x_ = MakeCopyLaunch(x, out);
    }
    absl::StatusOr<ResolvedIndex> r =
        ResolveIndex(entries, out.shape, ctx.input_values);
    if (!r.ok()) return r.status();
    // Negative steps: address the same elements with positive steps and
    // read y reversed along those dimensions.
    ResolvedIndex positive = *r;
    ArrayRef y = ctx.inputs[1];
    std::vector<int> kept;
    for (int d = 0; d < out.shape.size(); ++d) {
      if (!r->removed[d]) kept.push_back(d);
    }
    const int y_offset = static_cast<int>(kept.size()) - y.shape.size();
    Dims y_strides = Dims::Filled(static_cast<int>(kept.size()), 0);
    for (int k = 0; k < static_cast<int>(kept.size()); ++k) {
      const int yd = k - y_offset;
      y_strides[k] = (yd < 0 || y.shape[yd] == 1) ? 0 : y.strides[yd];
    }
    int64_t y_byte_offset = y.byte_offset;
    const int64_t dsize = static_cast<int64_t>(DTypeSize(y.dtype));
    for (int k = 0; k < static_cast<int>(kept.size()); ++k) {
      const int d = kept[k];
      if (r->step[d] < 0 && r->count[d] > 0) {
        positive.start[d] = r->start[d] + (r->count[d] - 1) * r->step[d];
        positive.step[d] = -r->step[d];
        y_byte_offset += (r->count[d] - 1) * y_strides[k] * dsize;
        y_strides[k] = -y_strides[k];
      }
    }
    ArrayRef part = IndexedView(out, positive);
    ArrayRef y_view = part;
    y_view.slot = y.slot;
    y_view.byte_offset = y_byte_offset;
    y_view.dtype = y.dtype;
    y_view.strides = y_strides;
    if (set) {
      launch->update_ = MakeCopyLaunch(y_view, part);
    } else {
      launch->part_ = part;
      launch->y_ = y_view;
      launch->program_ = ScalarProgram::Single(
          THETA_EW_ADD, 2,
          part.dtype == DType::kBool || part.dtype == DType::kUInt8
              ? DType::kInt32
              : part.dtype);
    }
    launch->Prepare();
    return std::unique_ptr<Launch>(std::move(launch));
  }

  absl::Status Run(const ExecContext& ctx) override {
    if (copy_x_) {
      THETA_RETURN_IF_ERROR(copy_x_->Run(ctx));
    }
    if (update_) return update_->Run(ctx);
    if (part_.numel() == 0) return absl::OkStatus();
    operands_[0].data = part_.Address(ctx.slots);
    operands_[1].data = y_.Address(ctx.slots);
    operands_[2].data = operands_[0].data;
    return ctx.backend->Check(
        ctx.backend->api().elementwise(ctx.backend->stream(), &args_),
        "inc_subtensor");
  }

 private:
  void Prepare() {
    if (update_) return;
    program_abi_.struct_size = sizeof(program_abi_);
    program_abi_.compute_dtype = ToAbi(program_.compute);
    program_abi_.num_registers = program_.num_registers;
    program_abi_.num_instrs = static_cast<uint32_t>(program_.instrs.size());
    program_abi_.instrs = program_.instrs.data();
    operands_[0] = {nullptr, ToAbi(part_.dtype), part_.strides.data()};
    operands_[1] = {nullptr, ToAbi(y_.dtype), y_.strides.data()};
    operands_[2] = {nullptr, ToAbi(part_.dtype), part_.strides.data()};
    args_.struct_size = sizeof(args_);
    args_.program = &program_abi_;
    args_.ndim = part_.shape.size();
    args_.shape = part_.shape.data();
    args_.num_inputs = 2;
    args_.inputs = operands_;
    args_.num_outputs = 1;
    args_.outputs = operands_ + 2;
    args_.num_params = 0;
    args_.params = nullptr;
  }

  std::unique_ptr<Launch> copy_x_;
  std::unique_ptr<Launch> update_;
  ArrayRef part_;
  ArrayRef y_;
  ScalarProgram program_;
  theta_ew_program program_abi_;
  theta_ew_operand operands_[3];
  theta_elementwise_args args_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Launch>> IncSubtensor::MakeLaunch(
    LaunchContext& ctx) const {
  return IncSubtensorLaunch::Create(ctx, entries_, set_);
}

std::vector<Var> IncSubtensor::Grad(Node& node,
                                    std::span<const Var> output_grads) const {
  std::vector<Var> grads(node.num_inputs());
  const Var& gz = output_grads[0];
  if (!gz.defined()) return grads;
  // The part of gz under the index, with the bounds as the same inputs.
  std::vector<IndexEntry> sub_entries = ShiftBounds(entries_, -1);
  std::vector<Var> sub_inputs = {gz};
  for (int i = 2; i < node.num_inputs(); ++i)
    sub_inputs.push_back(node.input(i));
  Var gz_part = ApplyOp1(std::make_shared<Subtensor>(sub_entries), sub_inputs,
                         std::source_location::current());
  if (set_) {
    std::vector<Var> inputs = {gz, zeros_like(gz_part)};
    for (int i = 2; i < node.num_inputs(); ++i) inputs.push_back(node.input(i));
    grads[0] = ApplyOp1(std::make_shared<IncSubtensor>(entries_, true), inputs,
                        std::source_location::current());
  } else {
    grads[0] = gz;
  }
  grads[1] = SumToBroadcast(gz_part, node.input(1).type());
  return grads;
}

// -------------------------------------------------------------- PlaceInZeros

namespace {

class ZeroFillLaunch : public Launch {
 public:
  explicit ZeroFillLaunch(const ArrayRef& out) : out_(out) {}
  absl::Status Run(const ExecContext& ctx) override {
    if (out_.numel() == 0) return absl::OkStatus();
    theta_array array = out_.ToAbi(ctx.slots);
    return ctx.backend->Check(
        ctx.backend->api().fill(ctx.backend->stream(), &array, 0.0), "fill");
  }

 private:
  ArrayRef out_;
};

// Launches run one after another: zeros (where the parts do not tile the
// result), then each part.
class SequenceLaunch : public Launch {
 public:
  explicit SequenceLaunch(std::vector<std::unique_ptr<Launch>> steps)
      : steps_(std::move(steps)) {}
  absl::Status Run(const ExecContext& ctx) override {
    for (const std::unique_ptr<Launch>& step : steps_) {
      THETA_RETURN_IF_ERROR(step->Run(ctx));
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<Launch>> steps_;
};

// The smallest and largest index part `r` reaches along dimension d.
std::pair<int64_t, int64_t> Extent(const ResolvedIndex& r, int d) {
  const int64_t last = r.start[d] + (r.count[d] - 1) * r.step[d];
  return {std::min(r.start[d], last), std::max(r.start[d], last)};
}

bool BoxesIntersect(const ResolvedIndex& a, const ResolvedIndex& b, int rank) {
  for (int d = 0; d < rank; ++d) {
    if (a.count[d] == 0 || b.count[d] == 0) return false;
    const auto [a_lo, a_hi] = Extent(a, d);
    const auto [b_lo, b_hi] = Extent(b, d);
    if (a_hi < b_lo || b_hi < a_lo) return false;
  }
  return true;
}

}  // namespace

PartsLayout LayOutParts(std::span<const ResolvedIndex> parts, const Dims& out) {
  PartsLayout layout;
  int64_t covered = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    int64_t elements = 1;
    for (int d = 0; d < out.size(); ++d) elements *= parts[p].count[d];
    covered += elements;
    for (size_t q = 0; q < p; ++q) {
      layout.overlap |= BoxesIntersect(parts[p], parts[q], out.size());
    }
  }
  // Disjoint parts of the result that hold as many elements as it does.
  layout.tiles = !layout.overlap && covered == out.product();
  return layout;
}

std::string PlaceInZeros::name() const {
  std::vector<std::string> parts;
  for (const std::vector<IndexEntry>& part : parts_) {
    parts.push_back(EntriesToString(part));
  }
  return absl::StrCat("PlaceInZeros{", absl::StrJoin(parts, " | "), "}");
}

bool PlaceInZeros::Equals(const Op& other) const {
  const auto* o = dynamic_cast<const PlaceInZeros*>(&other);
  return o != nullptr && o->parts_ == parts_ && o->type_ == type_;
}

absl::StatusOr<std::vector<TensorType>> PlaceInZeros::OutputTypes(
    std::span<const Var> inputs) const {
  if (static_cast<int>(inputs.size()) < num_leading_inputs()) {
    return InvalidArg(absl::StrCat("needs ", num_parts(), " values and ",
                                   rank(), " sizes, got ", inputs.size(),
                                   " inputs"));
  }
  for (int p = 0; p < num_parts(); ++p) {
    if (inputs[p].dtype() != type_.dtype()) {
      return InvalidArg(
          absl::StrCat("value of dtype ", DTypeName(inputs[p].dtype()),
                       " for a tensor of dtype ", DTypeName(type_.dtype())));
    }
  }
  return std::vector<TensorType>{type_};
}

absl::StatusOr<std::vector<ResolvedIndex>> PlaceInZeros::Parts(
    const Dims& out, std::span<const HostValue* const> values) const {
  std::vector<ResolvedIndex> parts;
  for (const std::vector<IndexEntry>& part : parts_) {
    absl::StatusOr<ResolvedIndex> r = ResolveIndex(part, out, values);
    if (!r.ok()) return r.status();
    parts.push_back(*r);
  }
  return parts;
}

absl::Status PlaceInZeros::InferShapes(ShapeContext& ctx) const {
  Dims out = Dims::Filled(rank(), 0);
  for (int d = 0; d < rank(); ++d) {
    out[d] = ctx.input_values[num_parts() + d]->AsInt(0);
    if (out[d] < 0) {
      return InvalidArg(
          absl::StrCat("negative size ", out[d], " for dimension ", d));
    }
  }
  absl::StatusOr<std::vector<ResolvedIndex>> parts =
      Parts(out, ctx.input_values);
  if (!parts.ok()) return parts.status();
  for (int p = 0; p < num_parts(); ++p) {
    if (absl::Status s =
            CheckValueFits(ctx.input_shapes[p], (*parts)[p], out.size());
        !s.ok()) {
      return s;
    }
  }
  ctx.output_shapes[0] = out;
  return absl::OkStatus();
}

absl::Status PlaceInZeros::MakeView(ViewContext& ctx) const {
  const ArrayRef& y = ctx.inputs[0];
  const Dims& out = ctx.output.shape;
  if (num_parts() != 1 || y.shape != out) return ViewNeedsCopy();
  absl::StatusOr<std::vector<ResolvedIndex>> parts =
      Parts(out, ctx.input_values);
  if (!parts.ok()) return parts.status();
  const ResolvedIndex& r = parts->front();
  for (int d = 0; d < out.size(); ++d) {
    if (r.removed[d] || r.start[d] != 0 || r.step[d] != 1 ||
        r.count[d] != out[d]) {
      return ViewNeedsCopy();
    }
  }
  // y covers every element: the result is y.
  ctx.output.byte_offset = y.byte_offset;
  ctx.output.strides = y.strides;
  return absl::OkStatus();
}

std::optional<ArrayRef> PlaceInZeros::Window(const ArrayRef& out,
                                             const ResolvedIndex& part,
                                             const Dims& value_shape) {
  ArrayRef window = IndexedView(out, part);
  if (HasNegativeStep(part, out.shape.size()) || window.shape != value_shape) {
    return std::nullopt;
  }
  return window;
}

std::vector<std::optional<ArrayRef>> PlaceInZeros::OutputWindows(
    const WindowContext& ctx) const {
  std::vector<std::optional<ArrayRef>> windows(num_parts());
  absl::StatusOr<std::vector<ResolvedIndex>> parts =
      Parts(ctx.output.shape, ctx.input_values);
  if (!parts.ok() || !LayOutParts(*parts, ctx.output.shape).tiles) {
    return windows;
  }
  for (int p = 0; p < num_parts(); ++p) {
    windows[p] = Window(ctx.output, (*parts)[p], ctx.input_shapes[p]);
  }
  return windows;
}

absl::StatusOr<std::unique_ptr<Launch>> PlaceInZeros::MakeLaunch(
    LaunchContext& ctx) const {
  const ArrayRef& out = ctx.outputs[0];
  absl::StatusOr<std::vector<ResolvedIndex>> parts =
      Parts(out.shape, ctx.input_values);
  if (!parts.ok()) return parts.status();
  const PartsLayout layout = LayOutParts(*parts, out.shape);
  std::vector<std::unique_ptr<Launch>> steps;
  if (!layout.tiles) steps.push_back(std::make_unique<ZeroFillLaunch>(out));
  // Each part is an inc_subtensor over the result, in place: inputs (out,
  // y_p, bounds...). Disjoint parts of zeros are set, not added. A value
  // the planner computed in its window is already there.
  for (int p = 0; p < num_parts(); ++p) {
    const ArrayRef& y = ctx.inputs[p];
    const std::optional<ArrayRef> window =
        layout.tiles ? Window(out, (*parts)[p], y.shape) : std::nullopt;
    if (window.has_value() && y.slot == window->slot &&
        y.byte_offset == window->byte_offset && y.strides == window->strides) {
      continue;
    }
    std::vector<ArrayRef> inputs = {out, ctx.inputs[p]};
    std::vector<const HostValue*> values = {nullptr, nullptr};
    for (size_t i = num_leading_inputs(); i < ctx.input_values.size(); ++i) {
      inputs.push_back(ctx.inputs[i]);
      values.push_back(ctx.input_values[i]);
    }
    std::vector<int32_t> slots(inputs.size(), -1);
    LaunchContext part_ctx{ctx.node, inputs,      slots,
                           values,   ctx.outputs, ctx.backend};
    absl::StatusOr<std::unique_ptr<Launch>> part = IncSubtensorLaunch::Create(
        part_ctx, ShiftBounds(parts_[p], 2 - num_leading_inputs()),
        /*set=*/!layout.overlap);
    if (!part.ok()) return part.status();
    steps.push_back(*std::move(part));
  }
  // No steps at all: every value was computed in its window, and the plan
  // runs nothing for this node.
  if (steps.empty()) return std::unique_ptr<Launch>();
  if (steps.size() == 1) return std::move(steps.front());
  return std::unique_ptr<Launch>(new SequenceLaunch(std::move(steps)));
}

// ------------------------------------------------------------------ builders

Var slice(const Var& x, std::vector<Slice> slices, std::source_location loc) {
  std::vector<IndexEntry> entries;
  std::vector<Var> inputs = {x};
  bool trivial = true;
  for (const Slice& s : slices) {
    IndexEntry e;
    e.is_index = s.is_index();
    e.step = s.step();
    if (e.step == 0) ThrowAt(MakeSourceInfo(loc), "slice: step cannot be zero");
    if (s.start().is_var()) {
      e.start_input = static_cast<int>(inputs.size());
      inputs.push_back(DimArgToVar(s.start(), loc));
    } else {
      e.start = s.start().size();
    }
    if (!e.is_index) {
      if (s.stop().is_var()) {
        e.stop_input = static_cast<int>(inputs.size());
        inputs.push_back(DimArgToVar(s.stop(), loc));
      } else {
        e.stop = s.stop().size();
      }
    }
    trivial &= !e.is_index && e.start == kNone && e.stop == kNone &&
               e.step == 1 && e.start_input < 0 && e.stop_input < 0;
    entries.push_back(e);
  }
  if (trivial) return x;
  return ApplyOp1(std::make_shared<Subtensor>(std::move(entries)),
                  std::move(inputs), loc);
}

Var index(const Var& x, DimArg i, std::source_location loc) {
  return slice(x, {Slice::Index(i)}, loc);
}

Var Var::operator()(const Slice& i0, std::source_location loc) const {
  return slice(*this, {i0}, loc);
}
Var Var::operator()(const Slice& i0, const Slice& i1,
                    std::source_location loc) const {
  return slice(*this, {i0, i1}, loc);
}
Var Var::operator()(const Slice& i0, const Slice& i1, const Slice& i2,
                    std::source_location loc) const {
  return slice(*this, {i0, i1, i2}, loc);
}
Var Var::operator()(const Slice& i0, const Slice& i1, const Slice& i2,
                    const Slice& i3, std::source_location loc) const {
  return slice(*this, {i0, i1, i2, i3}, loc);
}

namespace {

Var SubtensorUpdate(const Var& sub, const Operand& y_operand, bool set,
                    std::source_location loc) {
  if (!sub.defined()) {
    ThrowAt(MakeSourceInfo(loc),
            "set_subtensor/inc_subtensor of an undefined Var");
  }
  Node* owner = sub.owner();
  Var y = y_operand.weak() ? constant(y_operand.value(), sub.dtype(), loc)
                           : y_operand.var();
  if (y.dtype() != sub.dtype()) y = cast(y, sub.dtype(), loc);
  if (owner != nullptr) {
    if (const auto* op = dynamic_cast<const Subtensor*>(&owner->op())) {
      std::vector<Var> inputs = {owner->input(0), y};
      std::vector<IndexEntry> entries = ShiftBounds(op->entries(), 1);
      for (int i = 1; i < owner->num_inputs(); ++i) {
        inputs.push_back(owner->input(i));
      }
      return ApplyOp1(std::make_shared<IncSubtensor>(std::move(entries), set),
                      std::move(inputs), loc);
    }
    if (const auto* op = dynamic_cast<const Take*>(&owner->op())) {
      if (set) {
        ThrowAt(MakeSourceInfo(loc),
                "set_subtensor: assignment through integer-array indexing is "
                "not supported (use inc_subtensor, or basic slicing)");
      }
      Var value = y;
      if (value.type() != sub.type()) {
        std::vector<DimArg> dims;
        for (int d = 0; d < sub.ndim(); ++d)
          dims.push_back(shape_i(sub, d, loc));
        value = alloc(Operand(PadRank(y, sub.ndim(), loc), loc), dims, loc);
      }
      return ApplyOp1(std::make_shared<TakeInc>(op->axis()),
                      {owner->input(0), value, owner->input(1)}, loc);
    }
  }
  if (sub.defined() && owner == nullptr) {
    // The whole variable (slice() of a full range returns x itself).
    return set ? alloc(
                     Operand(PadRank(y, sub.ndim(), loc), loc),
                     [&] {
                       std::vector<DimArg> dims;
                       for (int d = 0; d < sub.ndim(); ++d) {
                         dims.push_back(shape_i(sub, d, loc));
                       }
                       return dims;
                     }(),
                     loc)
               : sub + y;
  }
  ThrowAt(MakeSourceInfo(loc),
          absl::StrCat(set ? "set_subtensor" : "inc_subtensor",
                       ": the first argument must be the result of slice(), "
                       "index() or take(); got the output of ",
                       owner->op().name()));
}

}  // namespace

Var set_subtensor(const Var& sub, const Operand& y, std::source_location loc) {
  return SubtensorUpdate(sub, y, true, loc);
}

Var inc_subtensor(const Var& sub, const Operand& y, std::source_location loc) {
  return SubtensorUpdate(sub, y, false, loc);
}

}  // namespace theta
