#include "scan/loop_builder.h"

#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "graph/function_graph.h"
#include "graph/host_values.h"
#include "ops/shape_ops.h"
#include "scan/push_out.h"

namespace theta {

std::vector<Var> BuildLoop(LoopDefinition def) {
  ScanSpec& spec = *def.spec;
  // Values that change from step to step: everything depending on a step
  // placeholder.
  absl::flat_hash_set<const Variable*> varying;
  for (const Var& p : def.step_placeholders) varying.insert(p.get());
  for (Node* node : TopologicalNodes(def.inner_outputs)) {
    for (const Var& in : node->inputs()) {
      if (varying.contains(in.get())) {
        for (int o = 0; o < node->num_outputs(); ++o) {
          varying.insert(node->output_variable(o));
        }
        break;
      }
    }
  }
  absl::flat_hash_set<const Variable*> placeholders;
  std::vector<std::pair<Var, Var>> placeholder_outer;
  for (size_t j = 0; j < def.non_sequence_placeholders.size(); ++j) {
    placeholders.insert(def.non_sequence_placeholders[j].get());
    placeholder_outer.push_back(
        {def.non_sequence_placeholders[j], def.non_sequences[j]});
  }
  // Everything else the body reads is computed once, outside (hoisting).
  std::vector<std::pair<Var, Var>> hoisted;  // (inner value, placeholder)
  absl::flat_hash_set<const Variable*> done;
  std::function<void(const Var&)> hoist = [&](const Var& v) {
    if (varying.contains(v.get()) || placeholders.contains(v.get()) ||
        !done.insert(v.get()).second) {
      return;
    }
    if (v->kind() == VarKind::kConstant && v->constant_value().size() <= 16)
      return;
    // A fill of a constant (the zeros a slice's gradient starts from) stays
    // in the body, where the body's rewrites drop it (place_in_zeros,
    // elemwise_of_alloc) or it costs a fill per step; hoisted, a body that
    // increments it would copy it in at every step. Only its sizes come
    // from outside.
    if (const Node* owner = v.owner();
        owner != nullptr && dynamic_cast<const Alloc*>(&owner->op()) &&
        owner->input(0)->kind() == VarKind::kConstant) {
      for (const Var& in : owner->inputs()) hoist(in);
      return;
    }
    if (def.strict) {
      for (VarKind kind : {VarKind::kShared, VarKind::kInput}) {
        for (const Var& leaf : LeavesOfKind(std::span(&v, 1), kind)) {
          if (placeholders.contains(leaf.get())) continue;
          ThrowAt(
              spec.source,
              absl::StrCat(
                  "scan: fn uses ",
                  kind == VarKind::kShared ? "shared variable '" : "variable '",
                  leaf->DisplayName(),
                  "' from outside the loop, which is not among the "
                  "non_sequences (strict mode)"));
        }
      }
    }
    hoisted.push_back(
        {v, MakeInput(v.type(), v.name().empty() ? "invariant" : v.name())});
  };
  for (Node* node : TopologicalNodes(def.inner_outputs)) {
    if (!varying.contains(node->output_variable(0))) continue;
    for (const Var& in : node->inputs()) hoist(in);
  }
  for (const Var& out : def.inner_outputs) hoist(out);
  std::vector<Var> inner_outputs =
      hoisted.empty() ? def.inner_outputs
                      : CloneReplace(def.inner_outputs, hoisted);

  LoopBody body;
  body.inner_inputs = def.step_placeholders;
  body.non_sequences = def.non_sequences;
  for (const Var& p : def.non_sequence_placeholders)
    body.inner_inputs.push_back(p);
  for (const auto& [value, placeholder] : hoisted) {
    body.inner_inputs.push_back(placeholder);
    // Its outer value: the non-sequence placeholders replaced by the
    // non-sequences themselves.
    body.non_sequences.push_back(
        CloneReplace(std::span(&value, 1), placeholder_outer)[0]);
  }
  body.inner_outputs = inner_outputs;
  body.sequence_inputs = {def.n_steps};
  for (const Var& s : def.sequences) body.sequence_inputs.push_back(s);
  spec.num_non_sequences = static_cast<int>(body.non_sequences.size());
  PushOutSequenceWork(spec, body);

  spec.inner_inputs = body.inner_inputs;
  spec.inner_outputs = body.inner_outputs;
  // Shapes and other small values known on the host outside stay host values
  // inside (a reshape in the body may need them as its target shape).
  HostValueAnalysis host(/*scalar_inputs_on_host=*/true);
  spec.non_sequence_on_host.clear();
  for (const Var& v : body.non_sequences) {
    spec.non_sequence_on_host.push_back(v->kind() != VarKind::kInput &&
                                        host.IsHostValue(v.get()));
  }
  std::vector<Var> node_inputs = body.sequence_inputs;
  for (const Var& s : def.initial_states) node_inputs.push_back(s);
  for (const Var& v : body.non_sequences) node_inputs.push_back(v);
  return MakeScanNode(def.spec, std::move(node_inputs));
}

}  // namespace theta
