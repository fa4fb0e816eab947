// Building an Executable: the classification of its graph's variables
// (compile/executable.h), done once when it is created.
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "compile/executable.h"
#include "graph/host_values.h"

namespace theta {

absl::StatusOr<std::unique_ptr<Executable>> Executable::Create(
    std::unique_ptr<FunctionGraph> graph, std::vector<Var> inputs,
    backends::Backend& backend, ExecutableOptions options) {
  std::unique_ptr<Executable> exe(new Executable(
      std::move(graph), std::move(inputs), backend, std::move(options)));
  exe->ClassifyVariables();
  THETA_RETURN_IF_ERROR(exe->MarkShapeRelevant());
  exe->MarkDynamicHostValues();
  exe->AssignHostSlots();
  THETA_RETURN_IF_ERROR(exe->UploadConstants());
  return exe;
}

Executable::Executable(std::unique_ptr<FunctionGraph> graph,
                       std::vector<Var> inputs, backends::Backend& backend,
                       ExecutableOptions options)
    : graph_(std::move(graph)),
      inputs_(std::move(inputs)),
      backend_(&backend),
      options_(std::move(options)) {}

void Executable::ClassifyVariables() {
  schedule_ = graph_->TopologicalOrder();
  has_early_stop_nodes_ = false;
  for (const Node* node : schedule_) {
    if (dynamic_cast<const EarlyStopOp*>(&node->op()) != nullptr) {
      has_early_stop_nodes_ = true;
    }
  }
  auto add = [&](const Var& v) -> VarInfo& {
    auto [it, inserted] = var_index_.try_emplace(v.get(), vars_.size());
    if (inserted) {
      vars_.push_back(VarInfo{});
      vars_.back().var = v.get();
    }
    return vars_[it->second];
  };
  HostValueAnalysis host(/*scalar_inputs_on_host=*/!options_.external_inputs);
  for (size_t i = 0; i < options_.host_inputs.size() && i < inputs_.size();
       ++i) {
    if (options_.host_inputs[i]) host.MarkHostInput(inputs_[i].get());
  }
  input_host_known_.assign(inputs_.size(), false);
  for (size_t i = 0; i < inputs_.size(); ++i) {
    VarInfo& info = add(inputs_[i]);
    info.input_index = static_cast<int>(i);
    info.host_known = host.IsHostValue(inputs_[i].get());
    input_host_known_[i] = info.host_known;
  }
  auto classify_leaf = [&](const Var& v) {
    if (v.owner() != nullptr) return;
    VarInfo& info = add(v);
    if (v->kind() == VarKind::kShared && info.shared_index < 0) {
      info.shared_index = static_cast<int>(shared_vars_.size());
      shared_vars_.push_back(v);
    } else if (v->kind() == VarKind::kConstant && !info.host_known &&
               info.constant_index < 0) {
      if (host.IsHostValue(v.get())) {
        info.host_known = true;
      } else {
        info.constant_index = static_cast<int>(device_constants_.size());
        device_constants_.push_back(v);
      }
    }
  };
  for (Node* node : schedule_) {
    for (const Var& in : node->inputs()) classify_leaf(in);
    for (int o = 0; o < node->num_outputs(); ++o) {
      add(node->output(o)).host_known =
          host.IsHostValue(node->output_variable(o));
    }
  }
  for (const Var& out : graph_->outputs()) classify_leaf(out);
}

// Shape parameters must be host-known; marks what they depend on.
absl::Status Executable::MarkShapeRelevant() {
  std::vector<const Variable*> stack;
  for (Node* node : schedule_) {
    for (int i = 0; i < node->num_inputs(); ++i) {
      if (!node->op().IsShapeParameter(i)) continue;
      VarInfo& info = Info(node->input(i).get());
      if (!info.host_known) {
        return absl::InvalidArgumentError(absl::StrCat(
            node->op().name(), ": input ", i, " ('",
            node->input(i)->DisplayName(),
            "') determines the output's shape, so it must be computable from "
            "input shapes, constants and scalar inputs; it depends on tensor "
            "data\n  at ",
            node->source().ToString()));
      }
      stack.push_back(info.var);
    }
  }
  while (!stack.empty()) {
    const Variable* v = stack.back();
    stack.pop_back();
    VarInfo& info = Info(v);
    if (info.shape_relevant) continue;
    info.shape_relevant = true;
    if (Node* owner = v->owner()) {
      for (int i = 0; i < owner->num_inputs(); ++i) {
        if (owner->op().HostNeedsValue(i))
          stack.push_back(owner->input(i).get());
      }
    }
  }
  return absl::OkStatus();
}

// Scalar inputs that shapes depend on key plans; other host values that
// depend on scalar inputs are recomputed per run.
void Executable::MarkDynamicHostValues() {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    VarInfo& info = Info(inputs_[i].get());
    if (!info.host_known) continue;
    if (info.shape_relevant) {
      key_inputs_.push_back(static_cast<int>(i));
    } else {
      info.dynamic = true;
    }
  }
  for (Node* node : schedule_) {
    VarInfo& first = Info(node->output_variable(0));
    if (!first.host_known) continue;
    bool dynamic = false;
    for (int i = 0; i < node->num_inputs(); ++i) {
      if (node->op().HostNeedsValue(i) && Info(node->input(i).get()).dynamic) {
        dynamic = true;
      }
    }
    for (int o = 0; o < node->num_outputs(); ++o) {
      Info(node->output_variable(o)).dynamic = dynamic;
    }
  }
}

// Host slots: every host-known variable, outputs of one node adjacent.
void Executable::AssignHostSlots() {
  for (VarInfo& info : vars_) {
    if (info.host_known && info.var->owner() == nullptr) {
      info.host_slot = num_host_slots_++;
    }
  }
  for (Node* node : schedule_) {
    if (!Info(node->output_variable(0)).host_known) continue;
    for (int o = 0; o < node->num_outputs(); ++o) {
      Info(node->output_variable(o)).host_slot = num_host_slots_++;
    }
  }
}

// Large constants live on the device for the function's lifetime.
absl::Status Executable::UploadConstants() {
  for (const Var& c : device_constants_) {
    const Tensor& value = c->constant_value();
    absl::StatusOr<backends::Buffer> buffer =
        backend_->Allocate(value.nbytes());
    if (!buffer.ok()) return buffer.status();
    THETA_RETURN_IF_ERROR(backend_->CopyToDevice(
        buffer->data(), value.raw_data(), value.nbytes()));
    constant_buffers_.push_back(*std::move(buffer));
  }
  return backend_->Synchronize();
}

}  // namespace theta
