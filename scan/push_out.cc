#include "scan/push_out.h"

#include "absl/container/flat_hash_map.h"
#include "graph/function_graph.h"
#include "ops/elementwise_op.h"
#include "ops/linalg_ops.h"
#include "ops/ops.h"
#include "ops/shape_ops.h"

namespace theta {
namespace {

constexpr int kInvariant = -1;
constexpr int kVarying = -2;

struct TapGroup {
  int sequence;
  int tap_index;
};

class Vectorizer {
 public:
  Vectorizer(const ScanSpec& spec, const LoopBody& body)
      : spec_(spec), body_(body) {
    int inner = 0;
    for (size_t s = 0; s < spec.sequences.size(); ++s) {
      for (size_t k = 0; k < spec.sequences[s].taps.size(); ++k) {
        group_[body.inner_inputs[inner].get()] =
            static_cast<int>(groups_.size());
        outer_[body.inner_inputs[inner].get()] = body.sequence_inputs[1 + s];
        groups_.push_back({static_cast<int>(s), static_cast<int>(k)});
        ++inner;
      }
    }
    const int first_non_seq = spec.inner_non_sequence_input(0);
    for (size_t j = 0; j < body.non_sequences.size(); ++j) {
      const Variable* p = body.inner_inputs[first_non_seq + j].get();
      group_[p] = kInvariant;
      outer_[p] = body.non_sequences[j];
    }
    // Output taps and states vary with the loop.
    for (int i = inner; i < first_non_seq; ++i) {
      group_[body.inner_inputs[i].get()] = kVarying;
    }
  }

  const std::vector<TapGroup>& groups() const { return groups_; }

  int Group(const Var& v) {
    auto it = group_.find(v.get());
    if (it != group_.end()) return it->second;
    if (v.owner() == nullptr) return kInvariant;  // constants
    return kVarying;  // decided in Analyse; anything else varies
  }

  // Classifies every body node: the tap group it depends on, whether it can
  // be computed for all steps at once, and whether its subgraph has a
  // product (only such subgraphs are worth pushing out).
  void Analyse(const std::vector<Var>& outputs) {
    for (Node* node : TopologicalNodes(outputs)) {
      int group = kInvariant;
      bool product = false;
      for (const Var& in : node->inputs()) {
        const int g = Group(in);
        product |= has_product_.contains(in.get()) && has_product_[in.get()];
        if (g == kInvariant || group == kVarying) continue;
        if (g == kVarying || (group >= 0 && group != g)) {
          group = kVarying;
        } else {
          group = g;
        }
      }
      if (group >= 0 && !Vectorizable(*node)) group = kVarying;
      if (AsGemm(node) != nullptr) product = true;
      for (int o = 0; o < node->num_outputs(); ++o) {
        group_[node->output_variable(o)] = group;
        has_product_[node->output_variable(o)] = product;
      }
    }
  }

  bool HasProduct(const Var& v) {
    auto it = has_product_.find(v.get());
    return it != has_product_.end() && it->second;
  }

  // The value of `v` for every step at once (a leading time axis), or for
  // an invariant, its outer value.
  Var Outer(const Var& v) {
    if (auto it = outer_.find(v.get()); it != outer_.end()) return it->second;
    Node* node = v.owner();
    if (node == nullptr) return v;  // a constant
    if (Group(v) == kInvariant) {
      // An invariant expression of non-sequences inside the body.
      std::vector<Var> inputs;
      for (const Var& in : node->inputs()) inputs.push_back(Outer(in));
      Var out = Node::Create(node->op_ptr(), inputs, node->source())
                    ->output(v->index());
      outer_[v.get()] = out;
      return out;
    }
    std::vector<Var> timed(node->num_inputs());
    for (int i = 0; i < node->num_inputs(); ++i)
      timed[i] = Outer(node->input(i));
    Var out;
    const std::source_location loc = std::source_location::current();
    if (const Elementwise* e = AsElementwise(*node)) {
      (void)e;
      std::vector<Var> inputs;
      for (int i = 0; i < node->num_inputs(); ++i) {
        inputs.push_back(Group(node->input(i)) == kInvariant
                             ? PadRank(timed[i], node->input(i).ndim() + 1, loc)
                             : timed[i]);
      }
      out = Node::Create(node->op_ptr(), inputs, node->source())
                ->output(v->index());
    } else if (const auto* ds = dynamic_cast<const DimShuffle*>(&node->op())) {
      std::vector<int> pattern = {0};
      for (int p : ds->pattern()) pattern.push_back(p < 0 ? kNewAxis : p + 1);
      out = dimshuffle(timed[0], pattern, loc);
    } else if (const Gemm* g = AsGemm(node)) {
      // (T, m, k) x (k, n): one product over all T*m rows.
      const Var& a = timed[0];
      Var rows = reshape(a, {-1, shape_i(a, 2, loc)}, loc);
      Var product = MakeGemm(rows, timed[1], Var(), g->alpha(), 0.0, loc);
      out = reshape(
          product,
          {shape_i(a, 0, loc), shape_i(a, 1, loc), shape_i(timed[1], 1, loc)},
          loc);
    }
    outer_[v.get()] = out;
    return out;
  }

