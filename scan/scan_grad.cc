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
#include "ops/elementwise_op.h"
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

// Forward values the backward loop reads as rows of an outer array: the
// array, and its row for the loop's first step (step s reads row + s).
struct OuterRows {
  Var array;
  int first_row;
};

// Gradient sent back through one tap of a fed-back output.
struct TapGrad {
  int output;
  int tap;
  Var placeholder;  // what later steps sent to this step's state
  int backward_output;
};

// The gradient of one sequence tap's slices, stored in forward order.
struct SliceGrad {
  int sequence;
  int tap_index;
  int backward_output;
};

// A non-sequence gradient accumulated over the steps.
struct SumGrad {
  int non_sequence;
  Var placeholder;
  int backward_output;
};

// A non-sequence gradient that is a product or a sum of the step's rows,
// taken over all steps' rows after the loop.
struct RowsGrad {
  int non_sequence;
  int x_output;  // -1 for a sum of rows or when x_rows is set
  Var x_rows;    // X's rows where they already lie in an outer array
  int y_output;
  double alpha;
  bool keepdims;  // of a sum of rows
};

// Builds the gradient of one Scan node, one method per step, called in order
// by Build():
//   1. DifferentiateBody: the body's vector-Jacobian product;
//   2. FindForwardValuesRead: which forward values that product reads;
//   3. BuildAugmentedForward and the Read* methods: the forward loop that
//      also saves them, and the rows the backward loop reads;
//   4. the Add* methods and BuildBackwardLoop: the backward loop;
//   5. the *Grads methods: the gradients of the node's inputs.
// A builder is used once.
class ScanGradBuilder {
 public:
  ScanGradBuilder(const ScanSpec& spec, Node& node,
                  std::span<const Var> output_grads)
      : f_(spec),
        node_(node),
        output_grads_(output_grads),
        num_sequences_(static_cast<int>(spec.sequences.size())),
        num_outputs_(static_cast<int>(spec.outputs.size())),
        num_non_sequences_(spec.num_non_sequences),
        n_steps_(node.input(0)),
        k_trunc_(spec.truncate_gradient) {}

  std::vector<Var> Build();

 private:
  void DifferentiateBody();
  void FindForwardValuesRead();
  void BuildAugmentedForward();
  void ReadForwardSequences();
  void ReadStates();
  void ReadOutputRowsAndSaved();
  void ReadSavedSizes();
  // The size of forward value `v` along `axis` as a value of the outer
  // graph, where it follows from the shapes of the loop's inputs (through
  // elementwise ops, products and dimshuffles); undefined where it does not.
  Var OuterSize(const Var& v, int axis) const;
  void ReadOutsideGrads();
  void StartBackwardLoop();
  void AddTapGrads();
  void AddSliceGrads();
  void AddNonSequenceGrads();
  void BuildBackwardLoop();
  void SequenceGrads();
  void InitialStateGrads();
  void NonSequenceGrads();

  // Adds a backward sequence reading `rows` from the last step back, with
  // one placeholder of `row_type`; returns the placeholder.
  Var ReadRows(const Var& rows, bool reversed_storage,
               const TensorType& row_type, const std::string& name);
  // The backward output storing `v`'s rows (in iteration order reversed),
  // added on first use.
  int StoreRows(const Var& v, const std::string& name);

  // The forward loop.
  const ScanSpec& f_;
  Node& node_;
  std::span<const Var> output_grads_;
  const int num_sequences_;
  const int num_outputs_;
  const int num_non_sequences_;
  const Var n_steps_;
  const int k_trunc_;  // truncate_gradient
  Var n_back_;         // steps the backward loop runs

  // 1. The body's outputs, the placeholders for their total gradients, and
  // the gradient of each inner input (undefined where none).
  std::vector<Var> body_outputs_;
  std::vector<Var> step_grad_;
  std::vector<Var> inner_grad_;

  // 2. Forward values the gradient reads.
  std::vector<Var> saved_;  // intermediates, in first-use order
  absl::flat_hash_set<const Variable*> output_rows_read_;
  absl::flat_hash_set<const Variable*> inputs_read_;
  // Shape reads of forward intermediates, and the intermediates saved only
  // for their sizes.
  std::vector<Node*> size_reads_;
  absl::flat_hash_set<const Variable*> size_only_;
  // Sizes of intermediates known from the loop's inputs: no array is saved
  // for them.
  absl::flat_hash_map<std::pair<const Variable*, int>, Var> outer_sizes_;

