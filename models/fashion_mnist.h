// Fashion-MNIST (Zalando; 28x28 grey images of 10 kinds of clothing):
// loaded from the IDX files Debian's dataset-fashion-mnist installs, or the
// 2,000/500-image sample embedded in this library when they are absent.
//
//   absl::StatusOr<FashionMnist> data =
//       LoadFashionMnist(kDefaultFashionMnistDir);
//   if (!data.ok()) data = EmbeddedFashionMnistSample();
#ifndef THETA_MODELS_FASHION_MNIST_H_
#define THETA_MODELS_FASHION_MNIST_H_

#include <string>

#include "absl/status/statusor.h"
#include "graph/tensor.h"

namespace theta::models {

inline constexpr char kDefaultFashionMnistDir[] =
    "/usr/share/datasets/fashion-mnist";
inline constexpr int kFashionMnistClasses = 10;

struct LabelledImages {
  Tensor images;  // float32 (n, 784), pixel / 255
  Tensor labels;  // int32 (n,)
};

struct FashionMnist {
  LabelledImages train;
  LabelledImages test;
  std::string source;  // where it came from
};

// The four *-idx*-ubyte.gz files of `dir`.
absl::StatusOr<FashionMnist> LoadFashionMnist(const std::string& dir);
// The first 2,000 training and 500 test images, built into the library.
FashionMnist EmbeddedFashionMnistSample();

}  // namespace theta::models

#endif  // THETA_MODELS_FASHION_MNIST_H_