 private:
  bool Vectorizable(const Node& node) {
    if (AsElementwise(node) != nullptr) return node.num_outputs() == 1;
    if (dynamic_cast<const DimShuffle*>(&node.op()) != nullptr) return true;
    if (const Gemm* g = AsGemm(&node)) {
      return !g->has_bias() && node.input(0).ndim() == 2 &&
             Group(node.input(0)) >= 0 && Group(node.input(1)) == kInvariant;
    }
    return false;
  }

  const ScanSpec& spec_;
  const LoopBody& body_;
  std::vector<TapGroup> groups_;
  absl::flat_hash_map<const Variable*, int> group_;
  absl::flat_hash_map<const Variable*, bool> has_product_;
  absl::flat_hash_map<const Variable*, Var> outer_;
};

}  // namespace

int PushOutSequenceWork(ScanSpec& spec, LoopBody& body) {
  if (spec.sequences.empty()) return 0;
  Vectorizer vec(spec, body);
  vec.Analyse(body.inner_outputs);
  // The frontier: pushable values with a product whose users are not all
  // pushable in the same group (or that are body outputs).
  absl::flat_hash_map<const Variable*, std::vector<Node*>> users;
  for (Node* node : TopologicalNodes(body.inner_outputs)) {
    for (const Var& in : node->inputs()) users[in.get()].push_back(node);
  }
  absl::flat_hash_map<const Variable*, bool> is_output;
  for (const Var& out : body.inner_outputs) is_output[out.get()] = true;
  std::vector<Var> frontier;
  for (Node* node : TopologicalNodes(body.inner_outputs)) {
    for (int o = 0; o < node->num_outputs(); ++o) {
      Var v = node->output(o);
      const int g = vec.Group(v);
      if (g < 0 || !vec.HasProduct(v)) continue;
      bool boundary = is_output.contains(v.get());
      for (Node* user : users[v.get()]) {
        if (vec.Group(user->output(0)) != g) boundary = true;
      }
      if (boundary) frontier.push_back(v);
    }
  }
  if (frontier.empty()) return 0;

  const int first_output_tap =
      spec.inner_sequence_input(static_cast<int>(spec.sequences.size()));
  std::vector<Var> new_placeholders;
  std::vector<std::pair<Var, Var>> replacements;
  for (const Var& v : frontier) {
    const TapGroup group = vec.groups()[vec.Group(v)];
    const ScanSequence& source = spec.sequences[group.sequence];
    ScanSequence pushed{source.taps, "pushed_out", source.backwards};
    // One placeholder per tap keeps the source's row arithmetic; only the
    // group's tap is used.
    Var used;
    for (size_t k = 0; k < source.taps.size(); ++k) {
      Var p = MakeInput(v.type(), "pushed_out");
      if (static_cast<int>(k) == group.tap_index) used = p;
      new_placeholders.push_back(p);
    }
    spec.sequences.push_back(pushed);
    body.sequence_inputs.push_back(vec.Outer(v));
    replacements.push_back({v, used});
  }
  body.inner_inputs.insert(body.inner_inputs.begin() + first_output_tap,
                           new_placeholders.begin(), new_placeholders.end());
  body.inner_outputs = CloneReplace(body.inner_outputs, replacements);
  return static_cast<int>(frontier.size());
}

}  // namespace theta
