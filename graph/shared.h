// Shared variables: tensors that live on the backend between function calls
// (model parameters, optimizer state). A function reads them without their
// being inputs, and writes them through `updates`.
//
//   SharedVar W = shared(Tensor(DType::kFloat32, {784, 10}), "W");
//   Var y = dot(x, W);
//   W.set_value(trained);
//   Tensor w = W.get_value();
#ifndef THETA_GRAPH_SHARED_H_
#define THETA_GRAPH_SHARED_H_

#include <memory>
#include <mutex>
#include <source_location>
#include <string>

#include "absl/status/status.h"
#include "backends/backend.h"
#include "graph/ir.h"
#include "graph/tensor.h"

namespace theta {

// The storage behind a shared variable. Its value is on the host until a
// function first needs it, then on that function's backend; get_value()
// copies it back. Functions using one shared variable must not run
// concurrently.
class SharedStorage {
 public:
  SharedStorage(Tensor value, std::string name);
  SharedStorage(const SharedStorage&) = delete;
  SharedStorage& operator=(const SharedStorage&) = delete;

  const std::string& name() const { return name_; }
  DType dtype() const { return dtype_; }
  const Dims& shape() const { return shape_; }

  // A host copy of the current value.
  Tensor get_value() const;
  // Replaces the value; dtype and rank must match (throws Error naming the
  // variable otherwise). The shape may change unless the variable's type
  // fixes it.
  void set_value(const Tensor& value);

  // Executor interface. Places the value on `backend` (uploading, or moving
  // it from another backend through the host).
  absl::Status EnsureOn(backends::Backend& backend);
  backends::Backend* backend() const { return backend_; }
  void* device_data() const { return buffer_.data(); }
  // Exchanges the device buffer with `other` (an update's result of shape
  // `shape`): how updates are applied without a copy.
  void SwapBuffer(backends::Buffer& other, const Dims& shape);

  // Set when the variable's type fixes its shape.
  void set_fixed_shape(bool fixed) { fixed_shape_ = fixed; }

 private:
  std::string name_;
  DType dtype_;
  Dims shape_;
  bool fixed_shape_ = false;
  mutable std::mutex mu_;
  Tensor host_;  // the value while not on a device
  backends::Backend* backend_ = nullptr;
  backends::Buffer buffer_;
};

// A Var that is a shared variable, with access to its value.
class SharedVar : public Var {
 public:
  SharedVar() = default;
  explicit SharedVar(Var v) : Var(std::move(v)) {}
  Tensor get_value() const { return get()->shared()->get_value(); }
  void set_value(const Tensor& value) const {
    get()->shared()->set_value(value);
  }
};

struct SharedOptions {
  // Fix every dimension's size in the type (broadcastable where 1). Theano's
  // default, kept here, is a type of unknown sizes: the shape may change.
  bool static_shape = false;
};

// A new shared variable holding a copy of `value`.
SharedVar shared(
    const Tensor& value, std::string name = "", SharedOptions options = {},
    std::source_location location = std::source_location::current());

Var MakeSharedVariable(std::shared_ptr<SharedStorage> storage, TensorType type,
                       std::string name, std::source_location location);

}  // namespace theta

#endif  // THETA_GRAPH_SHARED_H_
