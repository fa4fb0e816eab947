// The ops behind ops/nnet.h.
#ifndef THETA_OPS_NNET_OPS_H_
#define THETA_OPS_NNET_OPS_H_

#include "graph/op.h"

namespace theta {

// Softmax (or log-softmax) along the last axis.
class Softmax : public Op {
 public:
  explicit Softmax(bool log) : log_(log) {}
  bool log() const { return log_; }
  std::string name() const override { return log_ ? "LogSoftmax" : "Softmax"; }
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool CanRunInPlace(int input) const override { return true; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  bool log_;
};

// Cross-entropy of softmax(x) against integer labels, fused and stable:
// inputs (x (N, C), labels (N,)); outputs (loss (N,), log_softmax(x)).
// Labels outside [0, C) are an error at run time.
class CrossentropySoftmax : public Op {
 public:
  std::string name() const override { return "CrossentropySoftmax1Hot"; }
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override;
  absl::Status InferShapes(ShapeContext& ctx) const override;
  bool IsDifferentiable(int input) const override { return input == 0; }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override;
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;
};

const Softmax* AsSoftmax(const Node* node);

}  // namespace theta

#endif  // THETA_OPS_NNET_OPS_H_
