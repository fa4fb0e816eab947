#include "graph/host_values.h"

#include <vector>

#include "graph/op.h"
#include "graph/runtime.h"

namespace theta {
namespace {

bool LeafIsHostValue(const Variable* v, bool scalar_inputs_on_host) {
  switch (v->kind()) {
    case VarKind::kConstant:
      return v->constant_value().size() <= kMaxHostElements;
    case VarKind::kInput:
      return scalar_inputs_on_host && v->type().ndim() == 0;
    default:
      return false;
  }
}

bool SmallStaticType(const TensorType& t) {
  return t.fully_known() && t.shape().product() <= kMaxHostElements;
}

}  // namespace

bool HostValueAnalysis::IsHostValue(const Variable* root) {
  // A node's output too large (or of unknown size) for the host is decided
  // without a lookup: most tensors of a large graph are.
  if (root->owner() != nullptr && !SmallStaticType(root->type())) return false;
  if (auto it = memo_.find(root); it != memo_.end()) return it->second;
  // Post-order over the undecided ancestors.
  std::vector<std::pair<const Variable*, bool>> stack = {{root, false}};
  while (!stack.empty()) {
    auto [v, expanded] = stack.back();
    if (memo_.contains(v)) {
      stack.pop_back();
      continue;
    }
    Node* node = v->owner();
    if (node == nullptr) {
      memo_[v] = LeafIsHostValue(v, scalar_inputs_on_host_);
      stack.pop_back();
      continue;
    }
    const Op& op = node->op();
    bool small = op.HostEvaluable();
    for (int o = 0; o < node->num_outputs() && small; ++o) {
      small = SmallStaticType(node->output_variable(o)->type());
    }
    if (!small) {
      // Decided without looking at the inputs.
      for (int o = 0; o < node->num_outputs(); ++o) {
        memo_[node->output_variable(o)] = false;
      }
      stack.pop_back();
      continue;
    }
    if (!expanded) {
      stack.back().second = true;
      for (int i = 0; i < node->num_inputs(); ++i) {
        if (op.HostNeedsValue(i) && !memo_.contains(node->input(i).get())) {
          stack.push_back({node->input(i).get(), false});
        }
      }
      continue;
    }
    stack.pop_back();
    bool host = true;
    for (int i = 0; i < node->num_inputs() && host; ++i) {
      if (op.HostNeedsValue(i)) host = memo_.at(node->input(i).get());
    }
    // All outputs of a node are decided together.
    for (int o = 0; o < node->num_outputs(); ++o) {
      memo_[node->output_variable(o)] = host;
    }
  }
  return memo_.at(root);
}

}  // namespace theta