  // 3. The augmented forward loop and what the backward loop reads of it.
  std::vector<int> history_of_;
  std::vector<int> saved_at_;
  std::vector<Var> forward_;
  std::vector<BackwardSequence> sequences_;
  absl::flat_hash_map<const Variable*, Var>
      replace_;  // forward value -> placeholder
  absl::flat_hash_map<const Variable*, OuterRows> rows_in_outer_;
  std::vector<std::pair<Var, Var>> size_substitutions_;
  std::vector<Var> size_placeholders_, size_values_;
  std::vector<Var> outside_grad_;

  // 4. The backward loop.
  std::shared_ptr<ScanSpec> spec_;
  LoopDefinition def_;
  std::vector<TapGrad> tap_grads_;
  std::vector<Var> tap_values_;  // inner outputs for those
  std::vector<SliceGrad> slice_grads_;
  std::vector<Var> slice_values_;
  std::vector<SumGrad> sum_grads_;
  std::vector<RowsGrad> rows_grads_;
  std::vector<Var> sum_values_;  // inner outputs, in the order added
  // Rows stored in iteration order reversed, like the slice gradients
  // (whose outputs they may share: same value, same rows).
  absl::flat_hash_map<const Variable*, int> stored_rows_;
  std::vector<Var> backward_;

  // 5. One per node input; and 1 when the truncation reaches the initial
  // states, 0 when not (undefined without truncation).
  std::vector<Var> grads_;
  Var truncation_allows_initial_;
};

std::vector<Var> ScanGradBuilder::Build() {
  if (f_.has_until) {
    ThrowAt(node_.source(),
            "grad: differentiating a scan that stops early with `until` is not "
            "supported");
  }
  n_back_ = k_trunc_ > 0 ? minimum(n_steps_, Int(k_trunc_)) : n_steps_;
  DifferentiateBody();
  FindForwardValuesRead();
  BuildAugmentedForward();
  ReadForwardSequences();
  ReadStates();
  ReadOutputRowsAndSaved();
  ReadSavedSizes();
  ReadOutsideGrads();
  StartBackwardLoop();
  AddTapGrads();
  AddSliceGrads();
  AddNonSequenceGrads();
  BuildBackwardLoop();
  grads_.assign(node_.num_inputs(), Var());
  truncation_allows_initial_ =
      k_trunc_ > 0 ? cast(n_steps_ <= Int(k_trunc_), DType::kFloat64) : Var();
  SequenceGrads();
  InitialStateGrads();
  NonSequenceGrads();
  for (int i = 1; i < node_.num_inputs(); ++i) {
    if (grads_[i].defined() && !IsFloat(node_.input(i).dtype())) {
      grads_[i] = Var();
    }
  }
  return std::move(grads_);
}

// 1. The body's vector-Jacobian product, with placeholders for the total
// gradient of each output of the step.
void ScanGradBuilder::DifferentiateBody() {
  body_outputs_.assign(f_.inner_outputs.begin(),
                       f_.inner_outputs.begin() + num_outputs_);
  step_grad_.assign(num_outputs_, Var());
  GradOptions options;
  options.disconnected_inputs = DisconnectedInputs::kIgnore;
  options.return_disconnected = ReturnDisconnected::kNone;
  for (int o = 0; o < num_outputs_; ++o) {
    const bool carries = f_.outputs[o].kind != ScanOutputKind::kMap ||
                         output_grads_[o].defined();
    if (!carries || !IsFloat(body_outputs_[o].dtype())) continue;
    step_grad_[o] = MakeInput(body_outputs_[o].type(),
                              absl::StrCat("grad_", f_.outputs[o].name));
    options.known_grads.push_back({body_outputs_[o], step_grad_[o]});
  }
  std::vector<Var> float_inputs;
  std::vector<int> float_index;
  for (size_t i = 0; i < f_.inner_inputs.size(); ++i) {
    if (IsFloat(f_.inner_inputs[i].dtype())) {
      float_inputs.push_back(f_.inner_inputs[i]);
      float_index.push_back(static_cast<int>(i));
    }
  }
  inner_grad_.assign(f_.inner_inputs.size(), Var());
  if (!options.known_grads.empty() && !float_inputs.empty()) {
    std::vector<Var> g = grad(Var(), float_inputs, options);
    for (size_t i = 0; i < g.size(); ++i) inner_grad_[float_index[i]] = g[i];
  }
}

