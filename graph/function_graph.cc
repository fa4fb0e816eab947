#include "graph/function_graph.h"

#include <algorithm>
#include <atomic>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "backends/error.h"
#include "graph/op.h"

namespace theta {
namespace {

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
// (which holds the leaves' and replacements' images). Nodes none of whose
// inputs changed are shared with the original unless `copy_all`.
// Iterative, so deep graphs do not overflow the stack.
std::vector<Var> CloneWithMap(std::span<const Var> outputs,
                              absl::flat_hash_map<const Variable*, Var>& map,
                              bool copy_all) {
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
      if (!changed && !copy_all) {
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

// Appends the nodes computing `outputs` to `order`, inputs before users.
// `first_visit(node)` marks a node and says whether it was unmarked.
// Iterative, so deep graphs do not overflow the stack.
template <typename FirstVisit>
void PostOrder(std::span<const Var> outputs, FirstVisit&& first_visit,
               std::vector<Node*>& order) {
  struct Frame {
    Node* node;
    int next_input;
  };
  std::vector<Frame> stack;
  for (const Var& out : outputs) {
    Node* root = out.owner();
    if (root == nullptr || !first_visit(root)) continue;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      Frame& frame = stack.back();
      if (frame.next_input < frame.node->num_inputs()) {
        Node* child = frame.node->input(frame.next_input++).owner();
        if (child != nullptr && first_visit(child)) stack.push_back({child, 0});
        continue;
      }
      order.push_back(frame.node);
      stack.pop_back();
    }
  }
}

// Marks for Node::visit_mark_ and Node::pass_mark_; 0 means unmarked.
uint64_t NextVisitMark() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

std::vector<Node*> TopologicalNodes(std::span<const Var> outputs) {
  std::vector<Node*> order;
  absl::flat_hash_set<const Node*> done;
  PostOrder(
      outputs, [&](const Node* n) { return done.insert(n).second; }, order);
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
  return CloneWithMap(outputs, map, /*copy_all=*/false);
}

FunctionGraph::FunctionGraph(std::span<const Var> inputs,
                             std::span<const Var> outputs,
                             std::span<const std::pair<Var, Var>> givens) {
  ThrowIfError(Build(inputs, outputs, givens));
}

absl::StatusOr<std::unique_ptr<FunctionGraph>> FunctionGraph::Create(
    std::span<const Var> inputs, std::span<const Var> outputs,
    std::span<const std::pair<Var, Var>> givens) {
  std::unique_ptr<FunctionGraph> graph(new FunctionGraph());
  if (absl::Status s = graph->Build(inputs, outputs, givens); !s.ok()) {
    return s;
  }
  return graph;
}

absl::Status FunctionGraph::CheckGivens(
    std::span<const std::pair<Var, Var>> givens) {
  for (const auto& [from, to] : givens) {
    if (!from.defined() || !to.defined()) {
      return absl::InvalidArgumentError("givens: an undefined Var was given");
    }
    if (!CompatibleTypes(from.type(), to.type())) {
      return absl::InvalidArgumentError(
          absl::StrCat("givens: cannot replace '", from->DisplayName(),
                       "' of type ", from.type().ToString(), " by '",
                       to->DisplayName(), "' of type ", to.type().ToString()));
    }
  }
  return absl::OkStatus();
}

absl::Status FunctionGraph::CheckInputs() const {
  absl::flat_hash_set<const Variable*> input_set;
  for (const Var& in : inputs_) {
    if (!in.defined()) {
      return absl::InvalidArgumentError(
          "function: an input is an undefined Var");
    }
    if (in->kind() != VarKind::kInput) {
      return absl::InvalidArgumentError(absl::StrCat(
          "function: input '", in->DisplayName(), "' is ",
          in->kind() == VarKind::kShared     ? "a shared variable"
          : in->kind() == VarKind::kConstant ? "a constant"
                                             : "computed by a node",
          "; inputs must be symbolic variables such as matrix(\"x\")"));
    }
    if (!input_set.insert(in.get()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "function: input '", in->DisplayName(), "' is given twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status FunctionGraph::Build(std::span<const Var> inputs,
                                  std::span<const Var> outputs,
                                  std::span<const std::pair<Var, Var>> givens) {
  inputs_.assign(inputs.begin(), inputs.end());
  if (absl::Status s = CheckGivens(givens); !s.ok()) return s;
  absl::flat_hash_map<const Variable*, Var> map;
  // Replacements are themselves cloned so that their nodes are private too.
  std::vector<Var> replacement_images;
  {
    std::vector<Var> tos;
    for (const auto& [from, to] : givens) tos.push_back(to);
    absl::flat_hash_map<const Variable*, Var> empty;
    replacement_images = CloneWithMap(tos, empty, /*copy_all=*/true);
  }
  for (size_t i = 0; i < givens.size(); ++i) {
    map[givens[i].first.get()] = replacement_images[i];
  }
  for (const Var& out : outputs) {
    if (!out.defined()) {
      return absl::InvalidArgumentError(
          "function: an output is an undefined Var");
    }
  }
  // A private copy of every node the outputs need, so that rewrites may
  // rewire them, made inputs first. Replaced variables are not walked.
  // id_of numbers the original nodes in the order they are met; copies[id]
  // is the copy (one hash lookup per edge, none per output).
  absl::flat_hash_map<const Node*, uint32_t> id_of;
  std::vector<std::shared_ptr<Node>> copies;
  std::vector<uint32_t> copy_order;  // ids, inputs before users
  auto given = [&map](const Variable* v) -> const Var* {
    if (map.empty()) return nullptr;
    auto it = map.find(v);
    return it == map.end() ? nullptr : &it->second;
  };
  struct Frame {
    const Node* node;
    int next_input;
    uint32_t id;
  };
  std::vector<Frame> stack;
  auto visit = [&](const Var& v) {
    if (v.owner() == nullptr || given(v.get()) != nullptr) return;
    auto [it, fresh] =
        id_of.try_emplace(v.owner(), static_cast<uint32_t>(copies.size()));
    if (!fresh) return;
    copies.emplace_back();
    stack.push_back({v.owner(), 0, it->second});
  };
  // The image of `v` once its node, if any, was copied.
  auto image = [&](const Var& v) -> Var {
    if (const Var* g = given(v.get())) return *g;
    if (v.owner() == nullptr) return v;
    return Node::OutputOf(copies[id_of.find(v.owner())->second], v->index());
  };
  for (const Var& out : outputs) {
    visit(out);
    while (!stack.empty()) {
      Frame& frame = stack.back();
      if (frame.next_input < frame.node->num_inputs()) {
        visit(frame.node->input(frame.next_input++));  // may grow the stack
        continue;
      }
      const Node* node = frame.node;
      const uint32_t id = frame.id;
      stack.pop_back();
      Node::InputList ins;
      for (const Var& in : node->inputs()) ins.push_back(image(in));
      // Without givens the copy reads copies of the same inputs, so its
      // output types are the original's.
      std::shared_ptr<Node> copy =
          givens.empty()
              ? Node::CopyOf(*node, std::move(ins))
              : Node::Create(node->op_ptr(),
                             std::vector<Var>(ins.begin(), ins.end()),
                             node->source());
      for (int i = 0; i < node->num_outputs(); ++i) {
        copy->output_variable(i)->set_name(node->output_variable(i)->name());
      }
      copies[id] = std::move(copy);
      copy_order.push_back(id);
    }
  }
  for (const Var& out : outputs) outputs_.push_back(image(out));
  if (absl::Status s = CheckInputs(); !s.ok()) return s;
  if (givens.empty()) {
    // Every copy is needed, and they were made inputs first.
    nodes_.reserve(copies.size());
    order_.reserve(copies.size());
    for (uint32_t id : copy_order) {
      order_.push_back(copies[id].get());
      AddNode(std::move(copies[id]));
    }
    NumberOrder();
    order_valid_ = true;
  } else {
    // The replacements' own copies come in with the nodes that use them.
    for (const Var& out : outputs_) Import(out);
    imported_.clear();
  }
  for (int i = 0; i < static_cast<int>(outputs_.size()); ++i) {
    Clients(outputs_[i].get(), /*create=*/true)->Add(Client{nullptr, i});
  }
  return CheckInputsGiven();
}

FunctionGraph::~FunctionGraph() {
  // Nodes that outlive the graph (held by a Var elsewhere) must not look
  // like members of a later graph at the same address.
  for (const std::shared_ptr<Node>& node : nodes_) {
    node->graph_ = nullptr;
    for (int i = 0; i < node->num_outputs(); ++i) {
      node->output_variable(i)->graph_clients_.Clear();
    }
  }
}

absl::Status FunctionGraph::CheckInputsGiven() const {
  absl::flat_hash_set<const Variable*> given;
  for (const Var& in : inputs_) given.insert(in.get());
  bool missing = false;
  auto check = [&](const Var& v) {
    missing |= v.owner() == nullptr && v->kind() == VarKind::kInput &&
               !given.contains(v.get());
  };
  for (const Var& out : outputs_) check(out);
  for (const std::shared_ptr<Node>& node : nodes_) {
    for (const Var& in : node->inputs()) check(in);
  }
  if (!missing) return absl::OkStatus();
  // Name the first output that needs a missing input (only on error, so
  // the per-output walks cost nothing otherwise).
  for (int i = 0; i < static_cast<int>(outputs_.size()); ++i) {
    for (const Var& leaf :
         LeavesOfKind(std::span(&outputs_[i], 1), VarKind::kInput)) {
      if (!given.contains(leaf.get())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "function: output ", i, " depends on input variable '",
            leaf->DisplayName(), "' of type ", leaf.type().ToString(),
            " (created at ", leaf->source().ToString(),
            "), which is neither among the function's inputs nor given a "
            "value through givens"));
      }
    }
  }
  return absl::OkStatus();
}

ClientList* FunctionGraph::Clients(const Variable* v, bool create) {
  if (v->owner() != nullptr && Contains(v->owner())) {
    return &const_cast<Variable*>(v)->graph_clients_;
  }
  if (create) return &clients_[v];
  auto it = clients_.find(v);
  return it == clients_.end() ? nullptr : &it->second;
}

std::span<const FunctionGraph::Client> FunctionGraph::clients(
    const Variable* v) const {
  const ClientList* list =
      const_cast<FunctionGraph*>(this)->Clients(v, /*create=*/false);
  if (list == nullptr) return {};
  return list->list();
}

void FunctionGraph::AddNode(std::shared_ptr<Node> node) {
  Node* raw = node.get();
  if (raw->graph_ != nullptr) {
    throw Error(absl::StrCat("internal error: ", raw->Describe(),
                             " is already in another function's graph"));
  }
  raw->graph_ = this;
  raw->graph_slot_ = static_cast<uint32_t>(nodes_.size());
  raw->order_index_ = kUnordered;
  nodes_.push_back(std::move(node));
  for (int i = 0; i < raw->num_inputs(); ++i) {
    const Node* owner = raw->input(i).owner();
    if (owner != nullptr && !Contains(owner)) {
      throw Error(absl::StrCat("internal error: ", raw->Describe(),
                               " was added to a graph before its input ", i));
    }
    Clients(raw->input(i).get(), /*create=*/true)->Add(Client{raw, i});
  }
  order_valid_ = false;
}

uint64_t FunctionGraph::NewMark() { return NextVisitMark(); }

void FunctionGraph::ReleaseRemoved() {
  auto removed = [this](const Node* n) { return !Contains(n); };
  std::erase_if(imported_, removed);
  std::erase_if(rewired_, removed);
  if (order_pruned_) CompactOrder();
  removed_.clear();
}

void FunctionGraph::RemoveNode(Node* node) {
  const uint32_t slot = node->graph_slot_;
  removed_.push_back(std::move(nodes_[slot]));
  if (slot + 1 != nodes_.size()) {
    nodes_[slot] = std::move(nodes_.back());
    nodes_[slot]->graph_slot_ = slot;
  }
  nodes_.pop_back();
  node->graph_ = nullptr;
}

void FunctionGraph::Import(const Var& v) {
  // Adds every node `v` depends on that is not yet in the graph, inputs
  // first (a node's inputs must be in the graph when it is added, so that
  // its uses of them are recorded where the graph looks for them).
  if (v.owner() == nullptr || Contains(v.owner())) return;
  std::vector<Node*> fresh;
  absl::flat_hash_set<const Node*> seen;
  PostOrder(
      std::span(&v, 1),
      [&](const Node* n) { return !Contains(n) && seen.insert(n).second; },
      fresh);
  for (Node* node : fresh) {
    AddNode(node->shared_from_this());
    imported_.push_back(node);
  }
}

void FunctionGraph::RemoveClient(const Variable* v, Node* node, int index) {
  if (v->owner() != nullptr && Contains(v->owner())) {
    const_cast<Variable*>(v)->graph_clients_.Remove(node, index);
    return;
  }
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
    if (!Contains(node)) continue;
    bool used = false;
    for (int i = 0; i < node->num_outputs() && !used; ++i) {
      used = !node->output_variable(i)->graph_clients_.empty();
    }
    if (used) continue;
    RemoveNode(node);  // stays alive until ReleaseRemoved()
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Variable* in = node->input(i).get();
      RemoveClient(in, node, i);
      if (Node* owner = node->input(i).owner()) stack.push_back(owner);
    }
    order_pruned_ = true;  // the rest of the order stays valid
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
  const bool order_was_valid = order_valid_;
  const size_t first_imported = imported_.size();
  Import(new_var);
  ClientList* old_clients = Clients(old_var.get(), /*create=*/false);
  if (old_clients == nullptr || old_clients->empty()) {
    order_valid_ = order_was_valid;  // anything imported is unreachable
    return;
  }
  absl::InlinedVector<Client, 2> moved(old_clients->list().begin(),
                                       old_clients->list().end());
  old_clients->Clear();
  if (old_var.owner() == nullptr || !Contains(old_var.owner())) {
    clients_.erase(old_var.get());
  }
  ClientList& target = *Clients(new_var.get(), /*create=*/true);
  for (const Client& c : moved) {
    if (c.node == nullptr) {
      outputs_[c.index] = new_var;
    } else {
      c.node->set_input(c.index, new_var);
      rewired_.push_back(c.node);
    }
    target.Add(c);
  }
  if (order_was_valid) {
    order_valid_ =
        KeepOrder(new_var, moved, std::span(imported_).subspan(first_imported));
  }
  if (Node* owner = old_var.owner()) PruneIfUnused(owner);
}

bool FunctionGraph::KeepOrder(const Var& new_var, std::span<const Client> moved,
                              std::span<Node* const> fresh) {
  // The rewired clients read new_var now: it (and any node just imported
  // for it) must come before the first of them, whose rank is `limit`.
  uint64_t limit = kUnordered;
  for (const Client& c : moved) {
    if (c.node == nullptr) continue;
    if (c.node->order_index_ == kUnordered) return false;
    limit = std::min(limit, c.node->order_index_);
  }
  auto ordered_before_limit = [&](const Node* n) {
    return n->order_index_ != kUnordered && n->order_index_ < limit;
  };
  if (fresh.empty()) {
    // Merging and folding: a leaf, or an earlier node.
    return new_var.owner() == nullptr || ordered_before_limit(new_var.owner());
  }
  // A few imports are placed right before `limit`; after that, recomputing
  // the order once is cheaper than shifting it each time.
  constexpr int kMaxInsertions = 16;
  if (++insertions_ > kMaxInsertions) return false;
  constexpr uint64_t kFresh = kUnordered - 1;
  for (Node* n : fresh) n->order_index_ = kFresh;
  auto give_up = [&] {
    for (Node* f : fresh) f->order_index_ = kUnordered;
    return false;
  };
  for (Node* n : fresh) {
    for (const Var& in : n->inputs()) {
      const Node* owner = in.owner();
      if (owner != nullptr && owner->order_index_ != kFresh &&
          !ordered_before_limit(owner)) {
        return give_up();
      }
    }
  }
  // Ranks increase along order_: insert before the first rank >= limit,
  // with ranks spread between its neighbours'.
  auto at = std::lower_bound(
      order_.begin(), order_.end(), limit,
      [](const Node* n, uint64_t rank) { return n->order_index_ < rank; });
  const uint64_t before = at == order_.begin() ? 0 : (*(at - 1))->order_index_;
  const uint64_t after = at == order_.end() ? before + kOrderStride : limit;
  const uint64_t step = (after - before) / (fresh.size() + 1);
  if (step == 0) return give_up();  // no room left between the two
  for (size_t i = 0; i < fresh.size(); ++i) {
    fresh[i]->order_index_ = before + step * (i + 1);
  }
  order_.insert(at, fresh.begin(), fresh.end());
  return true;
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

void FunctionGraph::CompactOrder() {
  std::erase_if(order_, [this](const Node* n) { return !Contains(n); });
  order_pruned_ = false;
}

void FunctionGraph::NumberOrder() {
  for (const std::shared_ptr<Node>& node : nodes_) {
    node->order_index_ = kUnordered;
  }
  for (size_t i = 0; i < order_.size(); ++i) {
    order_[i]->order_index_ = (i + 1) * kOrderStride;
  }
  insertions_ = 0;
}

const std::vector<Node*>& FunctionGraph::TopologicalOrder() {
  if (order_valid_ && order_pruned_) CompactOrder();
  if (!order_valid_) {
    order_pruned_ = false;
    order_.clear();
    order_.reserve(nodes_.size());
    const uint64_t mark = NextVisitMark();
    PostOrder(
        outputs_,
        [mark](Node* n) {
          if (n->visit_mark_ == mark) return false;
          n->visit_mark_ = mark;
          return true;
        },
        order_);
    NumberOrder();
    order_valid_ = true;
  }
  return order_;
}

}  // namespace theta
