#include "graph/ir.h"

#include <atomic>
#include <new>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "graph/op.h"

namespace theta {
namespace {

uint64_t NextId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Variable::Variable(TensorType type, VarKind kind, SourceInfo source)
    : type_(std::move(type)),
      kind_(kind),
      id_(NextId()),
      leaf_(
          std::make_unique<Leaf>(Leaf{std::move(source), Tensor(), nullptr})) {}

Variable::Variable(TensorType type, Node* owner, int index)
    : type_(std::move(type)),
      kind_(VarKind::kNodeOutput),
      owner_(owner),
      index_(index),
      id_(NextId()) {}

const SourceInfo& Variable::source() const {
  return owner_ != nullptr ? owner_->source() : leaf_->source;
}

const Tensor& Variable::constant_value() const {
  static const Tensor* none = new Tensor();
  return leaf_ != nullptr ? leaf_->constant : *none;
}

const std::shared_ptr<SharedStorage>& Variable::shared() const {
  static const auto* none = new std::shared_ptr<SharedStorage>();
  return leaf_ != nullptr ? leaf_->shared : *none;
}

std::string Variable::DisplayName() const {
  if (!name_.empty()) return name_;
  switch (kind_) {
    case VarKind::kInput:
      return absl::StrCat("<input#", id_, ">");
    case VarKind::kConstant:
      return constant_value().size() == 1
                 ? absl::StrCat("Constant{", constant_value().GetAsDouble(0),
                                "}")
                 : absl::StrCat("<constant#", id_, ">");
    case VarKind::kShared:
      return absl::StrCat("<shared#", id_, ">");
    case VarKind::kNodeOutput:
      return absl::StrCat(
          owner_->op().name(),
          owner_->num_outputs() > 1 ? absl::StrCat(".", index_) : std::string(),
          "#", id_);
  }
  return "?";
}

Node::~Node() {
  for (int i = 0; i < num_outputs_; ++i) outputs_[i].~Variable();
  if (outputs_ != reinterpret_cast<Variable*>(inline_output_)) {
    ::operator delete(outputs_);
  }
  // Releasing inputs may destroy their nodes, whose destructors release
  // theirs... Instead of recursing, the outermost destructor collects the
  // inputs that hold the last reference to their node and releases them one
  // by one. (Other inputs are released with inputs_: if another thread
  // drops its reference meanwhile, the destruction that follows only
  // appends to the queue.)
  thread_local std::vector<Var>* pending = nullptr;
  auto last_reference = [](const Var& v) { return v.ptr().use_count() == 1; };
  if (pending != nullptr) {
    for (Var& in : inputs_) {
      if (last_reference(in)) pending->push_back(std::move(in));
    }
    return;
  }
  std::vector<Var> queue;
  for (Var& in : inputs_) {
    if (last_reference(in)) queue.push_back(std::move(in));
  }
  if (queue.empty()) return;
  pending = &queue;
  while (!queue.empty()) {
    Var v = std::move(queue.back());
    queue.pop_back();
    // `v` goes out of scope here; if it held the last reference to its
    // node, that node's destructor appends its inputs to `queue`.
  }
  pending = nullptr;
}

Node::Node(std::shared_ptr<const Op> op, InputList inputs, SourceInfo source)
    : op_(std::move(op)),
      op_type_(&typeid(*op_)),
      inputs_(std::move(inputs)),
      source_(std::move(source)),
      id_(NextId()) {}

std::shared_ptr<Node> Node::Allocate(std::shared_ptr<const Op> op,
                                     InputList inputs, const SourceInfo& source,
                                     std::span<const TensorType> types) {
  // make_shared needs a public constructor.
  struct Constructible : Node {
    Constructible(std::shared_ptr<const Op> op, InputList inputs,
                  const SourceInfo& source)
        : Node(std::move(op), std::move(inputs), source) {}
  };
  std::shared_ptr<Node> node =
      std::make_shared<Constructible>(std::move(op), std::move(inputs), source);
  if (types.size() == 1) {
    node->outputs_ = reinterpret_cast<Variable*>(node->inline_output_);
  } else if (types.size() > 1) {
    node->outputs_ =
        static_cast<Variable*>(::operator new(sizeof(Variable) * types.size()));
  }
  for (size_t i = 0; i < types.size(); ++i) {
    new (&node->outputs_[i])
        Variable(types[i], node.get(), static_cast<int>(i));
    ++node->num_outputs_;
  }
  return node;
}

std::shared_ptr<Node> Node::Create(std::shared_ptr<const Op> op,
                                   std::vector<Var> inputs, SourceInfo source) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) {
      ThrowAt(source,
              absl::StrCat(op->name(), ": input ", i, " is an undefined Var"));
    }
  }
  absl::StatusOr<std::vector<TensorType>> types = op->OutputTypes(inputs);
  if (!types.ok()) {
    ThrowAt(source, absl::StrCat(op->name(), ": ", types.status().message()));
  }
  return Allocate(std::move(op),
                  InputList(std::make_move_iterator(inputs.begin()),
                            std::make_move_iterator(inputs.end())),
                  source, *types);
}

