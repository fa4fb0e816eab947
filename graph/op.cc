#include "graph/op.h"

#include <functional>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "base/error.h"

namespace theta {

bool Op::Equals(const Op& other) const {
  return this == &other || (typeid(*this) == typeid(other) &&
                            Hash() == other.Hash() && name() == other.name());
}

size_t Op::Hash() const {
  // Ops are immutable, so the name's hash is computed once (racing threads
  // store the same value).
  size_t h = name_hash_.load(std::memory_order_relaxed);
  if (h == 0) {
    h = std::hash<std::string>()(name()) | 1;
    name_hash_.store(h, std::memory_order_relaxed);
  }
  return h;
}

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
