// The graph IR: Variables (symbolic tensors), Nodes (an Op applied to input
// Variables, producing output Variables), and Var, the handle users hold.
//
// A Variable is an input, a constant, a shared variable, or an output of a
// Node. Graphs are immutable once built (compilation clones them), and a Var
// keeps alive everything it was computed from.
//
//   theta::Var x = theta::matrix("x");
//   theta::Var y = theta::exp(x) + 1.0;      // two Nodes
//   y.owner()->op().name();                  // "Elemwise{add}"
#ifndef THETA_GRAPH_IR_H_
#define THETA_GRAPH_IR_H_

#include <cstdint>
#include <memory>
#include <source_location>
#include <span>
#include <string>
#include <typeinfo>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "graph/client_list.h"
#include "graph/source_info.h"
#include "graph/tensor.h"
#include "graph/type.h"

namespace theta {

class FunctionGraph;
class Node;
class Op;
class SharedStorage;
class Slice;  // ops/subtensor.h
class Var;

enum class VarKind : uint8_t {
  kInput,       // a symbolic input (matrix("x"))
  kConstant,    // a value fixed at build time
  kShared,      // a value living on the backend between calls
  kNodeOutput,  // computed by a Node
};

class Variable {
 public:
  Variable(const Variable&) = delete;
  Variable& operator=(const Variable&) = delete;

  const TensorType& type() const { return type_; }
  VarKind kind() const { return kind_; }
  // The node computing this variable; null unless kind() == kNodeOutput.
  Node* owner() const { return owner_; }
  // Which output of owner() this is.
  int index() const { return index_; }
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // Where it was created (a node output: where its node was).
  const SourceInfo& source() const;
  // Creation order; unique within the process.
  uint64_t id() const { return id_; }

  // kConstant only (an undefined Tensor otherwise).
  const Tensor& constant_value() const;
  // kShared only (null otherwise).
  const std::shared_ptr<SharedStorage>& shared() const;

  // "x", or "<Elemwise{add}>.0#12" for an unnamed node output.
  std::string DisplayName() const;

 private:
  friend class FunctionGraph;
  friend class Node;
  friend Var MakeInput(TensorType, std::string, std::source_location);
  friend Var MakeConstant(Tensor, std::string, std::source_location);
  friend Var MakeSharedVariable(std::shared_ptr<SharedStorage>, TensorType,
                                std::string, std::source_location);
  // A leaf (input, constant, shared variable).
  Variable(TensorType type, VarKind kind, SourceInfo source);
  // Output `index` of `owner`.
  Variable(TensorType type, Node* owner, int index);

  // What only leaves have, kept apart so that node outputs (most
  // variables) stay small.
  struct Leaf {
    SourceInfo source;
    Tensor constant;                        // kConstant
    std::shared_ptr<SharedStorage> shared;  // kShared
  };

  TensorType type_;
  VarKind kind_;
  Node* owner_ = nullptr;
  int index_ = 0;
  std::string name_;
  uint64_t id_;
  std::unique_ptr<Leaf> leaf_;  // null for node outputs
  // kNodeOutput: the uses of this variable in the FunctionGraph holding its
  // node (see Node::graph_).
  ClientList graph_clients_;
};

// A handle to a Variable, shared by value. A default-constructed Var is
// undefined. Arithmetic operators and the op library (//ops) take and return
// Vars.
class Var {
 public:
  Var() = default;
  explicit Var(std::shared_ptr<Variable> v) : v_(std::move(v)) {}

  bool defined() const { return v_ != nullptr; }
  Variable* get() const { return v_.get(); }
  Variable* operator->() const { return v_.get(); }
  const std::shared_ptr<Variable>& ptr() const { return v_; }

  const TensorType& type() const { return v_->type(); }
  DType dtype() const { return v_->type().dtype(); }
  int ndim() const { return v_->type().ndim(); }
  const std::string& name() const { return v_->name(); }
  Node* owner() const { return v_->owner(); }

  // Sets the variable's name (shown by debugprint and in errors); returns
  // *this for chaining: Var h = tanh(a).named("h").
  Var& named(std::string name) {
    v_->set_name(std::move(name));
    return *this;
  }

  // Compiles and runs this expression, which must not depend on inputs
  // (constants and shared variables only). Throws Error otherwise.
  Tensor eval() const;

  // Identity of the underlying variable (not elementwise equality, which is
  // theta::eq).
  bool is(const Var& other) const { return v_ == other.v_; }

  // Indexing as Theano's x[...], one argument per leading dimension: an
  // integer or integer scalar Var (an index: the dimension is dropped),
  // range(start, stop[, step]), `all`, or a Slice. Dimensions past the last
  // argument are taken whole.
  //
  //   Var gates = z(all, range(0, H));   // z[:, 0:H]
  //   Var last = xs(-1);                 // xs[-1]
  //
  // Defined with slice() in //ops (include ops/subtensor.h).
  Var operator()(const Slice& i0, std::source_location loc =
                                      std::source_location::current()) const;
  Var operator()(
      const Slice& i0, const Slice& i1,
      std::source_location loc = std::source_location::current()) const;
  Var operator()(
      const Slice& i0, const Slice& i1, const Slice& i2,
      std::source_location loc = std::source_location::current()) const;
  Var operator()(
      const Slice& i0, const Slice& i1, const Slice& i2, const Slice& i3,
      std::source_location loc = std::source_location::current()) const;

