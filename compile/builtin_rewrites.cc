// Rewrites every graph gets, whatever ops it uses: merging equal
// subgraphs (common subexpression elimination) and constant folding.
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "backends/registry.h"
#include "compile/executable.h"
#include "graph/function_graph.h"
#include "graph/op.h"
#include "graph/rewrite.h"

namespace theta {
namespace {

// The first constant equal to `c` (dtype, shape, bytes), or c itself.
Var FindOrAddConstant(
    const Var& c, absl::flat_hash_map<size_t, std::vector<Var>>& constants) {
  const Tensor& t = c->constant_value();
  size_t h = absl::HashOf(
      static_cast<int>(t.dtype()), t.dims().ToVector(),
      absl::string_view(static_cast<const char*>(t.raw_data()), t.nbytes()));
  for (const Var& other : constants[h]) {
    const Tensor& u = other->constant_value();
    if (u.dtype() == t.dtype() && u.dims() == t.dims() &&
        std::memcmp(u.raw_data(), t.raw_data(), t.nbytes()) == 0) {
      return other;
    }
  }
  constants[h].push_back(c);
  return c;
}

// A node as a key for merging: equal when the ops are equal and the inputs
// are the same variables.
struct MergeKey {
  Node* node;
  size_t hash;
};
struct MergeKeyHash {
  size_t operator()(const MergeKey& k) const { return k.hash; }
};
struct MergeKeyEq {
  bool operator()(const MergeKey& a, const MergeKey& b) const {
    if (a.hash != b.hash || a.node->num_inputs() != b.node->num_inputs()) {
      return false;
    }
    for (int i = 0; i < a.node->num_inputs(); ++i) {
      if (!a.node->input(i).is(b.node->input(i))) return false;
    }
    return a.node->op().Equals(b.node->op());
  }
};

// Identical constants become one; then nodes with an equal op and the same
// inputs become one. One pass in topological order merges whole equal
// subgraphs, since inputs are merged before their users.
bool MergeEqualSubgraphs(FunctionGraph& graph) {
  bool changed = false;
  // Constants, keyed by dtype, shape and bytes.
  absl::flat_hash_map<size_t, std::vector<Var>> constants;
  absl::flat_hash_map<const Variable*, Var> canonical_of;
  auto canonical_constant = [&](const Var& c) -> Var {
    if (auto it = canonical_of.find(c.get()); it != canonical_of.end()) {
      return it->second;
    }
    Var canonical = FindOrAddConstant(c, constants);
    canonical_of[c.get()] = canonical;
    return canonical;
  };
  std::vector<Node*> order = graph.TopologicalOrder();
  absl::flat_hash_set<MergeKey, MergeKeyHash, MergeKeyEq> seen;
  seen.reserve(order.size());
  for (Node* node : order) {
    if (!graph.Contains(node)) continue;
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Var& in = node->input(i);
      if (in->kind() != VarKind::kConstant) continue;
      Var canonical = canonical_constant(in);
      if (!canonical.is(in)) {
        graph.Replace(in, canonical, "merge");
        changed = true;
      }
    }
    size_t h = node->op().Hash();
    for (const Var& in : node->inputs()) {
      h = absl::HashOf(h, static_cast<const void*>(in.get()));
    }
    auto [it, inserted] = seen.insert(MergeKey{node, h});
    if (inserted) continue;
    Node* other = it->node;
    if (!graph.Contains(other)) {
      // The earlier equal node was dropped (its users were merged away).
      seen.erase(it);
      seen.insert(MergeKey{node, h});
      continue;
    }
    std::vector<Var> replacements = other->outputs();
    graph.ReplaceOutputs(*node, replacements, "merge");
    changed = true;
  }
  return changed;
}

constexpr int64_t kMaxFoldedElements = 1 << 20;

// A node whose inputs are all constants is evaluated now.
std::optional<std::vector<Var>> FoldConstants(FunctionGraph& graph,
                                              Node& node) {
  // Inputs first: they sit in the node, the op is one more load.
  for (const Var& in : node.inputs()) {
    if (in->kind() != VarKind::kConstant) return std::nullopt;
  }
  if (!node.op().Foldable()) return std::nullopt;
  for (int o = 0; o < node.num_outputs(); ++o) {
    const TensorType& t = node.output_variable(o)->type();
    if (t.fully_known() && t.shape().product() > kMaxFoldedElements) {
      return std::nullopt;
    }
  }
  // Folded on the backend the function is compiled for (its kernels give
  // the values the unfolded graph would); the current backend only for a
  // graph not yet bound to one.
  absl::StatusOr<backends::Backend*> backend =
      graph.backend() != nullptr ? graph.backend() : backends::CurrentBackend();
  if (!backend.ok()) return std::nullopt;  // folding is an optimisation
  std::vector<Var> outputs = node.outputs();
  std::vector<Tensor> values(outputs.size());
  // Errors leave the node unfolded: the real run reports them, with context.
  absl::StatusOr<std::unique_ptr<FunctionGraph>> sub =
      FunctionGraph::Create(std::span<const Var>(), outputs);
  if (!sub.ok()) return std::nullopt;
  absl::StatusOr<std::unique_ptr<Executable>> exe = Executable::Create(
      *std::move(sub), {}, **backend, ExecutableOptions{"fold"});
  if (!exe.ok()) return std::nullopt;
  absl::StatusOr<Plan*> plan = (*exe)->GetPlan({}, {}, {});
  if (!plan.ok()) return std::nullopt;
  if (!(*exe)->Run(**plan, {}, {}, {}, {}).ok()) return std::nullopt;
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (!(*exe)->ReadOutput(**plan, static_cast<int>(o), values[o]).ok()) {
      return std::nullopt;
    }
  }
  if (!(*backend)->Synchronize().ok()) return std::nullopt;
  std::vector<Var> folded;
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (values[o].size() > kMaxFoldedElements) return std::nullopt;
    Var c = MakeConstant(values[o], outputs[o].name());
    // Keep the static type: a folded value may be more precise, never less.
    if (c.type().ndim() != outputs[o].type().ndim()) return std::nullopt;
    folded.push_back(c);
  }
  return folded;
}

}  // namespace

THETA_REGISTER_GRAPH_REWRITE(kCanonicalize, "merge", 100, MergeEqualSubgraphs);
THETA_REGISTER_NODE_REWRITE(kCanonicalize, "constant_folding", 0,
                            FoldConstants);
THETA_REGISTER_GRAPH_REWRITE(kFinal, "merge_final", 100, MergeEqualSubgraphs);

}  // namespace theta
