// Subtensor(Elementwise(a, b, ...)) -> Elementwise(a[idx], b[idx], ...)
// (Theano's local_subtensor_lift): the op computes only the part that is
// read, and the part fuses with its reader. Theano lifts a slice only from a
// result with one reader; here a result read only through views of parts
// that do not overlap is lifted too, which computes no element twice. An
// LSTM's gates are the case: the bias added to the whole pre-activation row
// then joins each gate's kernel instead of running as a kernel of its own.
//
// Runs in the specialize phase after GEMM detection (nodes are visited in
// topological order), so that x W + h U + b first becomes a GEMM that
// accumulates h U into x W, and only the bias is lifted into the slices.
#include <optional>
#include <vector>

#include "graph/function_graph.h"
#include "graph/rewrite.h"
#include "ops/elementwise_op.h"
#include "ops/subtensor_ops.h"

namespace theta {
namespace {

using Replacement = std::optional<std::vector<Var>>;

const Subtensor* AsViewSubtensor(const Node* node) {
  const auto* sub =
      node != nullptr ? dynamic_cast<const Subtensor*>(&node->op()) : nullptr;
  if (sub == nullptr) return nullptr;
  for (const IndexEntry& e : sub->entries()) {
    if (e.step <= 0) return nullptr;  // a copy, not a view
  }
  return sub;
}

// The elements an entry selects along its dimension, [first, last), when
// its bounds are constants counted from the start; nullopt otherwise.
std::optional<std::pair<int64_t, int64_t>> ConstantRange(const IndexEntry& e) {
  if (e.start_input >= 0 || e.stop_input >= 0) return std::nullopt;
  const int64_t first = e.start == kNone ? 0 : e.start;
  if (first < 0) return std::nullopt;
  if (e.is_index) return std::make_pair(first, first + 1);
  if (e.stop == kNone) return std::make_pair(first, INT64_MAX);
  if (e.stop < 0) return std::nullopt;
  return std::make_pair(first, e.stop);
}

// Whether two indexings of the same array are shown not to overlap: along
// some dimension both select constant ranges that are disjoint.
bool Disjoint(const Subtensor& a, const Subtensor& b) {
  const size_t n = std::min(a.entries().size(), b.entries().size());
  for (size_t d = 0; d < n; ++d) {
    auto ra = ConstantRange(a.entries()[d]);
    auto rb = ConstantRange(b.entries()[d]);
    if (ra && rb && (ra->second <= rb->first || rb->second <= ra->first)) {
      return true;
    }
  }
  return false;
}

// `sub`'s indexing applied to each input of the elementwise `producer`,
// and the op applied to the parts. An input broadcast along an indexed
// dimension (static size 1 where the result's is not) keeps it whole for a
// range and takes element 0 for an index; another input has the result's
// size there and checks the bounds.
Var LiftedPart(const Node& sub_node, const Node& producer) {
  const auto& sub = static_cast<const Subtensor&>(sub_node.op());
  const TensorType& result = producer.output_variable(0)->type();
  std::vector<Var> parts;
  for (const Var& in : producer.inputs()) {
    std::vector<IndexEntry> entries;
    std::vector<Var> inputs = {in};
    for (size_t d = 0; d < sub.entries().size(); ++d) {
      IndexEntry e = sub.entries()[d];
      const int dim = static_cast<int>(d);
      if (in.type().broadcastable(dim) && !result.broadcastable(dim)) {
        IndexEntry whole;
        whole.is_index = e.is_index;
        if (e.is_index) whole.start = 0;
        entries.push_back(whole);
        continue;
      }
      if (e.start_input >= 0) {
        inputs.push_back(sub_node.input(e.start_input));
        e.start_input = static_cast<int>(inputs.size()) - 1;
      }
      if (e.stop_input >= 0) {
        inputs.push_back(sub_node.input(e.stop_input));
        e.stop_input = static_cast<int>(inputs.size()) - 1;
      }
      entries.push_back(e);
    }
    parts.push_back(ApplyOp1(std::make_shared<Subtensor>(std::move(entries)),
                             std::move(inputs),
                             std::source_location::current()));
  }
  return ApplyOp1(producer.op_ptr(), std::move(parts),
                  std::source_location::current());
}

Replacement LiftSubtensor(FunctionGraph& graph, Node& node) {
  const Subtensor* sub = AsViewSubtensor(&node);
  Node* producer = node.input(0).owner();
  if (sub == nullptr || producer == nullptr ||
      AsElementwise(*producer) == nullptr || producer->num_outputs() != 1) {
    return std::nullopt;
  }
  // Every reader takes a view of a part; the parts must not overlap, and
  // each must lift to the type it had.
  std::span<const FunctionGraph::Client> readers =
      graph.clients(producer->output_variable(0));
  for (size_t i = 0; i < readers.size(); ++i) {
    const Subtensor* part = AsViewSubtensor(readers[i].node);
    if (part == nullptr || readers[i].index != 0) return std::nullopt;
    for (size_t j = 0; j < i; ++j) {
      if (!Disjoint(*part,
                    static_cast<const Subtensor&>(readers[j].node->op()))) {
        return std::nullopt;
      }
    }
    if (readers[i].node != &node &&
        LiftedPart(*readers[i].node, *producer).type() !=
            readers[i].node->output_variable(0)->type()) {
      return std::nullopt;
    }
  }
  Var lifted = LiftedPart(node, *producer);
  if (lifted.type() != node.output_variable(0)->type()) return std::nullopt;
  return std::vector<Var>{lifted};
}

}  // namespace

THETA_REGISTER_NODE_REWRITE_FOR(kSpecialize, "lift_subtensor", 30, Subtensor,
                                LiftSubtensor);

}  // namespace theta