// 2. The forward values the gradient reads: the step's inputs, its
// outputs, and intermediates (saved by the forward loop).
void ScanGradBuilder::FindForwardValuesRead() {
  absl::flat_hash_set<const Node*> forward_nodes;
  for (Node* n : TopologicalNodes(body_outputs_)) forward_nodes.insert(n);
  absl::flat_hash_map<const Variable*, int> output_of;
  for (int o = num_outputs_ - 1; o >= 0; --o)
    output_of[body_outputs_[o].get()] = o;
  std::vector<Var> defined_grads;
  for (const Var& g : inner_grad_) {
    if (g.defined()) defined_grads.push_back(g);
  }
  // Walk the gradient graph down to forward values, without entering the
  // forward computation (its inputs are not needed, only its values).
  absl::flat_hash_set<const Variable*> seen;
  // Sizes of forward intermediates (the zeros a slice's gradient starts
  // from take the sliced value's shape): read from the saved array's shape
  // unless the value itself is read too.
  std::vector<Var> stack = defined_grads;
  while (!stack.empty()) {
    Var v = stack.back();
    stack.pop_back();
    if (!seen.insert(v.get()).second) continue;
    Node* owner = v.owner();
    if (owner == nullptr) {
      inputs_read_.insert(v.get());
    } else if (forward_nodes.contains(owner)) {
      if (output_of.contains(v.get())) {
        output_rows_read_.insert(v.get());
      } else {
        saved_.push_back(v);
      }
    } else if (const auto* size = dynamic_cast<const Shape*>(&owner->op());
               size != nullptr && size->axis() >= 0 &&
               owner->input(0).owner() != nullptr &&
               forward_nodes.contains(owner->input(0).owner()) &&
               !output_of.contains(owner->input(0).get())) {
      size_reads_.push_back(owner);
    } else {
      for (const Var& in : owner->inputs()) stack.push_back(in);
    }
  }
  // Intermediates whose sizes only are read: each size comes from the
  // shapes of the loop's inputs where it follows from them. Otherwise the
  // intermediate is saved too, for its array's shape; the backward loop
  // does not read its rows.
  absl::flat_hash_set<const Variable*> sized;
  for (Node* n : size_reads_) {
    const Var& v = n->input(0);
    if (seen.contains(v.get()) && !sized.contains(v.get())) {
      continue;  // its values are read too
    }
    seen.insert(v.get());
    sized.insert(v.get());
    const int axis = static_cast<const Shape&>(n->op()).axis();
    if (Var size = OuterSize(v, axis); size.defined()) {
      outer_sizes_[{v.get(), axis}] = size;
    } else if (size_only_.insert(v.get()).second) {
      saved_.push_back(v);
    }
  }
}

Var ScanGradBuilder::OuterSize(const Var& v, int axis) const {
  if (v.type().dim(axis) != kUnknownDim) return Int(v.type().dim(axis));
  for (size_t i = 0; i < f_.inner_inputs.size(); ++i) {
    if (!f_.inner_inputs[i].is(v)) continue;
    const int p = static_cast<int>(i);
    for (int s = 0; s < num_sequences_; ++s) {
      const int first = f_.inner_sequence_input(s);
      if (p >= first &&
          p < first + static_cast<int>(f_.sequences[s].taps.size())) {
        return shape_i(node_.input(1 + s), axis + 1);
      }
    }
    for (int o = 0; o < num_outputs_; ++o) {
      const int init = f_.initial_input_of_output(o);
      const int first = f_.inner_output_input(o);
      if (init < 0 || p < first ||
          p >= first + static_cast<int>(f_.outputs[o].taps.size())) {
        continue;
      }
      // An initial state holds m rows, but a kLast state is one row.
      const bool rows = f_.outputs[o].kind != ScanOutputKind::kLast;
      return shape_i(node_.input(init), axis + (rows ? 1 : 0));
    }
    const int j = p - f_.inner_non_sequence_input(0);
    if (j >= 0 && j < num_non_sequences_) {
      return shape_i(node_.input(f_.first_non_sequence_input() + j), axis);
    }
    return Var();
  }
  const Node* owner = v.owner();
  if (owner == nullptr || owner->num_outputs() != 1) return Var();
  if (AsElementwise(*owner) != nullptr) {
    // Any input not broadcast along `axis` has the output's size there.
    for (const Var& in : owner->inputs()) {
      if (in.type().broadcastable(axis)) continue;
      if (Var size = OuterSize(in, axis); size.defined()) return size;
    }
    return Var();
  }
  if (const auto* ds = dynamic_cast<const DimShuffle*>(&owner->op())) {
    const int from = ds->pattern()[axis];
    return from < 0 ? Int(1) : OuterSize(owner->input(0), from);
  }
  if (AsGemm(owner) != nullptr) {
    // (..., m, k) x (..., k, n): the leading axes and m from A, n from B.
    const int last = v.ndim() - 1;
    return axis < last ? OuterSize(owner->input(0), axis)
                       : OuterSize(owner->input(1), axis);
  }
  return Var();
}

