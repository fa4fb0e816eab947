#include "graph/dtype.h"

#include <atomic>
#include <cstdlib>

namespace theta {
namespace {

// Rank in NumPy's promotion lattice for the cases we need.
int KindRank(DType t) {
  switch (t) {
    case DType::kBool:
      return 0;
    case DType::kUInt8:
    case DType::kInt32:
    case DType::kInt64:
      return 1;
    case DType::kFloat32:
    case DType::kFloat64:
      return 2;
  }
  return 0;
}

DType InitialFloatX() {
  const char* env = std::getenv("THETA_FLOATX");
  if (env != nullptr) {
    if (std::optional<DType> t = ParseDType(env); t && IsFloat(*t)) return *t;
  }
  return DType::kFloat32;
}

std::atomic<DType>& FloatXStorage() {
  static std::atomic<DType> value{InitialFloatX()};
  return value;
}

}  // namespace

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kUInt8:
      return "uint8";
    case DType::kBool:
      return "bool";
  }
  return "?";
}

std::optional<DType> ParseDType(std::string_view name) {
  for (DType t : {DType::kFloat32, DType::kFloat64, DType::kInt32,
                  DType::kInt64, DType::kUInt8, DType::kBool}) {
    if (name == DTypeName(t)) return t;
  }
  if (name == "floatX") return floatX();
  return std::nullopt;
}

DType Upcast(DType a, DType b) {
  if (a == b) return a;
  int ka = KindRank(a), kb = KindRank(b);
  if (ka != kb) {
    if (ka < kb) std::swap(a, b), std::swap(ka, kb);
    // a is of the higher kind.
    if (ka == 2 && kb == 1) {
      // An integer of more than 8 bits does not fit float32 exactly.
      if (a == DType::kFloat32 && b != DType::kUInt8) return DType::kFloat64;
      return a;
    }
    return a;  // bool with anything
  }
  if (ka == 2) return DType::kFloat64;
  // Both integers.
  if (a == DType::kInt64 || b == DType::kInt64) return DType::kInt64;
  return DType::kInt32;  // uint8 with int32
}

DType floatX() { return FloatXStorage().load(std::memory_order_relaxed); }

void set_floatX(DType dtype) {
  FloatXStorage().store(dtype, std::memory_order_relaxed);
}

}  // namespace theta
