#include "ops/labels.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/backend.h"
#include "base/status_macros.h"
#include "graph/runtime.h"

namespace theta {
namespace {

// Runs the check of CheckLabels for one plan: fixed shapes, buffers
// allocated here, nothing allocated per call.
class CheckLabelsLaunch : public Launch {
 public:
  static absl::StatusOr<std::unique_ptr<Launch>> Create(LaunchContext& ctx,
                                                        std::string_view what,
                                                        std::string_view unit) {
    auto l = std::unique_ptr<CheckLabelsLaunch>(new CheckLabelsLaunch(ctx));
    l->what_ = what;
    l->unit_ = unit;
    l->depth_ = ctx.input_values[1]->AsInt(0);
    const int64_t n = l->labels_.numel();
    // Mapped labels (int64), the gather's output (bytes), the table (bytes).
    absl::StatusOr<backends::Buffer> mapped =
        ctx.backend.Allocate(static_cast<uint64_t>(n) * sizeof(int64_t));
    if (!mapped.ok()) return mapped.status();
    absl::StatusOr<backends::Buffer> gathered =
        ctx.backend.Allocate(static_cast<uint64_t>(n));
    if (!gathered.ok()) return gathered.status();
    absl::StatusOr<backends::Buffer> table = ctx.backend.Allocate(
        static_cast<uint64_t>(std::max<int64_t>(l->depth_, 1)));
    if (!table.ok()) return table.status();
    l->mapped_ = *std::move(mapped);
    l->gathered_ = *std::move(gathered);
    l->table_ = *std::move(table);
    l->Prepare();
    return std::unique_ptr<Launch>(std::move(l));
  }

  absl::Status Run(const ExecContext& ctx) override {
    if (count_ == 0) return absl::OkStatus();
    const theta_backend_api& api = ctx.backend->api();
    theta_stream* stream = ctx.backend->stream();
    map_operands_[0].data = labels_.Address(ctx.slots);
    map_operands_[1].data = out_.Address(ctx.slots);
    map_operands_[2].data = mapped_.data();
    THETA_RETURN_IF_ERROR(ctx.backend->Check(
        api.elementwise(stream, &map_args_), "check labels"));
    // A mapped label outside [-depth, depth) is refused by the gather.
    gather_.source =
        theta_array{table_.data(), THETA_DTYPE_U8, 1, &depth_, &one_};
    gather_.indices =
        theta_array{mapped_.data(), THETA_DTYPE_I64, 1, &count_, &one_};
    gather_.output =
        theta_array{gathered_.data(), THETA_DTYPE_U8, 1, &count_, &one_};
    theta_status* refused = api.gather(stream, &gather_);
    if (refused == nullptr) return absl::OkStatus();
    api.status_free(refused);
    return NameTheLabel(ctx);
  }

 private:
  explicit CheckLabelsLaunch(LaunchContext& ctx)
      : labels_(ctx.inputs[0]), out_(ctx.outputs[0]) {}

  void Prepare() {
    count_ = labels_.numel();
    // out = label; mapped = label < 0 ? -depth - 1 : label. Labels >= depth
    // are out of the gather's range as they are.
    map_program_ = {
        {THETA_EW_LOAD, 0, 0, 0, 0},   {THETA_EW_PARAM, 1, 0, 0, 0},
        {THETA_EW_PARAM, 2, 1, 0, 0},  {THETA_EW_LT, 1, 0, 1, 0},
        {THETA_EW_SELECT, 1, 1, 2, 0}, {THETA_EW_STORE, 0, 0, 0, 0},
        {THETA_EW_STORE, 1, 1, 0, 0},
    };
    params_[0] = 0.0;
    params_[1] = -static_cast<double>(depth_) - 1.0;
    map_program_abi_ = {sizeof(theta_ew_program), THETA_DTYPE_I64, 3,
                        static_cast<uint32_t>(map_program_.size()),
                        map_program_.data()};
    contiguous_ = ContiguousStrides(labels_.shape);
    map_operands_[0] = {nullptr, ToAbi(labels_.dtype), labels_.strides.data()};
    map_operands_[1] = {nullptr, ToAbi(out_.dtype), out_.strides.data()};
    map_operands_[2] = {nullptr, THETA_DTYPE_I64, contiguous_.data()};
    map_args_ = {sizeof(theta_elementwise_args),
                 &map_program_abi_,
                 labels_.shape.size(),
                 labels_.shape.data(),
                 1,
                 map_operands_,
                 2,
                 map_operands_ + 1,
                 2,
                 params_};
    gather_.struct_size = sizeof(gather_);
    gather_.axis = 0;
  }

  // The error path: the labels come to the host to name the first bad one.
  absl::Status NameTheLabel(const ExecContext& ctx) {
    return ExplainRefusedLabels(ctx, map_operands_[0], labels_.shape,
                                mapped_.data(), what_, unit_, depth_);
  }

