// Gemm: alpha * op(A) op(B) + beta * C, the op every product becomes.
#ifndef THETA_OPS_LINALG_OPS_H_
#define THETA_OPS_LINALG_OPS_H_

#include "graph/op.h"

namespace theta {

// Inputs (A, B) or (A, B, C). Rank 2: A (m, k), B (k, n), C broadcastable
// to (m, n). Rank 3 (batched): A (b, m, k), B (b, k, n), C (b, m, n)-like.
// Transposed operands arrive as views and are handed to GEMM as transposes.
class Gemm final : public Op {
 public:
  Gemm(double alpha, double beta, bool has_bias)
      : alpha_(alpha), beta_(beta), has_bias_(has_bias) {}
  double alpha() const { return alpha_; }
  double beta() const { return beta_; }
  bool has_bias() const { return has_bias_; }

  std::string name() const override;
  bool Equals(const Op& other) const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool CanRunInPlace(int input) const override { return input == 2; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  double alpha_;
  double beta_;
  bool has_bias_;
};

const Gemm* AsGemm(const Node* node);

// A Gemm node: alpha * a b (+ beta * c when c is defined).
Var MakeGemm(const Var& a, const Var& b, const Var& c, double alpha,
             double beta, std::source_location loc);

}  // namespace theta

#endif  // THETA_OPS_LINALG_OPS_H_
