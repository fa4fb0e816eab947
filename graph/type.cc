#include "graph/type.h"

#include "absl/strings/str_cat.h"
#include "base/error.h"

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
  ThrowIfError(CheckShapeFits(shape, dtype));
  shape_.assign(shape);
}

absl::Status CheckShapeFits(std::span<const int64_t> shape, DType dtype) {
  if (CheckedShapeBytes(shape, static_cast<int64_t>(DTypeSize(dtype)))) {
    return absl::OkStatus();
  }
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    absl::StrAppend(&text, i ? ", " : "",
                    shape[i] == kUnknownDim ? "?" : absl::StrCat(shape[i]));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "shape ", text, shape.size() == 1 ? ",)" : ")", " of ", DTypeName(dtype),
      " is too large: its size in bytes overflows int64"));
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
