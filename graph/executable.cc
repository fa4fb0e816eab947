#include "graph/executable.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "graph/arena_planner.h"
#include "graph/host_values.h"
#include "graph/launches.h"

namespace theta {
namespace {

constexpr int kNever = std::numeric_limits<int>::max();

absl::Status Annotate(const absl::Status& status, const std::string& prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

}  // namespace

Executable::Executable(std::unique_ptr<FunctionGraph> graph,
                       std::vector<Var> inputs, backends::Backend& backend,
                       ExecutableOptions options)
    : graph_(std::move(graph)),
      inputs_(std::move(inputs)),
      backend_(&backend),
      options_(std::move(options)) {
  Classify();
}

std::string Executable::Where(const Node& node) const {
  return absl::StrCat("function '", options_.name, "': ", node.Describe(),
                      ": ");
}

void Executable::Classify() {
  schedule_ = graph_->TopologicalOrder();
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

  // Shape parameters must be host-known; mark what they depend on.
  std::vector<const Variable*> stack;
  for (Node* node : schedule_) {
    for (int i = 0; i < node->num_inputs(); ++i) {
      if (!node->op().IsShapeParameter(i)) continue;
      VarInfo& info = Info(node->input(i).get());
      if (!info.host_known) {
        ThrowAt(node->source(),
                absl::StrCat(node->op().name(), ": input ", i, " ('",
                             node->input(i)->DisplayName(),
                             "') determines the output's shape, so it must be "
                             "computable from input shapes, constants and "
                             "scalar inputs; it depends on tensor data"));
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
  // Host slots: every host-known variable, outputs of one node adjacent.
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
  // Large constants live on the device for the function's lifetime.
  for (const Var& c : device_constants_) {
    const Tensor& value = c->constant_value();
    absl::StatusOr<backends::Buffer> buffer =
        backend_->Allocate(value.nbytes());
    ThrowIfError(buffer.status());
    ThrowIfError(backend_->CopyToDevice(buffer->data(), value.raw_data(),
                                        value.nbytes()));
    constant_buffers_.push_back(*std::move(buffer));
  }
  ThrowIfError(backend_->Synchronize());
}

absl::StatusOr<Plan*> Executable::GetPlan(
    std::span<const Dims> input_shapes, std::span<const Dims> input_strides,
    std::span<const HostValue> scalar_inputs) {
  // The common case first: the same shapes as last time.
  auto matches = [&](const Plan& plan) {
    for (size_t i = 0; i < input_shapes.size(); ++i) {
      if (plan.input_shapes_[i] != input_shapes[i]) return false;
      if (options_.external_inputs && !input_strides.empty() &&
          plan.input_strides_[i] != input_strides[i]) {
        return false;
      }
    }
    for (size_t s = 0; s < shared_vars_.size(); ++s) {
      if (plan.shared_shapes_[s] != shared_vars_[s]->shared()->shape()) {
        return false;
      }
    }
    for (size_t k = 0; k < key_inputs_.size(); ++k) {
      if (!(plan.key_values_[k] == scalar_inputs[key_inputs_[k]])) return false;
    }
    for (const auto& [node, rows] : plan.row_hints_) {
      auto it = row_hints_.find(node);
      if (it == row_hints_.end() || it->second != rows) return false;
    }
    if (plan.row_hints_.size() != row_hints_.size()) return false;
    return true;
  };
  if (last_plan_ != nullptr && matches(*last_plan_)) return last_plan_;
  for (auto& plan : plans_) {
    if (matches(*plan)) {
      last_plan_ = plan.get();
      return last_plan_;
    }
  }
  absl::StatusOr<std::unique_ptr<Plan>> plan =
      BuildPlan(input_shapes, input_strides, scalar_inputs);
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

absl::StatusOr<std::unique_ptr<Plan>> Executable::BuildPlan(
    std::span<const Dims> input_shapes, std::span<const Dims> input_strides,
    std::span<const HostValue> scalar_inputs) {
  auto plan = std::make_unique<Plan>();
  const std::string function_prefix =
      absl::StrCat("function '", options_.name, "': ");
  plan->input_shapes_.assign(input_shapes.begin(), input_shapes.end());
  if (options_.external_inputs) {
    for (size_t i = 0; i < input_shapes.size(); ++i) {
      plan->input_strides_.push_back(i < input_strides.size()
                                         ? input_strides[i]
                                         : ContiguousStrides(input_shapes[i]));
    }
  }
  for (const Var& s : shared_vars_) {
    if (absl::Status st = s->shared()->EnsureOn(*backend_); !st.ok()) {
      return Annotate(st, function_prefix);
    }
    plan->shared_shapes_.push_back(s->shared()->shape());
  }
  for (const auto& target : options_.update_targets) {
    if (absl::Status st = target->EnsureOn(*backend_); !st.ok()) {
      return Annotate(st, function_prefix);
    }
  }
  for (int k : key_inputs_) plan->key_values_.push_back(scalar_inputs[k]);

  // Slot layout.
  const int32_t num_shared = static_cast<int32_t>(shared_vars_.size());
  const int32_t num_constants = static_cast<int32_t>(device_constants_.size());
  const int32_t num_updates =
      static_cast<int32_t>(options_.update_targets.size());
  const int32_t first_shared_slot = 1;
  const int32_t first_constant_slot = first_shared_slot + num_shared;
  plan->first_update_slot_ = first_constant_slot + num_constants;
  plan->first_external_input_slot_ = plan->first_update_slot_ + num_updates;
  const int32_t num_external_inputs =
      options_.external_inputs ? static_cast<int32_t>(inputs_.size()) : 0;
  plan->first_external_output_slot_ =
      plan->first_external_input_slot_ + num_external_inputs;
  const int32_t num_external_outputs =
      options_.external_outputs ? num_outputs() : 0;
  plan->slots_.assign(plan->first_external_output_slot_ + num_external_outputs,
                      nullptr);
  plan->host_values_.assign(num_host_slots_, HostValue{});

  const size_t n = vars_.size();
  std::vector<Dims> shape(n);
  std::vector<ArrayRef> ref(n);
  std::vector<bool> on_device(n, false);

  // Inputs, shared variables, constants.
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Var& in = inputs_[i];
    VarInfo& info = Info(in.get());
    const int idx = var_index_.at(in.get());
    shape[idx] = input_shapes[i];
    if (info.host_known) {
      plan->host_values_[info.host_slot] = scalar_inputs[i];
    } else if (options_.external_inputs) {
      ref[idx] =
          ArrayRef{plan->first_external_input_slot_ + static_cast<int32_t>(i),
                   0, in.dtype(), input_shapes[i], plan->input_strides_[i]};
      on_device[idx] = true;
    }
  }
  for (int32_t s = 0; s < num_shared; ++s) {
    const Var& v = shared_vars_[s];
    const int idx = var_index_.at(v.get());
    shape[idx] = v->shared()->shape();
    if (!v.type().Accepts(shape[idx])) {
      return absl::InvalidArgumentError(absl::StrCat(
          function_prefix, "shared variable '", v->DisplayName(),
          "' has shape ", shape[idx].ToString(), ", which its type ",
          v.type().ToString(), " does not accept"));
    }
    ref[idx] =
        MakeContiguousRef(first_shared_slot + s, 0, v.dtype(), shape[idx]);
    on_device[idx] = true;
  }
  for (int32_t c = 0; c < num_constants; ++c) {
    const Var& v = device_constants_[c];
    const int idx = var_index_.at(v.get());
    shape[idx] = v->constant_value().dims();
    ref[idx] =
        MakeContiguousRef(first_constant_slot + c, 0, v.dtype(), shape[idx]);
    on_device[idx] = true;
  }
  for (VarInfo& info : vars_) {
    if (info.var->kind() != VarKind::kConstant || !info.host_known) continue;
    const Tensor& value = info.var->constant_value();
    HostValue hv;
    hv.dtype = value.dtype();
    hv.shape = value.dims();
    for (int64_t i = 0; i < value.size(); ++i) {
      hv.Set(static_cast<int>(i), value.GetAsDouble(i));
      if (value.dtype() == DType::kInt64) hv.ints[i] = value.data<int64_t>()[i];
    }
    plan->host_values_[info.host_slot] = hv;
    shape[var_index_.at(info.var)] = hv.shape;
  }

  // Pass 1: shapes (and host values), in schedule order; and which view
  // ops can really be views for these shapes and layouts (a reshape of a
  // transposed array must copy).
  std::vector<ArrayRef> layout(n);
  std::vector<bool> is_view(n, false);
  auto layout_of = [&](int idx, DType dtype) -> const ArrayRef& {
    if (layout[idx].shape.size() != shape[idx].size() ||
        layout[idx].slot != 0) {
      layout[idx] = MakeContiguousRef(0, 0, dtype, shape[idx]);
    }
    return layout[idx];
  };
  for (size_t i = 0; i < inputs_.size() && options_.external_inputs; ++i) {
    const int idx = var_index_.at(inputs_[i].get());
    layout[idx] = ArrayRef{0, 0, inputs_[i].dtype(), input_shapes[i],
                           plan->input_strides_[i]};
  }
  std::vector<Dims> in_shapes;
  std::vector<const HostValue*> in_values;
  for (Node* node : schedule_) {
    in_shapes.clear();
    in_values.clear();
    for (const Var& in : node->inputs()) {
      const VarInfo& info = Info(in.get());
      in_shapes.push_back(shape[var_index_.at(in.get())]);
      in_values.push_back(info.host_known ? &plan->host_values_[info.host_slot]
                                          : nullptr);
    }
    const VarInfo& first = Info(node->output_variable(0));
    std::vector<Dims> out_shapes(node->num_outputs());
    if (first.host_known) {
      std::vector<HostValue> outs(node->num_outputs());
      for (int o = 0; o < node->num_outputs(); ++o) {
        outs[o].dtype = node->output_variable(o)->type().dtype();
        outs[o].shape = node->output_variable(o)->type().shape();
      }
      HostEvalContext ctx{*node, in_shapes, in_values, outs};
      if (absl::Status s = node->op().EvaluateOnHost(ctx); !s.ok()) {
        return Annotate(s, Where(*node));
      }
      for (int o = 0; o < node->num_outputs(); ++o) {
        plan->host_values_[first.host_slot + o] = outs[o];
        out_shapes[o] = outs[o].shape;
      }
      if (first.dynamic) {
        Plan::HostStep step{node, {}, in_shapes, first.host_slot};
        for (int i = 0; i < node->num_inputs(); ++i) {
          const VarInfo& info = Info(node->input(i).get());
          step.input_slots.push_back(
              node->op().HostNeedsValue(i) ? info.host_slot : -1);
        }
        plan->dynamic_host_steps_.push_back(std::move(step));
      }
    } else {
      auto hint = row_hints_.find(node);
      ShapeContext ctx{
          *node,     in_shapes,
          in_values, out_shapes,
          backend_,  hint != row_hints_.end() ? &hint->second : nullptr};
      if (hint != row_hints_.end()) plan->row_hints_.push_back(*hint);
      if (absl::Status s = node->op().InferShapes(ctx); !s.ok()) {
        return Annotate(s, Where(*node));
      }
    }
    for (int o = 0; o < node->num_outputs(); ++o) {
      const TensorType& t = node->output_variable(o)->type();
      if (!t.Accepts(out_shapes[o])) {
        return absl::InternalError(absl::StrCat(
            Where(*node), "output ", o, " has shape ", out_shapes[o].ToString(),
            ", inconsistent with its type ", t.ToString()));
      }
      // Every size computed while the function runs is checked once here,
      // before any byte size, stride or buffer is derived from it.
      if (absl::Status s = CheckShapeFits(out_shapes[o], t.dtype()); !s.ok()) {
        return Annotate(s, absl::StrCat(Where(*node), "output ", o, ": "));
      }
      shape[var_index_.at(node->output_variable(o))] = out_shapes[o];
    }
    if (!first.host_known && node->op().ViewOf() >= 0) {
      const int out_idx = var_index_.at(node->output_variable(0));
      std::vector<ArrayRef> input_layouts;
      for (const Var& in : node->inputs()) {
        const int in_idx = var_index_.at(in.get());
        input_layouts.push_back(layout_of(in_idx, in.dtype()));
      }
      ArrayRef view = MakeContiguousRef(
          0, 0, node->output_variable(0)->type().dtype(), shape[out_idx]);
      ViewContext ctx{*node, input_layouts, in_values, view};
      absl::Status s = node->op().MakeView(ctx);
      if (s.ok()) {
        is_view[out_idx] = true;
        layout[out_idx] = view;
      } else if (!IsViewNeedsCopy(s)) {
        return Annotate(s, Where(*node));
      }
    }
  }

  // Pass 2: lifetimes. A view shares its root's buffer, so the root lives
  // until the last reader of any of its views.
  std::vector<int> root(n);
  for (size_t i = 0; i < n; ++i) root[i] = static_cast<int>(i);
  for (Node* node : schedule_) {
    const int out_idx = var_index_.at(node->output_variable(0));
    if (is_view[out_idx]) {
      root[out_idx] =
          root[var_index_.at(node->input(node->op().ViewOf()).get())];
    }
  }
  std::vector<int> last_use(n, -1);
  // Host-known values some kernel reads as a device array.
  std::vector<bool> needs_upload(n, false);
  for (size_t k = 0; k < schedule_.size(); ++k) {
    Node* node = schedule_[k];
    if (Info(node->output_variable(0)).host_known) continue;
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Variable* in = node->input(i).get();
      const int idx = var_index_.at(in);
      if (Info(in).host_known) {
        if (!node->op().ConsumesHostValue(*node, i) &&
            !node->op().IsShapeParameter(i)) {
          needs_upload[idx] = true;
        }
        continue;
      }
      last_use[root[idx]] = std::max(last_use[root[idx]], static_cast<int>(k));
    }
  }
  for (const Var& out : graph_->outputs()) {
    const int idx = var_index_.at(out.get());
    if (!Info(out.get()).host_known) last_use[root[idx]] = kNever;
  }

  // Pass 3: memory.
  ArenaPlanner arena;
  std::vector<int64_t> arena_offset(n, -1);
  auto allocate = [&](int idx, DType dtype) {
    int64_t bytes =
        shape[idx].product() * static_cast<int64_t>(DTypeSize(dtype));
    arena_offset[idx] = arena.Allocate(bytes);
    ref[idx] = MakeContiguousRef(0, arena_offset[idx], dtype, shape[idx]);
    on_device[idx] = true;
  };
  // Non-external inputs are uploaded before the first launch.
  if (!options_.external_inputs) {
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const int idx = var_index_.at(inputs_[i].get());
      if (Info(inputs_[i].get()).host_known) continue;
      // An input only its shape is read of (x.shape[0]) is not copied.
      if (last_use[idx] < 0) continue;
      allocate(idx, inputs_[i].dtype());
      plan->input_uploads_.push_back({static_cast<int>(i), ref[idx]});
    }
  }
  plan->input_host_slots_.assign(inputs_.size(), -1);
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const VarInfo& info = Info(inputs_[i].get());
    if (info.host_known) plan->input_host_slots_[i] = info.host_slot;
  }
  // Host values read by kernels as device arrays: uploaded into blocks that
  // live for the whole run; static ones once, dynamic ones every run.
  std::vector<std::pair<int32_t, int>> static_uploads;  // host slot, var
  std::vector<std::unique_ptr<Launch>> upload_launches;
  std::vector<std::string> upload_descriptions;
  for (size_t idx = 0; idx < n; ++idx) {
    if (!needs_upload[idx]) continue;
    const VarInfo& info = vars_[idx];
    allocate(static_cast<int>(idx), info.var->type().dtype());
    if (info.dynamic) {
      upload_launches.push_back(MakeUploadLaunch(info.host_slot, ref[idx]));
      upload_descriptions.push_back(
          absl::StrCat("upload ", info.var->DisplayName()));
    } else {
      static_uploads.push_back({info.host_slot, static_cast<int>(idx)});
    }
  }

  // Which graph outputs are update values, and of which update.
  absl::flat_hash_map<const Variable*, int> update_of;
  const int first_update_output = num_user_outputs();
  for (int u = 0; u < num_updates; ++u) {
    update_of.try_emplace(graph_->output(first_update_output + u).get(), u);
  }
  absl::flat_hash_map<const Variable*, int> external_output_of;
  if (options_.external_outputs) {
    for (int o = 0; o < num_outputs(); ++o) {
      external_output_of.try_emplace(graph_->output(o).get(), o);
    }
  }
  absl::flat_hash_map<const Variable*, ArrayRef> window_of;
  if (options_.external_outputs) {
    // How many node inputs read each variable.
    std::vector<int> readers(vars_.size(), 0);
    for (Node* node : schedule_) {
      for (const Var& in : node->inputs()) ++readers[var_index_.at(in.get())];
    }
    ChainExternalOutputs(shape, is_view, readers, update_of,
                         external_output_of);
    window_of = ValuesInOutputWindows(*plan, shape, is_view, readers, update_of,
                                      external_output_of);
  }
  plan->updates_.assign(num_updates, Plan::UpdateAction{});
  std::vector<bool> update_placed(num_updates, false);
  std::vector<bool> inplace(n, false);

  for (size_t k = 0; k < schedule_.size(); ++k) {
    Node* node = schedule_[k];
    if (Info(node->output_variable(0)).host_known) continue;
    const int view_of = node->op().ViewOf();
    for (int o = 0; o < node->num_outputs(); ++o) {
      const Variable* out = node->output_variable(o);
      const int idx = var_index_.at(out);
      const DType dtype = out->type().dtype();
      if (is_view[idx]) {
        ref[idx] = ArrayRef{};
        ref[idx].dtype = dtype;
        ref[idx].shape = shape[idx];
        const ArrayRef& src = ref[var_index_.at(node->input(view_of).get())];
        ref[idx].slot = src.slot;
        ref[idx].byte_offset = src.byte_offset;
        ref[idx].strides = ContiguousStrides(shape[idx]);
        std::vector<ArrayRef> input_refs;
        for (const Var& in : node->inputs()) {
          input_refs.push_back(ref[var_index_.at(in.get())]);
        }
        in_values.clear();
        for (const Var& in : node->inputs()) {
          const VarInfo& info = Info(in.get());
          in_values.push_back(
              info.host_known ? &plan->host_values_[info.host_slot] : nullptr);
        }
        ViewContext ctx{*node, input_refs, in_values, ref[idx]};
        if (absl::Status s = node->op().MakeView(ctx); !s.ok()) {
          return Annotate(s, Where(*node));
        }
        on_device[idx] = true;
        continue;
      }
      // Written straight into the caller's array?
      if (auto it = external_output_of.find(out);
          it != external_output_of.end()) {
        ref[idx] =
            MakeContiguousRef(plan->first_external_output_slot_ + it->second, 0,
                              dtype, shape[idx]);
        on_device[idx] = true;
        external_output_of.erase(it);
        continue;
      }
      // Computed straight into the window of a caller's array that its
      // reader would copy it to?
      if (auto it = window_of.find(out); it != window_of.end()) {
        ref[idx] = it->second;
        on_device[idx] = true;
        continue;
      }
      // An update computed in place over its shared variable, or into the
      // update's own buffer.
      if (auto it = update_of.find(out); it != update_of.end() && o == 0) {
        const int u = it->second;
        bool placed = false;
        for (int i = 0; i < node->num_inputs() && !placed; ++i) {
          const Variable* in = node->input(i).get();
          if (!node->op().CanRunInPlace(i) || in->kind() != VarKind::kShared ||
              in->shared() != options_.update_targets[u]) {
            continue;
          }
          const int in_idx = var_index_.at(in);
          if (last_use[in_idx] == static_cast<int>(k) &&
              shape[in_idx] == shape[idx] && in->type().dtype() == dtype) {
            ref[idx] = ref[in_idx];
            plan->updates_[u].buffer = -1;
            inplace[idx] = true;
            placed = true;
          }
        }
        if (!placed) {
          ref[idx] = MakeContiguousRef(plan->first_update_slot_ + u, 0, dtype,
                                       shape[idx]);
          plan->updates_[u].buffer = u;
        }
        plan->updates_[u].shape = shape[idx];
        update_placed[u] = true;
        on_device[idx] = true;
        update_of.erase(it);
        continue;
      }
      // Over an input that dies here.
      bool placed = false;
      for (int i = 0; i < node->num_inputs() && !placed && o == 0; ++i) {
        if (!node->op().CanRunInPlace(i)) continue;
        const int in_idx = var_index_.at(node->input(i).get());
        if (root[in_idx] != in_idx || arena_offset[in_idx] < 0 ||
            last_use[in_idx] != static_cast<int>(k)) {
          continue;
        }
        if (shape[in_idx] != shape[idx] || node->input(i).dtype() != dtype ||
            !ref[in_idx].contiguous()) {
          continue;
        }
        // Take over the input's block: it is freed when this output dies.
        arena_offset[idx] = arena_offset[in_idx];
        arena_offset[in_idx] = -1;
        ref[idx] = ref[in_idx];
        on_device[idx] = true;
        inplace[idx] = true;
        placed = true;
      }
      if (!placed) allocate(idx, dtype);
    }
    // Free what dies here (and outputs nobody reads).
    for (const Var& in : node->inputs()) {
      const int r = root[var_index_.at(in.get())];
      if (last_use[r] == static_cast<int>(k) && arena_offset[r] >= 0) {
        arena.Free(arena_offset[r]);
        arena_offset[r] = -1;
      }
    }
    for (int o = 0; o < node->num_outputs(); ++o) {
      const int idx = var_index_.at(node->output_variable(o));
      if (root[idx] == idx && last_use[idx] < 0 && arena_offset[idx] >= 0) {
        arena.Free(arena_offset[idx]);
        arena_offset[idx] = -1;
      }
    }
  }

  // Outputs that are not already where they must be get a final copy.
  std::vector<std::pair<ArrayRef, ArrayRef>> final_copies;
  std::vector<std::pair<int32_t, ArrayRef>> final_uploads;
  plan->outputs_.assign(num_outputs(), Plan::OutputSource{});
  for (int o = 0; o < num_outputs(); ++o) {
    const Var& out = graph_->output(o);
    const int idx = var_index_.at(out.get());
    const VarInfo& info = Info(out.get());
    const bool is_update = o >= first_update_output;
    const int u = o - first_update_output;
    if (options_.external_outputs) {
      ArrayRef target = MakeContiguousRef(plan->first_external_output_slot_ + o,
                                          0, out.dtype(), shape[idx]);
      plan->outputs_[o].ref = target;
      if (info.host_known) {
        final_uploads.push_back({info.host_slot, target});
      } else if (!(ref[idx].slot == target.slot && ref[idx].byte_offset == 0)) {
        final_copies.push_back({ref[idx], target});
      }
      continue;
    }
    if (is_update) {
      if (update_placed[u]) continue;
      ArrayRef target = MakeContiguousRef(plan->first_update_slot_ + u, 0,
                                          out.dtype(), shape[idx]);
      plan->updates_[u] = Plan::UpdateAction{u, shape[idx]};
      update_placed[u] = true;
      if (info.host_known) {
        final_uploads.push_back({info.host_slot, target});
      } else {
        final_copies.push_back({ref[idx], target});
      }
      continue;
    }
    if (info.host_known) {
      plan->outputs_[o].host_slot = info.host_slot;
      continue;
    }
    if (ref[idx].contiguous()) {
      plan->outputs_[o].ref = ref[idx];
      continue;
    }
    ArrayRef target = MakeContiguousRef(0, arena.Allocate(ref[idx].nbytes()),
                                        out.dtype(), shape[idx]);
    final_copies.push_back({ref[idx], target});
    plan->outputs_[o].ref = target;
  }

  // Pass 4: the launches.
  for (size_t i = 0; i < upload_launches.size(); ++i) {
    plan->launches_.push_back(std::move(upload_launches[i]));
    plan->launch_nodes_.push_back(nullptr);
    plan->description_.push_back(upload_descriptions[i]);
  }
  std::vector<ArrayRef> in_refs;
  std::vector<int32_t> in_host_slots;
  for (Node* node : schedule_) {
    const int first_idx = var_index_.at(node->output_variable(0));
    if (vars_[first_idx].host_known) continue;
    if (is_view[first_idx]) continue;
    in_refs.clear();
    in_host_slots.clear();
    in_values.clear();
    for (const Var& in : node->inputs()) {
      const int idx = var_index_.at(in.get());
      const VarInfo& info = vars_[idx];
      in_refs.push_back(on_device[idx] ? ref[idx] : ArrayRef{});
      in_host_slots.push_back(info.host_known ? info.host_slot : -1);
      in_values.push_back(info.host_known ? &plan->host_values_[info.host_slot]
                                          : nullptr);
    }
    std::vector<ArrayRef> out_refs;
    // (std::vector<bool> has no span; these are plain bools.)
    std::unique_ptr<bool[]> unread(new bool[node->num_outputs()]);
    for (int o = 0; o < node->num_outputs(); ++o) {
      const int idx = var_index_.at(node->output_variable(o));
      out_refs.push_back(ref[idx]);
      unread[o] = last_use[root[idx]] < 0;
    }
    LaunchContext ctx{*node,
                      in_refs,
                      in_host_slots,
                      in_values,
                      out_refs,
                      *backend_,
                      std::span<const bool>(unread.get(), node->num_outputs())};
    absl::StatusOr<std::unique_ptr<Launch>> launch = node->op().MakeLaunch(ctx);
    if (!launch.ok()) return Annotate(launch.status(), Where(*node));
    plan->launches_.push_back(*std::move(launch));
    plan->launch_nodes_.push_back(node);
    const ArrayRef& r = out_refs[0];
    std::string where = r.slot == 0
                            ? absl::StrCat("arena[", r.byte_offset, ":",
                                           r.byte_offset + r.nbytes(), ")")
                            : absl::StrCat("slot ", r.slot);
    plan->description_.push_back(absl::StrCat(
        node->op().name(), " -> ", where, " ", shape[first_idx].ToString(),
        inplace[first_idx] ? " [in place]" : ""));
    if (inplace[first_idx]) ++plan->inplace_outputs_;
  }
  for (auto& [src, dst] : final_copies) {
    plan->launches_.push_back(MakeCopyLaunch(src, dst));
    plan->launch_nodes_.push_back(nullptr);
    plan->description_.push_back(absl::StrCat("copy -> slot ", dst.slot));
  }
  for (auto& [host_slot, dst] : final_uploads) {
    plan->launches_.push_back(MakeUploadLaunch(host_slot, dst));
    plan->launch_nodes_.push_back(nullptr);
    plan->description_.push_back(absl::StrCat("upload -> slot ", dst.slot));
  }

  // Memory.
  plan->arena_bytes_ = arena.size();
  absl::StatusOr<backends::Buffer> arena_buffer =
      backend_->Allocate(plan->arena_bytes_);
  if (!arena_buffer.ok())
    return Annotate(arena_buffer.status(), function_prefix);
  plan->arena_ = *std::move(arena_buffer);
  plan->slots_[0] = plan->arena_.data();
  for (int32_t c = 0; c < num_constants; ++c) {
    plan->slots_[first_constant_slot + c] = constant_buffers_[c].data();
  }
  plan->update_buffers_.resize(num_updates);
  for (int32_t u = 0; u < num_updates; ++u) {
    if (plan->updates_[u].buffer < 0) continue;
    const Var& value = graph_->output(first_update_output + u);
    absl::StatusOr<backends::Buffer> buffer = backend_->Allocate(
        plan->updates_[u].shape.product() * DTypeSize(value.dtype()));
    if (!buffer.ok()) return Annotate(buffer.status(), function_prefix);
    plan->update_buffers_[u] = *std::move(buffer);
  }
  for (auto& [host_slot, idx] : static_uploads) {
    HostValue& value = plan->host_values_[host_slot];
    unsigned char bytes[kMaxHostElements * 8];
    HostValueToBytes(value, ref[idx].dtype, bytes);
    if (absl::Status s = backend_->CopyToDevice(
            ref[idx].Address(plan->slots_.data()), bytes, ref[idx].nbytes());
        !s.ok()) {
      return Annotate(s, function_prefix);
    }
    if (absl::Status s = backend_->Synchronize(); !s.ok()) {
      return Annotate(s, function_prefix);
    }
  }
  return plan;
}

// An output computed in place over an intermediate that nothing else reads
// (an increment of zeros, or a chain of them, as a gradient through slices
// of one tensor is built) is built in the caller's array from the start.
// Otherwise the intermediate lives in the arena, and the node that produces
// the output first copies all of it there: a scan body paid that copy of a
// full row at every step. The chain goes back while each value is the
// in-place operand of its only reader, of the same shape and dtype, and
// neither a view nor a host value.
void Executable::ChainExternalOutputs(
    std::span<const Dims> shape, const std::vector<bool>& is_view,
    std::span<const int> readers,
    const absl::flat_hash_map<const Variable*, int>& update_of,
    absl::flat_hash_map<const Variable*, int>& external_output_of) {
  std::vector<std::pair<const Variable*, int>> chained;
  for (const auto& [out, o] : external_output_of) {
    const Variable* v = out;
    while (v->owner() != nullptr && v->owner()->num_outputs() == 1) {
      const Node& node = *v->owner();
      const int v_idx = var_index_.at(v);
      const Variable* next = nullptr;
      for (int i = 0; i < node.num_inputs() && next == nullptr; ++i) {
        const Variable* in = node.input(i).get();
        const int in_idx = var_index_.at(in);
        if (node.op().CanRunInPlace(i) && in->owner() != nullptr &&
            readers[in_idx] == 1 && !is_view[in_idx] &&
            !vars_[in_idx].host_known && shape[in_idx] == shape[v_idx] &&
            in->type().dtype() == v->type().dtype() &&
            !external_output_of.contains(in) && !update_of.contains(in)) {
          next = in;
        }
      }
      if (next == nullptr) break;
      chained.push_back({next, o});
      v = next;
    }
  }
  for (const auto& [v, o] : chained) external_output_of.try_emplace(v, o);
}

absl::flat_hash_map<const Variable*, ArrayRef>
Executable::ValuesInOutputWindows(
    const Plan& plan, std::span<const Dims> shape,
    const std::vector<bool>& is_view, std::span<const int> readers,
    const absl::flat_hash_map<const Variable*, int>& update_of,
    const absl::flat_hash_map<const Variable*, int>& external_output_of) {
  absl::flat_hash_map<const Variable*, ArrayRef> window_of;
  std::vector<Dims> input_shapes;
  std::vector<const HostValue*> input_values;
  for (Node* node : schedule_) {
    const Variable* out = node->output_variable(0);
    const int out_idx = var_index_.at(out);
    auto external = external_output_of.find(out);
    if (external == external_output_of.end() || is_view[out_idx] ||
        vars_[out_idx].host_known) {
      continue;
    }
    input_shapes.clear();
    input_values.clear();
    for (const Var& in : node->inputs()) {
      const VarInfo& info = Info(in.get());
      input_shapes.push_back(shape[var_index_.at(in.get())]);
      input_values.push_back(
          info.host_known ? &plan.host_values_[info.host_slot] : nullptr);
    }
    const ArrayRef output =
        MakeContiguousRef(plan.first_external_output_slot_ + external->second,
                          0, out->type().dtype(), shape[out_idx]);
    const std::vector<std::optional<ArrayRef>> windows =
        node->op().OutputWindows(
            WindowContext{*node, input_shapes, input_values, output});
    for (size_t i = 0; i < windows.size(); ++i) {
      if (!windows[i].has_value()) continue;
      const Variable* in = node->input(static_cast<int>(i)).get();
      const int in_idx = var_index_.at(in);
      // Only this node reads the value, its op can write a window, and it
      // is nothing else's array.
      if (in->owner() == nullptr || !in->owner()->op().WritesAnyLayout() ||
          readers[in_idx] != 1 || is_view[in_idx] || vars_[in_idx].host_known ||
          external_output_of.contains(in) || update_of.contains(in) ||
          shape[in_idx] != windows[i]->shape ||
          in->type().dtype() != windows[i]->dtype) {
        continue;
      }
      window_of.try_emplace(in, *windows[i]);
    }
  }
  return window_of;
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

absl::Status Executable::Run(Plan& plan, std::span<const Tensor> host_inputs,
                             std::span<void* const> external_inputs,
                             std::span<void* const> external_outputs,
                             std::span<const HostValue> scalar_inputs) {
  void** slots = plan.slots_.data();
  for (size_t s = 0; s < shared_vars_.size(); ++s) {
    slots[1 + s] = shared_vars_[s]->shared()->device_data();
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
    if (absl::Status s = EvaluateDynamicHostValues(plan, scalar_inputs);
        !s.ok()) {
      return s;
    }
  }
  for (const Plan::InputUpload& upload : plan.input_uploads_) {
    const Tensor& t = host_inputs[upload.input];
    if (absl::Status s = backend_->CopyToDevice(upload.ref.Address(slots),
                                                t.raw_data(), t.nbytes());
        !s.ok()) {
      return s;
    }
  }
  ExecContext ctx{backend_, slots, plan.host_values_.data(),
                  options_.external_inputs ? nullptr : this};
  const size_t count = plan.launches_.size();
  for (size_t i = 0; i < count; ++i) {
    absl::Status s = plan.launches_[i]->Run(ctx);
    if (!s.ok()) [[unlikely]] {
      if (IsReplan(s)) return s;
      const Node* node = plan.launch_nodes_[i];
      return Annotate(s, node != nullptr ? Where(*node)
                                         : absl::StrCat("function '",
                                                        options_.name, "': "));
    }
  }
  return absl::OkStatus();
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
  for (size_t u = 0; u < plan.updates_.size(); ++u) {
    const Plan::UpdateAction& action = plan.updates_[u];
    if (action.buffer < 0) continue;  // written in place
    options_.update_targets[u]->SwapBuffer(plan.update_buffers_[action.buffer],
                                           action.shape);
  }
}

}  // namespace theta
