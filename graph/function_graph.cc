#include "graph/function_graph.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "backends/error.h"
#include "graph/op.h"

namespace theta {
namespace {

const std::vector<FunctionGraph::Client>& NoClients() {
  static const auto* empty = new std::vector<FunctionGraph::Client>();
  return *empty;
}

bool CompatibleTypes(const TensorType& a, const TensorType& b) {
  if (a.dtype() != b.dtype() || a.ndim() != b.ndim()) return false;
  for (int d = 0; d < a.ndim(); ++d) {
    if (a.dim(d) != kUnknownDim && b.dim(d) != kUnknownDim &&
        a.dim(d) != b.dim(d)) {
      return false;
    }
  }
  return true;
}

// Clones the nodes computing `outputs`, mapping variables through `map`
// (which holds the leaves' and replacements' images). Iterative, so deep
// graphs do not overflow the stack.
std::vector<Var> CloneWithMap(std::span<const Var> outputs,
                              absl::flat_hash_map<const Variable*, Var>& map) {
  struct Frame {
    Node* node;
    bool expanded;
  };
  std::vector<Frame> stack;
  auto image = [&](const Var& v) -> const Var* {
    auto it = map.find(v.get());
    return it == map.end() ? nullptr : &it->second;
  };
  for (const Var& out : outputs) {
    if (image(out) != nullptr || out.owner() == nullptr) continue;
    stack.push_back({out.owner(), false});
    while (!stack.empty()) {
      Frame& frame = stack.back();
      Node* node = frame.node;
      if (image(node->output(0)) != nullptr) {
        stack.pop_back();
        continue;
      }
      if (!frame.expanded) {
        frame.expanded = true;
        for (const Var& in : node->inputs()) {
          if (image(in) == nullptr && in.owner() != nullptr) {
            stack.push_back({in.owner(), false});
          }
        }
        continue;
      }
      std::vector<Var> inputs;
      inputs.reserve(node->num_inputs());
      bool changed = false;
      for (const Var& in : node->inputs()) {
        const Var* mapped = image(in);
        if (mapped == nullptr) {
          inputs.push_back(in);  // a leaf with no replacement
        } else {
          changed |= !mapped->is(in);
          inputs.push_back(*mapped);
        }
      }
      stack.pop_back();
      if (!changed) {
        for (int i = 0; i < node->num_outputs(); ++i) {
          map[node->output_variable(i)] = node->output(i);
        }
        continue;
      }
      std::shared_ptr<Node> copy =
          Node::Create(node->op_ptr(), std::move(inputs), node->source());
      for (int i = 0; i < node->num_outputs(); ++i) {
        Var out_copy = copy->output(i);
        out_copy->set_name(node->output_variable(i)->name());
        map[node->output_variable(i)] = out_copy;
      }
    }
  }
  std::vector<Var> result;
  result.reserve(outputs.size());
  for (const Var& out : outputs) {
    const Var* mapped = image(out);
    result.push_back(mapped != nullptr ? *mapped : out);
  }
  return result;
}

}  // namespace

std::vector<Node*> TopologicalNodes(std::span<const Var> outputs) {
  std::vector<Node*> order;
  absl::flat_hash_set<const Node*> done;
  struct Frame {
    Node* node;
    int next_input;
  };
  std::vector<Frame> stack;
  for (const Var& out : outputs) {
    Node* root = out.owner();
    if (root == nullptr || done.contains(root)) continue;
    stack.push_back({root, 0});
    done.insert(root);
    while (!stack.empty()) {
      Frame& frame = stack.back();
      if (frame.next_input < frame.node->num_inputs()) {
        Node* child = frame.node->input(frame.next_input++).owner();
        if (child != nullptr && !done.contains(child)) {
          done.insert(child);
          stack.push_back({child, 0});
        }
        continue;
      }
      order.push_back(frame.node);
      stack.pop_back();
    }
  }
  return order;
}

std::vector<Var> LeavesOfKind(std::span<const Var> outputs, VarKind kind) {
  std::vector<Var> leaves;
  absl::flat_hash_set<const Variable*> seen;
  auto consider = [&](const Var& v) {
    if (v.owner() == nullptr && v->kind() == kind &&
        seen.insert(v.get()).second) {
      leaves.push_back(v);
    }
  };
  for (const Var& out : outputs) consider(out);
  for (Node* node : TopologicalNodes(outputs)) {
    for (const Var& in : node->inputs()) consider(in);
  }
  return leaves;
}

std::vector<Var> CloneReplace(
    std::span<const Var> outputs,
    std::span<const std::pair<Var, Var>> replacements) {
  absl::flat_hash_map<const Variable*, Var> map;
  for (const auto& [from, to] : replacements) map[from.get()] = to;
  return CloneWithMap(outputs, map);
}

FunctionGraph::FunctionGraph(std::span<const Var> inputs,
                             std::span<const Var> outputs,
                             std::span<const std::pair<Var, Var>> givens)
    : inputs_(inputs.begin(), inputs.end()) {
  absl::flat_hash_map<const Variable*, Var> map;
  for (const auto& [from, to] : givens) {
    if (!from.defined() || !to.defined()) {
      throw Error("givens: an undefined Var was given");
    }
    if (!CompatibleTypes(from.type(), to.type())) {
      throw Error(absl::StrCat("givens: cannot replace '", from->DisplayName(),
                               "' of type ", from.type().ToString(), " by '",
                               to->DisplayName(), "' of type ",
                               to.type().ToString()));
    }
  }
  // Replacements are themselves cloned so that their nodes are private too.
  std::vector<Var> replacement_images;
  {
    std::vector<Var> tos;
    for (const auto& [from, to] : givens) tos.push_back(to);
    absl::flat_hash_map<const Variable*, Var> empty;
    replacement_images = CloneWithMap(tos, empty);
  }
  for (size_t i = 0; i < givens.size(); ++i) {
    map[givens[i].first.get()] = replacement_images[i];
  }
  // A private copy of every node, so that rewrites may rewire them.
  std::vector<Node*> original_order = TopologicalNodes(outputs);
  for (Node* node : original_order) {
    if (map.contains(node->output_variable(0))) continue;
    std::vector<Var> ins;
    ins.reserve(node->num_inputs());
    for (const Var& in : node->inputs()) {
      auto it = map.find(in.get());
      ins.push_back(it != map.end() ? it->second : in);
    }
    std::shared_ptr<Node> copy =
        Node::Create(node->op_ptr(), std::move(ins), node->source());
    for (int i = 0; i < node->num_outputs(); ++i) {
      Var out_copy = copy->output(i);
      out_copy->set_name(node->output_variable(i)->name());
      map.try_emplace(node->output_variable(i), out_copy);  // givens win
    }
  }
  for (const Var& out : outputs) {
    if (!out.defined()) throw Error("function: an output is an undefined Var");
    auto it = map.find(out.get());
    outputs_.push_back(it != map.end() ? it->second : out);
  }
  // Every input variable the outputs need must be a function input.
  absl::flat_hash_set<const Variable*> input_set;
  for (const Var& in : inputs_) {
    if (!in.defined()) throw Error("function: an input is an undefined Var");
    if (in->kind() != VarKind::kInput) {
      throw Error(absl::StrCat(
          "function: input '", in->DisplayName(), "' is ",
          in->kind() == VarKind::kShared     ? "a shared variable"
          : in->kind() == VarKind::kConstant ? "a constant"
                                             : "computed by a node",
          "; inputs must be symbolic variables such as matrix(\"x\")"));
    }
    if (!input_set.insert(in.get()).second) {
      throw Error(absl::StrCat("function: input '", in->DisplayName(),
                               "' is given twice"));
    }
  }
  for (int i = 0; i < static_cast<int>(outputs_.size()); ++i) {
    for (const Var& leaf :
         LeavesOfKind(std::span(&outputs_[i], 1), VarKind::kInput)) {
      if (!input_set.contains(leaf.get())) {
        throw Error(absl::StrCat(
            "function: output ", i, " depends on input variable '",
            leaf->DisplayName(), "' of type ", leaf.type().ToString(),
            " (created at ", leaf->source().ToString(),
            "), which is neither among the function's inputs nor given a "
            "value through givens"));
      }
    }
  }
  for (int i = 0; i < static_cast<int>(outputs_.size()); ++i) {
    Import(outputs_[i]);
    clients_[outputs_[i].get()].Add(Client{nullptr, i});
  }
}

const std::vector<FunctionGraph::Client>& FunctionGraph::clients(
    const Variable* v) const {
  auto it = clients_.find(v);
  return it == clients_.end() ? NoClients() : it->second.list();
}

void FunctionGraph::AddNode(std::shared_ptr<Node> node) {
  Node* raw = node.get();
  nodes_.emplace(raw, std::move(node));
  for (int i = 0; i < raw->num_inputs(); ++i) {
    clients_[raw->input(i).get()].Add(Client{raw, i});
  }
  order_valid_ = false;
  ++version_;
}

void FunctionGraph::Import(const Var& v) {
  // Adds every node `v` depends on that is not yet in the graph, inputs
  // first (so clients are registered in order).
  if (v.owner() == nullptr || nodes_.contains(v.owner())) return;
  std::vector<Node*> fresh;
  std::vector<Node*> stack = {v.owner()};
  absl::flat_hash_set<Node*> seen = {v.owner()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    fresh.push_back(node);
    for (const Var& in : node->inputs()) {
      Node* owner = in.owner();
      if (owner != nullptr && !nodes_.contains(owner) &&
          seen.insert(owner).second) {
        stack.push_back(owner);
      }
    }
  }
  // `fresh` lists users before inputs; add inputs first.
  for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) {
    AddNode((*it)->shared_from_this());
    imported_.push_back(*it);
  }
}