 private:
  std::shared_ptr<Variable> v_;
};

// Hash and equality by identity, for containers keyed by Var.
struct VarHash {
  size_t operator()(const Var& v) const {
    return std::hash<const Variable*>()(v.get());
  }
};
struct VarEq {
  bool operator()(const Var& a, const Var& b) const { return a.is(b); }
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Destroys chains of nodes iteratively (a deep graph does not overflow
  // the stack).
  ~Node();

  // Applies `op` to `inputs`: checks them and computes the output types
  // (throwing Error that names the op, the problem and `source` when the
  // inputs are invalid).
  static std::shared_ptr<Node> Create(std::shared_ptr<const Op> op,
                                      std::vector<Var> inputs,
                                      SourceInfo source);

  const Op& op() const { return *op_; }
  // typeid(op()), kept in the node: passes that dispatch on the op's type
  // over many nodes need not load each op.
  const std::type_info& op_type() const { return *op_type_; }
  const std::shared_ptr<const Op>& op_ptr() const { return op_; }
  std::span<const Var> inputs() const { return inputs_; }
  const Var& input(int i) const { return inputs_[i]; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return num_outputs_; }
  // A handle to output i (keeps this node alive).
  Var output(int i);
  Variable* output_variable(int i) const { return &outputs_[i]; }
  std::vector<Var> outputs();
  const SourceInfo& source() const { return source_; }
  uint64_t id() const { return id_; }

  // Rewiring, for compilation's private copy of a graph only: user graphs
  // are never modified.
  void set_input(int i, Var v) { inputs_[i] = std::move(v); }

  // "Elemwise{add} at model.cc:12 in f() [scope lstm]".
  std::string Describe() const;

 private:
  using InputList = absl::InlinedVector<Var, 2>;
  Node(std::shared_ptr<const Op> op, InputList inputs, SourceInfo source);
  // Allocates a node (node and reference count in one block) with outputs
  // of the given types.
  static std::shared_ptr<Node> Allocate(std::shared_ptr<const Op> op,
                                        InputList inputs,
                                        const SourceInfo& source,
                                        std::span<const TensorType> types);
  // A copy of `node` reading `inputs`, which must be copies of node's own
  // inputs made the same way (so the output types are node's: they are
  // not inferred again). For FunctionGraph's private copy.
  static std::shared_ptr<Node> CopyOf(const Node& node, InputList inputs);
  // Output i of `node` as a handle (without shared_from_this()).
  static Var OutputOf(const std::shared_ptr<Node>& node, int i) {
    return Var(std::shared_ptr<Variable>(node, &node->outputs_[i]));
  }

  friend class FunctionGraph;

  std::shared_ptr<const Op> op_;
  const std::type_info* op_type_;
  // Inline for the common one or two inputs (one allocation less per node,
  // and traversals read them beside the node).
  InputList inputs_;
  // Constructed in place, in inline_output_ when there is one (most ops),
  // else in one allocation; they never move (handles alias them).
  Variable* outputs_ = nullptr;
  int num_outputs_ = 0;
  alignas(Variable) unsigned char inline_output_[sizeof(Variable)];
  SourceInfo source_;
  uint64_t id_;
  // Bookkeeping of the FunctionGraph holding this node (a node is in at most
  // one: compilation's private copy). Lets the graph test membership and
  // mark visits without hashing.
  const FunctionGraph* graph_ = nullptr;
  uint32_t graph_slot_ = 0;
  uint64_t order_index_ = 0;  // rank in the graph's topological order
  uint64_t visit_mark_ = 0;   // TopologicalOrder's
  uint64_t pass_mark_ = 0;    // FunctionGraph::SetMark's
};

// Builds a node and returns its outputs; what ops' builder functions call.
std::vector<Var> ApplyOp(std::shared_ptr<const Op> op, std::vector<Var> inputs,
                         std::source_location location);
// As ApplyOp for a single-output op.
Var ApplyOp1(std::shared_ptr<const Op> op, std::vector<Var> inputs,
             std::source_location location);

// Symbolic inputs and constants.
Var MakeInput(TensorType type, std::string name,
              std::source_location location = std::source_location::current());
Var MakeConstant(
    Tensor value, std::string name = "",
    std::source_location location = std::source_location::current());

// Throws Error("<what>: <message>\n  at <where the node was created>").
[[noreturn]] void ThrowAt(const SourceInfo& source, const std::string& message);

}  // namespace theta

#endif  // THETA_GRAPH_IR_H_
