#include "optim/hyper.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "ops/elementwise.h"

namespace theta::optim {

std::string HyperRange::ToString() const {
  std::string hi_text = hi >= 1e300 ? "inf" : absl::StrCat(hi);
  return absl::StrCat(lo_inclusive ? "[" : "(", lo, ", ", hi_text,
                      hi_inclusive && hi < 1e300 ? "]" : ")");
}

bool HyperRange::Contains(double value) const {
  if (!std::isfinite(value)) return false;
  if (lo_inclusive ? value < lo : value <= lo) return false;
  if (hi_inclusive ? value > hi : value >= hi) return false;
  return true;
}

Hyper::Hyper(SharedVar scalar) : var_(std::move(scalar)) {
  if (!var_.defined()) {
    throw Error("optim::Hyper: undefined shared variable");
  }
  if (var_->kind() != VarKind::kShared) {
    throw Error(absl::StrCat("optim::Hyper: '", var_->DisplayName(),
                             "' is not a shared variable; a hyperparameter "
                             "is a number or a shared scalar"));
  }
  if (var_.ndim() != 0) {
    throw Error(absl::StrCat("optim::Hyper: shared variable '", var_.name(),
                             "' has rank ", var_.ndim(),
                             "; a hyperparameter must be a scalar"));
  }
  if (var_.dtype() == DType::kBool) {
    throw Error(absl::StrCat("optim::Hyper: shared variable '", var_.name(),
                             "' is bool; a hyperparameter must be numeric"));
  }
}

double Hyper::value() const {
  if (!is_shared()) return value_;
  return var_.get_value().GetAsDouble(0);
}

Var Hyper::as_var(DType dtype) const {
  if (!is_shared()) return constant(value_, dtype);
  if (var_.dtype() == dtype) return var_;
  return cast(var_, dtype);
}

std::string Hyper::Describe() const {
  if (!is_shared()) return absl::StrCat(value_);
  return absl::StrCat("shared '", var_.name(), "' = ", value());
}

void Hyper::Check(absl::string_view owner, absl::string_view name,
                  const HyperRange& range) const {
  const double v = value();
  if (range.Contains(v)) return;
  throw Error(absl::StrCat(owner, ": ", name, " must be in ", range.ToString(),
                           ", got ", Describe()));
}

}  // namespace theta::optim
