#include "models/dataset.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/error.h"

namespace theta::models {
namespace {
constexpr int64_t kSide = 28;
}

ImageDataset::ImageDataset(const LabelledImages& images, ImageLayout layout,
                           int64_t limit)
    : images_(images), layout_(layout), size_(images.labels.size()) {
  if (limit > 0) size_ = std::min(size_, limit);
}

std::vector<Tensor> ImageDataset::AllocateBatch(int64_t n) const {
  Tensor x = layout_ == ImageLayout::kFlat
                 ? Tensor(DType::kFloat32, {n, kSide * kSide})
                 : Tensor(DType::kFloat32, {kSide, n, kSide});
  return {x, Tensor(DType::kInt32, {n})};
}

void ImageDataset::FillBatch(std::span<const int64_t> rows,
                             std::vector<Tensor>& batch) const {
  const int64_t n = rows.size();
  const float* src = images_.images.data<float>();
  const int32_t* labels = images_.labels.data<int32_t>();
  float* dst = batch[0].data<float>();
  int32_t* y = batch[1].data<int32_t>();
  for (int64_t b = 0; b < n; ++b) {
    const float* image = src + rows[b] * kSide * kSide;
    if (layout_ == ImageLayout::kFlat) {
      std::copy_n(image, kSide * kSide, dst + b * kSide * kSide);
    } else {
      for (int64_t t = 0; t < kSide; ++t) {
        std::copy_n(image + t * kSide, kSide, dst + (t * n + b) * kSide);
      }
    }
    y[b] = labels[rows[b]];
  }
}

namespace {

// The batch shape of `n` examples of `t` (examples along axis 0).
std::vector<int64_t> BatchShape(const Tensor& t, int64_t n, bool time_major) {
  std::vector<int64_t> shape = t.shape();
  if (time_major && shape.size() >= 2) {
    shape[0] = shape[1];
    shape[1] = n;
  } else {
    shape[0] = n;
  }
  return shape;
}

void CopyRows(const Tensor& from, std::span<const int64_t> rows,
              bool time_major, Tensor& to) {
  const std::vector<int64_t> shape = from.shape();
  const size_t element = DTypeSize(from.dtype());
  const int64_t n = rows.size();
  int64_t example = 1;
  for (size_t d = 1; d < shape.size(); ++d) example *= shape[d];
  const char* src = static_cast<const char*>(from.raw_data());
  char* dst = static_cast<char*>(to.raw_data());
  if (!time_major || shape.size() < 2) {
    for (int64_t b = 0; b < n; ++b) {
      std::memcpy(dst + b * example * element,
                  src + rows[b] * example * element, example * element);
    }
    return;
  }
  const int64_t steps = shape[1], rest = example / steps;
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      std::memcpy(dst + (t * n + b) * rest * element,
                  src + (rows[b] * example + t * rest) * element,
                  rest * element);
    }
  }
}

}  // namespace

TensorDataset::TensorDataset(Tensor x, Tensor y, bool time_major)
    : x_(std::move(x)), y_(std::move(y)), time_major_(time_major) {
  if (x_.ndim() < 1 || y_.ndim() < 1 || x_.shape()[0] != y_.shape()[0]) {
    throw Error(absl::StrCat(
        "TensorDataset: x and y must hold the same number of examples along "
        "axis 0; given x ",
        x_.dims().ToString(), " and y ", y_.dims().ToString()));
  }
  if (time_major && x_.ndim() < 2) {
    throw Error(
        absl::StrCat("TensorDataset: time_major needs examples with a "
                     "time axis; given x ",
                     x_.dims().ToString()));
  }
}

std::vector<Tensor> TensorDataset::AllocateBatch(int64_t n) const {
  return {Tensor(x_.dtype(), BatchShape(x_, n, time_major_)),
          Tensor(y_.dtype(), BatchShape(y_, n, time_major_))};
}

void TensorDataset::FillBatch(std::span<const int64_t> rows,
                              std::vector<Tensor>& batch) const {
  CopyRows(x_, rows, time_major_, batch[0]);
  CopyRows(y_, rows, time_major_, batch[1]);
}

}  // namespace theta::models
