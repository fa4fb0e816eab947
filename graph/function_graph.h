// FunctionGraph: compilation's private, mutable copy of the graph between a
// function's inputs and outputs, with the clients of every variable, so that
// rewrites can replace variables in place.
//
//   FunctionGraph fg(inputs, outputs, givens);   // clones the user's graph
//   fg.Replace(old_var, new_var);                 // rewires every client
//   for (Node* n : fg.TopologicalOrder()) ...
//
// Leaves (inputs, constants, shared variables) are not copied; nodes are.
// The user's graph is never modified.
#ifndef THETA_GRAPH_FUNCTION_GRAPH_H_
#define THETA_GRAPH_FUNCTION_GRAPH_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/ir.h"

namespace theta {

namespace backends {
class Backend;
}

class FunctionGraph {
 public:
  // A use of a variable: input `index` of `node`, or, when node is null,
  // graph output `index`.
  using Client = GraphClient;

  // Clones the graph computing `outputs` from `inputs`, substituting
  // `givens` (variable -> replacement of the same type). Throws Error when
  // an output depends on an input variable that is not among `inputs`, or a
  // replacement's type differs.
  FunctionGraph(std::span<const Var> inputs, std::span<const Var> outputs,
                std::span<const std::pair<Var, Var>> givens = {});
  // As the constructor, returning the error instead of throwing it (what
  // the library uses; the constructor is for users and tests).
  static absl::StatusOr<std::unique_ptr<FunctionGraph>> Create(
      std::span<const Var> inputs, std::span<const Var> outputs,
      std::span<const std::pair<Var, Var>> givens = {});
  ~FunctionGraph();
  FunctionGraph(const FunctionGraph&) = delete;
  FunctionGraph& operator=(const FunctionGraph&) = delete;

  const std::vector<Var>& inputs() const { return inputs_; }
  const std::vector<Var>& outputs() const { return outputs_; }
  const Var& output(int i) const { return outputs_[i]; }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }

  // The backend the graph is compiled for: rewrites that evaluate nodes
  // while compiling (constant folding) run them there, not on the process's
  // current backend. Null (the default): not chosen yet; such rewrites then
  // use the current backend.
  backends::Backend* backend() const { return backend_; }
  void set_backend(backends::Backend* backend) { backend_ = backend; }

  // The nodes computing the outputs, inputs before users; deterministic.
  const std::vector<Node*>& TopologicalOrder();
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  // Whether `node` is in the graph. Nodes a rewrite removes stay alive until
  // ReleaseRemoved(), so a pass may hold raw pointers to them until then.
  bool Contains(const Node* node) const { return node->graph_ == this; }
  // Frees the nodes removed so far; invalidates raw pointers to them.
  void ReleaseRemoved();

  // The uses of `v` inside this graph (empty when none).
  std::span<const Client> clients(const Variable* v) const;

  // Makes every client of `old_var` use `new_var` instead (same dtype and
  // rank required; static sizes may only become more precise), importing
  // the nodes new_var needs and dropping nodes no longer used. Throws Error
  // naming `reason` (the rewrite) when the types are incompatible.
  void Replace(const Var& old_var, const Var& new_var, const char* reason);
  // Replaces each output of `node` by the corresponding entry (undefined
  // entries are left alone).
  void ReplaceOutputs(Node& node, std::span<const Var> replacements,
                      const char* reason);

  // Marks for passes over the graph's nodes, tested without hashing:
  // NewMark() returns a value no node carries yet. A node carries one mark
  // at a time, so a pass uses one mark at a time.
  static uint64_t NewMark();
  static bool IsMarked(const Node* node, uint64_t mark) {
    return node->pass_mark_ == mark;
  }
  static void SetMark(Node* node, uint64_t mark) { node->pass_mark_ = mark; }
  static void ClearMark(Node* node) { node->pass_mark_ = 0; }

  // The nodes imported since the last call, inputs before users (the
  // rewrite driver revisits them).
  std::vector<Node*> TakeImported() { return std::exchange(imported_, {}); }
  // The nodes whose inputs Replace rewired since the last call (a node may
  // appear more than once; removed nodes are dropped by ReleaseRemoved).
  std::vector<Node*> TakeRewired() { return std::exchange(rewired_, {}); }

 private:
  void Import(const Var& v);
  void AddNode(std::shared_ptr<Node> node);
  void RemoveNode(Node* node);
  void RemoveClient(const Variable* v, Node* node, int index);
  // The client list of `v`: inside v when its node is in this graph, else
  // in clients_ (created when `create`; null when absent and not `create`).
  ClientList* Clients(const Variable* v, bool create);
  void PruneIfUnused(Node* node);
  FunctionGraph() = default;
  // The constructor's work: checks, then the private copy of the graph.
  absl::Status Build(std::span<const Var> inputs, std::span<const Var> outputs,
                     std::span<const std::pair<Var, Var>> givens);
  static absl::Status CheckGivens(std::span<const std::pair<Var, Var>> givens);
  // Each input defined, a symbolic input, and listed once.
  absl::Status CheckInputs() const;
  // An error when an output depends on an input variable that is not among
  // inputs_.
  absl::Status CheckInputsGiven() const;
  // Ranks the nodes of order_ kOrderStride apart, so that nodes inserted
  // later fit between (others get kUnordered).
  void NumberOrder();
  // Drops removed nodes from order_ (ranks stay increasing).
  void CompactOrder();
  // After a replacement of `moved` clients' input by new_var, which brought
  // in the `fresh` nodes (inputs first): whether the order can stay valid,
  // inserting the fresh nodes if so.
  bool KeepOrder(const Var& new_var, std::span<const Client> moved,
                 std::span<Node* const> fresh);
  static constexpr uint64_t kUnordered = UINT64_MAX;
  static constexpr uint64_t kOrderStride = uint64_t{1} << 20;

  std::vector<Var> inputs_;
  std::vector<Var> outputs_;
  backends::Backend* backend_ = nullptr;
  // The graph's nodes in no particular order; Node::graph_slot_ is the
  // position of a node here.
  std::vector<std::shared_ptr<Node>> nodes_;
  // Removed nodes, kept alive until ReleaseRemoved().
  std::vector<std::shared_ptr<Node>> removed_;
  // The clients of leaves (inputs, constants, shared variables); those of
  // node outputs live in the variables themselves.
  absl::flat_hash_map<const Variable*, ClientList> clients_;

  // The topological order, kept while replacements leave it valid: removed
  // nodes are filtered out lazily (order_pruned_).
  std::vector<Node*> order_;
  bool order_pruned_ = false;
  int insertions_ = 0;  // into the order since it was last computed
  std::vector<Node*> imported_;
  std::vector<Node*> rewired_;
  bool order_valid_ = false;
};

// A clone of the graph computing `outputs`, with `replacements` (variable ->
// variable) substituted: nodes depending on a replaced variable are copied,
// everything else is shared with the original. Used by givens, scan and
// grad.
std::vector<Var> CloneReplace(
    std::span<const Var> outputs,
    std::span<const std::pair<Var, Var>> replacements);

// Every variable `outputs` depend on that is a leaf of the given kind.
std::vector<Var> LeavesOfKind(std::span<const Var> outputs, VarKind kind);

// Nodes computing `outputs`, inputs before users, stopping at `stop`.
std::vector<Node*> TopologicalNodes(std::span<const Var> outputs);

}  // namespace theta

#endif  // THETA_GRAPH_FUNCTION_GRAPH_H_
