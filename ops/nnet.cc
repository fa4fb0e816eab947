#include "ops/nnet.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ops/elementwise_op.h"
#include "ops/labels.h"
#include "ops/nnet_ops.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/subtensor.h"

namespace theta {
namespace {

absl::Status InvalidArg(const std::string& m) {
  return absl::InvalidArgumentError(m);
}

class SoftmaxLaunch : public Launch {
 public:
  SoftmaxLaunch(bool log, const ArrayRef& in, const ArrayRef& out)
      : in_(in), out_(out) {
    args_.struct_size = sizeof(args_);
    args_.log = log ? 1 : 0;
  }
  absl::Status Run(const ExecContext& ctx) override {
    if (in_.numel() == 0) return absl::OkStatus();
    args_.input = in_.ToAbi(ctx.slots);
    args_.output = out_.ToAbi(ctx.slots);
    return ctx.backend->Check(
        ctx.backend->api().softmax(ctx.backend->stream(), &args_), "softmax");
  }

 private:
  ArrayRef in_, out_;
  theta_softmax_args args_;
};

// loss[i] = -log_softmax(x)[i, labels[i]]: log_softmax, then a gather of
// the flat positions i*C + labels[i] (labels out of range map past the end,
// so the gather reports them), then a negation.
class CrossentropyLaunch : public Launch {
 public:
  static absl::StatusOr<std::unique_ptr<Launch>> Create(LaunchContext& ctx) {
    auto l = std::unique_ptr<CrossentropyLaunch>(new CrossentropyLaunch(ctx));
    const int64_t n = l->x_.shape[0];
    const int64_t c = l->x_.shape[1];
    l->classes_ = c;
    // Row offsets 0, C, 2C, ... computed once per plan.
    std::vector<int64_t> offsets(n);
    for (int64_t i = 0; i < n; ++i) offsets[i] = i * c;
    absl::StatusOr<backends::Buffer> rows =
        ctx.backend.Allocate(static_cast<uint64_t>(n) * sizeof(int64_t));
    absl::StatusOr<backends::Buffer> flat =
        ctx.backend.Allocate(static_cast<uint64_t>(n) * sizeof(int64_t));
    if (!rows.ok()) return rows.status();
    if (!flat.ok()) return flat.status();
    THETA_RETURN_IF_ERROR(ctx.backend.CopyToDevice(rows->data(), offsets.data(),
                                                   n * sizeof(int64_t)));
    THETA_RETURN_IF_ERROR(ctx.backend.Synchronize());
    l->row_offsets_ = *std::move(rows);
    l->flat_index_ = *std::move(flat);
    l->Prepare();
    return std::unique_ptr<Launch>(std::move(l));
  }

  absl::Status Run(const ExecContext& ctx) override {
    if (x_.numel() == 0 && loss_.numel() == 0) return absl::OkStatus();
    const theta_backend_api& api = ctx.backend->api();
    theta_stream* stream = ctx.backend->stream();
    softmax_.input = x_.ToAbi(ctx.slots);
    softmax_.output = log_sm_.ToAbi(ctx.slots);
    if (absl::Status s =
            ctx.backend->Check(api.softmax(stream, &softmax_), "log_softmax");
        !s.ok()) {
      return s;
    }
    index_operands_[0].data = labels_.Address(ctx.slots);
    index_operands_[1].data = row_offsets_.data();
    index_operands_[2].data = flat_index_.data();
    THETA_RETURN_IF_ERROR(ctx.backend->Check(
        api.elementwise(stream, &index_args_), "crossentropy labels"));
    gather_.source = theta_array{log_sm_.Address(ctx.slots),
                                 ToAbi(log_sm_.dtype), 1, &flat_size_, &one_};
    gather_.indices = theta_array{flat_index_.data(), THETA_DTYPE_I64, 1,
                                  &loss_.shape[0], &one_};
    gather_.output = loss_.ToAbi(ctx.slots);
    if (theta_status* refused = api.gather(stream, &gather_)) {
      api.status_free(refused);
      return NameTheLabel(ctx);
    }
    neg_operands_[0].data = loss_.Address(ctx.slots);
    neg_operands_[1].data = neg_operands_[0].data;
    return ctx.backend->Check(api.elementwise(stream, &neg_args_), "negate");
  }

 private:
  // The error path of a label out of range (the gather refused its flat
  // index): the labels come to the host, through flat_index_, so that the
  // error names the first bad one and its row.
  // The gather refused a flat index: name the first bad label and its row.
  absl::Status NameTheLabel(const ExecContext& ctx) {
    return ExplainRefusedLabels(ctx, index_operands_[0], labels_.shape,
                                flat_index_.data(), "categorical_crossentropy",
                                "row", classes_);
  }

  explicit CrossentropyLaunch(LaunchContext& ctx)
      : x_(ctx.inputs[0]),
        labels_(ctx.inputs[1]),
        loss_(ctx.outputs[0]),
        log_sm_(ctx.outputs[1]) {}

