#include "ops/elementwise_op.h"

#include <algorithm>
#include <functional>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/api/elementwise_semantics.h"
#include "base/status_macros.h"
#include "ops/shape.h"

namespace theta {
namespace {

// The op's name ("exp"); "?" for the data movement opcodes and unknown ones.
const char* OpcodeName(int op) {
  const char* name = ew::OpName(op);
  return name == nullptr || ew::Kind(op) == THETA_EW_KIND_DATA ? "?" : name;
}

// Evaluates a program on the host for small values (shapes, scalars).
template <typename T>
void RunOnHost(const ScalarProgram& p, std::span<const HostValue* const> in,
               std::span<HostValue> out, const Dims& out_shape,
               std::span<const Dims> in_shapes) {
  std::vector<T> regs(p.num_registers);
  const int64_t n = out_shape.product();
  const Dims out_strides = ContiguousStrides(out_shape);
  for (int64_t e = 0; e < n; ++e) {
    for (const theta_ew_instr& ins : p.instrs) {
      switch (ins.op) {
        case THETA_EW_LOAD: {
          // Broadcast: index the input by the output position, with size-1
          // dimensions pinned to 0.
          const Dims& s = in_shapes[ins.a];
          int64_t offset = 0, stride = 1;
          for (int d = s.size() - 1; d >= 0; --d) {
            int64_t pos =
                (e / out_strides[d]) % std::max<int64_t>(out_shape[d], 1);
            if (s[d] != 1) offset += pos * stride;
            stride *= s[d];
          }
          const HostValue& v = *in[ins.a];
          regs[ins.dst] = IsFloat(v.dtype) ? static_cast<T>(v.floats[offset])
                                           : static_cast<T>(v.ints[offset]);
          break;
        }
        case THETA_EW_STORE:
          if (IsFloat(out[ins.dst].dtype)) {
            out[ins.dst].Set(static_cast<int>(e),
                             static_cast<double>(regs[ins.a]));
          } else if constexpr (std::is_floating_point_v<T>) {
            out[ins.dst].SetInt(static_cast<int>(e),
                                ew::Convert<int64_t>(regs[ins.a]));
          } else {
            out[ins.dst].SetInt(static_cast<int>(e),
                                static_cast<int64_t>(regs[ins.a]));
          }
          break;
        default:
          regs[ins.dst] =
              ew::Apply<T>(ins.op, regs[ins.a], regs[ins.b], regs[ins.c]);
      }
    }
  }
}

// The launch of an elementwise program for fixed shapes.
class ElementwiseLaunch : public Launch {
 public:
  ElementwiseLaunch(const ScalarProgram& program, LaunchContext& ctx) {
    const Dims& out_shape = ctx.outputs[0].shape;
    shape_ = out_shape;
    instrs_ = program.instrs;
    // Scalars known on the host become parameters instead of arrays.
    std::vector<int> input_map(ctx.inputs.size(), -1);
    for (size_t i = 0; i < ctx.inputs.size(); ++i) {
      if (ctx.input_host_slots[i] >= 0 &&
          ctx.node.op().ConsumesHostValue(ctx.node, i)) {
        param_slots_.push_back(ctx.input_host_slots[i]);
        input_map[i] =
            -static_cast<int>(param_slots_.size());  // param p = -m-1
      } else {
        input_map[i] = static_cast<int>(inputs_.size());
        inputs_.push_back(ctx.inputs[i]);
        // Broadcast dimensions step by 0.
        Dims strides = ctx.inputs[i].strides;
        for (int d = 0; d < out_shape.size(); ++d) {
          if (ctx.inputs[i].shape[d] == 1 && out_shape[d] != 1) strides[d] = 0;
        }
        inputs_.back().strides = strides;
      }
    }
    for (theta_ew_instr& ins : instrs_) {
      if (ins.op != THETA_EW_LOAD) continue;
      int mapped = input_map[ins.a];
      if (mapped < 0) {
        ins.op = THETA_EW_PARAM;
        ins.a = static_cast<uint16_t>(-mapped - 1);
      } else {
        ins.a = static_cast<uint16_t>(mapped);
      }
    }
    outputs_.assign(ctx.outputs.begin(), ctx.outputs.end());
    program_.struct_size = sizeof(program_);
    program_.compute_dtype = ToAbi(program.compute);
    program_.num_registers = program.num_registers;
    program_.num_instrs = static_cast<uint32_t>(instrs_.size());
    program_.instrs = instrs_.data();
    in_operands_.resize(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) {
      in_operands_[i].dtype = ToAbi(inputs_[i].dtype);
      in_operands_[i].strides = inputs_[i].strides.data();
    }
    out_operands_.resize(outputs_.size());
    for (size_t o = 0; o < outputs_.size(); ++o) {
      out_operands_[o].dtype = ToAbi(outputs_[o].dtype);
      out_operands_[o].strides = outputs_[o].strides.data();
    }
    params_.resize(param_slots_.size());
    args_.struct_size = sizeof(args_);
    args_.program = &program_;
    args_.ndim = shape_.size();
    args_.shape = shape_.data();
    args_.num_inputs = static_cast<int32_t>(in_operands_.size());
    args_.inputs = in_operands_.data();
    args_.num_outputs = static_cast<int32_t>(out_operands_.size());
    args_.outputs = out_operands_.data();
    args_.num_params = static_cast<int32_t>(params_.size());
    args_.params = params_.data();
  }