// 3. The augmented forward loop: the same loop, also storing the saved
// intermediates and the history of states kept only at their end.
void ScanGradBuilder::BuildAugmentedForward() {
  auto augmented = std::make_shared<ScanSpec>(f_);
  augmented->inner_outputs.assign(f_.inner_outputs.begin(),
                                  f_.inner_outputs.begin() + num_outputs_);
  history_of_.assign(num_outputs_, -1);
  for (int o = 0; o < num_outputs_; ++o) {
    if (f_.outputs[o].kind != ScanOutputKind::kLast) continue;
    history_of_[o] = static_cast<int>(augmented->outputs.size());
    ScanOutput map;
    map.name = absl::StrCat(f_.outputs[o].name, "_history");
    augmented->outputs.push_back(map);
    augmented->inner_outputs.push_back(body_outputs_[o]);
  }
  for (const Var& v : saved_) {
    saved_at_.push_back(static_cast<int>(augmented->outputs.size()));
    ScanOutput map;
    map.name = v.name().empty() ? "saved" : v.name();
    augmented->outputs.push_back(map);
    augmented->inner_outputs.push_back(v);
  }
  forward_ = MakeScanNode(augmented, std::vector<Var>(node_.inputs().begin(),
                                                      node_.inputs().end()));
}

// Rows of the forward arrays, read from the last step back.
Var ScanGradBuilder::ReadRows(const Var& rows, bool reversed_storage,
                              const TensorType& row_type,
                              const std::string& name) {
  BackwardSequence seq{
      rows, {0}, !reversed_storage, {MakeInput(row_type, name)}, name};
  sequences_.push_back(seq);
  return seq.placeholders[0];
}

// 3a. The forward sequences, cut to the N positions the forward loop used.
void ScanGradBuilder::ReadForwardSequences() {
  for (int s = 0; s < num_sequences_; ++s) {
    const ScanSequence& fs = f_.sequences[s];
    const int first = f_.inner_sequence_input(s);
    // A sequence the gradient does not read stays out of the backward loop,
    // which would otherwise keep it alive (and stop the forward loop from
    // overwriting its rows). Its taps go together: they fix the rows read.
    bool read = false;
    for (size_t k = 0; k < fs.taps.size(); ++k) {
      read |= inputs_read_.contains(f_.inner_inputs[first + k].get());
    }
    if (!read) continue;
    const Var& x = node_.input(1 + s);
    const int span = fs.hi() - fs.lo();
    Var used =
        fs.backwards
            ? slice(x, {Slice(shape_i(x, 0) - n_steps_ - Int(span), kNone)})
            : slice(x, {Slice(0, n_steps_ + Int(span))});
    BackwardSequence seq{used, fs.taps, !fs.backwards, {}, fs.name};
    for (size_t k = 0; k < fs.taps.size(); ++k) {
      seq.placeholders.push_back(f_.inner_inputs[first + k]);
    }
    sequences_.push_back(seq);
  }
}

