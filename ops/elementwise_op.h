// The Elementwise op: a scalar program (the backend's elementwise bytecode)
// applied at every position of its broadcast inputs. A single operation is
// a one-instruction program; fusion merges chains of them into one program
// run in one pass over memory.
//
//   ScalarProgram p = ScalarProgram::Single(THETA_EW_ADD, 2, DType::kFloat32);
//   auto op = std::make_shared<Elementwise>(p, DType::kFloat32);
#ifndef THETA_OPS_ELEMENTWISE_OP_H_
#define THETA_OPS_ELEMENTWISE_OP_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "backends/api/theta_backend.h"
#include "graph/op.h"

namespace theta {

// A straight-line program over registers of one compute dtype (float32,
// float64, int32 or int64). Inputs are loaded by LOAD (a = input index);
// outputs written by STORE (dst = output index, a = register).
struct ScalarProgram {
  DType compute = DType::kFloat32;
  int num_inputs = 0;
  int num_outputs = 0;
  int num_registers = 0;
  std::vector<theta_ew_instr> instrs;

  // r_i = LOAD input i; r_n = op(r_0, ...); STORE output 0 = r_n.
  static ScalarProgram Single(int opcode, int arity, DType compute);

  // The opcode of a one-operation program (-1 for fused programs).
  int single_opcode() const;
  // "add", "exp", or "Composite{...}" for a fused program.
  std::string Describe() const;
  // Instructions other than LOAD and STORE (what fusion's size bound
  // counts).
  int num_operations() const;
  // OK when the program can be handed to a backend: 1 <= num_registers <=
  // THETA_EW_MAX_REGISTERS, every register it names below num_registers and
  // written before it is read, every LOAD/STORE index below num_inputs /
  // num_outputs, every opcode known. Otherwise InvalidArgument naming the
  // first offending instruction.
  absl::Status Validate() const;
  bool operator==(const ScalarProgram& other) const;
  size_t Hash() const;
};

// Fusion never builds a program of more operations than this: a longer chain
// of elementwise nodes (an unrolled recurrence of 17,500 steps) becomes
// several kernels. Bounds each kernel's register count far below
// THETA_EW_MAX_REGISTERS, the size of a CUDA kernel's source, and the cost
// of fusing (each group is rebuilt when it grows, so an unbounded group made
// compile time quadratic in the chain's length).
inline constexpr int kMaxFusedOperations = 1024;

class Elementwise final : public Op {
 public:
  // `output_dtypes` gives each output's dtype (stores convert to it).
  Elementwise(ScalarProgram program, std::vector<DType> output_dtypes);

  const ScalarProgram& program() const { return program_; }
  const std::vector<DType>& output_dtypes() const { return output_dtypes_; }
  int single_opcode() const { return single_opcode_; }

  std::string name() const override;
  bool Equals(const Op& other) const override;
  size_t Hash() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool ConsumesHostValue(const Node& node, int input) const override;
  bool HostEvaluable() const override { return true; }
  absl::Status EvaluateOnHost(HostEvalContext& ctx) const override;
  bool CanRunInPlace(int input) const override { return true; }
  bool WritesAnyLayout() const override { return true; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;
  bool IsDifferentiable(int input) const override;

 private:
  ScalarProgram program_;
  std::vector<DType> output_dtypes_;
  // Of program_, computed once (rewrites ask for them on every visit).
  int single_opcode_;
  size_t hash_;
};

// The Elementwise op of `node`, or null.
const Elementwise* AsElementwise(const Node& node);
// True when `node` is a single-operation Elementwise with this opcode.
bool IsElementwiseOp(const Node* node, int opcode);

// Builds an elementwise node of one operation on `inputs` (ranks aligned by
// the caller), computing in `compute` and producing `out_dtype`.
Var MakeElementwise(int opcode, std::vector<Var> inputs, DType compute,
                    DType out_dtype, std::source_location loc);

}  // namespace theta

#endif  // THETA_OPS_ELEMENTWISE_OP_H_
