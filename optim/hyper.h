// Hyper: one hyperparameter of an optimizer or gradient transform (learning
// rate, momentum, decay...), given either as a plain number, fixed when the
// update graph is built, or as a shared scalar that the training loop changes
// between calls of the compiled function without recompiling it.
//
//   SharedVar lr = shared(Tensor::Scalar<double>(0.1), "lr");
//   optim::Sgd sgd({.lr = lr});            // or {.lr = 0.1}
//   lr.set_value(Tensor::Scalar<double>(0.05));  // the next call uses 0.05
//
// A shared hyperparameter must be a scalar (rank 0) shared variable of any
// numeric dtype; it enters each update cast to the parameter's dtype.
#ifndef THETA_OPTIM_HYPER_H_
#define THETA_OPTIM_HYPER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "graph/dtype.h"
#include "graph/ir.h"
#include "graph/shared.h"

namespace theta::optim {

// The range a hyperparameter must lie in, for the error that names it.
struct HyperRange {
  double lo = 0;
  bool lo_inclusive = true;
  double hi = 1e300;
  bool hi_inclusive = true;
  // "[0, 1)" etc.
  std::string ToString() const;
  bool Contains(double value) const;
};

class Hyper {
 public:
  // A number fixed in the graph.
  Hyper(double value) : value_(value) {}  // NOLINT: implicit by design
  Hyper(int value) : value_(value) {}     // NOLINT: implicit by design
  // A shared scalar read at every call. Throws Error unless `scalar` is a
  // rank-0 shared variable.
  Hyper(SharedVar scalar);  // NOLINT: implicit by design

  bool is_shared() const { return var_.defined(); }
  const SharedVar& shared_var() const { return var_; }
  // The number, or the shared scalar's current value.
  double value() const;
  // A scalar Var of `dtype`: a constant, or the shared scalar (cast when its
  // dtype differs).
  Var as_var(DType dtype) const;
  // "0.1" or "shared 'lr'", for messages.
  std::string Describe() const;

  // Throws Error "<owner>: <name> must be in <range>, got <value>" when the
  // number (or the shared scalar's current value) is outside `range` or not
  // finite.
  void Check(absl::string_view owner, absl::string_view name,
             const HyperRange& range) const;

 private:
  double value_ = 0;
  SharedVar var_;
};

// Common ranges.
inline constexpr HyperRange kNonNegative{};
inline constexpr HyperRange kPositive{.lo = 0, .lo_inclusive = false};
inline constexpr HyperRange kUnitInterval{
    .lo = 0, .hi = 1, .hi_inclusive = false};

}  // namespace theta::optim

#endif  // THETA_OPTIM_HYPER_H_
