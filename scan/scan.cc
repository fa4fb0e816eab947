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

namespace {

// Builds one scan() call, one method per step of scan/SEMANTICS.md: the
// placeholders fn receives (sequence taps, fed-back output taps, shared
// states, non-sequences, in that order), the body fn returns, the checks on
// it, the number of steps, and the loop node.
class ScanBuilder {
 public:
  ScanBuilder(const ScanFn& fn, int arity, const ScanOptions& options,
              std::source_location loc)
      : fn_(fn),
        arity_(arity),
        options_(options),
        loc_(loc),
        where_(MakeSourceInfo(loc)),
        spec_(std::make_shared<ScanSpec>()) {}

  ScanResult Build() {
    if (options_.sequences.empty() && !options_.n_steps.has_value()) {
      Fail("give sequences or n_steps (neither was given)");
    }
    spec_->name = options_.name;
    spec_->truncate_gradient = options_.truncate_gradient;
    spec_->source = where_;
    AddSequences();
    for (size_t o = 0; o < options_.outputs_info.size(); ++o) {
      AddOutput(o);
    }
    AddNonSequences();
    CheckArity();
    step_ = fn_(fn_args_);
    CheckStepOutputs();
    inner_outputs_ = step_.outputs;
    AddSharedUpdates();
    AddUntil();
    if (!state_replacements_.empty()) {
      inner_outputs_ = CloneReplace(inner_outputs_, state_replacements_);
    }
    return MakeResult(BuildLoop(MakeLoopDefinition()));
  }

 private:
  [[noreturn]] void Fail(const std::string& message) const {
    ThrowAt(where_, absl::StrCat("scan", NameSuffix(), ": ", message));
  }
  std::string NameSuffix() const {
    return options_.name.empty() ? "" : " '" + options_.name + "'";
  }

  void AddSequences() {
    for (size_t i = 0; i < options_.sequences.size(); ++i) {
      const Sequence& seq = options_.sequences[i];
      if (!seq.input.defined()) {
        Fail(absl::StrCat("sequence ", i, " is an undefined Var"));
      }
      if (seq.input.ndim() < 1) {
        Fail(absl::StrCat(Named("sequence", i, seq.input.name()),
                          " must have a time axis; it is a scalar"));
      }
      if (seq.taps.empty()) {
        Fail(absl::StrCat(Named("sequence", i, seq.input.name()),
                          " has no taps"));
      }
      spec_->sequences.push_back(
          ScanSequence{seq.taps, seq.input.name(), options_.go_backwards});
      sequences_.push_back(seq.input);
      for (int tap : seq.taps) {
        fn_args_.push_back(Placeholder(
            RowType(seq.input.type()),
            TapName(seq.input.name().empty() ? "seq" : seq.input.name(), tap)));
      }
    }
  }

  // Output `o` of outputs_info: a map output (no initial value, or one
  // without taps: warned), or a fed-back one whose taps become fn's
  // arguments.
  void AddOutput(size_t o) {
    const OutputInfo& info = options_.outputs_info[o];
    ScanOutput out;
    if (!info.initial().defined()) {
      if (!info.taps().empty()) {
        Fail(absl::StrCat("output ", o, " has taps [",
                          absl::StrJoin(info.taps(), ", "),
                          "] but no initial value"));
      }
      out.kind = ScanOutputKind::kMap;
      spec_->outputs.push_back(out);
      return;
    }
    out.name = info.initial().name();
    if (info.taps().empty()) {
      Warn(absl::StrCat(where_.FileLine(), ": scan", NameSuffix(), ": ",
                        Named("output", o, out.name),
                        " has an initial value but no taps; it is not fed back "
                        "and the initial value is unused"));
      out.kind = ScanOutputKind::kMap;
      spec_->outputs.push_back(out);
      return;
    }
    CheckOutputTaps(o, out.name, info.taps());
    out.kind = ScanOutputKind::kRecurrent;
    out.taps = info.taps();
    TensorType row_type;
    initial_states_.push_back(InitialState(o, out, info, row_type));
    for (int tap : out.taps) {
      fn_args_.push_back(Placeholder(
          row_type, TapName(out.name.empty() ? "out" : out.name, tap)));
    }
    spec_->outputs.push_back(out);
  }

  void CheckOutputTaps(size_t o, const std::string& name,
                       const std::vector<int>& taps) const {
    std::set<int> seen;
    for (int tap : taps) {
      if (tap >= 0) {
        Fail(absl::StrCat(
            Named("output", o, name), ": tap ", tap,
            " is not negative; an output can only read earlier steps"));
      }
      if (!seen.insert(tap).second) {
        Fail(absl::StrCat(Named("output", o, name), ": tap ", tap,
                          " is repeated"));
      }
    }
  }

