#include "graph/type.h"

#include "absl/strings/str_cat.h"
#include "backends/error.h"

namespace theta {

TensorType::TensorType(DType dtype, std::span<const int64_t> shape)
    : dtype_(dtype) {
  if (shape.size() > static_cast<size_t>(kMaxDims)) {
    throw Error(absl::StrCat("rank ", shape.size(), " exceeds the maximum of ",
                             kMaxDims));
  }
  for (int64_t d : shape) {
    if (d < kUnknownDim) {
      throw Error(absl::StrCat("invalid static dimension ", d,
                               " (use kUnknownDim for an unknown size)"));
    }
  }
  shape_.assign(shape);
}

bool TensorType::fully_known() const {
  for (int64_t d : shape_) {
    if (d == kUnknownDim) return false;
  }
  return true;
}

bool TensorType::Accepts(const Dims& actual) const {
  if (actual.size() != shape_.size()) return false;
  for (int i = 0; i < actual.size(); ++i) {
    if (shape_[i] != kUnknownDim && shape_[i] != actual[i]) return false;
  }
  return true;
}

std::string TensorType::ToString() const {
  std::string out = absl::StrCat(DTypeName(dtype_), "(");
  for (int i = 0; i < shape_.size(); ++i) {
    if (i) out += ", ";
    if (shape_[i] == kUnknownDim) {
      out += "?";
    } else {
      absl::StrAppend(&out, shape_[i]);
    }
  }
  return out + ")";
}

}  // namespace theta
