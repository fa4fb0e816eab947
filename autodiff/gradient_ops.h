// Ops that only change how gradients flow: identity in the forward pass
// (removed when compiling), and no gradient (disconnected) or a zero
// gradient in the backward pass.
#ifndef THETA_AUTODIFF_GRADIENT_OPS_H_
#define THETA_AUTODIFF_GRADIENT_OPS_H_

#include "graph/op.h"

namespace theta {

class GradientOverride : public Op {
 public:
  enum class Mode { kDisconnected, kZero };
  explicit GradientOverride(Mode mode) : mode_(mode) {}
  Mode mode() const { return mode_; }

  std::string name() const override {
    return mode_ == Mode::kDisconnected ? "DisconnectedGrad" : "ZeroGrad";
  }
  absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const override {
    return std::vector<TensorType>{inputs[0].type()};
  }
  absl::Status InferShapes(ShapeContext& ctx) const override {
    ctx.output_shapes[0] = ctx.input_shapes[0];
    return absl::OkStatus();
  }
  bool HostEvaluable() const override { return true; }
  absl::Status EvaluateOnHost(HostEvalContext& ctx) const override {
    ctx.outputs[0] = *ctx.inputs[0];
    return absl::OkStatus();
  }
  int ViewOf() const override { return 0; }
  absl::Status MakeView(ViewContext& ctx) const override {
    ctx.output.byte_offset = ctx.inputs[0].byte_offset;
    ctx.output.strides = ctx.inputs[0].strides;
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const override {
    return std::unique_ptr<Launch>(new NoLaunch());
  }
  std::vector<Var> Grad(Node& node,
                        std::span<const Var> output_grads) const override;

 private:
  Mode mode_;
};

}  // namespace theta

#endif  // THETA_AUTODIFF_GRADIENT_OPS_H_