void FunctionGraph::ClientList::Add(Client c) {
  position_[{c.node, c.index}] = list_.size();
  list_.push_back(c);
}

void FunctionGraph::ClientList::Remove(const Node* node, int index) {
  auto it = position_.find({node, index});
  if (it == position_.end()) return;
  const size_t i = it->second;
  position_.erase(it);
  if (i + 1 != list_.size()) {
    list_[i] = list_.back();
    position_[{list_[i].node, list_[i].index}] = i;
  }
  list_.pop_back();
}

void FunctionGraph::RemoveClient(const Variable* v, Node* node, int index) {
  auto it = clients_.find(v);
  if (it == clients_.end()) return;
  it->second.Remove(node, index);
  if (it->second.empty()) clients_.erase(it);
}

void FunctionGraph::PruneIfUnused(Node* start) {
  std::vector<Node*> stack = {start};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    if (!nodes_.contains(node)) continue;
    bool used = false;
    for (int i = 0; i < node->num_outputs() && !used; ++i) {
      used = clients_.contains(node->output_variable(i));
    }
    if (used) continue;
    // Keep the node alive while its inputs are unhooked.
    std::shared_ptr<Node> keep = nodes_[node];
    nodes_.erase(node);
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Variable* in = node->input(i).get();
      RemoveClient(in, node, i);
      if (Node* owner = node->input(i).owner()) stack.push_back(owner);
    }
    order_valid_ = false;
  }
}

