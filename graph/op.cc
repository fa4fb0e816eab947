#include "graph/op.h"

#include <functional>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "backends/error.h"

namespace theta {

bool Op::Equals(const Op& other) const {
  return typeid(*this) == typeid(other) && name() == other.name();
}

size_t Op::Hash() const { return std::hash<std::string>()(name()); }

absl::Status Op::EvaluateOnHost(HostEvalContext&) const {
  return absl::UnimplementedError(
      absl::StrCat(name(), " cannot be evaluated on the host"));
}

absl::Status Op::MakeView(ViewContext&) const {
  return absl::UnimplementedError(absl::StrCat(name(), " is not a view"));
}

std::vector<Var> Op::Grad(Node& node, std::span<const Var>) const {
  ThrowAt(node.source(),
          absl::StrCat("grad: ", name(), " has no gradient defined"));
}

absl::Status ViewNeedsCopy() {
  return absl::FailedPreconditionError("theta: view needs a copy");
}

bool IsViewNeedsCopy(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition &&
         status.message() == "theta: view needs a copy";
}

}  // namespace theta