  void Prepare() {
    flat_size_ = x_.numel();
    softmax_.struct_size = sizeof(softmax_);
    softmax_.log = 1;
    // flat = (0 <= label < C) ? row_offset + label : N*C
    index_program_ = {
        {THETA_EW_LOAD, 0, 0, 0, 0},  {THETA_EW_LOAD, 1, 1, 0, 0},
        {THETA_EW_PARAM, 2, 0, 0, 0}, {THETA_EW_PARAM, 3, 1, 0, 0},
        {THETA_EW_PARAM, 4, 2, 0, 0}, {THETA_EW_GE, 5, 0, 3, 0},
        {THETA_EW_LT, 6, 0, 2, 0},    {THETA_EW_AND, 5, 5, 6, 0},
        {THETA_EW_ADD, 6, 1, 0, 0},   {THETA_EW_SELECT, 6, 5, 6, 4},
        {THETA_EW_STORE, 0, 6, 0, 0},
    };
    index_params_[0] = static_cast<double>(classes_);
    index_params_[1] = 0.0;
    index_params_[2] = static_cast<double>(flat_size_);
    index_program_abi_ = {sizeof(theta_ew_program), THETA_DTYPE_I64, 7,
                          static_cast<uint32_t>(index_program_.size()),
                          index_program_.data()};
    index_operands_[0] = {nullptr, ToAbi(labels_.dtype),
                          labels_.strides.data()};
    index_operands_[1] = {nullptr, THETA_DTYPE_I64, &one_};
    index_operands_[2] = {nullptr, THETA_DTYPE_I64, &one_};
    index_args_ = {sizeof(theta_elementwise_args),
                   &index_program_abi_,
                   1,
                   &loss_.shape[0],
                   2,
                   index_operands_,
                   1,
                   index_operands_ + 2,
                   3,
                   index_params_};
    gather_.struct_size = sizeof(gather_);
    gather_.axis = 0;
    neg_program_ = {{THETA_EW_LOAD, 0, 0, 0, 0},
                    {THETA_EW_NEG, 1, 0, 0, 0},
                    {THETA_EW_STORE, 0, 1, 0, 0}};
    neg_program_abi_ = {sizeof(theta_ew_program), ToAbi(loss_.dtype), 2, 3,
                        neg_program_.data()};
    neg_operands_[0] = {nullptr, ToAbi(loss_.dtype), loss_.strides.data()};
    neg_operands_[1] = {nullptr, ToAbi(loss_.dtype), loss_.strides.data()};
    neg_args_ = {sizeof(theta_elementwise_args),
                 &neg_program_abi_,
                 1,
                 loss_.shape.data(),
                 1,
                 neg_operands_,
                 1,
                 neg_operands_ + 1,
                 0,
                 nullptr};
  }

