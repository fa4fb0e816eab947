#include "compile/nan_guard.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "graph/dtype.h"

namespace theta {
namespace {

// Each checked array has two 8-byte cells in the scratch: its max, then its
// min (in its own dtype). MAX propagates NaN; an infinity shows as a max of
// +inf or a min of -inf.
constexpr int64_t kCellBytes = 8;
constexpr int64_t kBytesPerArray = 2 * kCellBytes;

// One array to check and where its max and min go.
struct Checked {
  int index;  // input or output position in the node
  ArrayRef array;
  ArrayRef max_cell;
  ArrayRef min_cell;
  uint32_t axes_mask;
};

enum class Finding { kFinite, kNaN, kPlusInf, kMinusInf, kInfs };

const char* FindingText(Finding f) {
  switch (f) {
    case Finding::kNaN:
      return "NaN";
    case Finding::kPlusInf:
      return "+inf";
    case Finding::kMinusInf:
      return "-inf";
    case Finding::kInfs:
      return "+inf and -inf";
    case Finding::kFinite:
      break;
  }
  return "finite values";
}

// The state both launches of one node share: what to check, the scratch,
// and its host copy (sized once).
class NodeGuard {
 public:
  NodeGuard(const Node& node, std::vector<Checked> inputs,
            std::vector<Checked> outputs, ArrayRef scratch)
      : node_(node),
        inputs_(std::move(inputs)),
        outputs_(std::move(outputs)),
        scratch_(std::move(scratch)),
        host_(static_cast<size_t>(scratch_.nbytes())) {}

  absl::Status CheckInputs(const ExecContext& ctx) {
    for (const Checked& c : inputs_) {
      THETA_RETURN_IF_ERROR(Reduce(ctx, c));
    }
    return absl::OkStatus();
  }

