// Graph rewrites: the registry that ops and loops add their rewrites to, and
// the driver that applies them when a function is compiled.
//
// A node rewrite looks at one node and returns replacements for its outputs
// (or nothing). The driver runs each phase's node rewrites over a worklist:
// every node once, then only the nodes a change touched, so a pass costs
// time proportional to the graph plus the changes (not Theano's repeated
// whole-graph sweeps). Graph rewrites see the whole graph at once.
//
//   THETA_REGISTER_NODE_REWRITE(kStabilize, "log_softmax", 10, LogSoftmaxRule);
#ifndef THETA_GRAPH_REWRITE_H_
#define THETA_GRAPH_REWRITE_H_

#include <functional>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "graph/function_graph.h"
#include "graph/ir.h"

namespace theta {

// Phases run in this order.
enum class RewritePhase {
  kCanonicalize = 0,  // simplify, fold constants, merge equal subgraphs
  kStabilize = 1,     // numerically stable forms (log_softmax, ...)
  kSpecialize = 2,    // faster forms (GEMM)
  kLoops = 3,         // scan: hoisting, push-out, merging
  kFusion = 4,        // elementwise fusion
  kFinal = 5,         // in-place forms, last cleanups
};

// Returns replacements for some of `node`'s outputs (undefined Vars for
// outputs left alone), or nullopt when the rewrite does not apply.
using NodeRewriteFn =
    std::function<std::optional<std::vector<Var>>(FunctionGraph&, Node&)>;
// Rewrites the whole graph; returns true when it changed anything.
using GraphRewriteFn = std::function<bool(FunctionGraph&)>;

struct Rewrite {
  std::string name;
  RewritePhase phase;
  int order;                   // within a phase, lower runs first
  NodeRewriteFn node_rewrite;  // one of the two is set
  GraphRewriteFn graph_rewrite;
  // A node rewrite is only tried on nodes whose op has this dynamic type
  // (typeid of the Op subclass); null: on every node.
  const std::type_info* op_type = nullptr;
};

// Adds a rewrite; returns true (for static registration).
bool RegisterRewrite(Rewrite rewrite);
// All registered rewrites, sorted by phase and order.
std::vector<Rewrite> RegisteredRewrites();

struct RewriteOptions {
  // Names of rewrites to skip ("fusion", "gemm", ...).
  std::vector<std::string> excluded;
  // Record each rewrite that fired (for tests and debugging).
  std::vector<std::string>* log = nullptr;
};

// Runs every registered rewrite over `graph`, phase by phase.
void RewriteGraph(FunctionGraph& graph, const RewriteOptions& options);

// Runs node rewrites until none applies (the driver for one phase),
// starting from `start` (every node of the graph when null; the nodes must
// be in the graph). Returns the number of replacements made.
int RunNodeRewrites(FunctionGraph& graph,
                    const std::vector<const Rewrite*>& rules,
                    std::vector<std::string>* log,
                    const std::vector<Node*>* start = nullptr);

}  // namespace theta

#define THETA_REWRITE_CONCAT_INNER(a, b) a##b
#define THETA_REWRITE_CONCAT(a, b) THETA_REWRITE_CONCAT_INNER(a, b)
#define THETA_REGISTER_NODE_REWRITE(phase, name, order, fn) \
  [[maybe_unused]] static const bool THETA_REWRITE_CONCAT(  \
      theta_rewrite_registered_, __LINE__) =                \
      ::theta::RegisterRewrite(::theta::Rewrite{            \
          name, ::theta::RewritePhase::phase, order, fn, nullptr})
// As THETA_REGISTER_NODE_REWRITE, tried only on nodes of op class OpClass
// (the driver dispatches by type instead of asking every rule).
#define THETA_REGISTER_NODE_REWRITE_FOR(phase, name, order, OpClass, fn)  \
  [[maybe_unused]] static const bool THETA_REWRITE_CONCAT(                \
      theta_rewrite_registered_, __LINE__) =                              \
      ::theta::RegisterRewrite(                                           \
          ::theta::Rewrite{name, ::theta::RewritePhase::phase, order, fn, \
                           nullptr, &typeid(OpClass)})
#define THETA_REGISTER_GRAPH_REWRITE(phase, name, order, fn) \
  [[maybe_unused]] static const bool THETA_REWRITE_CONCAT(   \
      theta_rewrite_registered_, __LINE__) =                 \
      ::theta::RegisterRewrite(::theta::Rewrite{             \
          name, ::theta::RewritePhase::phase, order, nullptr, fn})

#endif  // THETA_GRAPH_REWRITE_H_
