#include "compile/function.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/registry.h"
#include "base/error.h"
#include "compile/executable.h"
#include "compile/nan_guard.h"
#include "graph/function_graph.h"
#include "graph/rewrite.h"
#include "graph/shared.h"
#include "graph/text.h"
#include "graph/warning.h"

namespace theta {

class CompiledFunction {
 public:
  CompiledFunction(std::vector<Var> inputs, std::vector<Var> outputs,
                   FunctionOptions options, std::source_location location);

  void Call(std::span<const Tensor> inputs, std::vector<Tensor>& outputs);

  Executable& executable() { return *executable_; }
  const std::string& name() const { return name_; }
  FunctionStats stats() const;

 private:
  void CheckInputs(std::span<const Tensor> inputs);
  // Raises or warns, as `policy` says, for an input of `graph` (before
  // rewrites) that nothing depends on.
  void CheckUnusedInputs(const FunctionGraph& graph,
                         OnUnusedInput policy) const;

  std::string name_;
  SourceInfo created_at_;
  std::unique_ptr<Executable> executable_;
  std::vector<std::string> rewrites_applied_;
  int64_t calls_ = 0;
  // Per-call scratch, sized once.
  std::vector<Dims> shapes_;
  std::vector<HostValue> scalars_;
};

namespace {

std::string InputList(const std::vector<Var>& inputs) {
  std::vector<std::string> names;
  for (const Var& v : inputs) names.push_back(v->DisplayName());
  return absl::StrJoin(names, ", ");
}

}  // namespace

CompiledFunction::CompiledFunction(std::vector<Var> inputs,
                                   std::vector<Var> outputs,
                                   FunctionOptions options,
                                   std::source_location location)
    : name_(options.name.empty()
                ? absl::StrCat("<function at ",
                               MakeSourceInfo(location).FileLine(), ">")
                : options.name),
      created_at_(MakeSourceInfo(location)) {
  // Updates: shared targets, each once, of the variable's own type.
  ExecutableOptions exec_options;
  exec_options.name = name_;
  absl::flat_hash_set<const Variable*> targets;
  std::vector<Var> graph_outputs = outputs;
  for (const auto& [target, value] : options.updates) {
    if (!target.defined() || !value.defined()) {
      ThrowAt(created_at_, absl::StrCat("function '", name_,
                                        "': an update has an undefined Var"));
    }
    if (target->kind() != VarKind::kShared) {
      ThrowAt(created_at_,
              absl::StrCat("function '", name_, "': update target '",
                           target->DisplayName(),
                           "' is not a shared variable (only shared "
                           "variables can be updated)"));
    }
    if (!targets.insert(target.get()).second) {
      ThrowAt(created_at_,
              absl::StrCat("function '", name_, "': shared variable '",
                           target->DisplayName(), "' is updated twice"));
    }
    const TensorType& want = target.type();
    const TensorType& got = value.type();
    bool compatible = want.dtype() == got.dtype() && want.ndim() == got.ndim();
    for (int d = 0; compatible && d < want.ndim(); ++d) {
      if (want.dim(d) != kUnknownDim && got.dim(d) != kUnknownDim &&
          want.dim(d) != got.dim(d)) {
        compatible = false;
      }
    }
    if (!compatible) {
      ThrowAt(created_at_,
              absl::StrCat("function '", name_, "': the update of '",
                           target->DisplayName(), "' has type ", got.ToString(),
                           " but the variable has type ", want.ToString(),
                           want.dtype() != got.dtype()
                               ? " (cast the new value to the variable's dtype)"
                               : ""));
    }
    graph_outputs.push_back(value);
    exec_options.update_targets.push_back(target->shared());
  }
  // THETA_REWRITE_TIMING=1 also prints the time the graph copy and the
  // executable take (with each rewrite phase's, from RewriteGraph).
  static const bool timing = std::getenv("THETA_REWRITE_TIMING") != nullptr;
  auto start = std::chrono::steady_clock::now();
  auto lap = [&](const char* what, const FunctionGraph& g) {
    if (!timing) return;
    auto now = std::chrono::steady_clock::now();
    std::fprintf(stderr, "theta compile %-28s %8.2f ms (%d nodes)\n", what,
                 std::chrono::duration<double, std::milli>(now - start).count(),
                 g.num_nodes());
    start = now;
  };
  absl::StatusOr<bool> guard_everything = NanGuardFromEnvironment();
  if (!guard_everything.ok()) {
    ThrowAt(created_at_, std::string(guard_everything.status().message()));
  }
  exec_options.nan_guard = options.nan_guard || *guard_everything;
  auto graph =
      std::make_unique<FunctionGraph>(inputs, graph_outputs, options.givens);
  lap("graph copy", *graph);
  CheckUnusedInputs(*graph, options.on_unused_input);
  backends::Backend* backend = nullptr;
  if (options.backend.empty()) {
    backend = &backends::current();
  } else {
    absl::StatusOr<backends::Backend*> b =
        backends::GetBackend(options.backend);
    ThrowIfError(b.status());
    backend = *b;
  }
  // Rewrites that run nodes while compiling (constant folding) run them on
  // this function's backend.
  graph->set_backend(backend);
  if (options.rewrite) {
    RewriteOptions rewrite_options;
    rewrite_options.excluded = options.excluded_rewrites;
    rewrite_options.log = &rewrites_applied_;
    RewriteGraph(*graph, rewrite_options);
  }
  // Where the device's memory is the host's (the CPU plugin), kernels read
  // the caller's input tensors and write the output tensors directly: a
  // call copies nothing in or out.
  exec_options.bind_host_inputs = backend->memory_is_host();
  exec_options.external_outputs = backend->memory_is_host();
  start = std::chrono::steady_clock::now();
  FunctionGraph& graph_ref = *graph;
  absl::StatusOr<std::unique_ptr<Executable>> executable = Executable::Create(
      std::move(graph), inputs, *backend, std::move(exec_options));
  ThrowIfError(executable.status());
  executable_ = *std::move(executable);
  lap("executable", graph_ref);
  shapes_.resize(inputs.size());
  scalars_.resize(inputs.size());
}

void CompiledFunction::CheckUnusedInputs(const FunctionGraph& graph,
                                         OnUnusedInput policy) const {
  if (policy == OnUnusedInput::kIgnore) return;
  const std::vector<Var>& inputs = graph.inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!graph.clients(inputs[i].get()).empty()) continue;
    const std::string message = absl::StrCat(
        "function '", name_, "': input ", i, " ('", inputs[i]->DisplayName(),
        "', ", inputs[i].type().ToString(),
        ") is not used by any output or update");
    if (policy == OnUnusedInput::kWarn) {
      Warn(absl::StrCat(created_at_.FileLine(), ": ", message));
      continue;
    }
    ThrowAt(created_at_,
            absl::StrCat(message,
                         "; pass .on_unused_input = OnUnusedInput::kWarn or "
                         "OnUnusedInput::kIgnore to allow it"));
  }
}