  ArrayRef labels_, out_;
  std::string what_, unit_;
  int64_t depth_ = 0;
  int64_t count_ = 0;
  int64_t one_ = 1;
  Dims contiguous_;
  backends::Buffer mapped_, gathered_, table_;
  std::vector<theta_ew_instr> map_program_;
  theta_ew_program map_program_abi_;
  theta_ew_operand map_operands_[3];
  double params_[2];
  theta_elementwise_args map_args_;
  theta_gather_args gather_;
};

}  // namespace

absl::Status ExplainRefusedLabels(const ExecContext& ctx,
                                  const theta_ew_operand& labels,
                                  const Dims& shape, void* scratch,
                                  std::string_view what, std::string_view unit,
                                  int64_t depth) {
  const theta_backend_api& api = ctx.backend->api();
  const theta_ew_instr copy_program[2] = {{THETA_EW_LOAD, 0, 0, 0, 0},
                                          {THETA_EW_STORE, 0, 0, 0, 0}};
  const theta_ew_program copy_abi = {sizeof(theta_ew_program), THETA_DTYPE_I64,
                                     1, 2, copy_program};
  const Dims contiguous = ContiguousStrides(shape);
  theta_ew_operand operands[2] = {
      labels, {scratch, THETA_DTYPE_I64, contiguous.data()}};
  const theta_elementwise_args copy = {sizeof(theta_elementwise_args),
                                       &copy_abi,
                                       static_cast<int32_t>(shape.size()),
                                       shape.data(),
                                       1,
                                       operands,
                                       1,
                                       operands + 1,
                                       0,
                                       nullptr};
  THETA_RETURN_IF_ERROR(ctx.backend->Check(
      api.elementwise(ctx.backend->stream(), &copy), std::string(what)));
  std::vector<int64_t> host(shape.product());
  THETA_RETURN_IF_ERROR(ctx.backend->CopyToHost(host.data(), scratch,
                                                host.size() * sizeof(int64_t)));
  THETA_RETURN_IF_ERROR(ctx.backend->Synchronize());
  absl::Status s = FirstLabelOutOfRange(what, unit, host, shape, depth);
  if (!s.ok()) return s;
  return absl::InternalError(
      absl::StrCat(std::string(what),
                   ": the backend refused a label but every label lies in [0, ",
                   depth, ")"));
}

absl::Status FirstLabelOutOfRange(std::string_view what, std::string_view unit,
                                  std::span<const int64_t> labels,
                                  const Dims& shape, int64_t depth) {
  for (size_t e = 0; e < labels.size(); ++e) {
    if (labels[e] >= 0 && labels[e] < depth) continue;
    std::string position;
    if (shape.size() <= 1) {
      position = absl::StrCat(e);
    } else {
      std::vector<int64_t> index(shape.size());
      int64_t rest = static_cast<int64_t>(e);
      for (int d = shape.size() - 1; d >= 0; --d) {
        index[d] = rest % shape[d];
        rest /= shape[d];
      }
      position = absl::StrCat("(", absl::StrJoin(index, ", "), ")");
    }
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(what), ": label ", labels[e], " at ", std::string(unit),
        " ", position, " is out of range [0, ", depth, ")"));
  }
  return absl::OkStatus();
}

std::string CheckLabels::name() const {
  return absl::StrCat("CheckLabels{", what_, "}");
}

absl::StatusOr<std::vector<TensorType>> CheckLabels::OutputTypes(
    std::span<const Var> inputs) const {
  const TensorType& labels = inputs[0].type();
  const TensorType& depth = inputs[1].type();
  if (IsFloat(labels.dtype()) || labels.dtype() == DType::kBool) {
    return absl::InvalidArgumentError(absl::StrCat(
        what_, ": labels must be integers, got ", labels.ToString()));
  }
  if (depth.ndim() != 0 || IsFloat(depth.dtype())) {
    return absl::InvalidArgumentError(absl::StrCat(
        what_, ": the number of classes must be an integer scalar, got ",
        depth.ToString()));
  }
  return std::vector<TensorType>{labels.WithDType(DType::kInt64)};
}

absl::Status CheckLabels::InferShapes(ShapeContext& ctx) const {
  ctx.output_shapes[0] = ctx.input_shapes[0];
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> CheckLabels::MakeLaunch(
    LaunchContext& ctx) const {
  if (ctx.input_values[1] == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what_,
                     ": the number of classes must be known on the "
                     "host (a constant or computed from shapes)"));
  }
  return CheckLabelsLaunch::Create(ctx, what_, unit_);
}

Var check_labels(const Var& labels, const Var& depth, std::string what,
                 std::string unit, std::source_location loc) {
  return ApplyOp1(
      std::make_shared<CheckLabels>(std::move(what), std::move(unit)),
      {labels, depth}, loc);
}

}  // namespace theta
