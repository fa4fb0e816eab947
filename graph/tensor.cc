#include "graph/tensor.h"

#include <cstdlib>
#include <new>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/api/elementwise_semantics.h"
#include "graph/text.h"
#include "graph/type.h"

namespace theta {
namespace {

constexpr size_t kAlignment = 64;

template <typename T>
double ReadAs(const void* data, int64_t i) {
  return static_cast<double>(static_cast<const T*>(data)[i]);
}

template <typename To>
void ConvertAll(const Tensor& from, To* to) {
  for (int64_t i = 0; i < from.size(); ++i) {
    to[i] = ew::Convert<To>(from.GetAsDouble(i));
  }
}

}  // namespace

std::string Dims::ToString() const {
  std::string out = "(";
  for (int i = 0; i < size_; ++i) {
    absl::StrAppend(&out, i ? ", " : "", data_[i]);
  }
  if (size_ == 1) out += ",";
  return out + ")";
}

Tensor::Storage::Storage(size_t n) : bytes(n) {
  size_t rounded = (n + kAlignment - 1) / kAlignment * kAlignment;
  data = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (data == nullptr) throw std::bad_alloc();
}

Tensor::Storage::~Storage() { std::free(data); }

std::shared_ptr<Tensor::Storage> Tensor::Allocate(DType dtype,
                                                  const Dims& shape) {
  const size_t bytes = static_cast<size_t>(shape.product()) * DTypeSize(dtype);
  try {
    return std::make_shared<Storage>(bytes);
  } catch (const std::bad_alloc&) {
    throw Error(absl::StrCat("Tensor: cannot allocate ", bytes, " bytes for a ",
                             DTypeName(dtype), " tensor of shape ",
                             shape.ToString()));
  }
}

Tensor::Tensor(DType dtype, std::span<const int64_t> shape) : dtype_(dtype) {
  if (shape.size() > static_cast<size_t>(kMaxDims)) {
    throw Error(absl::StrCat("Tensor: rank ", shape.size(),
                             " exceeds the maximum of ", kMaxDims));
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      throw Error(absl::StrCat("Tensor: negative size ", shape[i],
                               " in dimension ", i));
    }
  }
  if (absl::Status s = CheckShapeFits(shape, dtype); !s.ok()) {
    throw Error(absl::StrCat("Tensor: ", s.message()));
  }
  shape_.assign(shape);
  storage_ = Allocate(dtype, shape_);
  std::memset(storage_->data, 0, nbytes());
}

Tensor Tensor::Uninitialized(DType dtype, const Dims& shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  ThrowIfError(CheckShapeFits(shape, dtype));
  t.storage_ = Allocate(dtype, shape);
  return t;
}

Tensor Tensor::ScalarOf(DType dtype, double value) {
  Tensor t(dtype, std::span<const int64_t>());
  switch (dtype) {
    case DType::kFloat32:
      *t.data<float>() = static_cast<float>(value);
      break;
    case DType::kFloat64:
      *t.data<double>() = value;
      break;
    case DType::kInt32:
      *t.data<int32_t>() = ew::Convert<int32_t>(value);
      break;
    case DType::kInt64:
      *t.data<int64_t>() = ew::Convert<int64_t>(value);
      break;
    case DType::kUInt8:
      *t.data<uint8_t>() = ew::Convert<uint8_t>(value);
      break;
    case DType::kBool:
      *static_cast<uint8_t*>(t.raw_data()) = ew::ConvertToBool(value);
      break;
  }
  return t;
}

void Tensor::CheckType(DType requested) const {
  if (!defined()) throw Error("Tensor: access to an undefined tensor");
  if (requested != dtype_) {
    throw Error(absl::StrCat("Tensor: requested ", DTypeName(requested),
                             " data of ", Article(DTypeName(dtype_)), " ",
                             DTypeName(dtype_), " tensor of shape ",
                             shape_.ToString()));
  }
}