  absl::Status Run(const ExecContext& ctx) override {
    if (shape_.product() == 0) return absl::OkStatus();
    for (size_t i = 0; i < inputs_.size(); ++i) {
      in_operands_[i].data = inputs_[i].Address(ctx.slots);
    }
    for (size_t o = 0; o < outputs_.size(); ++o) {
      out_operands_[o].data = outputs_[o].Address(ctx.slots);
    }
    for (size_t p = 0; p < param_slots_.size(); ++p) {
      params_[p] = ctx.host_values[param_slots_[p]].AsDouble(0);
    }
    return ctx.backend->Check(
        ctx.backend->api().elementwise(ctx.backend->stream(), &args_),
        "elementwise");
  }

 private:
  Dims shape_;
  std::vector<theta_ew_instr> instrs_;
  std::vector<ArrayRef> inputs_;
  std::vector<ArrayRef> outputs_;
  std::vector<int32_t> param_slots_;
  std::vector<double> params_;
  std::vector<theta_ew_operand> in_operands_;
  std::vector<theta_ew_operand> out_operands_;
  theta_ew_program program_;
  theta_elementwise_args args_;
};

}  // namespace

ScalarProgram ScalarProgram::Single(int opcode, int arity, DType compute) {
  ScalarProgram p;
  p.compute = compute;
  p.num_inputs = arity;
  p.num_outputs = 1;
  p.num_registers = arity + 1;
  for (int i = 0; i < arity; ++i) {
    p.instrs.push_back({THETA_EW_LOAD, static_cast<uint16_t>(i),
                        static_cast<uint16_t>(i), 0, 0});
  }
  theta_ew_instr op{static_cast<uint16_t>(opcode), static_cast<uint16_t>(arity),
                    0, 0, 0};
  if (arity > 1) op.b = 1;
  if (arity > 2) op.c = 2;
  p.instrs.push_back(op);
  p.instrs.push_back({THETA_EW_STORE, 0, static_cast<uint16_t>(arity), 0, 0});
  return p;
}

int ScalarProgram::single_opcode() const {
  int found = -1;
  for (const theta_ew_instr& ins : instrs) {
    if (ins.op == THETA_EW_LOAD || ins.op == THETA_EW_STORE) continue;
    if (found >= 0) return -1;
    found = ins.op;
  }
  return num_outputs == 1 ? found : -1;
}

std::string ScalarProgram::Describe() const {
  int single = single_opcode();
  if (single >= 0) return OpcodeName(single);
  std::vector<std::string> ops;
  for (const theta_ew_instr& ins : instrs) {
    if (ins.op == THETA_EW_LOAD || ins.op == THETA_EW_STORE) continue;
    ops.push_back(OpcodeName(ins.op));
  }
  return absl::StrCat("Composite{", absl::StrJoin(ops, ","), "}");
}

int ScalarProgram::num_operations() const {
  int n = 0;
  for (const theta_ew_instr& ins : instrs) {
    n += static_cast<int>(ins.op != THETA_EW_LOAD && ins.op != THETA_EW_STORE);
  }
  return n;
}

absl::Status ScalarProgram::Validate() const {
  if (num_registers < 1 || num_registers > THETA_EW_MAX_REGISTERS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "elementwise program of ", instrs.size(), " instructions uses ",
        num_registers, " registers; the backend encoding allows 1 to ",
        THETA_EW_MAX_REGISTERS, " (THETA_EW_MAX_REGISTERS)"));
  }
  std::vector<char> written(num_registers, 0);
  for (size_t i = 0; i < instrs.size(); ++i) {
    const theta_ew_instr& ins = instrs[i];
    auto bad = [&](const auto&... what) {
      return absl::InvalidArgumentError(
          absl::StrCat("elementwise program: instruction ", i, " (",
                       OpcodeName(ins.op), ") ", what...));
    };
    auto check_read = [&](int r) -> absl::Status {
      if (r >= num_registers) {
        return bad("reads register ", r, " but the program has ",
                   num_registers);
      }
      if (!written[r]) {
        return bad("reads register ", r, " before any instruction writes it");
      }
      return absl::OkStatus();
    };
    if (ins.op == THETA_EW_STORE) {
      if (ins.dst >= num_outputs) {
        return bad("stores output ", ins.dst, " but the program has ",
                   num_outputs);
      }
      THETA_RETURN_IF_ERROR(check_read(ins.a));
      continue;
    }
    if (ins.op == THETA_EW_LOAD) {
      if (ins.a >= num_inputs) {
        return bad("loads input ", ins.a, " but the program has ", num_inputs);
      }
    } else {
      const int arity = ew::Arity(ins.op);
      if (arity < 0 || ins.op == THETA_EW_PARAM) {
        return bad("has an opcode (", ins.op, ") a program cannot hold");
      }
      const int src[3] = {ins.a, ins.b, ins.c};
      for (int k = 0; k < arity; ++k) {
        THETA_RETURN_IF_ERROR(check_read(src[k]));
      }
    }
    if (ins.dst >= num_registers) {
      return bad("writes register ", ins.dst, " but the program has ",
                 num_registers);
    }
    written[ins.dst] = 1;
  }
  return absl::OkStatus();
}