  // The initial state the loop starts from (a single step gains a time axis)
  // and, in `row_type`, the type of one step of it.
  Var InitialState(size_t o, const ScanOutput& out, const OutputInfo& info,
                   TensorType& row_type) const {
    const Var& init = info.initial();
    if (info.single_step()) {
      row_type = init.type();
      std::vector<int> pattern = {kNewAxis};
      for (int d = 0; d < init.ndim(); ++d) pattern.push_back(d);
      return dimshuffle(init, pattern, loc_);
    }
    if (init.ndim() < 1) {
      Fail(absl::StrCat(Named("output", o, out.name), ": with taps [",
                        absl::StrJoin(info.taps(), ", "),
                        "] the initial value needs a leading time axis of ",
                        Count(out.m(), "row"), "; it is a scalar"));
    }
    row_type = RowType(init.type());
    if (init.type().dim(0) != kUnknownDim && init.type().dim(0) < out.m()) {
      Fail(absl::StrCat(Named("output", o, out.name), ": taps [",
                        absl::StrJoin(info.taps(), ", "), "] need m = ",
                        out.m(), " rows of initial value; ", init.type().dim(0),
                        init.type().dim(0) == 1 ? " was" : " were", " given"));
    }
    return init;
  }

  void AddNonSequences() {
    first_non_sequence_arg_ = fn_args_.size();
    for (size_t j = 0; j < options_.non_sequences.size(); ++j) {
      const Var& v = options_.non_sequences[j];
      if (!v.defined()) {
        Fail(absl::StrCat("non-sequence ", j, " is an undefined Var"));
      }
      non_sequences_.push_back(v);
      fn_args_.push_back(Placeholder(v.type(), v.name()));
    }
  }

  // A step function of known arity must take exactly the arguments scan
  // passes; the message lists them.
  void CheckArity() const {
    if (arity_ < 0 || arity_ == static_cast<int>(fn_args_.size())) return;
    std::vector<std::string> names;
    for (size_t a = 0; a < fn_args_.size(); ++a) {
      names.push_back(
          fn_args_[a].name().empty()
              ? absl::StrCat("non-sequence ", a - first_non_sequence_arg_)
              : fn_args_[a].name());
    }
    Fail(absl::StrCat(
        "fn has ", Count(arity_, "parameter"), " but scan passes it ",
        Count(static_cast<int64_t>(fn_args_.size()), "argument"), " (",
        absl::StrJoin(names, ", "),
        "): one per sequence tap, then one per tap of each fed-back output, "
        "then the non-sequences"));
  }

  void CheckStepOutputs() {
    if (!options_.outputs_info.empty() &&
        step_.outputs.size() != options_.outputs_info.size()) {
      Fail(absl::StrCat(
          "fn returned ",
          Count(static_cast<int64_t>(step_.outputs.size()), "output"),
          " but outputs_info has ",
          Count(static_cast<int64_t>(options_.outputs_info.size()), "entry",
                "entries")));
    }
    if (options_.outputs_info.empty()) {
      spec_->outputs.assign(step_.outputs.size(), ScanOutput{});
    }
    for (size_t o = 0; o < step_.outputs.size(); ++o) {
      const Var& r = step_.outputs[o];
      if (!r.defined()) {
        Fail(absl::StrCat("fn returned an undefined Var as output ", o));
      }
      ScanOutput& out = spec_->outputs[o];
      if (out.name.empty()) out.name = r.name();
      if (out.kind == ScanOutputKind::kRecurrent) CheckFedBackOutput(o, r);
    }
  }

  // fn's result for a fed-back output has the rank and dtype of one step of
  // its initial value.
  void CheckFedBackOutput(size_t o, const Var& r) const {
    const std::string& name = spec_->outputs[o].name;
    const OutputInfo& info = options_.outputs_info[o];
    const TensorType& init = info.initial().type();
    const bool single = info.single_step();
    const int expected_rank = single ? init.ndim() : init.ndim() - 1;
    if (r.ndim() != expected_rank) {
      Fail(absl::StrCat(
          Named("output", o, name), ": the initial value has rank ",
          init.ndim(), " but fn returns rank ", r.ndim(), " for this output (",
          single ? "with the single tap [-1] the initial value is one step: "
                   "the same rank as fn's result"
                 : absl::StrCat("with taps [", absl::StrJoin(info.taps(), ", "),
                                "] the initial value has a leading time axis: "
                                "one more than the rank of fn's result"),
          ")"));
    }
    if (r.dtype() != init.dtype()) {
      Fail(absl::StrCat(
          Named("output", o, name), ": the initial value has dtype ",
          DTypeName(init.dtype()), " but fn returns ", DTypeName(r.dtype()),
          " for this output (an upcast in fn, e.g. mixing float32 "
          "with float64 or an integer, is the usual cause)"));
    }
  }

