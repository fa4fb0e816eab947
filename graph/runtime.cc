#include "graph/runtime.h"

#include "absl/strings/str_cat.h"
#include "backends/api/elementwise_semantics.h"

namespace theta {

void HostValue::Set(int i, double value) {
  if (IsFloat(dtype)) {
    floats[i] = dtype == DType::kFloat32 ? static_cast<float>(value) : value;
  } else if (dtype == DType::kBool) {
    ints[i] = value != 0;
  } else {
    ints[i] = ew::Convert<int64_t>(value);
    if (dtype == DType::kInt32) ints[i] = static_cast<int32_t>(ints[i]);
    if (dtype == DType::kUInt8) ints[i] = static_cast<uint8_t>(ints[i]);
  }
}

void HostValue::SetInt(int i, int64_t value) {
  if (IsFloat(dtype)) {
    Set(i, static_cast<double>(value));
  } else if (dtype == DType::kBool) {
    ints[i] = value != 0;
  } else if (dtype == DType::kInt32) {
    ints[i] = static_cast<int32_t>(value);
  } else if (dtype == DType::kUInt8) {
    ints[i] = static_cast<uint8_t>(value);
  } else {
    ints[i] = value;
  }
}

bool HostValue::operator==(const HostValue& other) const {
  if (dtype != other.dtype || shape != other.shape) return false;
  for (int i = 0; i < size(); ++i) {
    if (IsFloat(dtype) ? floats[i] != other.floats[i]
                       : ints[i] != other.ints[i]) {
      return false;
    }
  }
  return true;
}

std::string HostValue::ToString() const {
  std::string out = "[";
  for (int i = 0; i < size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "");
    if (IsFloat(dtype)) {
      absl::StrAppend(&out, floats[i]);
    } else {
      absl::StrAppend(&out, ints[i]);
    }
  }
  return out + "]";
}

}  // namespace theta