bool ScalarProgram::operator==(const ScalarProgram& o) const {
  if (compute != o.compute || num_inputs != o.num_inputs ||
      num_outputs != o.num_outputs || instrs.size() != o.instrs.size()) {
    return false;
  }
  for (size_t i = 0; i < instrs.size(); ++i) {
    const theta_ew_instr &a = instrs[i], &b = o.instrs[i];
    if (a.op != b.op || a.dst != b.dst || a.a != b.a || a.b != b.b ||
        a.c != b.c) {
      return false;
    }
  }
  return true;
}

size_t ScalarProgram::Hash() const {
  size_t h = static_cast<size_t>(compute) * 31 + num_inputs;
  for (const theta_ew_instr& ins : instrs) {
    h = h * 1000003 ^ (ins.op | (size_t(ins.dst) << 16) |
                       (size_t(ins.a) << 32) | (size_t(ins.b) << 48));
    h = h * 1000003 ^ ins.c;
  }
  return h;
}

Elementwise::Elementwise(ScalarProgram program,
                         std::vector<DType> output_dtypes)
    : program_(std::move(program)),
      output_dtypes_(std::move(output_dtypes)),
      single_opcode_(program_.single_opcode()),
      hash_(program_.Hash()) {}

std::string Elementwise::name() const {
  return absl::StrCat("Elemwise{", program_.Describe(), "}");
}

bool Elementwise::Equals(const Op& other) const {
  const auto* o = typeid(other) == typeid(Elementwise)
                      ? static_cast<const Elementwise*>(&other)
                      : nullptr;
  return o != nullptr && o->hash_ == hash_ && o->program_ == program_ &&
         o->output_dtypes_ == output_dtypes_;
}

size_t Elementwise::Hash() const { return hash_; }

absl::StatusOr<std::vector<TensorType>> Elementwise::OutputTypes(
    std::span<const Var> inputs) const {
  if (static_cast<int>(inputs.size()) != program_.num_inputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expects ", program_.num_inputs, " inputs, got ", inputs.size()));
  }
  const int ndim = inputs.empty() ? 0 : inputs[0].ndim();
  Dims shape = Dims::Filled(ndim, 1);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorType& t = inputs[i].type();
    if (t.ndim() != ndim) {
      return absl::InvalidArgumentError(
          absl::StrCat("inputs must have equal rank (", ndim, " and ", t.ndim(),
                       "); the builders align ranks automatically"));
    }
    for (int d = 0; d < ndim; ++d) {
      const int64_t s = t.dim(d);
      if (s == 1) continue;
      if (shape[d] == 1) {
        shape[d] = s;
      } else if (s != kUnknownDim && shape[d] != kUnknownDim && s != shape[d]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "shapes do not broadcast: input ", i, " has size ", s,
            " in dimension ", d, " where another input has ", shape[d]));
      } else if (shape[d] == kUnknownDim) {
        shape[d] = s;
      }
    }
  }
  std::vector<TensorType> out;
  for (DType dtype : output_dtypes_) out.emplace_back(dtype, shape);
  return out;
}

