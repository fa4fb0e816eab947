// Canonicalisation and stabilisation rewrites of the op library.
//
// canonicalize: x*1, x+0, x-0, x/1 -> x; neg(neg(x)) -> x; dimshuffle of a
//   dimshuffle -> one dimshuffle; identity dimshuffle/cast -> input.
// stabilize: log(softmax(x)) -> log_softmax(x); log(sigmoid(x)) ->
//   -softplus(-x); log(1 - sigmoid(x)) -> -softplus(x); log(1 + x) ->
//   log1p(x); exp(x) - 1 -> expm1(x).
// specialize: inc(zeros, v, idx) + y -> inc(y, v, idx) when y is increments
//   of zeros of the same shape.
// final: inc(zeros, v, idx) -> PlaceInZeros(v, idx), zeros never computed;
//   inc(PlaceInZeros(parts...), v, idx) -> PlaceInZeros(parts..., (v, idx)).
#include "absl/strings/str_cat.h"
#include "graph/rewrite.h"
#include "ops/elementwise.h"
#include "ops/elementwise_op.h"
#include "ops/nnet.h"
#include "ops/nnet_ops.h"
#include "ops/shape.h"
#include "ops/shape_ops.h"
#include "ops/subtensor_ops.h"

namespace theta {
namespace {

using Replacement = std::optional<std::vector<Var>>;

// The value of a constant whose every element equals one number.
std::optional<double> UniformConstant(const Var& v) {
  if (v->kind() != VarKind::kConstant) return std::nullopt;
  const Tensor& t = v->constant_value();
  if (t.size() == 0) return std::nullopt;
  const double first = t.GetAsDouble(0);
  for (int64_t i = 1; i < t.size(); ++i) {
    if (t.GetAsDouble(i) != first) return std::nullopt;
  }
  return first;
}

bool IsConstantValue(const Var& v, double value) {
  std::optional<double> c = UniformConstant(v);
  return c.has_value() && *c == value;
}

// `x` can stand for `node`'s output only when it has the same type (no
// broadcasting, no dtype change happened).
Replacement If(const Var& x, Node& node) {
  if (x.type() != node.output_variable(0)->type()) return std::nullopt;
  return std::vector<Var>{x};
}

Replacement SimplifyArithmetic(FunctionGraph&, Node& node) {
  const Elementwise* e = AsElementwise(node);
  if (e == nullptr) return std::nullopt;
  const int op = e->single_opcode();
  switch (op) {
    case THETA_EW_ADD:
      if (IsConstantValue(node.input(1), 0)) return If(node.input(0), node);
      if (IsConstantValue(node.input(0), 0)) return If(node.input(1), node);
      break;
    case THETA_EW_SUB:
      if (IsConstantValue(node.input(1), 0)) return If(node.input(0), node);
      break;
    case THETA_EW_MUL:
      if (IsConstantValue(node.input(1), 1)) return If(node.input(0), node);
      if (IsConstantValue(node.input(0), 1)) return If(node.input(1), node);
      break;
    case THETA_EW_DIV:
      if (IsConstantValue(node.input(1), 1)) return If(node.input(0), node);
      break;
    case THETA_EW_NEG:
      if (IsElementwiseOp(node.input(0).owner(), THETA_EW_NEG)) {
        return If(node.input(0).owner()->input(0), node);
      }
      break;
    case THETA_EW_COPY:
      return If(node.input(0), node);
    default:
      break;
  }
  return std::nullopt;
}

Replacement MergeDimShuffles(FunctionGraph&, Node& node) {
  const auto* outer = dynamic_cast<const DimShuffle*>(&node.op());
  if (outer == nullptr) return std::nullopt;
  const std::vector<int>& p = outer->pattern();
  bool identity = static_cast<int>(p.size()) == outer->input_ndim();
  for (size_t i = 0; identity && i < p.size(); ++i) {
    identity = p[i] == static_cast<int>(i);
  }
  if (identity) return If(node.input(0), node);
  Node* inner_node = node.input(0).owner();
  const auto* inner =
      inner_node ? dynamic_cast<const DimShuffle*>(&inner_node->op()) : nullptr;
  if (inner == nullptr) return std::nullopt;
  std::vector<int> combined;
  for (int d : p) combined.push_back(d < 0 ? kNewAxis : inner->pattern()[d]);
  return std::vector<Var>{dimshuffle(inner_node->input(0), combined)};
}

// DimShuffle(Elementwise(a, b)) -> Elementwise(DimShuffle(a), DimShuffle(b)):
// moves layout changes towards the inputs so that elementwise chains meet
// and fuse (Theano's local_dimshuffle_lift).
Replacement LiftDimShuffle(FunctionGraph& graph, Node& node) {
  const auto* ds = dynamic_cast<const DimShuffle*>(&node.op());
  if (ds == nullptr) return std::nullopt;
  Node* producer = node.input(0).owner();
  const Elementwise* e = producer ? AsElementwise(*producer) : nullptr;
  if (e == nullptr || producer->num_outputs() != 1 ||
      graph.clients(producer->output_variable(0)).size() != 1) {
    return std::nullopt;
  }
  std::vector<Var> inputs;
  for (const Var& in : producer->inputs()) {
    inputs.push_back(dimshuffle(in, ds->pattern()));
  }
  Var lifted = ApplyOp1(producer->op_ptr(), std::move(inputs),
                        std::source_location::current());
  return If(lifted, node);
}

// An Alloc (explicit broadcast) that an elementwise op reads needs no
// materialising when another input already fixes every dimension the Alloc
// expands: the op broadcasts the value itself (Theano's
// local_elemwise_alloc). DimShuffles of an Alloc are first moved inside it.
Replacement DimShuffleOfAlloc(FunctionGraph& graph, Node& node) {
  const auto* ds = dynamic_cast<const DimShuffle*>(&node.op());
  if (ds == nullptr) return std::nullopt;
  Node* alloc = node.input(0).owner();
  if (alloc == nullptr || dynamic_cast<const Alloc*>(&alloc->op()) == nullptr ||
      graph.clients(alloc->output_variable(0)).size() != 1) {
    return std::nullopt;
  }
  const int n = alloc->num_inputs() - 1;
  Var value = PadRank(alloc->input(0), n, std::source_location::current());
  for (int d = 0; d < n; ++d) {
    const bool dropped = std::find(ds->pattern().begin(), ds->pattern().end(),
                                   d) == ds->pattern().end();
    if (dropped && !value.type().broadcastable(d)) return std::nullopt;
  }
  std::vector<DimArg> dims;
  for (int p : ds->pattern()) {
    dims.push_back(p < 0 ? DimArg(1) : DimArg(alloc->input(p + 1)));
  }
  return If(alloc_like(dimshuffle(value, ds->pattern()), dims,
                       node.output_variable(0)->type()),
            node);
}

Replacement ElementwiseOfAlloc(FunctionGraph&, Node& node) {
  const Elementwise* e = AsElementwise(node);
  if (e == nullptr) return std::nullopt;
  for (int i = 0; i < node.num_inputs(); ++i) {
    Node* alloc = node.input(i).owner();
    if (alloc == nullptr ||
        dynamic_cast<const Alloc*>(&alloc->op()) == nullptr) {
      continue;
    }
    const TensorType& t = node.input(i).type();
    bool covered = true;
    for (int d = 0; d < t.ndim() && covered; ++d) {
      if (t.broadcastable(d)) continue;
      covered = false;
      for (int j = 0; j < node.num_inputs() && !covered; ++j) {
        covered = j != i && !node.input(j).type().broadcastable(d);
      }
    }
    if (!covered) continue;
    std::vector<Var> inputs(node.inputs().begin(), node.inputs().end());
    inputs[i] =
        PadRank(alloc->input(0), t.ndim(), std::source_location::current());
    std::shared_ptr<Node> replacement =
        Node::Create(node.op_ptr(), std::move(inputs), node.source());
    return replacement->outputs();
  }
  return std::nullopt;
}

// Whether `n` is alloc(0, sizes...): zeros.
bool IsAllocOfZeros(const Node* n) {
  return n != nullptr && dynamic_cast<const Alloc*>(&n->op()) != nullptr &&
         IsConstantValue(n->input(0), 0);
}

// The Alloc of zeros under `v` and a chain of increments and sets (each
// keeps its first input's shape), or null.
const Node* ZerosUnderIncrements(const Var& v) {
  const Node* n = v.owner();
  while (n != nullptr && dynamic_cast<const IncSubtensor*>(&n->op())) {
    n = n->input(0).owner();
  }
  return IsAllocOfZeros(n) ? n : nullptr;
}

// Allocs of the same shape: the same node, or the same shape inputs.
bool SameAllocShape(const Node& a, const Node& b) {
  if (&a == &b) return true;
  if (a.num_inputs() != b.num_inputs() ||
      a.output_variable(0)->type() != b.output_variable(0)->type()) {
    return false;
  }
  for (int i = 1; i < a.num_inputs(); ++i) {
    if (a.input(i).get() != b.input(i).get()) return false;
  }
  return true;
}

// inc(zeros, v, idx) + y -> inc(y, v, idx), where y is itself zeros of the
// same shape under increments. This is how a gradient through several
// slices of one tensor (the gates of an LSTM) is summed: each slice's
// gradient goes into its own zero tensor and the tensors are added. After
// the rewrite the increments go one after another into one buffer, in place,
// and the sum of full-size tensors disappears.
Replacement AddOfIncrements(FunctionGraph&, Node& node) {
  if (!IsElementwiseOp(&node, THETA_EW_ADD) || node.num_inputs() != 2) {
    return std::nullopt;
  }
  const Variable* out = node.output_variable(0);
  for (int i = 0; i < 2; ++i) {
    const Var& inc = node.input(i);
    const Var& other = node.input(1 - i);
    const Node* producer = inc.owner();
    if (producer == nullptr ||
        dynamic_cast<const IncSubtensor*>(&producer->op()) == nullptr ||
        inc.type() != out->type() || other.type() != out->type()) {
      continue;
    }
    const Node* zeros = ZerosUnderIncrements(inc);
    const Node* other_zeros = ZerosUnderIncrements(other);
    // The increment must start from zeros itself, not from increments of
    // them (those stay in `inc`'s chain and are handled when it is visited).
    if (zeros == nullptr || other_zeros == nullptr ||
        producer->input(0).owner() != zeros ||
        !SameAllocShape(*zeros, *other_zeros)) {
      continue;
    }
    const auto& op = static_cast<const IncSubtensor&>(producer->op());
    std::vector<Var> inputs(producer->inputs().begin(),
                            producer->inputs().end());
    inputs[0] = other;
    // A set into zeros is an increment of them; into `other` it must add.
    std::shared_ptr<Node> replacement = Node::Create(
        op.set() ? std::make_shared<IncSubtensor>(op.entries(), false)
                 : producer->op_ptr(),
        std::move(inputs), node.source());
    return If(replacement->output(0), node);
  }
  return std::nullopt;
}

// inc_subtensor or set_subtensor into zeros -> PlaceInZeros: the zeros are
// not computed first, and where the value covers the whole result (the
// gradient of every row of a loop's sequence) it is a view of the value.
Replacement PlaceIntoZeros(FunctionGraph&, Node& node) {
  const auto* inc = dynamic_cast<const IncSubtensor*>(&node.op());
  const Node* zeros = node.input(0).owner();
  if (inc == nullptr || !IsAllocOfZeros(zeros)) return std::nullopt;
  const int rank = node.input(0).ndim();
  // Inputs (y, sizes..., bounds...) instead of (zeros, y, bounds...).
  std::vector<Var> inputs = {node.input(1)};
  for (int d = 0; d < rank; ++d) inputs.push_back(zeros->input(1 + d));
  for (int i = 2; i < node.num_inputs(); ++i) inputs.push_back(node.input(i));
  auto op = std::make_shared<PlaceInZeros>(
      std::vector<std::vector<IndexEntry>>{
          ShiftBounds(inc->entries(), rank - 1)},
      node.output_variable(0)->type());
  return If(Node::Create(op, std::move(inputs), node.source())->output(0),
            node);
}

// inc(PlaceInZeros(parts...), v, idx) -> PlaceInZeros(parts..., (v, idx))
// when nothing else reads the first placement: the gradient through several
// slices of one tensor (an LSTM's four gates) becomes one op, which writes
// no zeros when the slices cover the tensor.
Replacement MergePlacements(FunctionGraph& graph, Node& node) {
  const auto* inc = dynamic_cast<const IncSubtensor*>(&node.op());
  const Node* placed = node.input(0).owner();
  const auto* place = placed != nullptr
                          ? dynamic_cast<const PlaceInZeros*>(&placed->op())
                          : nullptr;
  if (inc == nullptr || inc->set() || place == nullptr ||
      graph.clients(placed->output_variable(0)).size() != 1) {
    return std::nullopt;
  }
  // Inputs (values..., v, sizes..., the placement's bounds..., idx's
  // bounds...).
  const int values = place->num_parts();
  std::vector<Var> inputs(placed->inputs().begin(),
                          placed->inputs().begin() + values);
  inputs.push_back(node.input(1));
  inputs.insert(inputs.end(), placed->inputs().begin() + values,
                placed->inputs().end());
  std::vector<std::vector<IndexEntry>> parts;
  for (const std::vector<IndexEntry>& part : place->parts()) {
    parts.push_back(ShiftBounds(part, 1));
  }
  // idx's bounds were inputs 2... of the increment.
  parts.push_back(
      ShiftBounds(inc->entries(), static_cast<int>(inputs.size()) - 2));
  inputs.insert(inputs.end(), node.inputs().begin() + 2, node.inputs().end());
  auto op = std::make_shared<PlaceInZeros>(std::move(parts),
                                           node.output_variable(0)->type());
  return If(Node::Create(op, std::move(inputs), node.source())->output(0),
            node);
}

Replacement LogOfSoftmax(FunctionGraph&, Node& node) {
  if (!IsElementwiseOp(&node, THETA_EW_LOG)) return std::nullopt;
  Node* producer = node.input(0).owner();
  const Softmax* sm = AsSoftmax(producer);
  if (sm == nullptr || sm->log()) return std::nullopt;
  return If(nnet::log_softmax(producer->input(0)), node);
}

Replacement LogOfSigmoid(FunctionGraph&, Node& node) {
  if (!IsElementwiseOp(&node, THETA_EW_LOG)) return std::nullopt;
  Node* producer = node.input(0).owner();
  if (IsElementwiseOp(producer, THETA_EW_SIGMOID)) {
    // log(sigmoid(x)) = -softplus(-x)
    return If(-softplus(-producer->input(0)), node);
  }
  // log(1 - sigmoid(x)) = -softplus(x)
  if (IsElementwiseOp(producer, THETA_EW_SUB) &&
      IsConstantValue(producer->input(0), 1.0) &&
      IsElementwiseOp(producer->input(1).owner(), THETA_EW_SIGMOID)) {
    return If(-softplus(producer->input(1).owner()->input(0)), node);
  }
  // log(1 + x) = log1p(x)
  if (IsElementwiseOp(producer, THETA_EW_ADD)) {
    for (int i = 0; i < 2; ++i) {
      if (IsConstantValue(producer->input(i), 1.0)) {
        return If(log1p(producer->input(1 - i)), node);
      }
    }
  }
  return std::nullopt;
}

Replacement ExpMinusOne(FunctionGraph&, Node& node) {
  if (!IsElementwiseOp(&node, THETA_EW_SUB) ||
      !IsConstantValue(node.input(1), 1.0)) {
    return std::nullopt;
  }
  Node* producer = node.input(0).owner();
  if (!IsElementwiseOp(producer, THETA_EW_EXP)) return std::nullopt;
  return If(expm1(producer->input(0)), node);
}

}  // namespace

THETA_REGISTER_NODE_REWRITE_FOR(kCanonicalize, "simplify_arithmetic", 10,
                                Elementwise, SimplifyArithmetic);
THETA_REGISTER_NODE_REWRITE_FOR(kCanonicalize, "merge_dimshuffles", 20,
                                DimShuffle, MergeDimShuffles);
THETA_REGISTER_NODE_REWRITE_FOR(kCanonicalize, "lift_dimshuffle", 30,
                                DimShuffle, LiftDimShuffle);
THETA_REGISTER_NODE_REWRITE_FOR(kCanonicalize, "dimshuffle_of_alloc", 40,
                                DimShuffle, DimShuffleOfAlloc);
THETA_REGISTER_NODE_REWRITE_FOR(kCanonicalize, "elemwise_of_alloc", 50,
                                Elementwise, ElementwiseOfAlloc);
THETA_REGISTER_NODE_REWRITE_FOR(kStabilize, "log_softmax", 10, Elementwise,
                                LogOfSoftmax);
THETA_REGISTER_NODE_REWRITE_FOR(kStabilize, "log_sigmoid", 20, Elementwise,
                                LogOfSigmoid);
THETA_REGISTER_NODE_REWRITE_FOR(kStabilize, "expm1", 30, Elementwise,
                                ExpMinusOne);
THETA_REGISTER_NODE_REWRITE_FOR(kFinal, "place_in_zeros", 10, IncSubtensor,
                                PlaceIntoZeros);
THETA_REGISTER_NODE_REWRITE_FOR(kFinal, "merge_placements", 20, IncSubtensor,
                                MergePlacements);
// After canonicalize's merge, so that equal zeros are one node.
THETA_REGISTER_NODE_REWRITE_FOR(kSpecialize, "add_of_increments", 20,
                                Elementwise, AddOfIncrements);

}  // namespace theta