void FunctionGraph::Replace(const Var& old_var, const Var& new_var,
                            const char* reason) {
  if (old_var.is(new_var)) return;
  if (!CompatibleTypes(old_var.type(), new_var.type())) {
    throw Error(absl::StrCat(
        "internal error in rewrite ", reason, ": replacing ",
        old_var->DisplayName(), " of type ", old_var.type().ToString(), " by ",
        new_var->DisplayName(), " of type ", new_var.type().ToString()));
  }
  Import(new_var);
  auto it = clients_.find(old_var.get());
  if (it == clients_.end()) return;
  std::vector<Client> moved = it->second.list();
  clients_.erase(it);
  ClientList& target = clients_[new_var.get()];
  for (const Client& c : moved) {
    if (c.node == nullptr) {
      outputs_[c.index] = new_var;
    } else {
      c.node->set_input(c.index, new_var);
    }
    target.Add(c);
  }
  order_valid_ = false;
  ++version_;
  if (Node* owner = old_var.owner()) PruneIfUnused(owner);
}

void FunctionGraph::ReplaceOutputs(Node& node,
                                   std::span<const Var> replacements,
                                   const char* reason) {
  // Hold the node: replacing its last used output may prune it.
  std::shared_ptr<Node> keep = node.shared_from_this();
  std::vector<Var> olds = node.outputs();
  for (size_t i = 0; i < replacements.size(); ++i) {
    if (replacements[i].defined()) Replace(olds[i], replacements[i], reason);
  }
}

const std::vector<Node*>& FunctionGraph::TopologicalOrder() {
  if (!order_valid_) {
    order_ = TopologicalNodes(outputs_);
    order_valid_ = true;
  }
  return order_;
}

}  // namespace theta
