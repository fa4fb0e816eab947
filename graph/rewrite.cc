#include "graph/rewrite.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "graph/op.h"

namespace theta {
namespace {

std::mutex& RegistryMutex() {
  static auto* mu = new std::mutex();
  return *mu;
}

std::vector<Rewrite>& Registry() {
  static auto* rewrites = new std::vector<Rewrite>();
  return *rewrites;
}

bool Excluded(const RewriteOptions& options, const std::string& name) {
  return std::find(options.excluded.begin(), options.excluded.end(), name) !=
         options.excluded.end();
}

}  // namespace

bool RegisterRewrite(Rewrite rewrite) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().push_back(std::move(rewrite));
  return true;
}

std::vector<Rewrite> RegisteredRewrites() {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  std::vector<Rewrite> sorted = Registry();
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Rewrite& a, const Rewrite& b) {
                     if (a.phase != b.phase) return a.phase < b.phase;
                     return a.order < b.order;
                   });
  return sorted;
}

int RunNodeRewrites(FunctionGraph& graph,
                    const std::vector<const Rewrite*>& rules,
                    std::vector<std::string>* log,
                    const std::vector<Node*>* start) {
  if (rules.empty()) return 0;
  // The rules for each op type, generic rules (which apply to all) first;
  // built when a type is first met.
  std::vector<const Rewrite*> generic;
  for (const Rewrite* rule : rules) {
    if (rule->op_type == nullptr) generic.push_back(rule);
  }
  absl::flat_hash_map<const std::type_info*, std::vector<const Rewrite*>>
      by_type;
  auto rules_for = [&](const Node& node) -> const std::vector<const Rewrite*>& {
    const std::type_info* type = &node.op_type();
    auto [it, inserted] = by_type.try_emplace(type);
    if (inserted) {
      it->second = generic;
      for (const Rewrite* rule : rules) {
        if (rule->op_type != nullptr && *rule->op_type == *type) {
          it->second.push_back(rule);
        }
      }
    }
    return it->second;
  };
  // Nodes are referenced by raw pointer; a replaced node stays alive until
  // the caller releases it, so membership is re-checked with
  // graph.Contains() before use. A node is queued at most once at a time.
  const uint64_t queued = FunctionGraph::NewMark();
  std::deque<Node*> worklist;
  auto enqueue = [&](Node* node) {
    if (!FunctionGraph::IsMarked(node, queued)) {
      FunctionGraph::SetMark(node, queued);
      worklist.push_back(node);
    }
  };
  for (Node* node : start != nullptr ? *start : graph.TopologicalOrder()) {
    enqueue(node);
  }
  graph.TakeImported();
  graph.TakeRewired();
  int replacements = 0;
  // A bound against rewrites that undo each other.
  const int64_t budget = 20 * static_cast<int64_t>(worklist.size()) + 10000;
  int64_t steps = 0;
  std::vector<Var> new_vars;
  while (!worklist.empty() && steps++ < budget) {
    Node* node = worklist.front();
    worklist.pop_front();
    FunctionGraph::ClearMark(node);
    if (!graph.Contains(node)) continue;
    for (const Rewrite* rule : rules_for(*node)) {
      std::optional<std::vector<Var>> result = rule->node_rewrite(graph, *node);
      if (!result.has_value()) continue;
      new_vars.clear();
      for (const Var& v : *result) {
        if (v.defined()) new_vars.push_back(v);
      }
      graph.ReplaceOutputs(*node, *result, rule->name.c_str());
      ++replacements;
      if (log != nullptr) log->push_back(rule->name);
      // Revisit the nodes the replacement brought in and the users of the
      // replacements.
      for (Node* fresh : graph.TakeImported()) {
        if (graph.Contains(fresh)) enqueue(fresh);
      }
      for (const Var& v : new_vars) {
        for (const FunctionGraph::Client& c : graph.clients(v.get())) {
          if (c.node != nullptr) enqueue(c.node);
        }
      }
      break;  // the node is gone
    }
  }
  // Nodes left queued when the budget ran out lose their mark.
  for (Node* node : worklist) FunctionGraph::ClearMark(node);
  graph.TakeRewired();
  return replacements;
}

void RewriteGraph(FunctionGraph& graph, const RewriteOptions& options) {
  // THETA_REWRITE_TIMING=1 prints the time each phase takes (compile-time
  // profiling of large graphs).
  static const bool timing = std::getenv("THETA_REWRITE_TIMING") != nullptr;
  std::vector<Rewrite> all = RegisteredRewrites();
  size_t i = 0;
  while (i < all.size()) {
    RewritePhase phase = all[i].phase;
    std::vector<const Rewrite*> node_rules;
    std::vector<const Rewrite*> graph_rules;
    for (; i < all.size() && all[i].phase == phase; ++i) {
      if (Excluded(options, all[i].name)) continue;
      if (all[i].node_rewrite) {
        node_rules.push_back(&all[i]);
      } else if (all[i].graph_rewrite) {
        graph_rules.push_back(&all[i]);
      }
    }
    // Node rewrites to a fixed point, then graph rewrites in order, and the
    // node rewrites again if a graph rewrite changed something.
    auto start = std::chrono::steady_clock::now();
    auto lap = [&](const std::string& what) {
      if (!timing) return;
      auto now = std::chrono::steady_clock::now();
      std::fprintf(
          stderr, "theta rewrite %-28s %8.2f ms (%d nodes)\n", what.c_str(),
          std::chrono::duration<double, std::milli>(now - start).count(),
          graph.num_nodes());
      start = now;
    };
    RunNodeRewrites(graph, node_rules, options.log);
    graph.ReleaseRemoved();
    lap(absl::StrCat("phase ", static_cast<int>(phase), " node rewrites"));
    // Graph rewrites; the nodes they rewire or bring in are then revisited
    // by the node rewrites (the rest of the graph is already at a fixed
    // point).
    graph.TakeImported();
    graph.TakeRewired();
    bool changed = false;
    for (const Rewrite* rule : graph_rules) {
      if (rule->graph_rewrite(graph)) {
        changed = true;
        if (options.log != nullptr) options.log->push_back(rule->name);
      }
      graph.ReleaseRemoved();
      lap(rule->name);
    }
    if (changed) {
      std::vector<Node*> revisit = graph.TakeImported();
      std::vector<Node*> rewired = graph.TakeRewired();
      revisit.insert(revisit.end(), rewired.begin(), rewired.end());
      RunNodeRewrites(graph, node_rules, options.log, &revisit);
      graph.ReleaseRemoved();
      lap(absl::StrCat("phase ", static_cast<int>(phase),
                       " node rewrites again"));
    }
  }
}

}  // namespace theta