absl::Status Elementwise::InferShapes(ShapeContext& ctx) const {
  const int ndim = ctx.node.output_variable(0)->type().ndim();
  Dims shape = Dims::Filled(ndim, 1);
  for (int d = 0; d < ndim; ++d) {
    int owner = -1;
    for (size_t i = 0; i < ctx.input_shapes.size(); ++i) {
      const int64_t s = ctx.input_shapes[i][d];
      const bool may_broadcast = ctx.node.input(i).type().broadcastable(d);
      if (may_broadcast) continue;
      if (owner < 0) {
        owner = static_cast<int>(i);
        shape[d] = s;
      } else if (s != shape[d]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "shape mismatch in dimension ", d, ": input ", owner, " has size ",
            shape[d], ", input ", i, " has size ", s,
            (s == 1 || shape[d] == 1)
                ? " (a dimension broadcasts only when its type says its size "
                  "is 1: use row()/col(), a static shape, or dimshuffle with "
                  "kNewAxis)"
                : ""));
      }
    }
  }
  for (Dims& out : ctx.output_shapes) out = shape;
  return absl::OkStatus();
}

bool Elementwise::ConsumesHostValue(const Node& node, int input) const {
  // A single value is passed to the kernel as a parameter.
  for (int64_t d : node.input(input).type().shape()) {
    if (d != 1) return false;
  }
  return true;
}

absl::Status Elementwise::EvaluateOnHost(HostEvalContext& ctx) const {
  Dims shape = ctx.outputs[0].shape;
  // The static output shape may hold unknowns; compute it from the inputs.
  const int ndim = shape.size();
  for (int d = 0; d < ndim; ++d) {
    int64_t s = 1;
    for (const Dims& in : ctx.input_shapes) s = std::max(s, in[d]);
    shape[d] = s;
  }
  for (size_t o = 0; o < ctx.outputs.size(); ++o) {
    ctx.outputs[o].shape = shape;
    ctx.outputs[o].dtype = output_dtypes_[o];
  }
  switch (program_.compute) {
    case DType::kFloat32:
      RunOnHost<float>(program_, ctx.inputs, ctx.outputs, shape,
                       ctx.input_shapes);
      break;
    case DType::kFloat64:
      RunOnHost<double>(program_, ctx.inputs, ctx.outputs, shape,
                        ctx.input_shapes);
      break;
    case DType::kInt32:
      RunOnHost<int32_t>(program_, ctx.inputs, ctx.outputs, shape,
                         ctx.input_shapes);
      break;
    default:
      RunOnHost<int64_t>(program_, ctx.inputs, ctx.outputs, shape,
                         ctx.input_shapes);
      break;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> Elementwise::MakeLaunch(
    LaunchContext& ctx) const {
  THETA_RETURN_IF_ERROR(program_.Validate());
  return std::unique_ptr<Launch>(new ElementwiseLaunch(program_, ctx));
}

const Elementwise* AsElementwise(const Node& node) {
  // Elementwise is final: a type comparison is enough (and cheaper).
  return node.op_type() == typeid(Elementwise)
             ? static_cast<const Elementwise*>(&node.op())
             : nullptr;
}

bool IsElementwiseOp(const Node* node, int opcode) {
  if (node == nullptr) return false;
  const Elementwise* e = AsElementwise(*node);
  return e != nullptr && e->single_opcode() == opcode;
}

Var MakeElementwise(int opcode, std::vector<Var> inputs, DType compute,
                    DType out_dtype, std::source_location loc) {
  const int arity = static_cast<int>(inputs.size());
  auto op = std::make_shared<Elementwise>(
      ScalarProgram::Single(opcode, arity, compute),
      std::vector<DType>{out_dtype});
  return ApplyOp1(std::move(op), std::move(inputs), loc);
}

}  // namespace theta