// 3b. The states the taps read: the initial rows, then the outputs.
void ScanGradBuilder::ReadStates() {
  for (int o = 0; o < num_outputs_; ++o) {
    const ScanOutput& fo = f_.outputs[o];
    if (fo.kind == ScanOutputKind::kMap) continue;
    const int first = f_.inner_output_input(o);
    bool read = false;
    for (size_t k = 0; k < fo.taps.size(); ++k) {
      read |= inputs_read_.contains(f_.inner_inputs[first + k].get());
    }
    if (!read) continue;
    const Var& init = node_.input(f_.initial_input_of_output(o));
    Var history;
    Var first_rows;
    if (fo.kind == ScanOutputKind::kLast) {
      std::vector<int> pattern = {kNewAxis};
      for (int d = 0; d < init.ndim(); ++d) pattern.push_back(d);
      first_rows = dimshuffle(init, pattern);
      history = forward_[history_of_[o]];
    } else {
      // Row j of the initial value is the state at time j - m: its first m
      // rows (rows from m on are unused).
      first_rows = slice(init, {Slice(0, fo.m())});
      history = forward_[o];
    }
    BackwardSequence seq{
        concatenate({first_rows, history}, 0), fo.taps, true, {}, fo.name};
    for (size_t k = 0; k < fo.taps.size(); ++k) {
      seq.placeholders.push_back(f_.inner_inputs[first + k]);
      rows_in_outer_[seq.placeholders.back().get()] = {seq.outer,
                                                       fo.m() + fo.taps[k]};
    }
    sequences_.push_back(seq);
  }
}

// 3c. This step's outputs and d. the saved intermediates.
void ScanGradBuilder::ReadOutputRowsAndSaved() {
  for (int o = 0; o < num_outputs_; ++o) {
    if (!output_rows_read_.contains(body_outputs_[o].get())) continue;
    Var rows = f_.outputs[o].kind == ScanOutputKind::kLast
                   ? forward_[history_of_[o]]
                   : forward_[o];
    replace_[body_outputs_[o].get()] =
        ReadRows(rows, f_.outputs[o].reverse_storage, body_outputs_[o].type(),
                 absl::StrCat(f_.outputs[o].name, "[t]"));
    if (!f_.outputs[o].reverse_storage) {
      rows_in_outer_[body_outputs_[o].get()] = {rows, 0};
    }
  }
  for (size_t i = 0; i < saved_.size(); ++i) {
    if (size_only_.contains(saved_[i].get())) continue;
    replace_[saved_[i].get()] =
        ReadRows(forward_[saved_at_[i]], false, saved_[i].type(), "saved[t]");
    rows_in_outer_[saved_[i].get()] = {forward_[saved_at_[i]], 0};
  }
}

// A size read of a value saved for its size: that size of the saved array,
// a value the backward loop reads on the host. One placeholder per value and
// axis, however many reads there are (so that zeros of the same shape are
// seen to be the same).
void ScanGradBuilder::ReadSavedSizes() {
  absl::flat_hash_map<std::pair<const Variable*, int>, Var> size_placeholder;
  for (Node* n : size_reads_) {
    const Var& v = n->input(0);
    const int axis = static_cast<const Shape&>(n->op()).axis();
    auto outer = outer_sizes_.find({v.get(), axis});
    if (outer == outer_sizes_.end() && !size_only_.contains(v.get())) continue;
    auto [it, fresh] = size_placeholder.try_emplace({v.get(), axis});
    if (fresh) {
      it->second =
          MakeInput(n->output(0).type(),
                    absl::StrCat("size", axis, "_of_",
                                 v.name().empty() ? "intermediate" : v.name()));
      size_placeholders_.push_back(it->second);
      if (outer != outer_sizes_.end()) {
        size_values_.push_back(outer->second);
      } else {
        const size_t i = std::find_if(saved_.begin(), saved_.end(),
                                      [&](const Var& s) { return s.is(v); }) -
                         saved_.begin();
        size_values_.push_back(shape_i(forward_[saved_at_[i]], axis + 1));
      }
    }
    size_substitutions_.push_back({n->output(0), it->second});
  }
}

// 3e. The gradients arriving from outside for each output row.
void ScanGradBuilder::ReadOutsideGrads() {
  outside_grad_.assign(num_outputs_, Var());
  for (int o = 0; o < num_outputs_; ++o) {
    if (!step_grad_[o].defined() ||
        f_.outputs[o].kind == ScanOutputKind::kLast ||
        !output_grads_[o].defined()) {
      continue;
    }
    outside_grad_[o] = ReadRows(output_grads_[o], f_.outputs[o].reverse_storage,
                                step_grad_[o].type(),
                                absl::StrCat("d", f_.outputs[o].name, "[t]"));
  }
}