void Tensor::CheckCount(size_t count) const {
  if (static_cast<int64_t>(count) != size()) {
    throw Error(absl::StrCat("Tensor: ", count, " values given for shape ",
                             shape_.ToString(), ", which holds ", size()));
  }
}

void Tensor::ThrowNotSingle() const {
  throw Error(absl::StrCat("Tensor::item: tensor of shape ", shape_.ToString(),
                           " has ", size(), " elements, not 1"));
}

int64_t Tensor::Offset(std::initializer_list<int64_t> index) const {
  if (static_cast<int>(index.size()) != ndim()) {
    throw Error(absl::StrCat(
        "Tensor::at: ",
        Count(static_cast<int64_t>(index.size()), "index", "indices"),
        " for a tensor of rank ", ndim()));
  }
  int64_t offset = 0;
  int d = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= shape_[d]) {
      throw Error(absl::StrCat("Tensor::at: index ", i, " out of range for ",
                               "dimension ", d, " of size ", shape_[d]));
    }
    offset = offset * shape_[d] + i;
    ++d;
  }
  return offset;
}

double Tensor::GetAsDouble(int64_t i) const {
  const void* p = raw_data();
  switch (dtype_) {
    case DType::kFloat32:
      return ReadAs<float>(p, i);
    case DType::kFloat64:
      return ReadAs<double>(p, i);
    case DType::kInt32:
      return ReadAs<int32_t>(p, i);
    case DType::kInt64:
      return ReadAs<int64_t>(p, i);
    case DType::kUInt8:
    case DType::kBool:
      return ReadAs<uint8_t>(p, i);
  }
  return 0;
}

Tensor Tensor::clone() const {
  if (!defined()) return Tensor();
  Tensor copy = Uninitialized(dtype_, shape_);
  if (nbytes() > 0) std::memcpy(copy.raw_data(), raw_data(), nbytes());
  return copy;
}

Tensor Tensor::reshape(std::span<const int64_t> shape) const {
  if (shape.size() > static_cast<size_t>(kMaxDims)) {
    throw Error(absl::StrCat("Tensor::reshape: rank ", shape.size(),
                             " exceeds the maximum of ", kMaxDims));
  }
  if (absl::Status s = CheckShapeFits(shape, dtype_); !s.ok()) {
    throw Error(absl::StrCat("Tensor::reshape: ", s.message()));
  }
  Dims dims(shape);
  if (dims.product() != size()) {
    throw Error(absl::StrCat("Tensor::reshape: cannot view ", size(),
                             " elements of shape ", shape_.ToString(),
                             " as shape ", dims.ToString()));
  }
  Tensor view = *this;
  view.shape_ = dims;
  return view;
}

Tensor Tensor::astype(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor out = Uninitialized(dtype, shape_);
  switch (dtype) {
    case DType::kFloat32:
      ConvertAll(*this, out.data<float>());
      break;
    case DType::kFloat64:
      ConvertAll(*this, out.data<double>());
      break;
    case DType::kInt32:
      ConvertAll(*this, out.data<int32_t>());
      break;
    case DType::kInt64:
      ConvertAll(*this, out.data<int64_t>());
      break;
    case DType::kUInt8:
      ConvertAll(*this, out.data<uint8_t>());
      break;
    case DType::kBool: {
      auto* p = static_cast<uint8_t*>(out.raw_data());
      for (int64_t i = 0; i < size(); ++i) p[i] = GetAsDouble(i) != 0;
      break;
    }
  }
  return out;
}

std::string Tensor::ToString() const {
  if (!defined()) return "Tensor(undefined)";
  std::string out = absl::StrCat("Tensor(", DTypeName(dtype_), ", ",
                                 shape_.ToString(), ", [");
  constexpr int64_t kShown = 12;
  for (int64_t i = 0; i < size() && i < kShown; ++i) {
    absl::StrAppend(&out, i ? ", " : "",
                    absl::StrFormat("%.6g", GetAsDouble(i)));
  }
  if (size() > kShown) absl::StrAppend(&out, ", ...");
  return out + "])";
}

}  // namespace theta