  // Shared variables updated by fn become states whose last value is
  // returned; inside the body each reads a placeholder for its previous
  // value.
  void AddSharedUpdates() {
    for (size_t u = 0; u < step_.updates.size(); ++u) {
      const auto& [target, value] = step_.updates[u];
      if (!target.defined() || target->kind() != VarKind::kShared) {
        Fail(absl::StrCat("update ", u, ": '",
                          target.defined() ? target->DisplayName() : "?",
                          "' is not a shared variable"));
      }
      if (value.type().dtype() != target.dtype() ||
          value.ndim() != target.ndim()) {
        Fail(absl::StrCat("update of shared variable '", target->DisplayName(),
                          "' has type ", value.type().ToString(),
                          ", the variable ", target.type().ToString()));
      }
      ScanOutput out;
      out.kind = ScanOutputKind::kLast;
      out.taps = {-1};
      out.name = target->DisplayName();
      spec_->outputs.push_back(out);
      Var state = Placeholder(target.type(),
                              absl::StrCat(target->DisplayName(), "[t-1]"));
      state_replacements_.push_back({target, state});
      fn_args_.insert(
          fn_args_.begin() + first_non_sequence_arg_ + updated_shared_.size(),
          state);
      updated_shared_.push_back(target);
      inner_outputs_.push_back(value);
    }
  }

  void AddUntil() {
    if (!step_.until.defined()) return;
    if (step_.until.ndim() != 0 || IsFloat(step_.until.dtype())) {
      Fail(absl::StrCat("until must be a bool or integer scalar, got ",
                        step_.until.type().ToString()));
    }
    spec_->has_until = true;
    inner_outputs_.push_back(step_.until);
  }

  LoopDefinition MakeLoopDefinition() const {
    LoopDefinition def;
    def.spec = spec_;
    def.strict = options_.strict;
    const auto first_non_sequence =
        fn_args_.begin() + first_non_sequence_arg_ + updated_shared_.size();
    def.step_placeholders.assign(fn_args_.begin(), first_non_sequence);
    def.non_sequence_placeholders.assign(first_non_sequence, fn_args_.end());
    def.non_sequences = non_sequences_;
    def.inner_outputs = inner_outputs_;
    def.sequences = sequences_;
    def.initial_states = initial_states_;
    for (const Var& s : updated_shared_) def.initial_states.push_back(s);
    def.n_steps = NumberOfSteps();
    return def;
  }

  // n_steps as given (an int64 scalar), or the most steps every sequence's
  // taps allow.
  Var NumberOfSteps() const {
    if (!options_.n_steps.has_value()) {
      Var n_steps;
      for (size_t i = 0; i < spec_->sequences.size(); ++i) {
        const ScanSequence& s = spec_->sequences[i];
        Var allowed =
            maximum(Operand(shape_i(options_.sequences[i].input, 0, loc_) -
                                Operand(int64_t{s.hi() - s.lo()}, loc_),
                            loc_),
                    Operand(int64_t{0}, loc_));
        n_steps = n_steps.defined() ? minimum(n_steps, allowed) : allowed;
      }
      return n_steps;
    }
    const DimArg& n = *options_.n_steps;
    if (!n.is_var()) {
      if (n.size() < 0) {
        Fail(
            absl::StrCat("n_steps is ", n.size(), "; it must not be negative"));
      }
      return constant(static_cast<double>(n.size()), DType::kInt64, loc_);
    }
    if (n.var().ndim() != 0 || IsFloat(n.var().dtype()) ||
        n.var().dtype() == DType::kBool) {
      Fail(absl::StrCat("n_steps must be an integer scalar, got ",
                        n.var().type().ToString()));
    }
    return n.var().dtype() == DType::kInt64
               ? n.var()
               : cast(n.var(), DType::kInt64, loc_);
  }

  ScanResult MakeResult(const std::vector<Var>& outs) const {
    ScanResult result;
    const size_t user_outputs = step_.outputs.size();
    for (size_t o = 0; o < user_outputs; ++o) {
      result.outputs.push_back(outs[o]);
      if (!spec_->outputs[o].name.empty()) {
        result.outputs.back().named(spec_->outputs[o].name);
      }
    }
    for (size_t u = 0; u < updated_shared_.size(); ++u) {
      result.updates.push_back({updated_shared_[u], outs[user_outputs + u]});
    }
    return result;
  }

  const ScanFn& fn_;
  const int arity_;
  const ScanOptions& options_;
  const std::source_location loc_;
  const SourceInfo where_;
  std::shared_ptr<ScanSpec> spec_;
  std::vector<Var> fn_args_;         // the placeholders fn receives
  std::vector<Var> sequences_;       // the user's sequences
  std::vector<Var> initial_states_;  // of fed-back outputs
  std::vector<Var> non_sequences_;
  size_t first_non_sequence_arg_ = 0;
  StepResult step_;
  std::vector<Var> inner_outputs_;
  std::vector<std::pair<Var, Var>> state_replacements_;
  std::vector<Var> updated_shared_;
};

}  // namespace

namespace scan_internal {

ScanResult ScanWithArity(const ScanFn& fn, int arity,
                         const ScanOptions& options, std::source_location loc) {
  return ScanBuilder(fn, arity, options, loc).Build();
}

}  // namespace scan_internal
}  // namespace theta
