// The reduction op behind ops/reduce.h.
#ifndef THETA_OPS_REDUCE_OPS_H_
#define THETA_OPS_REDUCE_OPS_H_

#include <vector>

#include "backends/api/theta_backend.h"
#include "graph/op.h"

namespace theta {

class Reduce : public Op {
 public:
  // `axes` sorted, distinct, non-negative.
  Reduce(theta_reduce_op op, std::vector<int> axes, bool keepdims);
  theta_reduce_op reduce_op() const { return op_; }
  const std::vector<int>& axes() const { return axes_; }
  bool keepdims() const { return keepdims_; }

  std::string name() const override;
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool HostEvaluable() const override { return true; }
  absl::Status EvaluateOnHost(HostEvalContext& ctx) const override;
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;
  bool IsDifferentiable(int input) const override;

 private:
  theta_reduce_op op_;
  std::vector<int> axes_;
  bool keepdims_;
};

// `v` (of x's rank, or with the reduced axes removed when !keepdims)
// broadcast to x's full shape; the gradient of a reduction.
Var BroadcastBackToInput(const Var& v, const Var& x,
                         const std::vector<int>& axes, bool keepdims);

}  // namespace theta

#endif  // THETA_OPS_REDUCE_OPS_H_