  absl::Status CheckOutputs(const ExecContext& ctx) {
    for (const Checked& c : outputs_) {
      THETA_RETURN_IF_ERROR(Reduce(ctx, c));
    }
    THETA_RETURN_IF_ERROR(ctx.backend->CopyToHost(
        host_.data(), scratch_.Address(ctx.slots), host_.size()));
    THETA_RETURN_IF_ERROR(ctx.backend->Synchronize());
    for (const Checked& c : inputs_) {
      if (Find(c) != Finding::kFinite) return absl::OkStatus();
    }
    for (const Checked& c : outputs_) {
      const Finding f = Find(c);
      if (f != Finding::kFinite) [[unlikely]] {
        return Report(c, f);
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Reduce(const ExecContext& ctx, const Checked& c) {
    const theta_array input = c.array.ToAbi(ctx.slots);
    for (const auto& [op, cell] : {std::pair{THETA_REDUCE_MAX, &c.max_cell},
                                   std::pair{THETA_REDUCE_MIN, &c.min_cell}}) {
      theta_reduce_args args;
      args.struct_size = sizeof(args);
      args.op = op;
      args.input = input;
      args.axes_mask = c.axes_mask;
      args.output = cell->ToAbi(ctx.slots);
      THETA_RETURN_IF_ERROR(ctx.backend->Check(
          ctx.backend->api().reduce(ctx.backend->stream(), &args),
          "reduce (NaN guard)"));
    }
    return absl::OkStatus();
  }

  double Cell(const ArrayRef& cell) const {
    const unsigned char* p =
        host_.data() + (cell.byte_offset - scratch_.byte_offset);
    if (cell.dtype == DType::kFloat32) {
      return *reinterpret_cast<const float*>(p);
    }
    return *reinterpret_cast<const double*>(p);
  }

  Finding Find(const Checked& c) const {
    const double max = Cell(c.max_cell);
    const double min = Cell(c.min_cell);
    if (std::isnan(max) || std::isnan(min)) return Finding::kNaN;
    const bool plus = std::isinf(max) && max > 0;
    const bool minus = std::isinf(min) && min < 0;
    if (plus && minus) return Finding::kInfs;
    if (plus) return Finding::kPlusInf;
    if (minus) return Finding::kMinusInf;
    return Finding::kFinite;
  }

  absl::Status Report(const Checked& c, Finding f) const {
    std::vector<std::string> inputs;
    for (const Var& in : node_.inputs()) {
      inputs.push_back(absl::StrCat("'", in->DisplayName(), "' (",
                                    in.type().ToString(), ")"));
    }
    const Variable* out = node_.output_variable(c.index);
    return absl::InvalidArgumentError(
        absl::StrCat("NaN guard: output ", c.index, " ('", out->DisplayName(),
                     "', shape ", c.array.shape.ToString(), ") holds ",
                     FindingText(f), " that none of its inputs held; inputs: ",
                     inputs.empty() ? "none" : absl::StrJoin(inputs, ", ")));
  }

  const Node& node_;
  std::vector<Checked> inputs_;
  std::vector<Checked> outputs_;
  ArrayRef scratch_;
  std::vector<unsigned char> host_;
};

class GuardBefore : public Launch {
 public:
  explicit GuardBefore(std::shared_ptr<NodeGuard> guard)
      : guard_(std::move(guard)) {}
  absl::Status Run(const ExecContext& ctx) override {
    return guard_->CheckInputs(ctx);
  }

 private:
  std::shared_ptr<NodeGuard> guard_;
};

class GuardAfter : public Launch {
 public:
  explicit GuardAfter(std::shared_ptr<NodeGuard> guard)
      : guard_(std::move(guard)) {}
  absl::Status Run(const ExecContext& ctx) override {
    return guard_->CheckOutputs(ctx);
  }

 private:
  std::shared_ptr<NodeGuard> guard_;
};

bool Checkable(const ArrayRef& a) {
  return a.slot >= 0 && IsFloat(a.dtype) && a.numel() > 0;
}

// The same elements with every stride made non-negative (a reversed view
// read from its other end): the order does not matter to a max or a min,
// and reductions take no negative strides.
ArrayRef WithPositiveStrides(ArrayRef array) {
  for (int d = 0; d < array.strides.size(); ++d) {
    if (array.strides[d] >= 0) continue;
    array.byte_offset += (array.shape[d] - 1) * array.strides[d] *
                         static_cast<int64_t>(DTypeSize(array.dtype));
    array.strides[d] = -array.strides[d];
  }
  return array;
}

// Adds `array` to `list` with the next two cells of the scratch.
void AddChecked(int index, const ArrayRef& array, const ArrayRef& scratch,
                int64_t& next_offset, std::vector<Checked>& list) {
  const Dims ones = Dims::Filled(array.shape.size(), 1);
  Checked c{index, WithPositiveStrides(array),
            MakeContiguousRef(scratch.slot, scratch.byte_offset + next_offset,
                              array.dtype, ones),
            MakeContiguousRef(scratch.slot,
                              scratch.byte_offset + next_offset + kCellBytes,
                              array.dtype, ones),
            static_cast<uint32_t>((uint64_t{1} << array.shape.size()) - 1)};
  next_offset += kBytesPerArray;
  list.push_back(std::move(c));
}

}  // namespace

absl::StatusOr<bool> NanGuardFromEnvironment() {
  const char* value = std::getenv("THETA_NAN_GUARD");
  if (value == nullptr || value[0] == '\0' || std::string(value) == "0") {
    return false;
  }
  if (std::string(value) == "1") return true;
  return absl::InvalidArgumentError(
      absl::StrCat("THETA_NAN_GUARD is '", value,
                   "'; it must be 1 (guard every function) or 0 (off)"));
}

int64_t NanGuardScratchBytes(std::span<Node* const> schedule) {
  int64_t most = 0;
  for (const Node* node : schedule) {
    most = std::max<int64_t>(most, node->num_inputs() + node->num_outputs());
  }
  return most * kBytesPerArray;
}

NodeGuardLaunches MakeNodeGuard(const Node& node,
                                std::span<const ArrayRef> inputs,
                                std::span<const ArrayRef> outputs,
                                std::span<const bool> unread,
                                const ArrayRef& scratch) {
  NodeGuardLaunches result;
  std::vector<Checked> checked_outputs;
  int64_t offset = 0;
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (!Checkable(outputs[o]) || (o < unread.size() && unread[o])) continue;
    AddChecked(static_cast<int>(o), outputs[o], scratch, offset,
               checked_outputs);
  }
  if (checked_outputs.empty()) return result;
  std::vector<Checked> checked_inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!Checkable(inputs[i])) continue;
    AddChecked(static_cast<int>(i), inputs[i], scratch, offset, checked_inputs);
  }
  ArrayRef used = MakeContiguousRef(scratch.slot, scratch.byte_offset,
                                    DType::kUInt8, Dims{offset});
  result.checked_outputs = static_cast<int>(checked_outputs.size());
  const bool any_inputs = !checked_inputs.empty();
  auto guard = std::make_shared<NodeGuard>(node, std::move(checked_inputs),
                                           std::move(checked_outputs), used);
  if (any_inputs) result.before = std::make_unique<GuardBefore>(guard);
  result.after = std::make_unique<GuardAfter>(std::move(guard));
  return result;
}

}  // namespace theta
