#include "compile/planner.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "compile/early_stop.h"
#include "graph/launches.h"

namespace theta {
namespace {

constexpr int kNever = std::numeric_limits<int>::max();

}  // namespace

Planner::Planner(Executable& exe, std::span<const Dims> input_shapes,
                 std::span<const Dims> input_strides,
                 std::span<const HostValue> scalar_inputs,
                 std::span<const bool> writable_inputs)
    : exe_(exe),
      input_shapes_(input_shapes),
      input_strides_(input_strides),
      scalar_inputs_(scalar_inputs),
      writable_inputs_(writable_inputs),
      plan_(std::make_unique<Plan>()),
      function_prefix_(absl::StrCat("function '", exe.name(), "': ")) {}

absl::Status Planner::Annotate(const absl::Status& status,
                               const std::string& prefix) const {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::Status Planner::AtNode(const absl::Status& status,
                             const Node& node) const {
  // Where() builds a string: only for an error.
  if (status.ok()) return status;
  return Annotate(status, exe_.Where(node));
}

absl::StatusOr<std::unique_ptr<Plan>> Planner::Build() {
  THETA_RETURN_IF_ERROR(SetKey());
  LayOutSlots();
  THETA_RETURN_IF_ERROR(BindLeaves());
  THETA_RETURN_IF_ERROR(InferShapes());
  ComputeLifetimes();
  PlaceInputs();
  FindCallerPlacements();
  ReserveNanGuardScratch();
  THETA_RETURN_IF_ERROR(PlaceNodes());
  PlaceGraphOutputs();
  THETA_RETURN_IF_ERROR(MakeLaunches());
  THETA_RETURN_IF_ERROR(AllocateMemory());
  THETA_RETURN_IF_ERROR(UploadStaticHostValues());
  return std::move(plan_);
}

// 1. Key and slots ---------------------------------------------------------

absl::Status Planner::SetKey() {
  plan_->input_shapes_.assign(input_shapes_.begin(), input_shapes_.end());
  if (exe_.options_.external_inputs) {
    for (size_t i = 0; i < input_shapes_.size(); ++i) {
      plan_->input_strides_.push_back(
          i < input_strides_.size() ? input_strides_[i]
                                    : ContiguousStrides(input_shapes_[i]));
    }
    plan_->writable_inputs_.assign(writable_inputs_.begin(),
                                   writable_inputs_.end());
  }
  for (const Var& s : exe_.shared_vars_) {
    if (absl::Status st = s->shared()->EnsureOn(*exe_.backend_); !st.ok()) {
      return Annotate(st, function_prefix_);
    }
    plan_->shared_shapes_.push_back(s->shared()->shape());
  }
  for (const auto& target : exe_.options_.update_targets) {
    if (absl::Status st = target->EnsureOn(*exe_.backend_); !st.ok()) {
      return Annotate(st, function_prefix_);
    }
  }
  for (int k : exe_.key_inputs_) {
    plan_->key_values_.push_back(scalar_inputs_[k]);
  }
  return absl::OkStatus();
}

void Planner::LayOutSlots() {
  // Slot 0 is the arena; then shared variables, device constants, update
  // buffers, external inputs, external outputs.
  num_shared_ = static_cast<int32_t>(exe_.shared_vars_.size());
  num_constants_ = static_cast<int32_t>(exe_.device_constants_.size());
  num_updates_ = static_cast<int32_t>(exe_.options_.update_targets.size());
  first_update_output_ = exe_.num_user_outputs();
  first_constant_slot_ = first_shared_slot_ + num_shared_;
  plan_->first_update_slot_ = first_constant_slot_ + num_constants_;
  plan_->first_external_input_slot_ = plan_->first_update_slot_ + num_updates_;
  const int32_t num_external_inputs =
      exe_.options_.external_inputs || exe_.options_.bind_host_inputs
          ? static_cast<int32_t>(exe_.inputs_.size())
          : 0;
  plan_->first_external_output_slot_ =
      plan_->first_external_input_slot_ + num_external_inputs;
  const int32_t num_external_outputs =
      exe_.options_.external_outputs ? first_update_output_ : 0;
  plan_->slots_.assign(
      plan_->first_external_output_slot_ + num_external_outputs, nullptr);
  plan_->host_values_.assign(exe_.num_host_slots_, HostValue{});

  const size_t n = exe_.vars_.size();
  shape_.assign(n, Dims{});
  ref_.assign(n, ArrayRef{});
  on_device_.assign(n, false);
  layout_.assign(n, ArrayRef{});
  is_view_.assign(n, false);
  arena_offset_.assign(n, -1);
  inplace_.assign(n, false);
  writable_.assign(n, false);
}

// 2. Leaves ----------------------------------------------------------------

absl::Status Planner::BindLeaves() {
  for (size_t i = 0; i < exe_.inputs_.size(); ++i) {
    const Var& in = exe_.inputs_[i];
    const VarInfo& info = Info(in.get());
    const int idx = Index(in.get());
    shape_[idx] = input_shapes_[i];
    if (info.host_known) {
      plan_->host_values_[info.host_slot] = scalar_inputs_[i];
    } else if (exe_.options_.external_inputs) {
      ref_[idx] =
          ArrayRef{plan_->first_external_input_slot_ + static_cast<int32_t>(i),
                   0, in.dtype(), input_shapes_[i], plan_->input_strides_[i]};
      on_device_[idx] = true;
      writable_[idx] =
          i < plan_->writable_inputs_.size() && plan_->writable_inputs_[i];
    }
  }
  for (int32_t s = 0; s < num_shared_; ++s) {
    const Var& v = exe_.shared_vars_[s];
    const int idx = Index(v.get());
    shape_[idx] = v->shared()->shape();
    if (!v.type().Accepts(shape_[idx])) {
      return absl::InvalidArgumentError(absl::StrCat(
          function_prefix_, "shared variable '", v->DisplayName(),
          "' has shape ", shape_[idx].ToString(), ", which its type ",
          v.type().ToString(), " does not accept"));
    }
    ref_[idx] =
        MakeContiguousRef(first_shared_slot_ + s, 0, v.dtype(), shape_[idx]);
    on_device_[idx] = true;
  }
  for (int32_t c = 0; c < num_constants_; ++c) {
    const Var& v = exe_.device_constants_[c];
    const int idx = Index(v.get());
    shape_[idx] = v->constant_value().dims();
    ref_[idx] =
        MakeContiguousRef(first_constant_slot_ + c, 0, v.dtype(), shape_[idx]);
    on_device_[idx] = true;
  }
  BindHostConstants();
  return absl::OkStatus();
}

void Planner::BindHostConstants() {
  for (const VarInfo& info : exe_.vars_) {
    if (info.var->kind() != VarKind::kConstant || !info.host_known) continue;
    const Tensor& value = info.var->constant_value();
    HostValue hv;
    hv.dtype = value.dtype();
    hv.shape = value.dims();
    for (int64_t i = 0; i < value.size(); ++i) {
      hv.Set(static_cast<int>(i), value.GetAsDouble(i));
      if (value.dtype() == DType::kInt64) hv.ints[i] = value.data<int64_t>()[i];
    }
    plan_->host_values_[info.host_slot] = hv;
    shape_[Index(info.var)] = hv.shape;
  }
}

// 3. Shapes ----------------------------------------------------------------

const ArrayRef& Planner::LayoutOf(int idx, DType dtype) {
  if (layout_[idx].shape.size() != shape_[idx].size() ||
      layout_[idx].slot != 0) {
    layout_[idx] = MakeContiguousRef(0, 0, dtype, shape_[idx]);
  }
  return layout_[idx];
}

void Planner::GatherInputs(const Node& node) {
  in_shapes_.clear();
  in_values_.clear();
  for (const Var& in : node.inputs()) {
    const VarInfo& info = Info(in.get());
    in_shapes_.push_back(shape_[Index(in.get())]);
    in_values_.push_back(info.host_known ? &plan_->host_values_[info.host_slot]
                                         : nullptr);
  }
}

// Shapes (and host values), in schedule order; and which view ops can
// really be views for these shapes and layouts (a reshape of a transposed
// array must copy).
absl::Status Planner::InferShapes() {
  for (size_t i = 0; i < exe_.inputs_.size() && exe_.options_.external_inputs;
       ++i) {
    const int idx = Index(exe_.inputs_[i].get());
    layout_[idx] = ArrayRef{0, 0, exe_.inputs_[i].dtype(), input_shapes_[i],
                            plan_->input_strides_[i]};
  }
  std::vector<Dims> out_shapes;
  for (Node* node : exe_.schedule_) {
    GatherInputs(*node);
    out_shapes.assign(node->num_outputs(), Dims{});
    const bool host_known = Info(node->output_variable(0)).host_known;
    absl::Status s = host_known ? EvaluateHostNode(*node, out_shapes)
                                : InferDeviceNode(*node, out_shapes);
    if (!s.ok()) return s;
    if (s = CheckOutputShapes(*node, out_shapes); !s.ok()) return s;
    if (!host_known && node->op().ViewOf() >= 0) {
      if (s = TryView(*node); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Planner::EvaluateHostNode(Node& node, std::span<Dims> out_shapes) {
  const VarInfo& first = Info(node.output_variable(0));
  std::vector<HostValue> outs(node.num_outputs());
  for (int o = 0; o < node.num_outputs(); ++o) {
    outs[o].dtype = node.output_variable(o)->type().dtype();
    outs[o].shape = node.output_variable(o)->type().shape();
  }
  HostEvalContext ctx{node, in_shapes_, in_values_, outs};
  if (absl::Status s = node.op().EvaluateOnHost(ctx); !s.ok()) {
    return AtNode(s, node);
  }
  for (int o = 0; o < node.num_outputs(); ++o) {
    plan_->host_values_[first.host_slot + o] = outs[o];
    out_shapes[o] = outs[o].shape;
  }
  if (first.dynamic) {
    Plan::HostStep step{&node, {}, in_shapes_, first.host_slot};
    for (int i = 0; i < node.num_inputs(); ++i) {
      const VarInfo& info = Info(node.input(i).get());
      step.input_slots.push_back(node.op().HostNeedsValue(i) ? info.host_slot
                                                             : -1);
    }
    plan_->dynamic_host_steps_.push_back(std::move(step));
  }
  return absl::OkStatus();
}

absl::Status Planner::InferDeviceNode(Node& node, std::span<Dims> out_shapes) {
  ShapeContext ctx{node, in_shapes_, in_values_, out_shapes, exe_.backend_};
  absl::Status s;
  const auto* early = exe_.has_early_stop_nodes_
                          ? dynamic_cast<const EarlyStopOp*>(&node.op())
                          : nullptr;
  if (early != nullptr) {
    // Planned for the rows its last run reported, if any.
    const std::optional<int64_t> rows = exe_.early_stop_rows_.Get(&node);
    if (rows.has_value()) plan_->early_stop_rows_.push_back({&node, *rows});
    s = early->InferShapesForRows(ctx, rows);
  } else {
    s = node.op().InferShapes(ctx);
  }
  return AtNode(s, node);
}

absl::Status Planner::CheckOutputShapes(const Node& node,
                                        std::span<const Dims> out_shapes) {
  for (int o = 0; o < node.num_outputs(); ++o) {
    const TensorType& t = node.output_variable(o)->type();
    if (!t.Accepts(out_shapes[o])) {
      return absl::InternalError(
          absl::StrCat(exe_.Where(node), "output ", o, " has shape ",
                       out_shapes[o].ToString(),
                       ", inconsistent with its type ", t.ToString()));
    }
    // Every size computed while the function runs is checked once here,
    // before any byte size, stride or buffer is derived from it.
    if (absl::Status s = CheckShapeFits(out_shapes[o], t.dtype()); !s.ok()) {
      return Annotate(s, absl::StrCat(exe_.Where(node), "output ", o, ": "));
    }
    shape_[Index(node.output_variable(o))] = out_shapes[o];
  }
  return absl::OkStatus();
}

absl::Status Planner::TryView(const Node& node) {
  const int out_idx = Index(node.output_variable(0));
  std::vector<ArrayRef>& input_layouts = launch_in_refs_;
  input_layouts.clear();
  for (const Var& in : node.inputs()) {
    input_layouts.push_back(LayoutOf(Index(in.get()), in.dtype()));
  }
  ArrayRef view = MakeContiguousRef(
      0, 0, node.output_variable(0)->type().dtype(), shape_[out_idx]);
  ViewContext ctx{node, input_layouts, in_values_, view};
  absl::Status s = node.op().MakeView(ctx);
  if (s.ok()) {
    is_view_[out_idx] = true;
    layout_[out_idx] = view;
  } else if (!IsViewNeedsCopy(s)) {
    return AtNode(s, node);
  }
  return absl::OkStatus();
}

// 4. Lifetimes -------------------------------------------------------------

// A view shares its root's buffer, so the root lives until the last reader
// of any of its views.
void Planner::ComputeLifetimes() {
  const size_t n = exe_.vars_.size();
  root_.resize(n);
  for (size_t i = 0; i < n; ++i) root_[i] = static_cast<int>(i);
  for (Node* node : exe_.schedule_) {
    const int out_idx = Index(node->output_variable(0));
    if (is_view_[out_idx]) {
      root_[out_idx] = root_[Index(node->input(node->op().ViewOf()).get())];
    }
  }
  last_use_.assign(n, -1);
  // Host-known values some kernel reads as a device array.
  needs_upload_.assign(n, false);
  for (size_t k = 0; k < exe_.schedule_.size(); ++k) {
    Node* node = exe_.schedule_[k];
    if (Info(node->output_variable(0)).host_known) continue;
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Variable* in = node->input(i).get();
      const int idx = Index(in);
      if (Info(in).host_known) {
        if (!node->op().ConsumesHostValue(*node, i) &&
            !node->op().IsShapeParameter(i)) {
          needs_upload_[idx] = true;
        }
        continue;
      }
      last_use_[root_[idx]] =
          std::max(last_use_[root_[idx]], static_cast<int>(k));
    }
  }
  for (const Var& out : exe_.graph_->outputs()) {
    if (!Info(out.get()).host_known)
      last_use_[root_[Index(out.get())]] = kNever;
  }
}

// 5. Memory ----------------------------------------------------------------

void Planner::Allocate(int idx, DType dtype) {
  const int64_t bytes =
      shape_[idx].product() * static_cast<int64_t>(DTypeSize(dtype));
  arena_offset_[idx] = arena_.Allocate(bytes);
  ref_[idx] = MakeContiguousRef(0, arena_offset_[idx], dtype, shape_[idx]);
  on_device_[idx] = true;
}

void Planner::PlaceInputs() {
  // Non-external inputs are bound in place or uploaded before the first
  // launch. A bound input has no arena block, so nothing runs in place
  // over it.
  if (!exe_.options_.external_inputs) {
    for (size_t i = 0; i < exe_.inputs_.size(); ++i) {
      const Var& in = exe_.inputs_[i];
      const int idx = Index(in.get());
      if (Info(in.get()).host_known) continue;
      // An input only its shape is read of (x.shape[0]) is not copied.
      if (last_use_[idx] < 0) continue;
      if (exe_.options_.bind_host_inputs) {
        ref_[idx] = MakeContiguousRef(
            plan_->first_external_input_slot_ + static_cast<int32_t>(i), 0,
            in.dtype(), shape_[idx]);
        on_device_[idx] = true;
        plan_->input_bindings_.push_back(static_cast<int>(i));
        continue;
      }
      Allocate(idx, in.dtype());
      plan_->input_uploads_.push_back({static_cast<int>(i), ref_[idx]});
    }
  }
  plan_->input_host_slots_.assign(exe_.inputs_.size(), -1);
  for (size_t i = 0; i < exe_.inputs_.size(); ++i) {
    const VarInfo& info = Info(exe_.inputs_[i].get());
    if (info.host_known) plan_->input_host_slots_[i] = info.host_slot;
  }
  // Host values read by kernels as device arrays: uploaded into blocks that
  // live for the whole run; static ones once, dynamic ones every run.
  for (size_t idx = 0; idx < exe_.vars_.size(); ++idx) {
    if (!needs_upload_[idx]) continue;
    const VarInfo& info = exe_.vars_[idx];
    Allocate(static_cast<int>(idx), info.var->type().dtype());
    if (info.dynamic) {
      upload_launches_.push_back(MakeUploadLaunch(info.host_slot, ref_[idx]));
      upload_descriptions_.push_back(
          absl::StrCat("upload ", info.var->DisplayName()));
    } else {
      static_uploads_.push_back({info.host_slot, static_cast<int>(idx)});
    }
  }
}

void Planner::FindCallerPlacements() {
  for (int u = 0; u < num_updates_; ++u) {
    update_of_.try_emplace(exe_.graph_->output(first_update_output_ + u).get(),
                           u);
  }
  plan_->update_shapes_.assign(num_updates_, Dims{});
  update_placed_.assign(num_updates_, false);
  if (!exe_.options_.external_outputs) return;
  for (int o = 0; o < first_update_output_; ++o) {
    external_output_of_.try_emplace(exe_.graph_->output(o).get(), o);
  }
  readers_.assign(exe_.vars_.size(), 0);
  for (Node* node : exe_.schedule_) {
    for (const Var& in : node->inputs()) ++readers_[Index(in.get())];
  }
  ChainExternalOutputs();
  FindValuesInOutputWindows();
}

// An output computed in place over an intermediate that nothing else reads
// (an increment of zeros, or a chain of them, as a gradient through slices
// of one tensor is built) is built in the caller's array from the start.
// Otherwise the intermediate lives in the arena, and the node that produces
// the output first copies all of it there: a scan body paid that copy of a
// full row at every step. The chain goes back while each value is the
// in-place operand of its only reader, of the same shape and dtype, and
// neither a view nor a host value.
void Planner::ChainExternalOutputs() {
  std::vector<std::pair<const Variable*, int>> chained;
  for (const auto& [out, o] : external_output_of_) {
    const Variable* v = out;
    while (v->owner() != nullptr && v->owner()->num_outputs() == 1) {
      const Node& node = *v->owner();
      const int v_idx = Index(v);
      const Variable* next = nullptr;
      for (int i = 0; i < node.num_inputs() && next == nullptr; ++i) {
        const Variable* in = node.input(i).get();
        const int in_idx = Index(in);
        if (node.op().CanRunInPlace(i) && in->owner() != nullptr &&
            readers_[in_idx] == 1 && !is_view_[in_idx] &&
            !exe_.vars_[in_idx].host_known && shape_[in_idx] == shape_[v_idx] &&
            in->type().dtype() == v->type().dtype() &&
            !external_output_of_.contains(in) && !update_of_.contains(in)) {
          next = in;
        }
      }
      if (next == nullptr) break;
      chained.push_back({next, o});
      v = next;
    }
  }
  for (const auto& [v, o] : chained) external_output_of_.try_emplace(v, o);
}

void Planner::FindValuesInOutputWindows() {
  for (Node* node : exe_.schedule_) {
    const Variable* out = node->output_variable(0);
    const int out_idx = Index(out);
    auto external = external_output_of_.find(out);
    if (external == external_output_of_.end() || is_view_[out_idx] ||
        exe_.vars_[out_idx].host_known) {
      continue;
    }
    GatherInputs(*node);
    const ArrayRef output =
        MakeContiguousRef(plan_->first_external_output_slot_ + external->second,
                          0, out->type().dtype(), shape_[out_idx]);
    const std::vector<std::optional<ArrayRef>> windows =
        node->op().OutputWindows(
            WindowContext{*node, in_shapes_, in_values_, output});
    for (size_t i = 0; i < windows.size(); ++i) {
      if (!windows[i].has_value()) continue;
      const Variable* in = node->input(static_cast<int>(i)).get();
      const int in_idx = Index(in);
      // Only this node reads the value, its op can write a window, and it
      // is nothing else's array.
      if (in->owner() == nullptr || !in->owner()->op().WritesAnyLayout() ||
          readers_[in_idx] != 1 || is_view_[in_idx] ||
          exe_.vars_[in_idx].host_known || external_output_of_.contains(in) ||
          update_of_.contains(in) || shape_[in_idx] != windows[i]->shape ||
          in->type().dtype() != windows[i]->dtype) {
        continue;
      }
      window_of_.try_emplace(in, *windows[i]);
    }
  }
}

absl::Status Planner::PlaceNodes() {
  for (size_t k = 0; k < exe_.schedule_.size(); ++k) {
    Node* node = exe_.schedule_[k];
    if (Info(node->output_variable(0)).host_known) continue;
    for (int o = 0; o < node->num_outputs(); ++o) {
      const Variable* out = node->output_variable(o);
      const int idx = Index(out);
      if (is_view_[idx]) {
        THETA_RETURN_IF_ERROR(PlaceView(*node, idx));
        continue;
      }
      // Written straight into the caller's array?
      if (auto it = external_output_of_.find(out);
          it != external_output_of_.end()) {
        ref_[idx] =
            MakeContiguousRef(plan_->first_external_output_slot_ + it->second,
                              0, out->type().dtype(), shape_[idx]);
        on_device_[idx] = true;
        external_output_of_.erase(it);
        continue;
      }
      // Computed straight into the window of a caller's array that its
      // reader would copy it to?
      if (auto it = window_of_.find(out); it != window_of_.end()) {
        ref_[idx] = it->second;
        on_device_[idx] = true;
        continue;
      }
      if (auto it = update_of_.find(out); it != update_of_.end() && o == 0) {
        PlaceUpdate(*node, idx, it->second);
        update_of_.erase(it);
        continue;
      }
      if (o == 0) {
        PlaceOverDyingInputOrAllocate(*node, static_cast<int>(k), idx);
      } else {
        Allocate(idx, out->type().dtype());
      }
    }
    RecordDyingInputs(*node, static_cast<int>(k));
    FreeDeadBuffers(*node, static_cast<int>(k));
  }
  return absl::OkStatus();
}

absl::Status Planner::PlaceView(const Node& node, int idx) {
  const DType dtype = node.output_variable(0)->type().dtype();
  const ArrayRef& src = ref_[Index(node.input(node.op().ViewOf()).get())];
  ref_[idx] = ArrayRef{};
  ref_[idx].dtype = dtype;
  ref_[idx].shape = shape_[idx];
  ref_[idx].slot = src.slot;
  ref_[idx].byte_offset = src.byte_offset;
  ref_[idx].strides = ContiguousStrides(shape_[idx]);
  std::vector<ArrayRef>& input_refs = launch_in_refs_;
  input_refs.clear();
  for (const Var& in : node.inputs()) {
    input_refs.push_back(ref_[Index(in.get())]);
  }
  GatherInputs(node);
  ViewContext ctx{node, input_refs, in_values_, ref_[idx]};
  if (absl::Status s = node.op().MakeView(ctx); !s.ok()) {
    return AtNode(s, node);
  }
  on_device_[idx] = true;
  return absl::OkStatus();
}

// An update is computed into the update's own buffer, never in place over
// its shared variable: a call that fails after that kernel (a later kernel,
// an output copy) must leave the variable as it was. ApplyUpdates swaps
// the buffer in after the call succeeded, so this costs memory, not time.
void Planner::PlaceUpdate(const Node& node, int idx, int u) {
  const DType dtype = node.output_variable(0)->type().dtype();
  ref_[idx] =
      MakeContiguousRef(plan_->first_update_slot_ + u, 0, dtype, shape_[idx]);
  plan_->update_shapes_[u] = shape_[idx];
  update_placed_[u] = true;
  on_device_[idx] = true;
}

// Output 0 over an input that dies here (taking over its block, freed when
// this output dies), else a new block.
void Planner::PlaceOverDyingInputOrAllocate(const Node& node, int k, int idx) {
  const DType dtype = node.output_variable(0)->type().dtype();
  for (int i = 0; i < node.num_inputs(); ++i) {
    if (!node.op().CanRunInPlace(i)) continue;
    const int in_idx = Index(node.input(i).get());
    if (!OwnsBlockDyingAt(in_idx, k)) continue;
    if (shape_[in_idx] != shape_[idx] || node.input(i).dtype() != dtype ||
        !ref_[in_idx].contiguous()) {
      continue;
    }
    // The output takes over the block (or the writable external input).
    arena_offset_[idx] = arena_offset_[in_idx];
    arena_offset_[in_idx] = -1;
    writable_[idx] = writable_[in_idx];
    writable_[in_idx] = false;
    ref_[idx] = ref_[in_idx];
    on_device_[idx] = true;
    inplace_[idx] = true;
    return;
  }
  Allocate(idx, dtype);
}

bool Planner::OwnsBlockDyingAt(int idx, int k) const {
  return root_[idx] == idx && last_use_[idx] == k &&
         (arena_offset_[idx] >= 0 || writable_[idx]);
}

bool Planner::InputDiesAt(const Node& node, int k, int i) const {
  const int idx = Index(node.input(i).get());
  if (!OwnsBlockDyingAt(idx, k) || exe_.vars_[idx].host_known) return false;
  // Not read through another input too (itself, or a view of it).
  for (int j = 0; j < node.num_inputs(); ++j) {
    if (j != i && root_[Index(node.input(j).get())] == idx) return false;
  }
  return true;
}

void Planner::RecordDyingInputs(const Node& node, int k) {
  absl::InlinedVector<bool, 4> dying(node.num_inputs(), false);
  bool any = false;
  for (int i = 0; i < node.num_inputs(); ++i) {
    dying[i] = InputDiesAt(node, k, i);
    any |= dying[i];
  }
  if (any) dying_inputs_.insert_or_assign(&node, std::move(dying));
}

// Frees what dies at schedule index k (and outputs nobody reads).
void Planner::FreeDeadBuffers(const Node& node, int k) {
  for (const Var& in : node.inputs()) {
    const int r = root_[Index(in.get())];
    if (last_use_[r] == k && arena_offset_[r] >= 0) {
      arena_.Free(arena_offset_[r]);
      arena_offset_[r] = -1;
    }
  }
  for (int o = 0; o < node.num_outputs(); ++o) {
    const int idx = Index(node.output_variable(o));
    if (root_[idx] == idx && last_use_[idx] < 0 && arena_offset_[idx] >= 0) {
      arena_.Free(arena_offset_[idx]);
      arena_offset_[idx] = -1;
    }
  }
}

// 6. Outputs ---------------------------------------------------------------

// Outputs that are not already where they must be get a final copy.
void Planner::PlaceGraphOutputs() {
  plan_->outputs_.assign(exe_.num_outputs(), Plan::OutputSource{});
  for (int o = 0; o < exe_.num_outputs(); ++o) {
    const Var& out = exe_.graph_->output(o);
    const int idx = Index(out.get());
    const VarInfo& info = Info(out.get());
    const bool is_update = o >= first_update_output_;
    const int u = o - first_update_output_;
    if (exe_.options_.external_outputs && !is_update) {
      ArrayRef target = MakeContiguousRef(
          plan_->first_external_output_slot_ + o, 0, out.dtype(), shape_[idx]);
      plan_->outputs_[o].ref = target;
      if (info.host_known) {
        final_uploads_.push_back({info.host_slot, target});
      } else if (!(ref_[idx].slot == target.slot &&
                   ref_[idx].byte_offset == 0)) {
        final_copies_.push_back({ref_[idx], target});
      }
      continue;
    }
    if (is_update) {
      if (update_placed_[u]) continue;
      ArrayRef target = MakeContiguousRef(plan_->first_update_slot_ + u, 0,
                                          out.dtype(), shape_[idx]);
      plan_->update_shapes_[u] = shape_[idx];
      update_placed_[u] = true;
      if (info.host_known) {
        final_uploads_.push_back({info.host_slot, target});
      } else {
        final_copies_.push_back({ref_[idx], target});
      }
      continue;
    }
    if (info.host_known) {
      plan_->outputs_[o].host_slot = info.host_slot;
      continue;
    }
    if (ref_[idx].contiguous()) {
      plan_->outputs_[o].ref = ref_[idx];
      continue;
    }
    ArrayRef target = MakeContiguousRef(0, arena_.Allocate(ref_[idx].nbytes()),
                                        out.dtype(), shape_[idx]);
    final_copies_.push_back({ref_[idx], target});
    plan_->outputs_[o].ref = target;
  }
}

// 7. Launches --------------------------------------------------------------

absl::Status Planner::MakeLaunches() {
  for (size_t i = 0; i < upload_launches_.size(); ++i) {
    plan_->launches_.push_back(std::move(upload_launches_[i]));
    plan_->launch_nodes_.push_back(nullptr);
    plan_->description_.push_back(upload_descriptions_[i]);
  }
  for (Node* node : exe_.schedule_) {
    const int first_idx = Index(node->output_variable(0));
    if (exe_.vars_[first_idx].host_known || is_view_[first_idx]) continue;
    THETA_RETURN_IF_ERROR(MakeNodeLaunch(*node));
  }
  for (auto& [src, dst] : final_copies_) {
    plan_->launches_.push_back(MakeCopyLaunch(src, dst));
    plan_->launch_nodes_.push_back(nullptr);
    plan_->description_.push_back(absl::StrCat("copy -> slot ", dst.slot));
  }
  for (auto& [host_slot, dst] : final_uploads_) {
    plan_->launches_.push_back(MakeUploadLaunch(host_slot, dst));
    plan_->launch_nodes_.push_back(nullptr);
    plan_->description_.push_back(absl::StrCat("upload -> slot ", dst.slot));
  }
  return absl::OkStatus();
}

absl::Status Planner::MakeNodeLaunch(Node& node) {
  std::vector<ArrayRef>& in_refs = launch_in_refs_;
  std::vector<int32_t>& in_host_slots = launch_in_host_slots_;
  std::vector<ArrayRef>& out_refs = launch_out_refs_;
  absl::InlinedVector<bool, 4>& unread = launch_unread_;
  in_refs.clear();
  in_host_slots.clear();
  in_values_.clear();
  out_refs.clear();
  unread.clear();
  for (const Var& in : node.inputs()) {
    const int idx = Index(in.get());
    const VarInfo& info = exe_.vars_[idx];
    in_refs.push_back(on_device_[idx] ? ref_[idx] : ArrayRef{});
    in_host_slots.push_back(info.host_known ? info.host_slot : -1);
    in_values_.push_back(info.host_known ? &plan_->host_values_[info.host_slot]
                                         : nullptr);
  }
  for (int o = 0; o < node.num_outputs(); ++o) {
    const int idx = Index(node.output_variable(o));
    out_refs.push_back(ref_[idx]);
    unread.push_back(last_use_[root_[idx]] < 0);
  }
  LaunchContext ctx{node,     in_refs,        in_host_slots, in_values_,
                    out_refs, *exe_.backend_, unread};
  ctx.nan_guard = exe_.options_.nan_guard;
  if (auto dying = dying_inputs_.find(&node); dying != dying_inputs_.end()) {
    ctx.inputs_dying = dying->second;
  }
  absl::StatusOr<std::unique_ptr<Launch>> launch = node.op().MakeLaunch(ctx);
  if (!launch.ok()) return AtNode(launch.status(), node);
  // Nothing to run: the node's inputs wrote its output where they stand
  // (and placing values cannot make a NaN, so there is nothing to guard).
  if (*launch == nullptr) return absl::OkStatus();
  auto* early = exe_.has_early_stop_nodes_
                    ? dynamic_cast<EarlyStopLaunch*>(launch->get())
                    : nullptr;
  if (early != nullptr) {
    // A loop body cannot be planned again: its caller fixes its shapes.
    early->set_rows_sink(
        exe_.options_.external_inputs ? nullptr : &exe_.early_stop_rows_,
        &node);
  }
  PushNanGuardBefore(node, in_refs, out_refs, unread);
  plan_->launches_.push_back(*std::move(launch));
  plan_->launch_nodes_.push_back(&node);
  const int first_idx = Index(node.output_variable(0));
  const ArrayRef& r = out_refs[0];
  std::string where = r.slot == 0
                          ? absl::StrCat("arena[", r.byte_offset, ":",
                                         r.byte_offset + r.nbytes(), ")")
                          : absl::StrCat("slot ", r.slot);
  plan_->description_.push_back(absl::StrCat(
      node.op().name(), " -> ", where, " ", shape_[first_idx].ToString(),
      inplace_[first_idx] ? " [in place]" : ""));
  if (inplace_[first_idx]) ++plan_->inplace_outputs_;
  PushNanGuardAfter(node);
  return absl::OkStatus();
}

// 8. Allocation ------------------------------------------------------------

absl::Status Planner::AllocateMemory() {
  backends::Backend& backend = *exe_.backend_;
  plan_->arena_bytes_ = arena_.size();
  absl::StatusOr<backends::Buffer> arena_buffer =
      backend.Allocate(plan_->arena_bytes_);
  if (!arena_buffer.ok()) {
    return Annotate(arena_buffer.status(), function_prefix_);
  }
  plan_->arena_ = *std::move(arena_buffer);
  plan_->slots_[0] = plan_->arena_.data();
  for (int32_t c = 0; c < num_constants_; ++c) {
    plan_->slots_[first_constant_slot_ + c] = exe_.constant_buffers_[c].data();
  }
  plan_->update_buffers_.resize(num_updates_);
  for (int32_t u = 0; u < num_updates_; ++u) {
    const Var& value = exe_.graph_->output(first_update_output_ + u);
    absl::StatusOr<backends::Buffer> buffer = backend.Allocate(
        plan_->update_shapes_[u].product() * DTypeSize(value.dtype()));
    if (!buffer.ok()) return Annotate(buffer.status(), function_prefix_);
    plan_->update_buffers_[u] = *std::move(buffer);
  }
  return absl::OkStatus();
}

absl::Status Planner::UploadStaticHostValues() {
  backends::Backend& backend = *exe_.backend_;
  for (auto& [host_slot, idx] : static_uploads_) {
    HostValue& value = plan_->host_values_[host_slot];
    unsigned char bytes[kMaxHostElements * 8];
    HostValueToBytes(value, ref_[idx].dtype, bytes);
    if (absl::Status s = backend.CopyToDevice(
            ref_[idx].Address(plan_->slots_.data()), bytes, ref_[idx].nbytes());
        !s.ok()) {
      return Annotate(s, function_prefix_);
    }
    if (absl::Status s = backend.Synchronize(); !s.ok()) {
      return Annotate(s, function_prefix_);
    }
  }
  return absl::OkStatus();
}

}  // namespace theta
