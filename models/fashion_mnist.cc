#include "models/fashion_mnist.h"

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "models/idx.h"

namespace theta::models::embedded {
extern const unsigned char train_images[];
extern const size_t train_images_size;
extern const unsigned char train_labels[];
extern const size_t train_labels_size;
extern const unsigned char test_images[];
extern const size_t test_images_size;
extern const unsigned char test_labels[];
extern const size_t test_labels_size;
}  // namespace theta::models::embedded

namespace theta::models {
namespace {

// Errors about the images name `images_source`, those about the labels
// `labels_source`.
absl::StatusOr<LabelledImages> ToTensors(const IdxArray& images,
                                         const IdxArray& labels,
                                         const std::string& images_source,
                                         const std::string& labels_source) {
  if (images.dims.size() != 3 || images.dims[1] != 28 || images.dims[2] != 28) {
    return absl::InvalidArgumentError(
        absl::StrCat(images_source, ": images must be n x 28 x 28"));
  }
  if (labels.dims.size() != 1 || labels.dims[0] != images.dims[0]) {
    return absl::InvalidArgumentError(absl::StrCat(
        labels_source, ": ", labels.dims.empty() ? 0 : labels.dims[0],
        " labels for ", images.dims[0], " images of ", images_source));
  }
  const int64_t n = images.dims[0];
  LabelledImages out{Tensor(DType::kFloat32, {n, 784}),
                     Tensor(DType::kInt32, {n})};
  float* pixels = out.images.data<float>();
  for (size_t i = 0; i < images.data.size(); ++i)
    pixels[i] = images.data[i] / 255.0f;
  int32_t* y = out.labels.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (labels.data[i] >= kFashionMnistClasses) {
      return absl::InvalidArgumentError(
          absl::StrCat(labels_source, ": label ", int{labels.data[i]},
                       " of image ", i, " is not in [0, 10)"));
    }
    y[i] = labels.data[i];
  }
  return out;
}

absl::StatusOr<LabelledImages> Load(const std::string& images_path,
                                    const std::string& labels_path) {
  absl::StatusOr<IdxArray> images = ReadIdxFile(images_path);
  if (!images.ok()) return images.status();
  absl::StatusOr<IdxArray> labels = ReadIdxFile(labels_path);
  if (!labels.ok()) return labels.status();
  return ToTensors(*images, *labels, images_path, labels_path);
}

LabelledImages FromMemory(const unsigned char* images, size_t images_size,
                          const unsigned char* labels, size_t labels_size) {
  absl::StatusOr<IdxArray> i =
      ParseIdx(images, images_size, "embedded sample images");
  ThrowIfError(i.status());
  absl::StatusOr<IdxArray> l =
      ParseIdx(labels, labels_size, "embedded sample labels");
  ThrowIfError(l.status());
  absl::StatusOr<LabelledImages> out =
      ToTensors(*i, *l, "embedded sample images", "embedded sample labels");
  ThrowIfError(out.status());
  return *std::move(out);
}

}  // namespace

absl::StatusOr<FashionMnist> LoadFashionMnist(const std::string& dir) {
  FashionMnist data;
  absl::StatusOr<LabelledImages> train = Load(
      dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz");
  if (!train.ok()) return train.status();
  absl::StatusOr<LabelledImages> test = Load(
      dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz");
  if (!test.ok()) return test.status();
  data.train = *std::move(train);
  data.test = *std::move(test);
  data.source = dir;
  return data;
}

FashionMnist EmbeddedFashionMnistSample() {
  FashionMnist data;
  data.train = FromMemory(embedded::train_images, embedded::train_images_size,
                          embedded::train_labels, embedded::train_labels_size);
  data.test = FromMemory(embedded::test_images, embedded::test_images_size,
                         embedded::test_labels, embedded::test_labels_size);
  data.source = "the embedded 2,000/500-image sample";
  return data;
}

}  // namespace theta::models
