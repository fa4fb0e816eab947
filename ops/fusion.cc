// Elementwise fusion: a connected group of Elementwise nodes over the same
// index space becomes one Elementwise node whose program runs them all in one
// pass over memory. A member whose result is also used outside the group
// becomes an extra output of the fused node (so nothing is computed twice).
// A value read by several elementwise nodes (the hidden state's gradient in
// an LSTM's backward step, read by every gate's gradient) joins the group
// together with those readers, so that the whole step is one kernel.
#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "backends/api/elementwise_semantics.h"
#include "graph/host_values.h"
#include "graph/rewrite.h"
#include "ops/elementwise_op.h"

namespace theta {
namespace {

constexpr int kMaxFusedInputs = 24;
constexpr size_t kMaxFusedNodes = 128;

bool SameBroadcastPattern(const TensorType& a, const TensorType& b) {
  if (a.ndim() != b.ndim()) return false;
  for (int d = 0; d < a.ndim(); ++d) {
    if (a.broadcastable(d) != b.broadcastable(d)) return false;
  }
  return true;
}

// Whether a member's stored values survive staying in compute registers:
// the output dtype is the compute dtype, or a 0/1 predicate.
bool ExactInRegisters(const Elementwise& e) {
  for (DType t : e.output_dtypes()) {
    if (t == e.program().compute) continue;
    if (t == DType::kBool && ew::IsPredicate(e.single_opcode())) continue;
    if (IsFloat(t) && IsFloat(e.program().compute) &&
        DTypeSize(t) >= DTypeSize(e.program().compute)) {
      continue;
    }
    return false;
  }
  return true;
}

// Cheap to recompute per element: one instruction that is not a
// transcendental function. Such a member may be fused even where it
// broadcasts (computed once per output element rather than per input).
bool Cheap(const Elementwise& e) {
  int ops = 0;
  for (const theta_ew_instr& ins : e.program().instrs) {
    if (ins.op == THETA_EW_LOAD || ins.op == THETA_EW_STORE ||
        ins.op == THETA_EW_PARAM) {
      continue;
    }
    ++ops;
    switch (ins.op) {
      case THETA_EW_COPY:
      case THETA_EW_NEG:
      case THETA_EW_ABS:
      case THETA_EW_ADD:
      case THETA_EW_SUB:
      case THETA_EW_MUL:
      case THETA_EW_MAX:
      case THETA_EW_MIN:
      case THETA_EW_EQ:
      case THETA_EW_NE:
      case THETA_EW_LT:
      case THETA_EW_LE:
      case THETA_EW_GT:
      case THETA_EW_GE:
      case THETA_EW_AND:
      case THETA_EW_OR:
      case THETA_EW_XOR:
      case THETA_EW_NOT:
      case THETA_EW_SELECT:
      case THETA_EW_SQUARE:
      case THETA_EW_RELU:
        break;
      default:
        return false;
    }
  }
  return ops <= 1;
}

// An instruction of a fused program under construction. Its registers are
// virtual (one per value of the group, so a group of n operations numbers
// up to n of them) and stay 32-bit until AllocateRegisters has compacted
// them; only then are they narrowed to the ABI's 16-bit fields. (Narrowing
// earlier wrapped register 65536 onto register 0: a 17,500-step unrolled
// chain silently computed 0.)
struct WideInstr {
  int op;
  int dst;  // STORE: the output index
  int a, b, c;
};

// The registers `ins` reads.
void Reads(const WideInstr& ins, std::vector<int>& regs) {
  regs.clear();
  if (ins.op == THETA_EW_LOAD || ins.op == THETA_EW_PARAM) return;
  if (ins.op == THETA_EW_STORE) {
    regs.push_back(ins.a);
    return;
  }
  const int arity = ew::Arity(ins.op);
  if (arity >= 1) regs.push_back(ins.a);
  if (arity >= 2) regs.push_back(ins.b);
  if (arity >= 3) regs.push_back(ins.c);
}

// Compacts registers by liveness so that long fused programs stay small;
// returns the number of registers used.
int AllocateRegisters(std::vector<WideInstr>& instrs, int num_registers) {
  const int n = static_cast<int>(instrs.size());
  std::vector<int> last_use(num_registers, -1);
  std::vector<int> regs;
  for (int i = 0; i < n; ++i) {
    Reads(instrs[i], regs);
    for (int r : regs) last_use[r] = i;
  }
  std::vector<int> map(num_registers, -1);
  std::vector<int> free_list;
  int next = 0;
  for (int i = 0; i < n; ++i) {
    WideInstr& ins = instrs[i];
    Reads(ins, regs);
    int mapped[3] = {-1, -1, -1};
    for (size_t k = 0; k < regs.size(); ++k) mapped[k] = map[regs[k]];
    // Registers whose last read is this instruction can be reused for its
    // result (kernels read all operands before writing).
    for (int r : regs) {
      if (last_use[r] == i && map[r] >= 0) {
        if (std::find(free_list.begin(), free_list.end(), map[r]) ==
            free_list.end()) {
          free_list.push_back(map[r]);
        }
      }
    }
    if (ins.op == THETA_EW_STORE) {
      ins.a = mapped[0];
      continue;
    }
    int dst;
    if (!free_list.empty()) {
      dst = free_list.back();
      free_list.pop_back();
    } else {
      dst = next++;
    }
    const int old_dst = ins.dst;
    if (regs.size() >= 1) ins.a = mapped[0];
    if (regs.size() >= 2) ins.b = mapped[1];
    if (regs.size() >= 3) ins.c = mapped[2];
    ins.dst = dst;
    map[old_dst] = dst;
    if (last_use[old_dst] < 0) free_list.push_back(dst);  // never read
  }
  return std::max(next, 1);
}

// Narrows a compacted program to the ABI's encoding. Returns false (and
// leaves `out` unspecified) when a register or operand index does not fit
// (ScalarProgram::Validate states the limits).
bool Encode(const std::vector<WideInstr>& wide, ScalarProgram& out) {
  if (out.num_registers > THETA_EW_MAX_REGISTERS) return false;
  out.instrs.clear();
  out.instrs.reserve(wide.size());
  for (const WideInstr& w : wide) {
    for (int field : {w.dst, w.a, w.b, w.c}) {
      if (field < 0 || field > UINT16_MAX) return false;
    }
    out.instrs.push_back(
        {static_cast<uint16_t>(w.op), static_cast<uint16_t>(w.dst),
         static_cast<uint16_t>(w.a), static_cast<uint16_t>(w.b),
         static_cast<uint16_t>(w.c)});
  }
  return true;
}

// Whether fusing `members` into one node keeps the graph acyclic: no node
// outside the group that reads a member's output may lie on a path into one
// of the group's inputs. Nodes placed before every member cannot read one.
bool FusedNodeIsAcyclic(FunctionGraph& graph,
                        const absl::flat_hash_set<Node*>& members,
                        absl::flat_hash_map<const Node*, int>& position) {
  absl::flat_hash_set<const Node*> readers;
  int first = std::numeric_limits<int>::max();
  for (Node* m : members) {
    first = std::min(first, position[m]);
    for (int o = 0; o < m->num_outputs(); ++o) {
      for (const auto& c : graph.clients(m->output_variable(o))) {
        if (c.node != nullptr && !members.contains(c.node)) {
          readers.insert(c.node);
        }
      }
    }
  }
  if (readers.empty()) return true;
  std::vector<Node*> stack;
  absl::flat_hash_set<const Node*> seen;
  auto push_producers = [&](const Node* n) {
    for (const Var& in : n->inputs()) {
      Node* owner = in.owner();
      if (owner != nullptr && !members.contains(owner)) stack.push_back(owner);
    }
  };
  for (Node* m : members) push_producers(m);
  while (!stack.empty()) {
    Node* x = stack.back();
    stack.pop_back();
    if (!seen.insert(x).second || position[x] < first) continue;
    if (readers.contains(x)) return false;
    push_producers(x);
  }
  return true;
}

// The distinct values the members read from outside the group.
absl::flat_hash_set<const Variable*> GroupInputs(
    const absl::flat_hash_set<Node*>& members) {
  absl::flat_hash_set<const Variable*> inputs;
  for (Node* m : members) {
    for (const Var& in : m->inputs()) {
      if (in.owner() == nullptr || !members.contains(in.owner())) {
        inputs.insert(in.get());
      }
    }
  }
  return inputs;
}

// One pass over the graph, from the last node to the first: each
// elementwise node not yet grouped is a root that grows a group from its
// producers (GrowGroup) and, with two or more members, is replaced by one
// fused node (FuseGroup). Used once.
class FusionPass {
 public:
  explicit FusionPass(FunctionGraph& graph)
      : graph_(graph),
        order_(graph.TopologicalOrder()),
        host_(/*scalar_inputs_on_host=*/true) {
    position_.reserve(order_.size());
    for (size_t i = 0; i < order_.size(); ++i)
      position_[order_[i]] = static_cast<int>(i);
  }