// 4. The backward loop: its sequences are the rows read above.
void ScanGradBuilder::StartBackwardLoop() {
  spec_ = std::make_shared<ScanSpec>();
  spec_->name = absl::StrCat("grad_of_", f_.name.empty() ? "scan" : f_.name);
  spec_->source = node_.source();
  def_.spec = spec_;
  def_.n_steps = n_back_;
  for (const BackwardSequence& seq : sequences_) {
    spec_->sequences.push_back(ScanSequence{seq.taps, seq.name, seq.backwards});
    def_.sequences.push_back(seq.outer);
    for (const Var& p : seq.placeholders) def_.step_placeholders.push_back(p);
  }
}

// Gradient sent back through each tap of each fed-back output.
void ScanGradBuilder::AddTapGrads() {
  for (int o = 0; o < num_outputs_; ++o) {
    const ScanOutput& fo = f_.outputs[o];
    if (fo.kind == ScanOutputKind::kMap || !step_grad_[o].defined()) continue;
    const int first = f_.inner_output_input(o);
    for (size_t k = 0; k < fo.taps.size(); ++k) {
      const int tap = fo.taps[k];
      TapGrad t{o, tap,
                MakeInput(step_grad_[o].type(), absl::StrCat("back_", fo.name)),
                static_cast<int>(spec_->outputs.size())};
      ScanOutput out;
      out.kind = ScanOutputKind::kRecurrent;
      out.taps = {tap};
      out.name = absl::StrCat("d", fo.name, "_tap", tap);
      spec_->outputs.push_back(out);
      const Var& g = inner_grad_[first + k];
      tap_values_.push_back(g.defined() ? g : zeros_like(step_grad_[o]));
      // Before the last step: nothing from later steps, except for a state
      // kept only at its end, whose gradient from outside arrives here.
      const Var& init = node_.input(f_.initial_input_of_output(o));
      Var initial;
      if (fo.kind == ScanOutputKind::kLast && output_grads_[o].defined()) {
        std::vector<int> pattern = {kNewAxis};
        for (int d = 0; d < output_grads_[o].ndim(); ++d) pattern.push_back(d);
        initial = dimshuffle(output_grads_[o], pattern);
      } else {
        const TensorType row = step_grad_[o].type();
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
      def_.initial_states.push_back(initial);
      tap_grads_.push_back(t);
    }
  }
}

// Gradients of the sequence slices, stored in forward order.
void ScanGradBuilder::AddSliceGrads() {
  for (int s = 0; s < num_sequences_; ++s) {
    const int first = f_.inner_sequence_input(s);
    for (size_t k = 0; k < f_.sequences[s].taps.size(); ++k) {
      const Var& g = inner_grad_[first + k];
      if (!g.defined()) continue;
      ScanOutput out;
      out.kind = ScanOutputKind::kMap;
      out.reverse_storage = true;
      out.name = absl::StrCat("d", f_.sequences[s].name);
      slice_grads_.push_back(
          {s, static_cast<int>(k), static_cast<int>(spec_->outputs.size())});
      spec_->outputs.push_back(out);
      slice_values_.push_back(g);
    }
  }
}

int ScanGradBuilder::StoreRows(const Var& v, const std::string& name) {
  auto [it, fresh] = stored_rows_.try_emplace(
      v.get(), static_cast<int>(spec_->outputs.size()));
  if (fresh) {
    ScanOutput out;
    out.kind = ScanOutputKind::kMap;
    out.reverse_storage = true;
    out.name = name;
    spec_->outputs.push_back(out);
    sum_values_.push_back(v);
  }
  return it->second;
}

// Non-sequence gradients summed over the steps. One that is a product or a
// sum of the step's rows (an RNN's recurrent weights, a bias) is not
// accumulated: the loop stores the rows and one product (one sum) over all
// steps' rows follows it, instead of a small one per step.
void ScanGradBuilder::AddNonSequenceGrads() {
  for (size_t i = 0; i < slice_grads_.size(); ++i) {
    stored_rows_.try_emplace(slice_values_[i].get(),
                             slice_grads_[i].backward_output);
  }
  const int first_non_seq = f_.inner_non_sequence_input(0);
  for (int j = 0; j < num_non_sequences_; ++j) {
    const Var& g = inner_grad_[first_non_seq + j];
    if (!g.defined()) continue;
    const Var& w = node_.input(f_.first_non_sequence_input() + j);
    Var x, y;
    double alpha = 1.0;
    if (AsRowProduct(g, x, y, alpha)) {
      // X's rows (the forward's h_{t-1} for an RNN's recurrent weights) are
      // read from the forward's arrays, not copied out by the loop again.
      int x_output = -1;
      Var x_rows;
      if (auto it = rows_in_outer_.find(x.get()); it != rows_in_outer_.end()) {
        const Var first = Int(it->second.first_row) + n_steps_ - n_back_;
        x_rows = slice(it->second.array, {Slice(first, first + n_back_)});
      } else {
        x_output = StoreRows(x, absl::StrCat("rows_for_d", w.name()));
      }
      const int y_output = StoreRows(y, absl::StrCat("rows_for_d", w.name()));
      rows_grads_.push_back({j, x_output, x_rows, y_output, alpha, false});
      continue;
    }
    if (bool keepdims; AsRowSum(g, y, keepdims)) {
      rows_grads_.push_back({j, -1, Var(),
                             StoreRows(y, absl::StrCat("rows_for_d", w.name())),
                             1.0, keepdims});
      continue;
    }
    SumGrad sg{j, MakeInput(g.type(), absl::StrCat("sum_d", w.name())),
               static_cast<int>(spec_->outputs.size())};
    ScanOutput out;
    out.kind = ScanOutputKind::kLast;
    out.taps = {-1};
    out.name = absl::StrCat("d", w.name());
    spec_->outputs.push_back(out);
    def_.initial_states.push_back(zeros_like(w));
    sum_values_.push_back(sg.placeholder + g);
    sum_grads_.push_back(sg);
  }
}

// The backward loop's remaining placeholders and non-sequences, its body
// (the gradients above with forward values replaced by the rows read), and
// the loop itself.
void ScanGradBuilder::BuildBackwardLoop() {
  for (const TapGrad& t : tap_grads_)
    def_.step_placeholders.push_back(t.placeholder);
  for (const SumGrad& sg : sum_grads_)
    def_.step_placeholders.push_back(sg.placeholder);
  // Non-sequences of the backward loop: the forward loop's.
  const int first_non_seq = f_.inner_non_sequence_input(0);
  for (int j = 0; j < num_non_sequences_; ++j) {
    def_.non_sequence_placeholders.push_back(
        f_.inner_inputs[first_non_seq + j]);
    def_.non_sequences.push_back(
        node_.input(f_.first_non_sequence_input() + j));
  }
  for (size_t i = 0; i < size_placeholders_.size(); ++i) {
    def_.non_sequence_placeholders.push_back(size_placeholders_[i]);
    def_.non_sequences.push_back(size_values_[i]);
  }
  // The total gradient of each output of the step.
  std::vector<std::pair<Var, Var>> substitutions;
  for (int o = 0; o < num_outputs_; ++o) {
    if (!step_grad_[o].defined()) continue;
    Var total = outside_grad_[o];
    for (const TapGrad& t : tap_grads_) {
      if (t.output != o) continue;
      total = total.defined() ? total + t.placeholder : t.placeholder;
    }
    substitutions.push_back({step_grad_[o], total});
  }
  for (const Var& v : saved_) {
    if (!size_only_.contains(v.get())) {
      substitutions.push_back({v, replace_.at(v.get())});
    }
  }
  substitutions.insert(substitutions.end(), size_substitutions_.begin(),
                       size_substitutions_.end());
  for (int o = 0; o < num_outputs_; ++o) {
    if (replace_.contains(body_outputs_[o].get())) {
      substitutions.push_back(
          {body_outputs_[o], replace_.at(body_outputs_[o].get())});
    }
  }
  std::vector<Var> values = tap_values_;
  values.insert(values.end(), slice_values_.begin(), slice_values_.end());
  values.insert(values.end(), sum_values_.begin(), sum_values_.end());
  // In the order the spec's outputs were appended: tap grads, slice grads,
  // stored rows and sums.
  def_.inner_outputs = CloneReplace(values, substitutions);
  backward_ = BuildLoop(std::move(def_));
}

// 5. Gradients of the sequences: the backward loop's rows, added at the
// positions the forward loop read.
void ScanGradBuilder::SequenceGrads() {
  for (const SliceGrad& sg : slice_grads_) {
    const ScanSequence& fs = f_.sequences[sg.sequence];
    const Var& x = node_.input(1 + sg.sequence);
    const int tap = fs.taps[sg.tap_index];
    Var rows = backward_[sg.backward_output];  // steps N-Nb..N-1, fwd order
    Var& g = grads_[1 + sg.sequence];
    if (!g.defined()) g = zeros_like(x);
    const Var offset = Int(tap - fs.lo());
    if (!fs.backwards) {
      Var start = n_steps_ - n_back_ + offset;
      g = inc_subtensor(slice(g, {Slice(start, start + n_back_)}), rows);
    } else {
      // Forward step t read position allowed-1-t: rows run the other way.
      const Var allowed = shape_i(x, 0) - Int(fs.hi() - fs.lo());
      Var start = allowed - n_steps_ + offset;
      g = inc_subtensor(slice(g, {Slice(start, start + n_back_)}),
                        slice(rows, {Slice(kNone, kNone, -1)}));
    }
  }
}

// Gradients of the initial states: what the first steps sent back through
// each tap, zero under a truncation shorter than the loop.
void ScanGradBuilder::InitialStateGrads() {
  for (const TapGrad& t : tap_grads_) {
    const ScanOutput& fo = f_.outputs[t.output];
    const int input = f_.initial_input_of_output(t.output);
    const Var& init = node_.input(input);
    // Steps t < |tap| read the initial value: the last rows of this tap's
    // backward output hold them (the last row is step 0).
    Var contributions =
        slice(backward_[t.backward_output], {Slice(t.tap, kNone)});
    Var in_order = slice(contributions, {Slice(kNone, kNone, -1)});
    Var& g = grads_[input];
    if (fo.kind == ScanOutputKind::kLast) {
      std::vector<int> pattern = {kNewAxis};
      for (int d = 0; d < init.ndim(); ++d) pattern.push_back(d);
      Var rows = zeros_like(dimshuffle(init, pattern));
      rows = inc_subtensor(slice(rows, {Slice(0, shape_i(in_order, 0))}),
                           in_order);
      Var total = index(rows, 0);
      if (output_grads_[t.output].defined()) {
        // With no steps, the final state is the initial one.
        total = total +
                output_grads_[t.output] *
                    cast(eq(n_steps_, Int(0)), output_grads_[t.output].dtype());
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
  if (truncation_allows_initial_.defined()) {
    for (int o = 0; o < num_outputs_; ++o) {
      const int input = f_.initial_input_of_output(o);
      if (input < 0 || !grads_[input].defined()) continue;
      grads_[input] = grads_[input] *
                      cast(truncation_allows_initial_, grads_[input].dtype());
    }
  }
}

// Gradients of the non-sequences: the accumulated sums, and one product (or
// sum) over all steps' rows for the others.
void ScanGradBuilder::NonSequenceGrads() {
  for (const SumGrad& sg : sum_grads_) {
    grads_[f_.first_non_sequence_input() + sg.non_sequence] =
        backward_[sg.backward_output];
  }
  // Over all steps' rows at once: (Nb, n, q) -> (Nb * n, q). With no steps
  // the product has an inner size of 0 and the sum no rows: zeros.
  auto all_rows = [](const Var& v) { return reshape(v, {-1, shape_i(v, 2)}); };
  for (const RowsGrad& rg : rows_grads_) {
    Var ys = all_rows(backward_[rg.y_output]);
    if (!rg.x_rows.defined() && rg.x_output < 0) {
      grads_[f_.first_non_sequence_input() + rg.non_sequence] =
          sum(ys, 0, rg.keepdims);
      continue;
    }
    const Var xs =
        all_rows(rg.x_rows.defined() ? rg.x_rows : backward_[rg.x_output]);
    grads_[f_.first_non_sequence_input() + rg.non_sequence] =
        MakeGemm(transpose(xs), ys, Var(), rg.alpha, 0.0,
                 std::source_location::current());
  }
}

}  // namespace

std::vector<Var> Scan::Grad(Node& node,
                            std::span<const Var> output_grads) const {
  return ScanGradBuilder(*spec_, node, output_grads).Build();
}

}  // namespace theta