std::shared_ptr<Node> Node::CopyOf(const Node& node, InputList inputs) {
  // Output types on the stack: most ops have one output.
  constexpr int kInline = 4;
  if (node.num_outputs_ > kInline) {
    std::vector<TensorType> types;
    for (int i = 0; i < node.num_outputs_; ++i) {
      types.push_back(node.outputs_[i].type());
    }
    return Allocate(node.op_, std::move(inputs), node.source_, types);
  }
  TensorType types[kInline];
  for (int i = 0; i < node.num_outputs_; ++i)
    types[i] = node.outputs_[i].type();
  return Allocate(node.op_, std::move(inputs), node.source_,
                  std::span<const TensorType>(types, node.num_outputs_));
}

Var Node::output(int i) {
  return Var(std::shared_ptr<Variable>(shared_from_this(), &outputs_[i]));
}

std::vector<Var> Node::outputs() {
  std::vector<Var> out;
  out.reserve(num_outputs_);
  for (int i = 0; i < num_outputs(); ++i) out.push_back(output(i));
  return out;
}

std::string Node::Describe() const {
  return absl::StrCat(op_->name(), " at ", source_.ToString());
}

std::vector<Var> ApplyOp(std::shared_ptr<const Op> op, std::vector<Var> inputs,
                         std::source_location location) {
  return Node::Create(std::move(op), std::move(inputs),
                      MakeSourceInfo(location))
      ->outputs();
}

Var ApplyOp1(std::shared_ptr<const Op> op, std::vector<Var> inputs,
             std::source_location location) {
  return Node::Create(std::move(op), std::move(inputs),
                      MakeSourceInfo(location))
      ->output(0);
}

Var MakeInput(TensorType type, std::string name,
              std::source_location location) {
  auto v = std::shared_ptr<Variable>(
      new Variable(std::move(type), VarKind::kInput, MakeSourceInfo(location)));
  v->name_ = std::move(name);
  return Var(std::move(v));
}

Var MakeConstant(Tensor value, std::string name,
                 std::source_location location) {
  if (!value.defined()) {
    ThrowAt(MakeSourceInfo(location), "constant: undefined Tensor");
  }
  TensorType type(value.dtype(), value.dims());
  auto v = std::shared_ptr<Variable>(new Variable(
      std::move(type), VarKind::kConstant, MakeSourceInfo(location)));
  v->leaf_->constant = std::move(value);
  v->name_ = std::move(name);
  return Var(std::move(v));
}

void ThrowAt(const SourceInfo& source, const std::string& message) {
  throw Error(absl::StrCat(message, "\n  at ", source.ToString()));
}

}  // namespace theta
