// Dataset: examples that a Trainer draws minibatches from. A dataset fills
// preallocated batch tensors (one per model input, in order) with the
// examples whose indices it is given, so a training step allocates nothing.
//
//   ImageDataset train(data.train, ImageLayout::kRows);   // for an LSTM
//   std::vector<Tensor> batch = train.AllocateBatch(64);
//   train.FillBatch(indices, batch);                      // 64 indices
#ifndef THETA_MODELS_DATASET_H_
#define THETA_MODELS_DATASET_H_

#include <cstdint>
#include <span>
#include <vector>

#include "graph/tensor.h"
#include "models/fashion_mnist.h"

namespace theta::models {

class Dataset {
 public:
  virtual ~Dataset() = default;
  // The number of examples.
  virtual int64_t size() const = 0;
  // Tensors for a batch of `n` examples: {inputs, targets}.
  virtual std::vector<Tensor> AllocateBatch(int64_t n) const = 0;
  // Writes examples rows[0..n) into `batch` (from AllocateBatch(n)).
  virtual void FillBatch(std::span<const int64_t> rows,
                         std::vector<Tensor>& batch) const = 0;
};

enum class ImageLayout {
  kFlat,  // (samples, 784): for softmax regression and MLPs
  kRows,  // (28 rows, samples, 28 columns): an image as a sequence of rows
};

// Labelled 28x28 images (Fashion-MNIST) as {images, int32 labels}. Keeps a
// reference to `images`, which must outlive it; `limit` > 0 uses only the
// first `limit` examples.
class ImageDataset : public Dataset {
 public:
  ImageDataset(const LabelledImages& images, ImageLayout layout,
               int64_t limit = 0);
  int64_t size() const override { return size_; }
  std::vector<Tensor> AllocateBatch(int64_t n) const override;
  void FillBatch(std::span<const int64_t> rows,
                 std::vector<Tensor>& batch) const override;

 private:
  const LabelledImages& images_;
  ImageLayout layout_;
  int64_t size_;
};

// Examples stacked along axis 0 of `x` and `y` (any dtypes, equal first
// dimensions). A batch stacks them along axis 0, or, with time_major, keeps
// each example's first axis (time) first: x examples of shape (T, F...)
// become a (T, samples, F...) batch, y examples (T) a (T, samples) batch;
// a y of one value per example stays (samples).
class TensorDataset : public Dataset {
 public:
  // Throws Error when x and y hold different numbers of examples, or
  // time_major is asked for rank-1 x.
  TensorDataset(Tensor x, Tensor y, bool time_major = false);
  int64_t size() const override { return x_.shape()[0]; }
  std::vector<Tensor> AllocateBatch(int64_t n) const override;
  void FillBatch(std::span<const int64_t> rows,
                 std::vector<Tensor>& batch) const override;

 private:
  Tensor x_, y_;
  bool time_major_;
};

}  // namespace theta::models

#endif  // THETA_MODELS_DATASET_H_
