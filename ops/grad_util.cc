#include "ops/grad_util.h"

#include <vector>

#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace theta {

Var SumToBroadcast(const Var& grad, const TensorType& type) {
  if (!grad.defined()) return grad;
  std::vector<int> axes;
  const int offset = grad.ndim() - type.ndim();
  for (int d = 0; d < offset; ++d) axes.push_back(d);
  for (int d = 0; d < type.ndim(); ++d) {
    if (type.broadcastable(d) && !grad.type().broadcastable(d + offset)) {
      axes.push_back(d + offset);
    }
  }
  Var g = grad;
  if (!axes.empty()) {
    g = sum(g, AxisList(axes), /*keepdims=*/true);
    if (offset > 0) {
      std::vector<int> pattern;
      for (int d = 0; d < type.ndim(); ++d) pattern.push_back(d + offset);
      g = dimshuffle(g, pattern);
    }
  }
  if (g.dtype() != type.dtype()) g = cast(g, type.dtype());
  return g;
}

}  // namespace theta