void CompiledFunction::CheckInputs(std::span<const Tensor> inputs) {
  const std::vector<Var>& vars = executable_->inputs();
  if (inputs.size() != vars.size()) {
    throw Error(absl::StrCat("function '", name_, "' takes ",
                             Count(static_cast<int64_t>(vars.size()), "input"),
                             " (", InputList(vars), "), got ", inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    const Var& v = vars[i];
    if (!t.defined()) {
      throw Error(absl::StrCat("function '", name_, "': input ", i, " ('",
                               v->DisplayName(), "') is an undefined Tensor"));
    }
    if (t.dtype() != v.dtype() || !v.type().Accepts(t.dims())) {
      throw Error(absl::StrCat(
          "function '", name_, "': input ", i, " ('", v->DisplayName(),
          "') expects ", v.type().ToString(), ", got ",
          Article(DTypeName(t.dtype())), " ", DTypeName(t.dtype()),
          " tensor of shape ", t.dims().ToString(),
          t.dtype() != v.dtype() ? " (wrong dtype)"
          : t.ndim() != v.ndim() ? " (wrong rank)"
                                 : " (wrong size)"));
    }
  }
}

void CompiledFunction::Call(std::span<const Tensor> inputs,
                            std::vector<Tensor>& outputs) {
  CheckInputs(inputs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    shapes_[i] = inputs[i].dims();
    if (executable_->input_is_host_value(static_cast<int>(i))) {
      HostValue& v = scalars_[i];
      v.dtype = inputs[i].dtype();
      v.shape = inputs[i].dims();
      if (v.dtype == DType::kInt64) {
        v.ints[0] = *inputs[i].data<int64_t>();
      } else {
        v.Set(0, inputs[i].GetAsDouble(0));
      }
    }
  }
  absl::StatusOr<Plan*> plan =
      executable_->PlanAndRun(shapes_, inputs, scalars_, outputs);
  ThrowIfError(plan.status());
  // Every kernel and copy succeeded (asynchronous errors surface here) before
  // any shared variable takes its new value.
  ThrowIfError(executable_->backend().Synchronize());
  executable_->ApplyUpdates(**plan);
  ++calls_;
}

FunctionStats CompiledFunction::stats() const {
  FunctionStats stats;
  stats.calls = calls_;
  stats.plans_built = executable_->plans_built();
  if (Plan* plan = executable_->last_plan()) {
    stats.kernel_launches = plan->kernel_launches();
    stats.arena_bytes = plan->arena_bytes();
    stats.inplace_outputs = plan->inplace_outputs();
    stats.inputs_copied = plan->inputs_copied();
    stats.nan_guard_launches = plan->nan_guard_launches();
  }
  stats.rewrites_applied = rewrites_applied_;
  return stats;
}

std::vector<Tensor> Function::operator()(std::span<const Tensor> inputs) {
  std::vector<Tensor> outputs;
  Call(inputs, outputs);
  return outputs;
}

void Function::Call(std::span<const Tensor> inputs,
                    std::vector<Tensor>& outputs) {
  if (impl_ == nullptr) throw Error("call of an undefined Function");
  impl_->Call(inputs, outputs);
}

const std::string& Function::name() const { return impl_->name(); }
FunctionGraph& Function::graph() const { return impl_->executable().graph(); }
const std::vector<Var>& Function::inputs() const {
  return impl_->executable().inputs();
}
std::vector<std::string> Function::update_target_names() const {
  std::vector<std::string> names;
  for (const auto& target : impl_->executable().update_targets()) {
    names.push_back(target->name());
  }
  return names;
}
backends::Backend& Function::backend() const {
  return impl_->executable().backend();
}
FunctionStats Function::stats() const { return impl_->stats(); }

std::string Function::DescribePlan() const {
  Plan* plan = impl_->executable().last_plan();
  if (plan == nullptr) return "(not yet called)";
  return absl::StrJoin(plan->description(), "\n");
}

Function function(std::vector<Var> inputs, std::vector<Var> outputs,
                  FunctionOptions options, std::source_location location) {
  Function f;
  f.impl_ = std::make_shared<CompiledFunction>(
      std::move(inputs), std::move(outputs), std::move(options), location);
  return f;
}

Tensor Var::eval() const {
  if (!defined()) throw Error("eval() of an undefined Var");
  Function f = function({}, {*this}, {.name = "eval"});
  std::vector<Tensor> out = f(std::span<const Tensor>());
  return out[0];
}

}  // namespace theta
