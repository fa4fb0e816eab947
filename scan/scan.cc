// scan(): checks the user's loop against scan/SEMANTICS.md, calls fn once on
// placeholders to build the body, moves everything that does not change
// from step to step out of the body (it becomes a non-sequence), and
// creates the Scan node.
#include "scan/scan.h"

#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/function_graph.h"
#include "graph/shared.h"
#include "graph/text.h"
#include "graph/warning.h"
#include "ops/ops.h"
#include "scan/loop_builder.h"
#include "scan/scan_op.h"

namespace theta {
namespace {

std::string Named(const char* what, size_t index, const std::string& name) {
  return name.empty() ? absl::StrCat(what, " ", index)
                      : absl::StrCat(what, " ", index, " ('", name, "')");
}

TensorType RowType(const TensorType& t) {
  Dims row;
  for (int d = 1; d < t.ndim(); ++d) row.push_back(t.dim(d));
  return TensorType(t.dtype(), row);
}

Var Placeholder(const TensorType& type, const std::string& name) {
  return MakeInput(type, name);
}

std::string TapName(const std::string& base, int tap) {
  if (tap == 0) return absl::StrCat(base, "[t]");
  return absl::StrCat(base, tap > 0 ? "[t+" : "[t", tap, "]");
}

}  // namespace

ScanResult scan(const ScanFn& fn, const ScanOptions& options,
                std::source_location loc) {
  return scan_internal::ScanWithArity(fn, -1, options, loc);
}

namespace scan_internal {

ScanResult ScanWithArity(const ScanFn& fn, int arity,
                         const ScanOptions& options, std::source_location loc) {
  const SourceInfo where = MakeSourceInfo(loc);
  auto fail = [&](const std::string& message) {
    ThrowAt(where,
            absl::StrCat("scan",
                         options.name.empty() ? "" : " '" + options.name + "'",
                         ": ", message));
  };
  if (options.sequences.empty() && !options.n_steps.has_value()) {
    fail("give sequences or n_steps (neither was given)");
  }
  auto spec = std::make_shared<ScanSpec>();
  spec->name = options.name;
  spec->truncate_gradient = options.truncate_gradient;
  spec->source = where;
  std::vector<Var> fn_args;
  std::vector<Var> node_inputs = {Var()};  // n_steps, filled below

  // Sequences.
  for (size_t i = 0; i < options.sequences.size(); ++i) {
    const Sequence& seq = options.sequences[i];
    if (!seq.input.defined())
      fail(absl::StrCat("sequence ", i, " is an undefined Var"));
    if (seq.input.ndim() < 1) {
      fail(absl::StrCat(Named("sequence", i, seq.input.name()),
                        " must have a time axis; it is a scalar"));
    }
    if (seq.taps.empty()) {
      fail(
          absl::StrCat(Named("sequence", i, seq.input.name()), " has no taps"));
    }
    ScanSequence s{seq.taps, seq.input.name(), options.go_backwards};
    spec->sequences.push_back(s);
    node_inputs.push_back(seq.input);
    for (int tap : seq.taps) {
      fn_args.push_back(Placeholder(
          RowType(seq.input.type()),
          TapName(seq.input.name().empty() ? "seq" : seq.input.name(), tap)));
    }
  }

  // Outputs that are fed back.
  std::vector<Var> initial_states;
  for (size_t o = 0; o < options.outputs_info.size(); ++o) {
    const OutputInfo& info = options.outputs_info[o];
    ScanOutput out;
    if (!info.initial().defined()) {
      if (!info.taps().empty()) {
        fail(absl::StrCat("output ", o, " has taps [",
                          absl::StrJoin(info.taps(), ", "),
                          "] but no initial value"));
      }
      out.kind = ScanOutputKind::kMap;
      spec->outputs.push_back(out);
      continue;
    }
    out.name = info.initial().name();
    if (info.taps().empty()) {
      Warn(absl::StrCat(where.FileLine(), ": scan",
                        options.name.empty() ? "" : " '" + options.name + "'",
                        ": ", Named("output", o, out.name),
                        " has an initial value but no taps; it is not fed back "
                        "and the initial value is unused"));
      out.kind = ScanOutputKind::kMap;
      spec->outputs.push_back(out);
      continue;
    }
    std::set<int> seen;
    for (int tap : info.taps()) {
      if (tap >= 0) {
        fail(absl::StrCat(
            Named("output", o, out.name), ": tap ", tap,
            " is not negative; an output can only read earlier steps"));
      }
      if (!seen.insert(tap).second) {
        fail(absl::StrCat(Named("output", o, out.name), ": tap ", tap,
                          " is repeated"));
      }
    }
    out.kind = ScanOutputKind::kRecurrent;
    out.taps = info.taps();
    const Var& init = info.initial();
    TensorType row_type;
    Var state;
    if (info.single_step()) {
      row_type = init.type();
      std::vector<int> pattern = {kNewAxis};
      for (int d = 0; d < init.ndim(); ++d) pattern.push_back(d);
      state = dimshuffle(init, pattern, loc);
    } else {
      if (init.ndim() < 1) {
        fail(absl::StrCat(Named("output", o, out.name), ": with taps [",
                          absl::StrJoin(info.taps(), ", "),
                          "] the initial value needs a leading time axis of ",
                          Count(out.m(), "row"), "; it is a scalar"));
      }
      row_type = RowType(init.type());
      state = init;
      if (init.type().dim(0) != kUnknownDim && init.type().dim(0) < out.m()) {
        fail(absl::StrCat(
            Named("output", o, out.name), ": taps [",
            absl::StrJoin(info.taps(), ", "), "] need m = ", out.m(),
            " rows of initial value; ", init.type().dim(0),
            init.type().dim(0) == 1 ? " was" : " were", " given"));
      }
    }
    initial_states.push_back(state);
    for (int tap : out.taps) {
      fn_args.push_back(Placeholder(
          row_type, TapName(out.name.empty() ? "out" : out.name, tap)));
    }
    spec->outputs.push_back(out);
  }

  // Non-sequences.
  std::vector<Var> non_sequences;
  const size_t first_non_sequence_arg = fn_args.size();
  for (size_t j = 0; j < options.non_sequences.size(); ++j) {
    const Var& v = options.non_sequences[j];
    if (!v.defined())
      fail(absl::StrCat("non-sequence ", j, " is an undefined Var"));
    non_sequences.push_back(v);
    fn_args.push_back(Placeholder(v.type(), v.name()));
  }

  // The body.
  if (arity >= 0 && arity != static_cast<int>(fn_args.size())) {
    std::vector<std::string> names;
    for (size_t a = 0; a < fn_args.size(); ++a) {
      names.push_back(
          fn_args[a].name().empty()
              ? absl::StrCat("non-sequence ", a - first_non_sequence_arg)
              : fn_args[a].name());
    }
    fail(absl::StrCat(
        "fn has ", Count(arity, "parameter"), " but scan passes it ",
        Count(static_cast<int64_t>(fn_args.size()), "argument"), " (",
        absl::StrJoin(names, ", "),
        "): one per sequence tap, then one per tap of each fed-back output, "
        "then the non-sequences"));
  }
  StepResult step = fn(fn_args);
  if (!options.outputs_info.empty() &&
      step.outputs.size() != options.outputs_info.size()) {
    fail(
        absl::StrCat("fn returned ",
                     Count(static_cast<int64_t>(step.outputs.size()), "output"),
                     " but outputs_info has ",
                     Count(static_cast<int64_t>(options.outputs_info.size()),
                           "entry", "entries")));
  }
  if (options.outputs_info.empty()) {
    spec->outputs.assign(step.outputs.size(), ScanOutput{});
  }
  for (size_t o = 0; o < step.outputs.size(); ++o) {
    const Var& r = step.outputs[o];
    if (!r.defined())
      fail(absl::StrCat("fn returned an undefined Var as output ", o));
    ScanOutput& out = spec->outputs[o];
    if (out.name.empty()) out.name = r.name();
    if (out.kind != ScanOutputKind::kRecurrent) continue;
    const OutputInfo& info = options.outputs_info[o];
    const TensorType& init = info.initial().type();
    const bool single = info.single_step();
    const int expected_rank = single ? init.ndim() : init.ndim() - 1;
    if (r.ndim() != expected_rank) {
      fail(absl::StrCat(
          Named("output", o, out.name), ": the initial value has rank ",
          init.ndim(), " but fn returns rank ", r.ndim(), " for this output (",
          single ? "with the single tap [-1] the initial value is one step: "
                   "the same rank as fn's result"
                 : absl::StrCat("with taps [", absl::StrJoin(info.taps(), ", "),
                                "] the initial value has a leading time axis: "
                                "one more than the rank of fn's result"),
          ")"));
    }
    if (r.dtype() != init.dtype()) {
      fail(absl::StrCat(
          Named("output", o, out.name), ": the initial value has dtype ",
          DTypeName(init.dtype()), " but fn returns ", DTypeName(r.dtype()),
          " for this output (an upcast in fn, e.g. mixing float32 "
          "with float64 or an integer, is the usual cause)"));
    }
  }

  // Shared variables updated by fn: states whose last value is returned.
  std::vector<Var> inner_outputs = step.outputs;
  std::vector<std::pair<Var, Var>> state_replacements;
  std::vector<Var> updated_shared;
  for (size_t u = 0; u < step.updates.size(); ++u) {
    const auto& [target, value] = step.updates[u];
    if (!target.defined() || target->kind() != VarKind::kShared) {
      fail(absl::StrCat("update ", u, ": '",
                        target.defined() ? target->DisplayName() : "?",
                        "' is not a shared variable"));
    }
    if (value.type().dtype() != target.dtype() ||
        value.ndim() != target.ndim()) {
      fail(absl::StrCat("update of shared variable '", target->DisplayName(),
                        "' has type ", value.type().ToString(),
                        ", the variable ", target.type().ToString()));
    }
    ScanOutput out;
    out.kind = ScanOutputKind::kLast;
    out.taps = {-1};
    out.name = target->DisplayName();
    spec->outputs.push_back(out);
    Var state = Placeholder(target.type(),
                            absl::StrCat(target->DisplayName(), "[t-1]"));
    state_replacements.push_back({target, state});
    fn_args.insert(
        fn_args.begin() + first_non_sequence_arg + updated_shared.size(),
        state);
    updated_shared.push_back(target);
    inner_outputs.push_back(value);
  }
  if (step.until.defined()) {
    if (step.until.ndim() != 0 || IsFloat(step.until.dtype())) {
      fail(absl::StrCat("until must be a bool or integer scalar, got ",
                        step.until.type().ToString()));
    }
    spec->has_until = true;
    inner_outputs.push_back(step.until);
  }
  if (!state_replacements.empty()) {
    inner_outputs = CloneReplace(inner_outputs, state_replacements);
  }

  // The loop (BuildLoop moves what does not change per step outside).
  LoopDefinition def;
  def.spec = spec;
  def.strict = options.strict;
  def.step_placeholders.assign(
      fn_args.begin(),
      fn_args.begin() + first_non_sequence_arg + updated_shared.size());
  def.non_sequence_placeholders.assign(
      fn_args.begin() + first_non_sequence_arg + updated_shared.size(),
      fn_args.end());
  def.non_sequences = non_sequences;
  def.inner_outputs = inner_outputs;
  def.sequences.assign(node_inputs.begin() + 1, node_inputs.end());
  def.initial_states = initial_states;
  for (const Var& s : updated_shared) def.initial_states.push_back(s);

  // The number of steps.
  Var n_steps;
  if (options.n_steps.has_value()) {
    const DimArg& n = *options.n_steps;
    if (n.is_var()) {
      if (n.var().ndim() != 0 || IsFloat(n.var().dtype()) ||
          n.var().dtype() == DType::kBool) {
        fail(absl::StrCat("n_steps must be an integer scalar, got ",
                          n.var().type().ToString()));
      }
      n_steps = n.var().dtype() == DType::kInt64
                    ? n.var()
                    : cast(n.var(), DType::kInt64, loc);
    } else {
      if (n.size() < 0) {
        fail(
            absl::StrCat("n_steps is ", n.size(), "; it must not be negative"));
      }
      n_steps = constant(static_cast<double>(n.size()), DType::kInt64, loc);
    }
  } else {
    for (size_t i = 0; i < spec->sequences.size(); ++i) {
      const ScanSequence& s = spec->sequences[i];
      Var allowed =
          maximum(Operand(shape_i(options.sequences[i].input, 0, loc) -
                              Operand(int64_t{s.hi() - s.lo()}, loc),
                          loc),
                  Operand(int64_t{0}, loc));
      n_steps = n_steps.defined() ? minimum(n_steps, allowed) : allowed;
    }
  }
  def.n_steps = n_steps;
  std::vector<Var> outs = BuildLoop(std::move(def));
  ScanResult result;
  const size_t user_outputs = step.outputs.size();
  for (size_t o = 0; o < user_outputs; ++o) {
    result.outputs.push_back(outs[o]);
    if (!spec->outputs[o].name.empty()) {
      result.outputs.back().named(spec->outputs[o].name);
    }
  }
  for (size_t u = 0; u < updated_shared.size(); ++u) {
    result.updates.push_back({updated_shared[u], outs[user_outputs + u]});
  }
  return result;
}

}  // namespace scan_internal
}  // namespace theta
