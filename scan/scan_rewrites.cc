// Rewrites of loops, run when a function is compiled:
//
// - scan_merge: loops over the same sequences and number of steps that do
//   not depend on each other become one loop (a gradient's augmented
//   forward loop merges with the forward loop it extends, so the forward
//   work runs once).
// - scan_save_memory: an output whose only use is its last row (the final
//   state) is kept in a two-row buffer instead of N rows.
// - scan_unroll: a loop of a few constant steps with a small body becomes
//   straight-line code (no per-step dispatch at all).
// - scan_store_initial_rows: an output that is also read joined after its
//   initial rows (the states a gradient's backward loop reads) stores those
//   rows in front of its steps' rows, and the join becomes the array itself.
//
// Hoisting loop-invariant work and pushing sequence-only work out happen
// when a loop is built (loop_builder.cc), so every loop gets them.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "graph/function_graph.h"
#include "graph/rewrite.h"
#include "ops/ops.h"
#include "ops/shape_ops.h"
#include "ops/subtensor_ops.h"
#include "scan/scan_op.h"

namespace theta {
namespace {

bool SameSequences(const ScanSpec& a, const ScanSpec& b) {
  if (a.sequences.size() != b.sequences.size()) return false;
  for (size_t i = 0; i < a.sequences.size(); ++i) {
    if (a.sequences[i].taps != b.sequences[i].taps ||
        a.sequences[i].backwards != b.sequences[i].backwards) {
      return false;
    }
  }
  return true;
}

// True when `to` depends on an output of `from`.
bool DependsOn(const Node* to, const Node* from) {
  for (Node* n : TopologicalNodes(to->inputs())) {
    if (n == from) return true;
  }
  return false;
}

// One loop computing both: sequences shared, outputs of `a` then those of
// `b` that `a` does not already compute, non-sequences deduplicated.
// Returns replacements for a's and b's outputs.
std::pair<std::vector<Var>, std::vector<Var>> MergeLoops(Node& a, Node& b) {
  const ScanSpec& sa = AsScan(&a)->spec();
  const ScanSpec& sb = AsScan(&b)->spec();
  auto spec = std::make_shared<ScanSpec>();
  spec->sequences = sa.sequences;
  spec->name = sa.name.empty() ? sb.name : sa.name;
  spec->source = sa.source;
  spec->truncate_gradient = sa.truncate_gradient;
  // b's placeholders map onto a's where they stand for the same thing.
  std::vector<std::pair<Var, Var>> rename;
  for (size_t s = 0; s < sa.sequences.size(); ++s) {
    const int ia = sa.inner_sequence_input(static_cast<int>(s));
    const int ib = sb.inner_sequence_input(static_cast<int>(s));
    for (size_t k = 0; k < sa.sequences[s].taps.size(); ++k) {
      if (!sa.inner_inputs[ia + k].is(sb.inner_inputs[ib + k])) {
        rename.push_back({sb.inner_inputs[ib + k], sa.inner_inputs[ia + k]});
      }
    }
  }
  std::vector<Var> b_non_seq_inputs;  // outer values b still needs
  std::vector<Var> b_non_seq_placeholders;
  std::vector<bool> b_non_seq_on_host;
  for (int j = 0; j < sb.num_non_sequences; ++j) {
    const Var& outer = b.input(sb.first_non_sequence_input() + j);
    const Var& placeholder = sb.inner_inputs[sb.inner_non_sequence_input(j)];
    bool found = false;
    for (int i = 0; i < sa.num_non_sequences && !found; ++i) {
      if (a.input(sa.first_non_sequence_input() + i).is(outer)) {
        const Var& pa = sa.inner_inputs[sa.inner_non_sequence_input(i)];
        if (!pa.is(placeholder)) rename.push_back({placeholder, pa});
        found = true;
      }
    }
    if (!found) {
      b_non_seq_inputs.push_back(outer);
      b_non_seq_placeholders.push_back(placeholder);
      b_non_seq_on_host.push_back(
          j < static_cast<int>(sb.non_sequence_on_host.size()) &&
          sb.non_sequence_on_host[j]);
    }
  }
  std::vector<Var> b_outputs(sb.inner_outputs.begin(), sb.inner_outputs.end());
  if (!rename.empty()) b_outputs = CloneReplace(b_outputs, rename);

  // Outputs: a's, then b's that are not the same as one of a's.
  spec->outputs = sa.outputs;
  std::vector<Var> inner_outputs = sa.inner_outputs;
  std::vector<int> b_index(sb.outputs.size(), -1);
  std::vector<int> b_new;  // b outputs added
  for (size_t o = 0; o < sb.outputs.size(); ++o) {
    for (size_t i = 0; i < sa.outputs.size(); ++i) {
      const ScanOutput& x = sa.outputs[i];
      const ScanOutput& y = sb.outputs[o];
      if (inner_outputs[i].is(b_outputs[o]) && x.kind == y.kind &&
          x.taps == y.taps && x.reverse_storage == y.reverse_storage &&
          x.stores_initial_rows == y.stores_initial_rows &&
          (x.kind == ScanOutputKind::kMap ||
           a.input(sa.initial_input_of_output(static_cast<int>(i)))
               .is(b.input(sb.initial_input_of_output(static_cast<int>(o)))))) {
        b_index[o] = static_cast<int>(i);
        break;
      }
    }
    if (b_index[o] < 0) {
      b_index[o] = static_cast<int>(spec->outputs.size());
      spec->outputs.push_back(sb.outputs[o]);
      inner_outputs.push_back(b_outputs[o]);
      b_new.push_back(static_cast<int>(o));
    }
  }
  // b's new fed-back outputs have tap placeholders; renamed inside b_outputs
  // they are still b's own Vars.
  std::vector<Var> inner_inputs;
  for (size_t s = 0; s < sa.sequences.size(); ++s) {
    const int ia = sa.inner_sequence_input(static_cast<int>(s));
    for (size_t k = 0; k < sa.sequences[s].taps.size(); ++k) {
      inner_inputs.push_back(sa.inner_inputs[ia + k]);
    }
  }
  std::vector<Var> node_inputs = {a.input(0)};
  for (size_t s = 0; s < sa.sequences.size(); ++s)
    node_inputs.push_back(a.input(1 + s));
  for (size_t o = 0; o < sa.outputs.size(); ++o) {
    if (sa.outputs[o].kind == ScanOutputKind::kMap) continue;
    const int first = sa.inner_output_input(static_cast<int>(o));
    for (size_t k = 0; k < sa.outputs[o].taps.size(); ++k) {
      inner_inputs.push_back(sa.inner_inputs[first + k]);
    }
    node_inputs.push_back(
        a.input(sa.initial_input_of_output(static_cast<int>(o))));
  }
  for (int o : b_new) {
    if (sb.outputs[o].kind == ScanOutputKind::kMap) continue;
    const int first = sb.inner_output_input(o);
    for (size_t k = 0; k < sb.outputs[o].taps.size(); ++k) {
      inner_inputs.push_back(sb.inner_inputs[first + k]);
    }
    node_inputs.push_back(b.input(sb.initial_input_of_output(o)));
  }
  for (int j = 0; j < sa.num_non_sequences; ++j) {
    inner_inputs.push_back(sa.inner_inputs[sa.inner_non_sequence_input(j)]);
    node_inputs.push_back(a.input(sa.first_non_sequence_input() + j));
  }
  for (size_t j = 0; j < b_non_seq_inputs.size(); ++j) {
    inner_inputs.push_back(b_non_seq_placeholders[j]);
    node_inputs.push_back(b_non_seq_inputs[j]);
  }
  spec->inner_inputs = inner_inputs;
  spec->inner_outputs = inner_outputs;
  spec->num_non_sequences =
      sa.num_non_sequences + static_cast<int>(b_non_seq_inputs.size());
  spec->non_sequence_on_host = sa.non_sequence_on_host;
  spec->non_sequence_on_host.resize(sa.num_non_sequences, false);
  for (bool h : b_non_seq_on_host) spec->non_sequence_on_host.push_back(h);
  std::vector<Var> merged = MakeScanNode(spec, node_inputs);
  std::vector<Var> for_a(merged.begin(), merged.begin() + sa.outputs.size());
  std::vector<Var> for_b;
  for (size_t o = 0; o < sb.outputs.size(); ++o)
    for_b.push_back(merged[b_index[o]]);
  return {for_a, for_b};
}

bool MergeScans(FunctionGraph& graph) {
  bool changed = false;
  bool again = true;
  while (again) {
    again = false;
    std::vector<Node*> scans;
    for (Node* n : graph.TopologicalOrder()) {
      if (AsScan(n) != nullptr && !AsScan(n)->spec().has_until)
        scans.push_back(n);
    }
    for (size_t i = 0; i < scans.size() && !again; ++i) {
      for (size_t j = i + 1; j < scans.size() && !again; ++j) {
        Node* a = scans[i];
        Node* b = scans[j];
        const ScanSpec& sa = AsScan(a)->spec();
        const ScanSpec& sb = AsScan(b)->spec();
        if (!a->input(0).is(b->input(0)) || !SameSequences(sa, sb) ||
            sa.truncate_gradient != sb.truncate_gradient) {
          continue;
        }
        bool same_inputs = true;
        for (size_t s = 0; s < sa.sequences.size() && same_inputs; ++s) {
          same_inputs = a->input(1 + s).is(b->input(1 + s));
        }
        if (!same_inputs || DependsOn(b, a) || DependsOn(a, b)) continue;
        auto [for_a, for_b] = MergeLoops(*a, *b);
        std::shared_ptr<Node> keep_a = a->shared_from_this();
        std::shared_ptr<Node> keep_b = b->shared_from_this();
        graph.ReplaceOutputs(*a, for_a, "scan_merge");
        graph.ReplaceOutputs(*b, for_b, "scan_merge");
        changed = again = true;
      }
    }
  }
  return changed;
}

// y[-1] of a loop output.
bool IsLastRow(const Node* node) {
  if (node == nullptr) return false;
  const auto* sub = dynamic_cast<const Subtensor*>(&node->op());
  if (sub == nullptr || sub->entries().size() != 1) return false;
  const IndexEntry& e = sub->entries()[0];
  return e.is_index && e.start_input < 0 && e.start == -1;
}

bool SaveMemory(FunctionGraph& graph) {
  bool changed = false;
  std::vector<Node*> scans;
  for (Node* n : graph.TopologicalOrder()) {
    if (AsScan(n) != nullptr) scans.push_back(n);
  }
  for (Node* node : scans) {
    const ScanSpec& spec = AsScan(node)->spec();
    std::vector<int> convert;
    for (size_t o = 0; o < spec.outputs.size(); ++o) {
      const ScanOutput& out = spec.outputs[o];
      if (out.kind != ScanOutputKind::kRecurrent ||
          out.taps != std::vector<int>{-1}) {
        continue;
      }
      const auto& clients =
          graph.clients(node->output_variable(static_cast<int>(o)));
      bool only_last = !clients.empty();
      for (const auto& c : clients) only_last &= IsLastRow(c.node);
      if (only_last) convert.push_back(static_cast<int>(o));
    }
    if (convert.empty()) continue;
    auto changed_spec = std::make_shared<ScanSpec>(spec);
    std::vector<Var> inputs(node->inputs().begin(), node->inputs().end());
    for (int o : convert) {
      changed_spec->outputs[o].kind = ScanOutputKind::kLast;
      const int init = spec.initial_input_of_output(o);
      inputs[init] = index(inputs[init], -1);  // the state at time -1
    }
    std::vector<Var> outs = MakeScanNode(changed_spec, inputs);
    std::shared_ptr<Node> keep = node->shared_from_this();
    for (size_t o = 0; o < spec.outputs.size(); ++o) {
      Var old_out = node->output(static_cast<int>(o));
      if (std::find(convert.begin(), convert.end(), static_cast<int>(o)) ==
          convert.end()) {
        graph.Replace(old_out, outs[o], "scan_save_memory");
        continue;
      }
      std::vector<Node*> last_rows;
      for (const auto& c : graph.clients(old_out.get()))
        last_rows.push_back(c.node);
      for (Node* last : last_rows)
        graph.Replace(last->output(0), outs[o], "scan_save_memory");
    }
    changed = true;
  }
  return changed;
}

// Unrolled code cannot check what the loop checks when it runs (sequence
// lengths, initial rows, states keeping their shape), so only loops whose
// shapes make those checks pass statically are unrolled.
bool StaticallyChecked(const Node& node, int64_t n) {
  const ScanSpec& spec = AsScan(&node)->spec();
  for (size_t s = 0; s < spec.sequences.size(); ++s) {
    const int64_t rows = node.input(1 + static_cast<int>(s)).type().dim(0);
    const ScanSequence& seq = spec.sequences[s];
    if (rows == kUnknownDim || rows < n + seq.hi() - seq.lo()) return false;
  }
  for (size_t o = 0; o < spec.outputs.size(); ++o) {
    const ScanOutput& out = spec.outputs[o];
    if (out.kind == ScanOutputKind::kMap) continue;
    const TensorType& init =
        node.input(spec.initial_input_of_output(static_cast<int>(o))).type();
    const TensorType& step = spec.inner_outputs[o].type();
    if (!init.fully_known() || !step.fully_known()) return false;
    Dims row;
    if (out.kind == ScanOutputKind::kLast) {
      row = init.shape();
    } else {
      if (init.dim(0) < out.m()) return false;
      for (int d = 1; d < init.ndim(); ++d) row.push_back(init.dim(d));
    }
    if (row != step.shape()) return false;
  }
  return true;
}

constexpr int64_t kMaxUnrolledSteps = 4;
constexpr size_t kMaxUnrolledBodyNodes = 64;

// Straight-line code for loops of a few constant steps.
bool Unroll(FunctionGraph& graph) {
  bool changed = false;
  std::vector<Node*> scans;
  for (Node* n : graph.TopologicalOrder()) {
    if (AsScan(n) != nullptr) scans.push_back(n);
  }
  for (Node* node : scans) {
    const ScanSpec& spec = AsScan(node)->spec();
    const Var& n_var = node->input(0);
    bool stores_initial_rows = false;
    for (const ScanOutput& out : spec.outputs)
      stores_initial_rows |= out.stores_initial_rows;
    if (spec.has_until || stores_initial_rows ||
        n_var->kind() != VarKind::kConstant) {
      continue;
    }
    const int64_t n =
        static_cast<int64_t>(n_var->constant_value().GetAsDouble(0));
    if (n < 1 || n > kMaxUnrolledSteps ||
        TopologicalNodes(spec.inner_outputs).size() > kMaxUnrolledBodyNodes ||
        !StaticallyChecked(*node, n)) {
      continue;
    }
    std::vector<std::vector<Var>> history(spec.outputs.size());
    std::vector<Var> last(spec.outputs.size());
    for (int64_t u = 0; u < n; ++u) {
      std::vector<std::pair<Var, Var>> bind;
      for (size_t s = 0; s < spec.sequences.size(); ++s) {
        const ScanSequence& seq = spec.sequences[s];
        const Var& x = node->input(1 + static_cast<int>(s));
        const int first = spec.inner_sequence_input(static_cast<int>(s));
        for (size_t k = 0; k < seq.taps.size(); ++k) {
          Var row;
          if (seq.backwards) {
            // Position allowed-1-u, allowed = rows - (hi - lo).
            Var allowed =
                shape_i(x, 0) - constant(seq.hi() - seq.lo(), DType::kInt64);
            row = allowed -
                  constant(1 + u - seq.taps[k] + seq.lo(), DType::kInt64);
          } else {
            row = constant(u + seq.taps[k] - seq.lo(), DType::kInt64);
          }
          bind.push_back({spec.inner_inputs[first + k], index(x, row)});
        }
      }
      for (size_t o = 0; o < spec.outputs.size(); ++o) {
        const ScanOutput& out = spec.outputs[o];
        if (out.kind == ScanOutputKind::kMap) continue;
        const Var& init =
            node->input(spec.initial_input_of_output(static_cast<int>(o)));
        const int first = spec.inner_output_input(static_cast<int>(o));
        for (size_t k = 0; k < out.taps.size(); ++k) {
          const int64_t q = u + out.taps[k];
          Var value;
          if (out.kind == ScanOutputKind::kLast) {
            value = u == 0 ? init : last[o];
          } else if (q >= 0) {
            value = history[o][q];
          } else {
            // Row j of the initial value is the state at time j - m.
            value = index(init, constant(out.m() + q, DType::kInt64));
          }
          bind.push_back({spec.inner_inputs[first + k], value});
        }
      }
      for (int j = 0; j < spec.num_non_sequences; ++j) {
        bind.push_back({spec.inner_inputs[spec.inner_non_sequence_input(j)],
                        node->input(spec.first_non_sequence_input() + j)});
      }
      std::vector<Var> step = CloneReplace(spec.inner_outputs, bind);
      for (size_t o = 0; o < spec.outputs.size(); ++o) {
        history[o].push_back(step[o]);
        last[o] = step[o];
      }
    }
    std::vector<Var> replacements;
    for (size_t o = 0; o < spec.outputs.size(); ++o) {
      const ScanOutput& out = spec.outputs[o];
      if (out.kind == ScanOutputKind::kLast) {
        replacements.push_back(last[o]);
      } else {
        std::vector<Var> rows = history[o];
        if (out.reverse_storage) std::reverse(rows.begin(), rows.end());
        replacements.push_back(stack(rows, 0));
      }
    }
    std::shared_ptr<Node> keep = node->shared_from_this();
    graph.ReplaceOutputs(*node, replacements, "scan_unroll");
    changed = true;
  }
  return changed;
}

// Whether `rows` is the first m rows of `init`: init itself when it has m
// rows, or init[:m].
bool IsFirstRows(const Var& rows, const Var& init, int m) {
  if (rows.is(init)) return init.type().dim(0) == m;
  const Node* node = rows.owner();
  const auto* sub =
      node != nullptr ? dynamic_cast<const Subtensor*>(&node->op()) : nullptr;
  if (sub == nullptr || !node->input(0).is(init) ||
      sub->entries().size() != 1) {
    return false;
  }
  const IndexEntry& e = sub->entries()[0];
  return !e.is_index && e.start_input < 0 && e.stop_input < 0 &&
         (e.start == kNone || e.start == 0) && e.stop == m && e.step == 1;
}

// Join(init[:m], y) of a loop output y: the states a gradient's backward
// loop reads.
bool IsJoinAfterInitialRows(const Node* node, const Node& loop, int o) {
  const auto* join =
      node != nullptr ? dynamic_cast<const Join*>(&node->op()) : nullptr;
  if (join == nullptr || join->axis() != 0 || node->num_inputs() != 2 ||
      node->input(1).get() != loop.output_variable(o)) {
    return false;
  }
  const ScanSpec& spec = AsScan(&loop)->spec();
  return IsFirstRows(node->input(0),
                     loop.input(spec.initial_input_of_output(o)),
                     spec.outputs[o].m());
}

// An output read joined after its initial rows stores them itself, so the
// join is the output array (no copy of all N + m rows); its other readers
// take the view of its last N rows.
bool StoreInitialRows(FunctionGraph& graph) {
  bool changed = false;
  std::vector<Node*> scans;
  for (Node* n : graph.TopologicalOrder()) {
    if (AsScan(n) != nullptr && !AsScan(n)->spec().has_until) {
      scans.push_back(n);
    }
  }
  for (Node* node : scans) {
    const ScanSpec& spec = AsScan(node)->spec();
    std::vector<int> convert;
    for (size_t o = 0; o < spec.outputs.size(); ++o) {
      const ScanOutput& out = spec.outputs[o];
      if (out.kind != ScanOutputKind::kRecurrent || out.stores_initial_rows) {
        continue;
      }
      for (const auto& c :
           graph.clients(node->output_variable(static_cast<int>(o)))) {
        if (IsJoinAfterInitialRows(c.node, *node, static_cast<int>(o))) {
          convert.push_back(static_cast<int>(o));
          break;
        }
      }
    }
    if (convert.empty()) continue;
    auto changed_spec = std::make_shared<ScanSpec>(spec);
    for (int o : convert) changed_spec->outputs[o].stores_initial_rows = true;
    std::vector<Var> outs = MakeScanNode(
        changed_spec,
        std::vector<Var>(node->inputs().begin(), node->inputs().end()));
    std::shared_ptr<Node> keep = node->shared_from_this();
    for (size_t o = 0; o < spec.outputs.size(); ++o) {
      Var old_out = node->output(static_cast<int>(o));
      if (std::find(convert.begin(), convert.end(), static_cast<int>(o)) ==
          convert.end()) {
        graph.Replace(old_out, outs[o], "scan_store_initial_rows");
        continue;
      }
      std::vector<Node*> joins;
      for (const auto& c : graph.clients(old_out.get())) {
        if (IsJoinAfterInitialRows(c.node, *node, static_cast<int>(o))) {
          joins.push_back(c.node);
        }
      }
      for (Node* join : joins) {
        graph.Replace(join->output(0), outs[o], "scan_store_initial_rows");
      }
      graph.Replace(old_out,
                    slice(outs[o], {Slice(spec.outputs[o].m(), kNone)}),
                    "scan_store_initial_rows");
    }
    changed = true;
  }
  return changed;
}

}  // namespace

THETA_REGISTER_GRAPH_REWRITE(kLoops, "scan_merge", 10, MergeScans);
THETA_REGISTER_GRAPH_REWRITE(kLoops, "scan_save_memory", 20, SaveMemory);
THETA_REGISTER_GRAPH_REWRITE(kLoops, "scan_unroll", 30, Unroll);
THETA_REGISTER_GRAPH_REWRITE(kLoops, "scan_store_initial_rows", 40,
                             StoreInitialRows);

}  // namespace theta
