#include "graph/shared.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "base/status_macros.h"
#include "graph/text.h"

namespace theta {

SharedStorage::SharedStorage(Tensor value, std::string name)
    : name_(std::move(name)),
      dtype_(value.dtype()),
      shape_(value.dims()),
      host_(value.clone()) {}

Tensor SharedStorage::get_value() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (backend_ == nullptr) return host_.clone();
  Tensor out = Tensor::Uninitialized(dtype_, shape_);
  ThrowIfError(
      backend_->CopyToHost(out.raw_data(), buffer_.data(), out.nbytes()));
  ThrowIfError(backend_->Synchronize());
  return out;
}

void SharedStorage::set_value(const Tensor& value) {
  if (!value.defined()) {
    throw Error(absl::StrCat("set_value of shared variable '", name_,
                             "': undefined Tensor"));
  }
  if (value.dtype() != dtype_ || value.ndim() != shape_.size() ||
      (fixed_shape_ && value.dims() != shape_)) {
    throw Error(absl::StrCat(
        "set_value of shared variable '", name_, "': expected ",
        Article(DTypeName(dtype_)), " ", DTypeName(dtype_), " tensor of ",
        fixed_shape_ ? absl::StrCat("shape ", shape_.ToString())
                     : absl::StrCat("rank ", shape_.size()),
        ", got ", DTypeName(value.dtype()), " of shape ",
        value.dims().ToString()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (backend_ != nullptr) {
    if (buffer_.size() != value.nbytes()) {
      absl::StatusOr<backends::Buffer> buffer =
          backend_->Allocate(value.nbytes());
      ThrowIfError(buffer.status());
      buffer_ = *std::move(buffer);
    }
    ThrowIfError(backend_->CopyToDevice(buffer_.data(), value.raw_data(),
                                        value.nbytes()));
    ThrowIfError(backend_->Synchronize());
  } else {
    host_ = value.clone();
  }
  shape_ = value.dims();
}

absl::Status SharedStorage::EnsureOn(backends::Backend& backend) {
  std::lock_guard<std::mutex> lock(mu_);
  if (backend_ == &backend) return absl::OkStatus();
  if (backend_ != nullptr) {
    // Move from the other backend through the host. On failure the value
    // stays where it was: on the old backend until it is on the host, then
    // on the host (backend_ null) until it is on the new backend.
    Tensor host = Tensor::Uninitialized(dtype_, shape_);
    THETA_RETURN_IF_ERROR(
        backend_->CopyToHost(host.raw_data(), buffer_.data(), host.nbytes()));
    THETA_RETURN_IF_ERROR(backend_->Synchronize());
    host_ = std::move(host);
    buffer_ = backends::Buffer();
    backend_ = nullptr;
  }
  absl::StatusOr<backends::Buffer> buffer = backend.Allocate(host_.nbytes());
  if (!buffer.ok()) {
    return absl::Status(buffer.status().code(),
                        absl::StrCat("shared variable '", name_,
                                     "': ", buffer.status().message()));
  }
  THETA_RETURN_IF_ERROR(
      backend.CopyToDevice(buffer->data(), host_.raw_data(), host_.nbytes()));
  THETA_RETURN_IF_ERROR(backend.Synchronize());
  buffer_ = *std::move(buffer);
  backend_ = &backend;
  host_ = Tensor();
  return absl::OkStatus();
}

void SharedStorage::SwapBuffer(backends::Buffer& other, const Dims& shape) {
  std::swap(buffer_, other);
  shape_ = shape;
}

Var MakeSharedVariable(std::shared_ptr<SharedStorage> storage, TensorType type,
                       std::string name, std::source_location location) {
  Var v = MakeInput(std::move(type), std::move(name), location);
  // Re-kind the fresh variable; MakeInput is the one constructor path.
  Variable* raw = v.get();
  raw->kind_ = VarKind::kShared;
  raw->leaf_->shared = std::move(storage);
  return v;
}

SharedVar shared(const Tensor& value, std::string name, SharedOptions options,
                 std::source_location location) {
  if (!value.defined()) {
    ThrowAt(MakeSourceInfo(location),
            absl::StrCat("shared '", name, "': undefined Tensor"));
  }
  auto storage = std::make_shared<SharedStorage>(value, name);
  storage->set_fixed_shape(options.static_shape);
  TensorType type =
      options.static_shape
          ? TensorType(value.dtype(), value.dims())
          : TensorType(value.dtype(), Dims::Filled(value.ndim(), kUnknownDim));
  return SharedVar(
      MakeSharedVariable(std::move(storage), type, std::move(name), location));
}

SharedVar shared_like(const SharedVar& like, double fill, std::string name,
                      SharedOptions options, std::source_location location) {
  if (!like.defined() || like->kind() != VarKind::kShared) {
    ThrowAt(MakeSourceInfo(location),
            absl::StrCat("shared_like: '",
                         like.defined() ? like->DisplayName() : "undefined",
                         "' is not a shared variable"));
  }
  const SharedStorage& storage = *like->shared();
  Tensor value(DType::kFloat64, storage.shape());
  std::fill_n(value.data<double>(), value.size(), fill);
  return shared(value.astype(storage.dtype()), std::move(name), options,
                location);
}

}  // namespace theta
