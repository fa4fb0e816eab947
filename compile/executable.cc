#include "compile/executable.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "compile/planner.h"
#include "graph/host_values.h"
#include "graph/launches.h"

namespace theta {
namespace {

absl::Status Annotate(const absl::Status& status, const std::string& prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

}  // namespace

std::string Executable::Where(const Node& node) const {
  return absl::StrCat("function '", options_.name, "': ", node.Describe(),
                      ": ");
}

absl::StatusOr<Plan*> Executable::GetPlan(
    std::span<const Dims> input_shapes, std::span<const Dims> input_strides,
    std::span<const HostValue> scalar_inputs,
    std::span<const bool> writable_inputs) {
  // The common case first: the same shapes as last time.
  auto matches = [&](const Plan& plan) {
    for (size_t i = 0; i < input_shapes.size(); ++i) {
      if (plan.input_shapes_[i] != input_shapes[i]) return false;
      if (options_.external_inputs && !input_strides.empty() &&
          plan.input_strides_[i] != input_strides[i]) {
        return false;
      }
    }
    // A missing flag is false: an empty span asks for the same plan as
    // all-false flags (a loop's shape inference and its launch).
    const size_t flags =
        std::max(plan.writable_inputs_.size(), writable_inputs.size());
    for (size_t i = 0; i < flags; ++i) {
      const bool planned =
          i < plan.writable_inputs_.size() && plan.writable_inputs_[i];
      const bool asked = i < writable_inputs.size() && writable_inputs[i];
      if (planned != asked) return false;
    }
    for (size_t s = 0; s < shared_vars_.size(); ++s) {
      if (plan.shared_shapes_[s] != shared_vars_[s]->shared()->shape()) {
        return false;
      }
    }
    for (size_t k = 0; k < key_inputs_.size(); ++k) {
      if (!(plan.key_values_[k] == scalar_inputs[key_inputs_[k]])) return false;
    }
    return early_stop_rows_.Matches(plan.early_stop_rows_);
  };
  if (last_plan_ != nullptr && matches(*last_plan_)) return last_plan_;
  for (auto& plan : plans_) {
    if (matches(*plan)) {
      last_plan_ = plan.get();
      return last_plan_;
    }
  }
  absl::StatusOr<std::unique_ptr<Plan>> plan =
      Planner(*this, input_shapes, input_strides, scalar_inputs,
              writable_inputs)
          .Build();
  if (!plan.ok()) return plan.status();
  ++plans_built_;
  // Keep a few plans (a training loop alternating batch sizes); drop the
  // oldest beyond that.
  constexpr size_t kMaxPlans = 4;
  if (plans_.size() >= kMaxPlans) plans_.erase(plans_.begin());
  plans_.push_back(*std::move(plan));
  last_plan_ = plans_.back().get();
  return last_plan_;
}

absl::Status Executable::EvaluateDynamicHostValues(
    Plan& plan, std::span<const HostValue> scalars) {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (plan.input_host_slots_[i] >= 0) {
      plan.host_values_[plan.input_host_slots_[i]] = scalars[i];
    }
  }
  for (Plan::HostStep& step : plan.dynamic_host_steps_) {
    const HostValue* inputs[16];
    const int num_inputs = step.node->num_inputs();
    if (num_inputs > 16) {
      return absl::InternalError("host node with more than 16 inputs");
    }
    for (int i = 0; i < num_inputs; ++i) {
      inputs[i] = step.input_slots[i] >= 0
                      ? &plan.host_values_[step.input_slots[i]]
                      : nullptr;
    }
    HostEvalContext ctx{
        *step.node, step.input_shapes,
        std::span<const HostValue* const>(inputs, num_inputs),
        std::span<HostValue>(&plan.host_values_[step.first_output_slot],
                             step.node->num_outputs())};
    if (absl::Status s = step.node->op().EvaluateOnHost(ctx); !s.ok()) {
      return Annotate(s, Where(*step.node));
    }
  }
  return absl::OkStatus();
}

absl::Status Executable::BringBack(SharedStorage& storage) {
  if (storage.backend() == backend_) [[likely]] {
    return absl::OkStatus();
  }
  return Annotate(storage.EnsureOn(*backend_),
                  absl::StrCat("function '", options_.name, "': "));
}

absl::Status Executable::BindSharedVariables(Plan& plan) {
  // A shared variable another function moved to its backend comes back
  // first (one comparison each when none did).
  for (size_t s = 0; s < shared_vars_.size(); ++s) {
    THETA_RETURN_IF_ERROR(BringBack(*shared_vars_[s]->shared()));
    plan.slots_[1 + s] = shared_vars_[s]->shared()->device_data();
  }
  return absl::OkStatus();
}

absl::Status Executable::AtLaunch(const Plan& plan, size_t launch,
                                  const absl::Status& status) const {
  const Node* node = plan.launch_nodes_[launch];
  return Annotate(status, node != nullptr ? Where(*node)
                                          : absl::StrCat("function '",
                                                         options_.name, "': "));
}

absl::Status Executable::BeginFixedInputs(
    Plan& plan, std::span<void* const> external_inputs,
    std::span<const bool> fixed_inputs) {
  void** slots = plan.slots_.data();
  const size_t num_slots = plan.slots_.size();
  if (plan.fixed_slots_ == nullptr) {
    plan.fixed_slots_ = std::make_unique<bool[]>(num_slots);
  }
  bool* fixed = plan.fixed_slots_.get();
  std::fill(fixed, fixed + num_slots, false);
  // Shared variables and constants: slots 1 .. first_update_slot_.
  for (int32_t s = 1; s < plan.first_update_slot_; ++s) fixed[s] = true;
  THETA_RETURN_IF_ERROR(BindSharedVariables(plan));
  for (size_t i = 0; i < fixed_inputs.size(); ++i) {
    if (!fixed_inputs[i]) continue;
    const size_t slot = plan.first_external_input_slot_ + i;
    slots[slot] = external_inputs[i];
    fixed[slot] = true;
  }
  plan.fixed_operands_prepared_ = true;
  ExecContext ctx{backend_, slots, plan.host_values_.data()};
  const std::span<const bool> fixed_slots(fixed, num_slots);
  for (size_t i = 0; i < plan.launches_.size(); ++i) {
    absl::Status s = plan.launches_[i]->PrepareFixedOperands(ctx, fixed_slots);
    if (!s.ok()) [[unlikely]] {
      return AtLaunch(plan, i, s);
    }
  }
  return absl::OkStatus();
}

void Executable::EndFixedInputs(Plan& plan) {
  if (!plan.fixed_operands_prepared_) return;
  plan.fixed_operands_prepared_ = false;
  ExecContext ctx{backend_, plan.slots_.data(), plan.host_values_.data()};
  for (const auto& launch : plan.launches_) launch->ReleaseFixedOperands(ctx);
}

absl::Status Executable::Run(Plan& plan, std::span<const Tensor> host_inputs,
                             std::span<void* const> external_inputs,
                             std::span<void* const> external_outputs,
                             std::span<const HostValue> scalar_inputs) {
  void** slots = plan.slots_.data();
  THETA_RETURN_IF_ERROR(BindSharedVariables(plan));
  for (const auto& target : options_.update_targets) {
    THETA_RETURN_IF_ERROR(BringBack(*target));
  }
  for (size_t u = 0; u < plan.update_buffers_.size(); ++u) {
    slots[plan.first_update_slot_ + u] = plan.update_buffers_[u].data();
  }
  for (size_t i = 0; i < external_inputs.size(); ++i) {
    slots[plan.first_external_input_slot_ + i] = external_inputs[i];
  }
  for (size_t o = 0; o < external_outputs.size(); ++o) {
    slots[plan.first_external_output_slot_ + o] = external_outputs[o];
  }
  if (!plan.input_host_slots_.empty() || !plan.dynamic_host_steps_.empty()) {
    THETA_RETURN_IF_ERROR(EvaluateDynamicHostValues(plan, scalar_inputs));
  }
  for (int i : plan.input_bindings_) {
    // Kernels only read it: the planner runs nothing in place over it.
    slots[plan.first_external_input_slot_ + i] =
        const_cast<void*>(host_inputs[i].raw_data());
  }
  for (const Plan::InputUpload& upload : plan.input_uploads_) {
    const Tensor& t = host_inputs[upload.input];
    THETA_RETURN_IF_ERROR(backend_->CopyToDevice(upload.ref.Address(slots),
                                                 t.raw_data(), t.nbytes()));
  }
  ExecContext ctx{backend_, slots, plan.host_values_.data()};
  const size_t count = plan.launches_.size();
  for (size_t i = 0; i < count; ++i) {
    absl::Status s = plan.launches_[i]->Run(ctx);
    if (!s.ok()) [[unlikely]] {
      return AtLaunch(plan, i, s);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Plan*> Executable::PlanAndRun(
    std::span<const Dims> input_shapes, std::span<const Tensor> host_inputs,
    std::span<const HostValue> scalar_inputs, std::vector<Tensor>& outputs) {
  // At most two plans more: a run is deterministic, so the second run stops
  // where the first did.
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<Plan*> plan = GetPlan(input_shapes, {}, scalar_inputs);
    if (!plan.ok()) return plan.status();
    if (options_.external_outputs) {
      BindOutputTensors(**plan, host_inputs, outputs);
    }
    absl::Status run =
        Run(**plan, host_inputs, {}, output_addresses_, scalar_inputs);
    if (!run.ok()) {
      if (!IsRowsDiffer(run) || attempt == 2) return run;
      continue;
    }
    // The inputs are read: `outputs` may change now, even where the caller
    // passed it as the inputs too.
    outputs.resize(num_user_outputs());
    for (int i = 0; i < num_user_outputs(); ++i) {
      if (!options_.external_outputs) {
        THETA_RETURN_IF_ERROR(ReadOutput(**plan, i, outputs[i]));
      } else if (new_outputs_[i].defined()) {
        outputs[i] = std::move(new_outputs_[i]);
      }
    }
    return plan;
  }
}

void Executable::BindOutputTensors(const Plan& plan,
                                   std::span<const Tensor> host_inputs,
                                   std::vector<Tensor>& outputs) {
  const int n = num_user_outputs();
  new_outputs_.resize(n);
  output_addresses_.resize(n);
  for (int i = 0; i < n; ++i) {
    const Dims& shape = plan.outputs_[i].ref.shape;
    const DType dtype = graph_->output(i).dtype();
    // Written while the kernels read the inputs: never an input's storage
    // (the caller may pass `outputs` itself as the inputs).
    Tensor* old = i < static_cast<int>(outputs.size()) ? &outputs[i] : nullptr;
    bool reusable = old != nullptr && old->defined() && old->use_count() == 1 &&
                    old->dtype() == dtype && old->dims() == shape;
    for (size_t k = 0; reusable && k < host_inputs.size(); ++k) {
      reusable = host_inputs[k].raw_data() != old->raw_data();
    }
    // A new tensor replaces the old one only after the run: `outputs` may
    // be the inputs.
    new_outputs_[i] = reusable ? Tensor() : Tensor::Uninitialized(dtype, shape);
    output_addresses_[i] =
        reusable ? old->raw_data() : new_outputs_[i].raw_data();
  }
}

absl::Status Executable::ReadOutput(Plan& plan, int i, Tensor& out) {
  const Plan::OutputSource& source = plan.outputs_[i];
  const Var& var = graph_->output(i);
  if (source.host_slot >= 0) {
    const HostValue& value = plan.host_values_[source.host_slot];
    if (!out.defined() || out.use_count() != 1 || out.dtype() != var.dtype() ||
        out.dims() != value.shape) {
      out = Tensor::Uninitialized(var.dtype(), value.shape);
    }
    HostValueToBytes(value, var.dtype(), out.raw_data());
    return absl::OkStatus();
  }
  if (!out.defined() || out.use_count() != 1 || out.dtype() != var.dtype() ||
      out.dims() != source.ref.shape) {
    out = Tensor::Uninitialized(var.dtype(), source.ref.shape);
  }
  return backend_->CopyToHost(
      out.raw_data(), source.ref.Address(plan.slots_.data()), out.nbytes());
}

void Executable::ApplyUpdates(Plan& plan) {
  for (size_t u = 0; u < plan.update_shapes_.size(); ++u) {
    options_.update_targets[u]->SwapBuffer(plan.update_buffers_[u],
                                           plan.update_shapes_[u]);
  }
}

}  // namespace theta