  ArrayRef x_, labels_, loss_, log_sm_;
  int64_t classes_ = 0;
  int64_t flat_size_ = 0;
  int64_t one_ = 1;
  backends::Buffer row_offsets_, flat_index_;
  theta_softmax_args softmax_;
  std::vector<theta_ew_instr> index_program_, neg_program_;
  theta_ew_program index_program_abi_, neg_program_abi_;
  theta_ew_operand index_operands_[3], neg_operands_[2];
  double index_params_[3];
  theta_elementwise_args index_args_, neg_args_;
  theta_gather_args gather_;
};

}  // namespace

absl::StatusOr<std::vector<TensorType>> Softmax::OutputTypes(
    std::span<const Var> inputs) const {
  const TensorType& x = inputs[0].type();
  if (x.ndim() < 1 || !IsFloat(x.dtype())) {
    return InvalidArg(absl::StrCat("expects a float tensor of rank >= 1, got ",
                                   x.ToString()));
  }
  return std::vector<TensorType>{x};
}

absl::Status Softmax::InferShapes(ShapeContext& ctx) const {
  ctx.output_shapes[0] = ctx.input_shapes[0];
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> Softmax::MakeLaunch(
    LaunchContext& ctx) const {
  return std::unique_ptr<Launch>(
      new SoftmaxLaunch(log_, ctx.inputs[0], ctx.outputs[0]));
}

std::vector<Var> Softmax::Grad(Node& node,
                               std::span<const Var> output_grads) const {
  const Var& gz = output_grads[0];
  if (!gz.defined()) return {Var()};
  Var out = node.output(0);
  const int last = out.ndim() - 1;
  if (log_) return {gz - exp(out) * sum(gz, {last}, true)};
  return {(gz - sum(gz * out, {last}, true)) * out};
}

const Softmax* AsSoftmax(const Node* node) {
  return node == nullptr ? nullptr : dynamic_cast<const Softmax*>(&node->op());
}

absl::StatusOr<std::vector<TensorType>> CrossentropySoftmax::OutputTypes(
    std::span<const Var> inputs) const {
  const TensorType& x = inputs[0].type();
  const TensorType& y = inputs[1].type();
  if (x.ndim() != 2 || !IsFloat(x.dtype())) {
    return InvalidArg(
        absl::StrCat("expects a float matrix of scores, got ", x.ToString()));
  }
  if (y.ndim() != 1 || IsFloat(y.dtype()) || y.dtype() == DType::kBool) {
    return InvalidArg(
        absl::StrCat("expects a vector of integer labels, got ", y.ToString()));
  }
  return std::vector<TensorType>{TensorType(x.dtype(), {x.dim(0)}), x};
}

absl::Status CrossentropySoftmax::InferShapes(ShapeContext& ctx) const {
  const Dims& x = ctx.input_shapes[0];
  const Dims& y = ctx.input_shapes[1];
  if (y[0] != x[0]) {
    return InvalidArg(absl::StrCat(y[0], " labels for ", x[0],
                                   " rows of scores ", x.ToString()));
  }
  if (x[1] == 0 && x[0] > 0) return InvalidArg("scores have no classes");
  ctx.output_shapes[0] = Dims({x[0]});
  ctx.output_shapes[1] = x;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> CrossentropySoftmax::MakeLaunch(
    LaunchContext& ctx) const {
  return CrossentropyLaunch::Create(ctx);
}

std::vector<Var> CrossentropySoftmax::Grad(
    Node& node, std::span<const Var> output_grads) const {
  std::vector<Var> grads(2);
  const Var& gz = output_grads[0];
  // The log-softmax output is an implementation detail for the gradient;
  // its own gradient (if any) goes through log_softmax's rule.
  Var log_sm = node.output(1);
  Var x = node.input(0);
  Var g;
  if (gz.defined()) {
    // The one-hot comparison is made in x's float type (exact for fewer
    // than 2^24 classes), so that the whole gradient fuses into one kernel.
    Var labels = dimshuffle(cast(node.input(1), x.dtype()), {0, kNewAxis});
    Var classes =
        dimshuffle(cast(arange(0, shape_i(x, 1)), x.dtype()), {kNewAxis, 0});
    Var onehot = cast(eq(labels, classes), x.dtype());
    g = (exp(log_sm) - onehot) * dimshuffle(gz, {0, kNewAxis});
  }
  if (output_grads[1].defined()) {
    const Var& gl = output_grads[1];
    Var extra = gl - exp(log_sm) * sum(gl, {1}, true);
    g = g.defined() ? g + extra : extra;
  }
  grads[0] = g;
  return grads;
}

namespace nnet {

Var softmax(const Var& x, std::source_location loc) {
  return ApplyOp1(std::make_shared<Softmax>(false), {x}, loc);
}

Var log_softmax(const Var& x, std::source_location loc) {
  return ApplyOp1(std::make_shared<Softmax>(true), {x}, loc);
}

Var categorical_crossentropy(const Var& coding_dist, const Var& targets,
                             std::source_location loc) {
  const bool labels = !IsFloat(targets.dtype());
  if (labels) {
    if (coding_dist.ndim() != 2 || targets.ndim() != 1) {
      ThrowAt(
          MakeSourceInfo(loc),
          absl::StrCat("categorical_crossentropy: with integer labels, "
                       "expects a (rows, classes) matrix and a vector, got ",
                       coding_dist.type().ToString(), " and ",
                       targets.type().ToString()));
    }
    // softmax(x) -> the fused, stable op on x.
    if (const Softmax* sm = AsSoftmax(coding_dist.owner()); sm && !sm->log()) {
      return ApplyOp(std::make_shared<CrossentropySoftmax>(),
                     {coding_dist.owner()->input(0), targets}, loc)[0];
    }
    Var classes = shape_i(coding_dist, 1, loc);
    Var onehot = one_hot(
        check_labels(targets, classes, "categorical_crossentropy", "row", loc),
        classes, coding_dist.dtype(), loc);
    return neg(Operand(sum(onehot * log(coding_dist), {1}, false, loc), loc));
  }
  if (targets.type().ndim() != coding_dist.type().ndim()) {
    ThrowAt(MakeSourceInfo(loc),
            absl::StrCat("categorical_crossentropy: targets ",
                         targets.type().ToString(), " do not match ",
                         coding_dist.type().ToString()));
  }
  Var log_p;
  if (const Softmax* sm = AsSoftmax(coding_dist.owner()); sm && !sm->log()) {
    log_p = log_softmax(coding_dist.owner()->input(0), loc);
  } else {
    log_p = log(coding_dist);
  }
  const int last = coding_dist.ndim() - 1;
  return neg(Operand(sum(targets * log_p, {last}, false, loc), loc));
}

Var binary_crossentropy(const Var& output, const Operand& target,
                        std::source_location loc) {
  Var t = target.weak() ? constant(target.value(), output.dtype(), loc)
                        : target.var();
  return neg(Operand(t * log(output) + (1.0 - t) * log(1.0 - output), loc));
}

}  // namespace nnet
}  // namespace theta