  // Returns whether anything was fused; sets `restart` after a fusion that
  // took in a value's other readers, which moves nodes in the order the next
  // roots are checked against.
  bool Run(bool& restart);

 private:
  // Grows members_ from root_ through its producers. Returns false when the
  // group is not to be fused.
  bool GrowGroup();
  // Adds the producers of frontier node `n` that may join the group.
  void AddProducers(Node* n);
  // A producer whose value elementwise nodes before the root also read
  // joins together with those readers (its siblings in the group), when
  // they can all run in one kernel over the root's index space.
  void JoinReadEarlierProducers();
  // Replaces the group by one fused node. Returns false when it does not
  // fit (too many inputs, or an encoding it cannot have).
  bool FuseGroup();

  FunctionGraph& graph_;
  std::vector<Node*> order_;
  absl::flat_hash_map<const Node*, int> position_;
  absl::flat_hash_set<const Node*> grouped_;
  // Shape arithmetic stays on the host: never fuse it into a kernel.
  HostValueAnalysis host_;

  // The root being grown from, and its group. Cleared for each root (their
  // storage is reused).
  Node* root_ = nullptr;
  const TensorType* root_type_ = nullptr;
  DType compute_ = DType::kFloat32;
  int root_pos_ = 0;
  absl::flat_hash_set<Node*> members_;
  std::vector<Node*> frontier_;
  // The group's inputs so far: kept under the limit while growing, so a
  // long chain (a sum of many terms) becomes several bounded groups.
  absl::flat_hash_set<const Variable*> external_;
  std::vector<Node*> read_earlier_producers_;
  // Operations in the group so far, kept within kMaxFusedOperations (a
  // member may itself be a fused node of many operations).
  int operations_ = 0;
  bool took_readers_ = false;
};

bool FusionPass::Run(bool& restart) {
  bool changed = false;
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    Node* root = *it;
    if (!graph_.Contains(root) || grouped_.contains(root)) continue;
    const Elementwise* root_op = AsElementwise(*root);
    if (root_op == nullptr || !ExactInRegisters(*root_op) ||
        host_.IsHostValue(root->output_variable(0))) {
      continue;
    }
    root_ = root;
    root_type_ = &root->output_variable(0)->type();
    compute_ = root_op->program().compute;
    root_pos_ = position_[root];
    if (!GrowGroup() || !FuseGroup()) continue;
    changed = true;
    if (took_readers_) {
      restart = true;
      return true;
    }
  }
  return changed;
}

bool FusionPass::GrowGroup() {
  members_.clear();
  members_.insert(root_);
  frontier_.assign(1, root_);
  external_.clear();
  for (const Var& in : root_->inputs()) external_.insert(in.get());
  read_earlier_producers_.clear();
  operations_ = AsElementwise(*root_)->program().num_operations();
  took_readers_ = false;
  while (!frontier_.empty()) {
    Node* n = frontier_.back();
    frontier_.pop_back();
    AddProducers(n);
    if (!frontier_.empty()) continue;
    JoinReadEarlierProducers();
  }
  if (members_.size() < 2) return false;
  // Producers added after readers joined were checked against the root's
  // place only; those readers' own readers may come before it.
  return !took_readers_ || FusedNodeIsAcyclic(graph_, members_, position_);
}

void FusionPass::AddProducers(Node* n) {
  for (const Var& in : n->inputs()) {
    Node* p = in.owner();
    if (p == nullptr || members_.contains(p) || grouped_.contains(p)) continue;
    const Elementwise* pe = AsElementwise(*p);
    if (pe == nullptr || pe->program().compute != compute_ ||
        !ExactInRegisters(*pe) || host_.IsHostValue(p->output_variable(0))) {
      continue;
    }
    bool ok = true;
    bool read_earlier = false;
    for (int o = 0; o < p->num_outputs() && ok; ++o) {
      const bool same =
          SameBroadcastPattern(p->output_variable(o)->type(), *root_type_);
      ok = same || (Cheap(*pe) &&
                    p->output_variable(o)->type().ndim() == root_type_->ndim());
      // Uses outside the group must see the value in its own shape, and
      // come after the fused node (or join it: see below).
      for (const auto& c : graph_.clients(p->output_variable(o))) {
        if (c.node == nullptr || !members_.contains(c.node)) {
          if (!same) ok = false;
          if (c.node != nullptr && position_[c.node] <= root_pos_) {
            read_earlier = true;
          }
        }
      }
    }
    if (!ok) continue;
    if (read_earlier) {
      read_earlier_producers_.push_back(p);
      continue;
    }
    // The group's inputs with p inside: p's outputs leave, its inputs
    // join.
    int grown = static_cast<int>(external_.size());
    for (int o = 0; o < p->num_outputs(); ++o)
      grown -= static_cast<int>(external_.contains(p->output_variable(o)));
    for (int i = 0; i < p->num_inputs(); ++i) {
      const Variable* pin = p->input(i).get();
      bool counted = external_.contains(pin);
      for (int j = 0; j < i && !counted; ++j) {
        counted = p->input(j).get() == pin;
      }
      grown += static_cast<int>(!counted);
    }
    const int p_operations = pe->program().num_operations();
    if (grown > kMaxFusedInputs || members_.size() >= kMaxFusedNodes ||
        operations_ + p_operations > kMaxFusedOperations) {
      continue;
    }
    operations_ += p_operations;
    for (int o = 0; o < p->num_outputs(); ++o)
      external_.erase(p->output_variable(o));
    for (const Var& pin : p->inputs()) external_.insert(pin.get());
    members_.insert(p);
    frontier_.push_back(p);
  }
}

void FusionPass::JoinReadEarlierProducers() {
  while (!read_earlier_producers_.empty() && frontier_.empty()) {
    Node* p = read_earlier_producers_.back();
    read_earlier_producers_.pop_back();
    if (members_.contains(p) || grouped_.contains(p)) continue;
    std::vector<Node*> joining = {p};
    for (int o = 0; o < p->num_outputs(); ++o) {
      for (const auto& c : graph_.clients(p->output_variable(o))) {
        Node* q = c.node;
        if (q == nullptr || members_.contains(q) || position_[q] > root_pos_ ||
            std::find(joining.begin(), joining.end(), q) != joining.end()) {
          continue;
        }
        const Elementwise* qe = AsElementwise(*q);
        bool fusable = qe != nullptr && !grouped_.contains(q) &&
                       qe->program().compute == compute_ &&
                       ExactInRegisters(*qe);
        for (int qo = 0; qo < q->num_outputs() && fusable; ++qo) {
          fusable = SameBroadcastPattern(q->output_variable(qo)->type(),
                                         *root_type_) &&
                    !host_.IsHostValue(q->output_variable(qo));
        }
        // Other readers stay outside (FusedNodeIsAcyclic decides).
        if (fusable) joining.push_back(q);
      }
    }
    int joining_operations = 0;
    for (Node* n : joining) {
      joining_operations += AsElementwise(*n)->program().num_operations();
    }
    if (operations_ + joining_operations > kMaxFusedOperations) continue;
    for (Node* n : joining) members_.insert(n);
    absl::flat_hash_set<const Variable*> inputs = GroupInputs(members_);
    if (static_cast<int>(inputs.size()) > kMaxFusedInputs ||
        members_.size() > kMaxFusedNodes ||
        !FusedNodeIsAcyclic(graph_, members_, position_)) {
      for (Node* n : joining) members_.erase(n);
      continue;
    }
    operations_ += joining_operations;
    external_ = std::move(inputs);
    for (Node* n : joining) frontier_.push_back(n);
    took_readers_ = true;
  }
}

bool FusionPass::FuseGroup() {
  std::vector<Node*> group(members_.begin(), members_.end());
  std::sort(group.begin(), group.end(),
            [&](Node* a, Node* b) { return position_[a] < position_[b]; });
  // Inputs, registers, outputs.
  ScalarProgram program;
  program.compute = compute_;
  std::vector<WideInstr> wide;
  std::vector<Var> inputs;
  absl::flat_hash_map<const Variable*, int> value_register;
  std::vector<Var> outputs;
  std::vector<DType> output_dtypes;
  int next_register = 0;
  bool too_many = false;
  for (Node* n : group) {
    const ScalarProgram& p = AsElementwise(*n)->program();
    std::vector<int> reg_map(p.num_registers, -1);
    for (const theta_ew_instr& ins : p.instrs) {
      if (ins.op == THETA_EW_LOAD) {
        const Var& in = n->input(ins.a);
        auto found = value_register.find(in.get());
        if (found == value_register.end()) {
          if (static_cast<int>(inputs.size()) >= kMaxFusedInputs)
            too_many = true;
          const int r = next_register++;
          wide.push_back(
              {THETA_EW_LOAD, r, static_cast<int>(inputs.size()), 0, 0});
          inputs.push_back(in);
          found = value_register.emplace(in.get(), r).first;
        }
        reg_map[ins.dst] = found->second;
      } else if (ins.op == THETA_EW_STORE) {
        value_register[n->output_variable(ins.dst)] = reg_map[ins.a];
      } else {
        WideInstr copy{ins.op, 0, 0, 0, 0};
        const int arity = ew::Arity(ins.op);
        if (arity >= 1) copy.a = reg_map[ins.a];
        if (arity >= 2) copy.b = reg_map[ins.b];
        if (arity >= 3) copy.c = reg_map[ins.c];
        const int r = next_register++;
        copy.dst = r;
        reg_map[ins.dst] = r;
        wide.push_back(copy);
      }
    }
  }
  if (too_many) return false;
  // Outputs: the root's, and members' used outside the group.
  for (Node* n : group) {
    for (int o = 0; o < n->num_outputs(); ++o) {
      const Variable* v = n->output_variable(o);
      bool outside = n == root_;
      for (const auto& c : graph_.clients(v)) {
        if (c.node == nullptr || !members_.contains(c.node)) outside = true;
      }
      if (!outside) continue;
      wide.push_back({THETA_EW_STORE, static_cast<int>(outputs.size()),
                      value_register.at(v), 0, 0});
      outputs.push_back(n->output(o));
      output_dtypes.push_back(v->type().dtype());
    }
  }
  program.num_inputs = static_cast<int>(inputs.size());
  program.num_outputs = static_cast<int>(outputs.size());
  program.num_registers = AllocateRegisters(wide, next_register);
  // kMaxFusedOperations keeps every group far inside the encoding; a group
  // that still did not fit stays unfused rather than being miscompiled.
  if (!Encode(wide, program)) return false;
  auto op = std::make_shared<Elementwise>(std::move(program), output_dtypes);
  std::shared_ptr<Node> fused =
      Node::Create(std::move(op), std::move(inputs), root_->source());
  position_[fused.get()] = root_pos_;  // it takes the root's place
  for (size_t o = 0; o < outputs.size(); ++o) {
    Var replacement = fused->output(static_cast<int>(o));
    replacement->set_name(outputs[o].name());
    graph_.Replace(outputs[o], replacement, "fusion");
  }
  for (Node* n : group) grouped_.insert(n);
  grouped_.insert(fused.get());
  return true;
}

bool FuseElementwise(FunctionGraph& graph) {
  bool changed = false;
  bool restart = true;
  // Each pass that restarts has fused nodes away, so this ends.
  while (restart) {
    restart = false;
    changed |= FusionPass(graph).Run(restart);
  }
  return changed;
}

}  // namespace

THETA_REGISTER_GRAPH_REWRITE(kFusion, "fusion", 10, FuseElementwise);

}  // namespace theta
