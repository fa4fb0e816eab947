#include "models/layer_input.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/error.h"
#include "graph/type.h"

namespace theta::models {
namespace {

std::string SizesToString(const std::vector<int64_t>& shape) {
  return absl::StrCat(
      "(",
      absl::StrJoin(shape, ", ",
                    [](std::string* out, int64_t d) {
                      absl::StrAppend(out, d == kUnknownDim ? std::string("?")
                                                            : absl::StrCat(d));
                    }),
      ")");
}

bool Fits(DType dtype, const std::vector<int64_t>& given,
          const InputSpec& spec) {
  if (dtype != spec.dtype || given.size() != spec.shape.size()) return false;
  for (size_t d = 0; d < given.size(); ++d) {
    if (spec.shape[d] != kUnknownDim && given[d] != kUnknownDim &&
        spec.shape[d] != given[d]) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void Reject(const std::string& layer, const InputSpec& spec,
                         const std::string& given) {
  throw Error(absl::StrCat(layer, ": input must be ", spec.ToString(),
                           "; given ", given));
}

}  // namespace

std::string InputSpec::ToString() const {
  return absl::StrCat(DTypeName(dtype), " (", absl::StrJoin(layout, ", "),
                      ") = ", SizesToString(shape));
}

void CheckLayerInput(const std::string& layer, const Var& x,
                     const InputSpec& spec) {
  if (!x.defined()) Reject(layer, spec, "an undefined variable");
  const std::vector<int64_t> given = x.type().shape().ToVector();
  if (!Fits(x.dtype(), given, spec)) {
    Reject(layer, spec,
           absl::StrCat(DTypeName(x.dtype()), SizesToString(given)));
  }
}

void CheckLayerInput(const std::string& layer, const Tensor& x,
                     const InputSpec& spec) {
  if (!x.defined()) Reject(layer, spec, "an empty tensor");
  const std::vector<int64_t> given = x.shape();
  if (!Fits(x.dtype(), given, spec)) {
    Reject(layer, spec,
           absl::StrCat(DTypeName(x.dtype()), SizesToString(given)));
  }
}

}  // namespace theta::models
