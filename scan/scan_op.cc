#include "scan/scan_op.h"

#include <algorithm>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/function_graph.h"
#include "graph/rewrite.h"
#include "graph/text.h"

namespace theta {
namespace {

absl::Status InvalidArg(const std::string& m) {
  return absl::InvalidArgumentError(m);
}

std::string Named(const char* what, int index, const std::string& name) {
  return name.empty() ? absl::StrCat(what, " ", index)
                      : absl::StrCat(what, " ", index, " ('", name, "')");
}

Dims RowShape(const Dims& full) {
  Dims row;
  for (int d = 1; d < full.size(); ++d) row.push_back(full[d]);
  return row;
}

Dims WithRows(int64_t rows, const Dims& row) {
  Dims full = {rows};
  for (int64_t d : row) full.push_back(d);
  return full;
}

}  // namespace

int ScanSequence::lo() const {
  int lo = 0;
  for (int t : taps) lo = std::min(lo, t);
  return lo;
}

int ScanSequence::hi() const {
  int hi = 0;
  for (int t : taps) hi = std::max(hi, t);
  return hi;
}

int ScanOutput::m() const {
  int m = 0;
  for (int t : taps) m = std::max(m, -t);
  return m;
}

int ScanSpec::num_initial_states() const {
  int n = 0;
  for (const ScanOutput& o : outputs) n += o.kind != ScanOutputKind::kMap;
  return n;
}

int ScanSpec::inner_sequence_input(int s) const {
  int index = 0;
  for (int i = 0; i < s; ++i)
    index += static_cast<int>(sequences[i].taps.size());
  return index;
}

int ScanSpec::inner_output_input(int o) const {
  int index = inner_sequence_input(static_cast<int>(sequences.size()));
  for (int i = 0; i < o; ++i) {
    if (outputs[i].kind != ScanOutputKind::kMap) {
      index += static_cast<int>(outputs[i].taps.size());
    }
  }
  return index;
}

int ScanSpec::inner_non_sequence_input(int j) const {
  return inner_output_input(static_cast<int>(outputs.size())) + j;
}

int ScanSpec::initial_input_of_output(int o) const {
  if (outputs[o].kind == ScanOutputKind::kMap) return -1;
  int index = first_initial_input();
  for (int i = 0; i < o; ++i) index += outputs[i].kind != ScanOutputKind::kMap;
  return index;
}

Scan::Scan(std::shared_ptr<const ScanSpec> spec) : spec_(std::move(spec)) {}

bool Scan::ConsumesHostValue(const Node& node, int input) const {
  const int j = input - spec_->first_non_sequence_input();
  return j >= 0 && j < static_cast<int>(spec_->non_sequence_on_host.size()) &&
         spec_->non_sequence_on_host[j];
}

std::string Scan::name() const {
  std::vector<std::string> kinds;
  for (const ScanOutput& o : spec_->outputs) {
    switch (o.kind) {
      case ScanOutputKind::kMap:
        kinds.push_back(o.reverse_storage ? "map_rev" : "map");
        break;
      case ScanOutputKind::kRecurrent:
        kinds.push_back(absl::StrCat("taps(", absl::StrJoin(o.taps, ","), ")",
                                     o.stores_initial_rows ? "+initial" : ""));
        break;
      case ScanOutputKind::kLast:
        kinds.push_back("last");
        break;
    }
  }
  bool backwards = false;
  for (const ScanSequence& seq : spec_->sequences) backwards |= seq.backwards;
  return absl::StrCat("Scan{", spec_->name.empty() ? "" : spec_->name + ",",
                      absl::StrJoin(kinds, ","), backwards ? ",backwards" : "",
                      spec_->has_until ? ",until" : "", "}");
}

bool Scan::Equals(const Op& other) const {
  // Two scans are the same computation only if they share their body.
  const Scan* o = dynamic_cast<const Scan*>(&other);
  return o != nullptr && o->spec_ == spec_;
}

size_t Scan::Hash() const { return std::hash<const void*>()(spec_.get()); }

absl::StatusOr<std::vector<TensorType>> Scan::OutputTypes(
    std::span<const Var> inputs) const {
  const ScanSpec& s = *spec_;
  const int expected = s.first_non_sequence_input() + s.num_non_sequences;
  if (static_cast<int>(inputs.size()) != expected) {
    return InvalidArg(
        absl::StrCat("expects ", expected, " inputs, got ", inputs.size()));
  }
  const Var& n_steps = inputs[0];
  if (n_steps.ndim() != 0 || IsFloat(n_steps.dtype())) {
    return InvalidArg(absl::StrCat("n_steps must be an integer scalar, got ",
                                   n_steps.type().ToString()));
  }
  int64_t n = kUnknownDim;
  if (n_steps->kind() == VarKind::kConstant && !spec_->has_until) {
    n = static_cast<int64_t>(n_steps->constant_value().GetAsDouble(0));
  }
  std::vector<TensorType> types;
  for (size_t o = 0; o < s.outputs.size(); ++o) {
    const TensorType& row = s.inner_outputs[o].type();
    if (s.outputs[o].kind == ScanOutputKind::kLast) {
      types.push_back(row);
    } else {
      if (row.ndim() + 1 > kMaxDims) {
        return InvalidArg(
            absl::StrCat("output ", o, " would exceed the maximum rank"));
      }
      const int64_t rows =
          n == kUnknownDim ? n : n + s.outputs[o].rows_before_steps();
      types.emplace_back(row.dtype(), WithRows(rows, row.shape()));
    }
  }
  return types;
}

absl::Status Scan::InferShapes(ShapeContext& ctx) const {
  return InferShapesForRows(ctx, std::nullopt);
}

absl::Status Scan::InferShapesForRows(ShapeContext& ctx,
                                      std::optional<int64_t> rows_run) const {
  const ScanSpec& s = *spec_;
  const int64_t n = ctx.input_values[0]->AsInt(0);
  if (n < 0) {
    return InvalidArg(
        absl::StrCat("n_steps is ", n, "; it must not be negative"));
  }
  for (size_t i = 0; i < s.sequences.size(); ++i) {
    const ScanSequence& seq = s.sequences[i];
    const Dims& shape = ctx.input_shapes[1 + i];
    const int64_t needed = n + (seq.hi() - seq.lo());
    if (n > 0 && shape[0] < needed) {
      return InvalidArg(
          absl::StrCat(Named("sequence", static_cast<int>(i), seq.name),
                       " has ", Count(shape[0], "row"), "; ", Count(n, "step"),
                       " with taps [", absl::StrJoin(seq.taps, ", "), "] ",
                       n == 1 ? "needs " : "need ", needed));
    }
  }
  for (size_t o = 0; o < s.outputs.size(); ++o) {
    const int init = s.initial_input_of_output(static_cast<int>(o));
    if (init < 0 || s.outputs[o].kind != ScanOutputKind::kRecurrent) continue;
    const int m = s.outputs[o].m();
    if (ctx.input_shapes[init][0] < m) {
      return InvalidArg(absl::StrCat(
          Named("output", static_cast<int>(o), s.outputs[o].name),
          ": the initial value has ", Count(ctx.input_shapes[init][0], "row"),
          " but taps [", absl::StrJoin(s.outputs[o].taps, ", "),
          "] need m = ", m));
    }
  }
  // The body's plan gives the shape of every step's results.
  if (ctx.backend == nullptr) {
    return absl::InternalError("Scan: shape inference needs a backend");
  }
  absl::StatusOr<Executable*> body = Body(*ctx.backend);
  if (!body.ok()) return body.status();
  std::vector<Dims> inner_shapes;
  for (size_t i = 0; i < s.sequences.size(); ++i) {
    for (size_t k = 0; k < s.sequences[i].taps.size(); ++k) {
      inner_shapes.push_back(RowShape(ctx.input_shapes[1 + i]));
    }
  }
  for (size_t o = 0; o < s.outputs.size(); ++o) {
    const int init = s.initial_input_of_output(static_cast<int>(o));
    if (init < 0) continue;
    const Dims row = s.outputs[o].kind == ScanOutputKind::kLast
                         ? ctx.input_shapes[init]
                         : RowShape(ctx.input_shapes[init]);
    for (size_t k = 0; k < s.outputs[o].taps.size(); ++k)
      inner_shapes.push_back(row);
  }
  for (int j = 0; j < s.num_non_sequences; ++j) {
    inner_shapes.push_back(ctx.input_shapes[s.first_non_sequence_input() + j]);
  }
  std::vector<HostValue> host_values(inner_shapes.size());
  const int first_inner_non_seq = s.inner_non_sequence_input(0);
  for (int j = 0; j < s.num_non_sequences; ++j) {
    if (ConsumesHostValue(ctx.node, s.first_non_sequence_input() + j)) {
      host_values[first_inner_non_seq + j] =
          *ctx.input_values[s.first_non_sequence_input() + j];
    }
  }
  absl::StatusOr<Plan*> plan = (*body)->GetPlan(inner_shapes, {}, host_values);
  if (!plan.ok()) {
    return absl::Status(
        plan.status().code(),
        absl::StrCat("in the body of the scan built at ", s.source.FileLine(),
                     ": ", plan.status().message()));
  }
  for (size_t o = 0; o < s.outputs.size(); ++o) {
    const Dims row = (*body)->OutputShape(**plan, static_cast<int>(o));
    const int init = s.initial_input_of_output(static_cast<int>(o));
    if (init >= 0) {
      const Dims state = s.outputs[o].kind == ScanOutputKind::kLast
                             ? ctx.input_shapes[init]
                             : RowShape(ctx.input_shapes[init]);
      if (state != row) {
        return InvalidArg(absl::StrCat(
            Named("output", static_cast<int>(o), s.outputs[o].name),
            ": the state has shape ", state.ToString(),
            " before the first step but fn returned shape ", row.ToString(),
            "; a state must keep its shape from step to step"));
      }
    }
    // A loop that may stop early has as many rows as steps ran: planned
    // from the last run's count, if any.
    const int64_t rows =
        s.has_until && rows_run.has_value() ? std::min(*rows_run, n) : n;
    ctx.output_shapes[o] =
        s.outputs[o].kind == ScanOutputKind::kLast
            ? row
            : WithRows(rows + s.outputs[o].rows_before_steps(), row);
  }
  return absl::OkStatus();
}

absl::StatusOr<Executable*> Scan::Body(backends::Backend& backend,
                                       bool nan_guard) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bodies_.find({&backend, nan_guard});
  if (it != bodies_.end()) return it->second.get();
  absl::StatusOr<std::unique_ptr<FunctionGraph>> graph =
      FunctionGraph::Create(spec_->inner_inputs, spec_->inner_outputs);
  if (!graph.ok()) {
    return absl::InvalidArgumentError(graph.status().message());
  }
  (*graph)->set_backend(&backend);
  RewriteOptions options;
  RewriteGraph(**graph, options);
  ExecutableOptions exec_options;
  exec_options.name =
      absl::StrCat(spec_->name.empty() ? "scan" : spec_->name,
                   " body (scan at ", spec_->source.FileLine(), ")");
  exec_options.external_inputs = true;
  exec_options.external_outputs = true;
  exec_options.nan_guard = nan_guard;
  exec_options.host_inputs.assign(spec_->inner_inputs.size(), false);
  for (size_t j = 0; j < spec_->non_sequence_on_host.size(); ++j) {
    exec_options
        .host_inputs[spec_->inner_non_sequence_input(static_cast<int>(j))] =
        spec_->non_sequence_on_host[j];
  }
  absl::StatusOr<std::unique_ptr<Executable>> body = Executable::Create(
      *std::move(graph), spec_->inner_inputs, backend, std::move(exec_options));
  if (!body.ok()) return absl::InvalidArgumentError(body.status().message());
  Executable* raw = body->get();
  bodies_[{&backend, nan_guard}] = *std::move(body);
  return raw;
}

const Scan* AsScan(const Node* node) {
  // Scan is final: a type comparison is enough (and cheaper).
  return node != nullptr && node->op_type() == typeid(Scan)
             ? static_cast<const Scan*>(&node->op())
             : nullptr;
}

std::vector<Var> MakeScanNode(std::shared_ptr<const ScanSpec> spec,
                              std::vector<Var> inputs) {
  SourceInfo source = spec->source;
  return Node::Create(std::make_shared<Scan>(std::move(spec)),
                      std::move(inputs), source)
      ->outputs();
}

}  // namespace theta
