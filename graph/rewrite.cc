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
                    std::vector<std::string>* log) {
  if (rules.empty()) return 0;
  // Rules by the op type they apply to; generic rules apply to all.
  std::vector<const Rewrite*> generic;
  absl::flat_hash_map<const std::type_info*, std::vector<const Rewrite*>>
      by_type;
  for (const Rewrite* rule : rules) {
    if (rule->op_type == nullptr) {
      generic.push_back(rule);
    } else {
      by_type[rule->op_type].push_back(rule);
    }
  }
  std::vector<const Rewrite*> applicable;
  std::deque<Node*> worklist;
  absl::flat_hash_set<Node*> queued;
  // Nodes are referenced by raw pointer; a replaced node may be destroyed,
  // so membership is re-checked with graph.Contains() before use.
  for (Node* node : graph.TopologicalOrder()) {
    worklist.push_back(node);
    queued.insert(node);
  }
  graph.TakeImported();
  int replacements = 0;
  // A bound against rewrites that undo each other.
  const int64_t budget = 20 * static_cast<int64_t>(worklist.size()) + 10000;
  int64_t steps = 0;
  while (!worklist.empty() && steps++ < budget) {
    Node* node = worklist.front();
    worklist.pop_front();
    queued.erase(node);
    if (!graph.Contains(node)) continue;
    applicable = generic;
    if (auto it = by_type.find(&typeid(node->op())); it != by_type.end()) {
      applicable.insert(applicable.end(), it->second.begin(), it->second.end());
    }
    for (const Rewrite* rule : applicable) {
      std::optional<std::vector<Var>> result = rule->node_rewrite(graph, *node);
      if (!result.has_value()) continue;
      // Keep the node alive until its replacement is wired in.
      std::shared_ptr<Node> keep = node->shared_from_this();
      std::vector<Var> new_vars;
      for (const Var& v : *result) {
        if (v.defined()) new_vars.push_back(v);
      }
      graph.ReplaceOutputs(*node, *result, rule->name.c_str());
      ++replacements;
      if (log != nullptr) log->push_back(rule->name);
      // Revisit the nodes the replacement brought in and the users of the
      // replacements.
      for (Node* fresh : graph.TakeImported()) {
        if (graph.Contains(fresh) && queued.insert(fresh).second) {
          worklist.push_back(fresh);
        }
      }
      for (const Var& v : new_vars) {
        for (const FunctionGraph::Client& c : graph.clients(v.get())) {
          if (c.node != nullptr && queued.insert(c.node).second) {
            worklist.push_back(c.node);
          }
        }
      }
      break;  // the node is gone
    }
  }
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
    lap(absl::StrCat("phase ", static_cast<int>(phase), " node rewrites"));
    bool changed = false;
    for (const Rewrite* rule : graph_rules) {
      if (rule->graph_rewrite(graph)) {
        changed = true;
        if (options.log != nullptr) options.log->push_back(rule->name);
      }
      lap(rule->name);
    }
    if (changed) {
      RunNodeRewrites(graph, node_rules, options.log);
      lap(absl::StrCat("phase ", static_cast<int>(phase),
                       " node rewrites again"));
    }
  }
}

}  // namespace theta
