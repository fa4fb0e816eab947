// The gradient of a Scan: backpropagation through time as another Scan that
// runs over the steps in reverse.
//
// At forward step t the body maps (sequence slices, earlier states,
// non-sequences) to this step's outputs. The backward loop, at step t (last
// to first), knows the total gradient of each output of step t: the
// gradient from outside (the cost's use of that output row) plus what later
// steps sent back through their taps. One vector-Jacobian product of the
// body (built once, with grad) turns it into gradients for the step's
// sequence slices (stored as rows of the result), for earlier states (sent
// back through taps of the backward loop's own outputs), and for the non-
// sequences (summed over steps). The forward values this needs are saved by
// the forward loop as extra outputs (the forward and the augmented forward
// loops are one loop after merging), not recomputed.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "autodiff/grad.h"
#include "graph/function_graph.h"
#include "ops/linalg_ops.h"
#include "ops/ops.h"
#include "ops/reduce_ops.h"
#include "ops/shape_ops.h"
#include "scan/loop_builder.h"
#include "scan/scan_op.h"

namespace theta {
namespace {

Var Int(int64_t v) { return constant(static_cast<double>(v), DType::kInt64); }

Var ZerosOfShape(const Var& like_rows, const TensorType& row_type,
                 int64_t rows) {
  std::vector<DimArg> dims = {rows};
  for (int d = 0; d < row_type.ndim(); ++d)
    dims.push_back(shape_i(like_rows, d));
  return zeros(dims, row_type.dtype());
}

// When `g` is alpha * X^T Y for a step's rows X (n, p) and Y (n, q) (the
// gradient of a product's right operand, as for an RNN's recurrent
// weights): sets x, y and alpha.
bool AsRowProduct(const Var& g, Var& x, Var& y, double& alpha) {
  const Gemm* gemm = AsGemm(g.owner());
  if (gemm == nullptr || gemm->has_bias() || g.ndim() != 2) return false;
  const Node* t = g.owner()->input(0).owner();
  const auto* ds =
      t != nullptr ? dynamic_cast<const DimShuffle*>(&t->op()) : nullptr;
  if (ds == nullptr || ds->pattern() != std::vector<int>{1, 0}) return false;
  x = t->input(0);
  y = g.owner()->input(1);
  alpha = gemm->alpha();
  return x.ndim() == 2 && y.ndim() == 2;
}

// When `g` sums a step's rows Y (n, q) (the gradient of a broadcast bias),
// to (q) or, keeping the summed axis, (1, q): sets y and keepdims.
bool AsRowSum(const Var& g, Var& y, bool& keepdims) {
  const Node* node = g.owner();
  const auto* r =
      node != nullptr ? dynamic_cast<const Reduce*>(&node->op()) : nullptr;
  if (r == nullptr || r->reduce_op() != THETA_REDUCE_SUM ||
      r->axes() != std::vector<int>{0} || node->input(0).ndim() != 2 ||
      node->input(0).dtype() != g.dtype()) {
    return false;
  }
  y = node->input(0);
  keepdims = r->keepdims();
  return true;
}

struct BackwardSequence {
  Var outer;
  std::vector<int> taps;
  bool backwards;
  std::vector<Var> placeholders;  // one per tap
  std::string name;
};

}  // namespace

std::vector<Var> Scan::Grad(Node& node,
                            std::span<const Var> output_grads) const {
  const ScanSpec& F = *spec_;
  if (F.has_until) {
    ThrowAt(node.source(),
            "grad: differentiating a scan that stops early with `until` is not "
            "supported");
  }
  const int S = static_cast<int>(F.sequences.size());
  const int O = static_cast<int>(F.outputs.size());
  const int J = F.num_non_sequences;
  const Var n_steps = node.input(0);
  const int k_trunc = F.truncate_gradient;
  const Var n_back = k_trunc > 0 ? minimum(n_steps, Int(k_trunc)) : n_steps;

  // 1. The body's vector-Jacobian product, with placeholders for the total
  // gradient of each output of the step.
  std::vector<Var> body_outputs(F.inner_outputs.begin(),
                                F.inner_outputs.begin() + O);
  std::vector<Var> step_grad(O);
  GradOptions options;
  options.disconnected_inputs = DisconnectedInputs::kIgnore;
  options.return_disconnected = ReturnDisconnected::kNone;
  for (int o = 0; o < O; ++o) {
    const bool carries =
        F.outputs[o].kind != ScanOutputKind::kMap || output_grads[o].defined();
    if (!carries || !IsFloat(body_outputs[o].dtype())) continue;
    step_grad[o] = MakeInput(body_outputs[o].type(),
                             absl::StrCat("grad_", F.outputs[o].name));
    options.known_grads.push_back({body_outputs[o], step_grad[o]});
  }
  std::vector<Var> float_inputs;
  std::vector<int> float_index;
  for (size_t i = 0; i < F.inner_inputs.size(); ++i) {
    if (IsFloat(F.inner_inputs[i].dtype())) {
      float_inputs.push_back(F.inner_inputs[i]);
      float_index.push_back(static_cast<int>(i));
    }
  }
  std::vector<Var> inner_grad(F.inner_inputs.size());
  if (!options.known_grads.empty() && !float_inputs.empty()) {
    std::vector<Var> g = grad(Var(), float_inputs, options);
    for (size_t i = 0; i < g.size(); ++i) inner_grad[float_index[i]] = g[i];
  }

  // 2. The forward values the gradient reads: the step's inputs, its
  // outputs, and intermediates (saved by the forward loop).
  absl::flat_hash_set<const Node*> forward_nodes;
  for (Node* n : TopologicalNodes(body_outputs)) forward_nodes.insert(n);
  absl::flat_hash_map<const Variable*, int> output_of;
  for (int o = O - 1; o >= 0; --o) output_of[body_outputs[o].get()] = o;
  std::vector<Var> defined_grads;
  for (const Var& g : inner_grad) {
    if (g.defined()) defined_grads.push_back(g);
  }
  // Walk the gradient graph down to forward values, without entering the
  // forward computation (its inputs are not needed, only its values).
  std::vector<Var> saved;  // intermediates, in first-use order
  absl::flat_hash_set<const Variable*> output_rows_read;
  absl::flat_hash_set<const Variable*> inputs_read;
  absl::flat_hash_set<const Variable*> seen;
  // Sizes of forward intermediates (the zeros a slice's gradient starts
  // from take the sliced value's shape): read from the saved array's shape
  // unless the value itself is read too.
  std::vector<Node*> size_reads;
  std::vector<Var> stack = defined_grads;
  while (!stack.empty()) {
    Var v = stack.back();
    stack.pop_back();
    if (!seen.insert(v.get()).second) continue;
    Node* owner = v.owner();
    if (owner == nullptr) {
      inputs_read.insert(v.get());
    } else if (forward_nodes.contains(owner)) {
      if (output_of.contains(v.get())) {
        output_rows_read.insert(v.get());
      } else {
        saved.push_back(v);
      }
    } else if (const auto* size = dynamic_cast<const Shape*>(&owner->op());
               size != nullptr && size->axis() >= 0 &&
               owner->input(0).owner() != nullptr &&
               forward_nodes.contains(owner->input(0).owner()) &&
               !output_of.contains(owner->input(0).get())) {
      size_reads.push_back(owner);
    } else {
      for (const Var& in : owner->inputs()) stack.push_back(in);
    }
  }
  // Intermediates only whose sizes are read are saved too (their array's
  // shape gives the sizes), but the backward loop does not read their rows;
  // nothing reads the array, so the forward loop need not write it.
  absl::flat_hash_set<const Variable*> size_only;
  for (Node* n : size_reads) {
    const Var& v = n->input(0);
    if (!seen.insert(v.get()).second) continue;  // its values are read too
    saved.push_back(v);
    size_only.insert(v.get());
  }

  // 3. The augmented forward loop: the same loop, also storing the saved
  // intermediates and the history of states kept only at their end.
  auto augmented = std::make_shared<ScanSpec>(F);
  augmented->inner_outputs.assign(F.inner_outputs.begin(),
                                  F.inner_outputs.begin() + O);
  std::vector<int> history_of(O, -1);
  for (int o = 0; o < O; ++o) {
    if (F.outputs[o].kind != ScanOutputKind::kLast) continue;
    history_of[o] = static_cast<int>(augmented->outputs.size());
    ScanOutput map;
    map.name = absl::StrCat(F.outputs[o].name, "_history");
    augmented->outputs.push_back(map);
    augmented->inner_outputs.push_back(body_outputs[o]);
  }
  std::vector<int> saved_at;
  for (const Var& v : saved) {
    saved_at.push_back(static_cast<int>(augmented->outputs.size()));
    ScanOutput map;
    map.name = v.name().empty() ? "saved" : v.name();
    augmented->outputs.push_back(map);
    augmented->inner_outputs.push_back(v);
  }
  std::vector<Var> forward = MakeScanNode(
      augmented, std::vector<Var>(node.inputs().begin(), node.inputs().end()));

  // Rows of the forward arrays, read from the last step back.
  std::vector<BackwardSequence> sequences;
  absl::flat_hash_map<const Variable*, Var>
      replace;  // forward value -> placeholder
  auto read_rows = [&](const Var& rows, bool reversed_storage,
                       const TensorType& row_type, const std::string& name) {
    BackwardSequence seq{
        rows, {0}, !reversed_storage, {MakeInput(row_type, name)}, name};
    sequences.push_back(seq);
    return seq.placeholders[0];
  };
  // Forward values the backward loop reads as rows of an outer array: the
  // array, and its row for the loop's first step (step s reads row + s).
  struct OuterRows {
    Var array;
    int first_row;
  };
  absl::flat_hash_map<const Variable*, OuterRows> rows_in_outer;
  // a. The forward sequences, cut to the N positions the forward loop used.
  for (int s = 0; s < S; ++s) {
    const ScanSequence& fs = F.sequences[s];
    const Var& x = node.input(1 + s);
    const int span = fs.hi() - fs.lo();
    Var used =
        fs.backwards
            ? slice(x, {Slice(shape_i(x, 0) - n_steps - Int(span), kNone)})
            : slice(x, {Slice(0, n_steps + Int(span))});
    BackwardSequence seq{used, fs.taps, !fs.backwards, {}, fs.name};
    const int first = F.inner_sequence_input(s);
    for (size_t k = 0; k < fs.taps.size(); ++k) {
      seq.placeholders.push_back(F.inner_inputs[first + k]);
    }
    sequences.push_back(seq);
  }
  // b. The states the taps read: the initial rows, then the outputs.
  for (int o = 0; o < O; ++o) {
    const ScanOutput& fo = F.outputs[o];
    if (fo.kind == ScanOutputKind::kMap) continue;
    const int first = F.inner_output_input(o);
    bool read = false;
    for (size_t k = 0; k < fo.taps.size(); ++k) {
      read |= inputs_read.contains(F.inner_inputs[first + k].get());
    }
    if (!read) continue;
    const Var& init = node.input(F.initial_input_of_output(o));
    Var history;
    Var first_rows;
    if (fo.kind == ScanOutputKind::kLast) {
      std::vector<int> pattern = {kNewAxis};
      for (int d = 0; d < init.ndim(); ++d) pattern.push_back(d);
      first_rows = dimshuffle(init, pattern);
      history = forward[history_of[o]];
    } else {
      first_rows = slice(init, {Slice(-fo.m(), kNone)});
      history = forward[o];
    }
    BackwardSequence seq{
        concatenate({first_rows, history}, 0), fo.taps, true, {}, fo.name};
    for (size_t k = 0; k < fo.taps.size(); ++k) {
      seq.placeholders.push_back(F.inner_inputs[first + k]);
      rows_in_outer[seq.placeholders.back().get()] = {seq.outer,
                                                      fo.m() + fo.taps[k]};
    }
    sequences.push_back(seq);
  }
  // c. This step's outputs and d. the saved intermediates.
  for (int o = 0; o < O; ++o) {
    if (!output_rows_read.contains(body_outputs[o].get())) continue;
    Var rows = F.outputs[o].kind == ScanOutputKind::kLast
                   ? forward[history_of[o]]
                   : forward[o];
    replace[body_outputs[o].get()] =
        read_rows(rows, F.outputs[o].reverse_storage, body_outputs[o].type(),
                  absl::StrCat(F.outputs[o].name, "[t]"));
    if (!F.outputs[o].reverse_storage) {
      rows_in_outer[body_outputs[o].get()] = {rows, 0};
    }
  }
  // A size read of a value saved for its size: that size of the saved
  // array, a value the backward loop reads on the host.
  std::vector<std::pair<Var, Var>> size_substitutions;
  std::vector<Var> size_placeholders, size_values;
  for (size_t i = 0; i < saved.size(); ++i) {
    if (size_only.contains(saved[i].get())) continue;
    replace[saved[i].get()] =
        read_rows(forward[saved_at[i]], false, saved[i].type(), "saved[t]");
    rows_in_outer[saved[i].get()] = {forward[saved_at[i]], 0};
  }
  // One placeholder per value and axis, however many reads there are (so
  // that zeros of the same shape are seen to be the same).
  absl::flat_hash_map<std::pair<const Variable*, int>, Var> size_placeholder;
  for (Node* n : size_reads) {
    const Var& v = n->input(0);
    if (!size_only.contains(v.get())) continue;
    const int axis = static_cast<const Shape&>(n->op()).axis();
    auto [it, fresh] = size_placeholder.try_emplace({v.get(), axis});
    if (fresh) {
      const size_t i = std::find_if(saved.begin(), saved.end(),
                                    [&](const Var& s) { return s.is(v); }) -
                       saved.begin();
      it->second = MakeInput(n->output(0).type(),
                             absl::StrCat("size", axis, "_of_saved"));
      size_placeholders.push_back(it->second);
      size_values.push_back(shape_i(forward[saved_at[i]], axis + 1));
    }
    size_substitutions.push_back({n->output(0), it->second});
  }
  // e. The gradients arriving from outside for each output row.
  std::vector<Var> outside_grad(O);
  for (int o = 0; o < O; ++o) {
    if (!step_grad[o].defined() || F.outputs[o].kind == ScanOutputKind::kLast ||
        !output_grads[o].defined()) {
      continue;
    }
    outside_grad[o] = read_rows(output_grads[o], F.outputs[o].reverse_storage,
                                step_grad[o].type(),
                                absl::StrCat("d", F.outputs[o].name, "[t]"));
  }

  // 4. The backward loop's outputs.
  auto spec = std::make_shared<ScanSpec>();
  spec->name = absl::StrCat("grad_of_", F.name.empty() ? "scan" : F.name);
  spec->source = node.source();
  LoopDefinition def;
  def.spec = spec;
  def.n_steps = n_back;
  for (const BackwardSequence& seq : sequences) {
    spec->sequences.push_back(ScanSequence{seq.taps, seq.name, seq.backwards});
    def.sequences.push_back(seq.outer);
    for (const Var& p : seq.placeholders) def.step_placeholders.push_back(p);
  }
  // Gradient sent back through each tap of each fed-back output.
  struct TapGrad {
    int output;
    int tap;
    Var placeholder;  // what later steps sent to this step's state
    int backward_output;
  };
  std::vector<TapGrad> tap_grads;
  std::vector<Var> tap_values;  // inner outputs for those
  for (int o = 0; o < O; ++o) {
    const ScanOutput& fo = F.outputs[o];
    if (fo.kind == ScanOutputKind::kMap || !step_grad[o].defined()) continue;
    const int first = F.inner_output_input(o);
    for (size_t k = 0; k < fo.taps.size(); ++k) {
      const int tap = fo.taps[k];
      TapGrad t{o, tap,
                MakeInput(step_grad[o].type(), absl::StrCat("back_", fo.name)),
                static_cast<int>(spec->outputs.size())};
      ScanOutput out;
      out.kind = ScanOutputKind::kRecurrent;
      out.taps = {tap};
      out.name = absl::StrCat("d", fo.name, "_tap", tap);
      spec->outputs.push_back(out);
      const Var& g = inner_grad[first + k];
      tap_values.push_back(g.defined() ? g : zeros_like(step_grad[o]));
      // Before the last step: nothing from later steps, except for a state
      // kept only at its end, whose gradient from outside arrives here.
      const Var& init = node.input(F.initial_input_of_output(o));
      Var initial;
      if (fo.kind == ScanOutputKind::kLast && output_grads[o].defined()) {
        std::vector<int> pattern = {kNewAxis};
        for (int d = 0; d < output_grads[o].ndim(); ++d) pattern.push_back(d);
        initial = dimshuffle(output_grads[o], pattern);
      } else {
        const TensorType row = step_grad[o].type();
        initial =
            fo.kind == ScanOutputKind::kLast
                ? zeros_like(dimshuffle(init,
                                        [&] {
                                          std::vector<int> p = {kNewAxis};
                                          for (int d = 0; d < init.ndim(); ++d)
                                            p.push_back(d);
                                          return p;
                                        }()))
                : ZerosOfShape(slice(init, {Slice::Index(0)}), row, -tap);
      }
      def.initial_states.push_back(initial);
      tap_grads.push_back(t);
    }
  }
  // Gradients of the sequence slices, stored in forward order.
  struct SliceGrad {
    int sequence;
    int tap_index;
    int backward_output;
  };
  std::vector<SliceGrad> slice_grads;
  std::vector<Var> slice_values;
  for (int s = 0; s < S; ++s) {
    const int first = F.inner_sequence_input(s);
    for (size_t k = 0; k < F.sequences[s].taps.size(); ++k) {
      const Var& g = inner_grad[first + k];
      if (!g.defined()) continue;
      ScanOutput out;
      out.kind = ScanOutputKind::kMap;
      out.reverse_storage = true;
      out.name = absl::StrCat("d", F.sequences[s].name);
      slice_grads.push_back(
          {s, static_cast<int>(k), static_cast<int>(spec->outputs.size())});
      spec->outputs.push_back(out);
      slice_values.push_back(g);
    }
  }
  // Non-sequence gradients summed over the steps. One that is a product or
  // a sum of the step's rows (an RNN's recurrent weights, a bias) is not
  // accumulated: the loop stores the rows and one product (one sum) over
  // all steps' rows follows it, instead of a small one per step.
  struct SumGrad {
    int non_sequence;
    Var placeholder;
    int backward_output;
  };
  struct RowsGrad {
    int non_sequence;
    int x_output;  // -1 for a sum of rows or when x_rows is set
    Var x_rows;    // X's rows where they already lie in an outer array
    int y_output;
    double alpha;
    bool keepdims;  // of a sum of rows
  };
  std::vector<SumGrad> sum_grads;
  std::vector<RowsGrad> rows_grads;
  std::vector<Var> sum_values;  // inner outputs, in the order added
  // Rows stored in iteration order reversed, like the slice gradients
  // (whose outputs they may share: same value, same rows).
  absl::flat_hash_map<const Variable*, int> stored_rows;
  for (size_t i = 0; i < slice_grads.size(); ++i) {
    stored_rows.try_emplace(slice_values[i].get(),
                            slice_grads[i].backward_output);
  }
  auto store_rows = [&](const Var& v, const std::string& name) {
    auto [it, fresh] = stored_rows.try_emplace(
        v.get(), static_cast<int>(spec->outputs.size()));
    if (fresh) {
      ScanOutput out;
      out.kind = ScanOutputKind::kMap;
      out.reverse_storage = true;
      out.name = name;
      spec->outputs.push_back(out);
      sum_values.push_back(v);
    }
    return it->second;
  };
  const int first_non_seq = F.inner_non_sequence_input(0);
  for (int j = 0; j < J; ++j) {
    const Var& g = inner_grad[first_non_seq + j];
    if (!g.defined()) continue;
    const Var& w = node.input(F.first_non_sequence_input() + j);
    Var x, y;
    double alpha = 1.0;
    if (AsRowProduct(g, x, y, alpha)) {
      // X's rows (the forward's h_{t-1} for an RNN's recurrent weights) are
      // read from the forward's arrays, not copied out by the loop again.
      int x_output = -1;
      Var x_rows;
      if (auto it = rows_in_outer.find(x.get()); it != rows_in_outer.end()) {
        const Var first = Int(it->second.first_row) + n_steps - n_back;
        x_rows = slice(it->second.array, {Slice(first, first + n_back)});
      } else {
        x_output = store_rows(x, absl::StrCat("rows_for_d", w.name()));
      }
      const int y_output = store_rows(y, absl::StrCat("rows_for_d", w.name()));
      rows_grads.push_back({j, x_output, x_rows, y_output, alpha, false});
      continue;
    }
    if (bool keepdims; AsRowSum(g, y, keepdims)) {
      rows_grads.push_back({j, -1, Var(),
                            store_rows(y, absl::StrCat("rows_for_d", w.name())),
                            1.0, keepdims});
      continue;
    }
    SumGrad sg{j, MakeInput(g.type(), absl::StrCat("sum_d", w.name())),
               static_cast<int>(spec->outputs.size())};
    ScanOutput out;
    out.kind = ScanOutputKind::kLast;
    out.taps = {-1};
    out.name = absl::StrCat("d", w.name());
    spec->outputs.push_back(out);
    def.initial_states.push_back(zeros_like(w));
    sum_values.push_back(sg.placeholder + g);
    sum_grads.push_back(sg);
  }
  for (const TapGrad& t : tap_grads)
    def.step_placeholders.push_back(t.placeholder);
  for (const SumGrad& sg : sum_grads)
    def.step_placeholders.push_back(sg.placeholder);
  // Non-sequences of the backward loop: the forward loop's.
  for (int j = 0; j < J; ++j) {
    def.non_sequence_placeholders.push_back(F.inner_inputs[first_non_seq + j]);
    def.non_sequences.push_back(node.input(F.first_non_sequence_input() + j));
  }
  for (size_t i = 0; i < size_placeholders.size(); ++i) {
    def.non_sequence_placeholders.push_back(size_placeholders[i]);
    def.non_sequences.push_back(size_values[i]);
  }
  // The total gradient of each output of the step.
  std::vector<std::pair<Var, Var>> substitutions;
  for (int o = 0; o < O; ++o) {
    if (!step_grad[o].defined()) continue;
    Var total = outside_grad[o];
    for (const TapGrad& t : tap_grads) {
      if (t.output != o) continue;
      total = total.defined() ? total + t.placeholder : t.placeholder;
    }
    substitutions.push_back({step_grad[o], total});
  }
  for (const Var& v : saved) {
    if (!size_only.contains(v.get())) {
      substitutions.push_back({v, replace.at(v.get())});
    }
  }
  substitutions.insert(substitutions.end(), size_substitutions.begin(),
                       size_substitutions.end());
  for (int o = 0; o < O; ++o) {
    if (replace.contains(body_outputs[o].get())) {
      substitutions.push_back(
          {body_outputs[o], replace.at(body_outputs[o].get())});
    }
  }
  std::vector<Var> values = tap_values;
  values.insert(values.end(), slice_values.begin(), slice_values.end());
  values.insert(values.end(), sum_values.begin(), sum_values.end());
  // In the order the spec's outputs were appended: tap grads, slice grads,
  // stored rows and sums.
  def.inner_outputs = CloneReplace(values, substitutions);
  std::vector<Var> backward = BuildLoop(std::move(def));

  // 5. Gradients of the loop's inputs.
  std::vector<Var> grads(node.num_inputs());
  const Var truncation_allows_initial =
      k_trunc > 0 ? cast(n_steps <= Int(k_trunc), DType::kFloat64) : Var();
  for (const SliceGrad& sg : slice_grads) {
    const ScanSequence& fs = F.sequences[sg.sequence];
    const Var& x = node.input(1 + sg.sequence);
    const int tap = fs.taps[sg.tap_index];
    Var rows = backward[sg.backward_output];  // steps N-Nb..N-1, forward order
    Var& g = grads[1 + sg.sequence];
    if (!g.defined()) g = zeros_like(x);
    const Var offset = Int(tap - fs.lo());
    if (!fs.backwards) {
      Var start = n_steps - n_back + offset;
      g = inc_subtensor(slice(g, {Slice(start, start + n_back)}), rows);
    } else {
      // Forward step t read position allowed-1-t: rows run the other way.
      const Var allowed = shape_i(x, 0) - Int(fs.hi() - fs.lo());
      Var start = allowed - n_steps + offset;
      g = inc_subtensor(slice(g, {Slice(start, start + n_back)}),
                        slice(rows, {Slice(kNone, kNone, -1)}));
    }
  }
  for (const TapGrad& t : tap_grads) {
    const ScanOutput& fo = F.outputs[t.output];
    const int input = F.initial_input_of_output(t.output);
    const Var& init = node.input(input);
    // Steps t < |tap| read the initial value: the last rows of this tap's
    // backward output hold them (the last row is step 0).
    Var contributions =
        slice(backward[t.backward_output], {Slice(t.tap, kNone)});
    Var in_order = slice(contributions, {Slice(kNone, kNone, -1)});
    Var& g = grads[input];
    if (fo.kind == ScanOutputKind::kLast) {
      std::vector<int> pattern = {kNewAxis};
      for (int d = 0; d < init.ndim(); ++d) pattern.push_back(d);
      Var rows = zeros_like(dimshuffle(init, pattern));
      rows = inc_subtensor(slice(rows, {Slice(0, shape_i(in_order, 0))}),
                           in_order);
      Var total = index(rows, 0);
      if (output_grads[t.output].defined()) {
        // With no steps, the final state is the initial one.
        total = total +
                output_grads[t.output] *
                    cast(eq(n_steps, Int(0)), output_grads[t.output].dtype());
      }
      g = g.defined() ? g + total : total;
    } else {
      if (!g.defined()) g = zeros_like(init);
      // Row j of the initial value is the state at time j - m, so steps
      // 0 .. |tap|-1 read rows m + tap .. m - 1 (rows from m on are unused).
      Var start = Int(fo.m() + t.tap);
      g = inc_subtensor(slice(g, {Slice(start, start + shape_i(in_order, 0))}),
                        in_order);
    }
  }
  if (truncation_allows_initial.defined()) {
    for (int o = 0; o < O; ++o) {
      const int input = F.initial_input_of_output(o);
      if (input < 0 || !grads[input].defined()) continue;
      grads[input] =
          grads[input] * cast(truncation_allows_initial, grads[input].dtype());
    }
  }
  for (const SumGrad& sg : sum_grads) {
    grads[F.first_non_sequence_input() + sg.non_sequence] =
        backward[sg.backward_output];
  }
  // Over all steps' rows at once: (Nb, n, q) -> (Nb * n, q). With no steps
  // the product has an inner size of 0 and the sum no rows: zeros.
  auto all_rows = [](const Var& v) { return reshape(v, {-1, shape_i(v, 2)}); };
  for (const RowsGrad& rg : rows_grads) {
    Var ys = all_rows(backward[rg.y_output]);
    if (!rg.x_rows.defined() && rg.x_output < 0) {
      grads[F.first_non_sequence_input() + rg.non_sequence] =
          sum(ys, 0, rg.keepdims);
      continue;
    }
    const Var xs =
        all_rows(rg.x_rows.defined() ? rg.x_rows : backward[rg.x_output]);
    grads[F.first_non_sequence_input() + rg.non_sequence] =
        MakeGemm(transpose(xs), ys, Var(), rg.alpha, 0.0,
                 std::source_location::current());
  }
  for (int i = 1; i < node.num_inputs(); ++i) {
    if (grads[i].defined() && !IsFloat(node.input(i).dtype())) grads[i] = Var();
  }
  return grads;
}

}  // namespace theta
