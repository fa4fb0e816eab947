#include "models/fashion_mnist.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace theta::models {
namespace {

using ::testing::HasSubstr;

std::string SampleFile(const std::string& name) {
  return std::string(std::getenv("TEST_SRCDIR")) + "/theta/models/data/" + name;
}

// A directory holding the embedded sample's files under the names of the
// full data set, and `labels` (if not empty) as the test labels.
std::string FakeDataDirectory(const std::string& name,
                              const std::string& test_labels = "") {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::create_directories(dir);
  for (const char* file :
       {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    std::filesystem::copy_file(
        SampleFile(std::string("sample-") + file), dir + "/" + file,
        std::filesystem::copy_options::overwrite_existing);
  }
  if (!test_labels.empty()) {
    std::ofstream(dir + "/t10k-labels-idx1-ubyte.gz", std::ios::binary)
        << test_labels;
  }
  return dir;
}

TEST(FashionMnistTest, EmbeddedSampleHoldsNormalisedImagesOfEveryClass) {
  const FashionMnist data = EmbeddedFashionMnistSample();
  ASSERT_EQ(data.train.images.shape(), (std::vector<int64_t>{2000, 784}));
  ASSERT_EQ(data.train.labels.shape(), (std::vector<int64_t>{2000}));
  ASSERT_EQ(data.test.images.shape(), (std::vector<int64_t>{500, 784}));
  ASSERT_EQ(data.test.labels.shape(), (std::vector<int64_t>{500}));
  std::set<int32_t> classes;
  for (int64_t i = 0; i < 2000; ++i) {
    classes.insert(data.train.labels.data<int32_t>()[i]);
  }
  EXPECT_EQ(classes.size(), 10u);
  float lowest = 1, highest = 0;
  for (int64_t i = 0; i < data.train.images.size(); ++i) {
    lowest = std::min(lowest, data.train.images.data<float>()[i]);
    highest = std::max(highest, data.train.images.data<float>()[i]);
  }
  EXPECT_EQ(lowest, 0.0f);
  EXPECT_EQ(highest, 1.0f);
  // Fashion-MNIST's first training image is an ankle boot (class 9).
  EXPECT_EQ(data.train.labels.data<int32_t>()[0], 9);
}

TEST(FashionMnistTest, LoadsTheFilesOfADirectory) {
  absl::StatusOr<FashionMnist> data =
      LoadFashionMnist(FakeDataDirectory("complete"));
  ASSERT_TRUE(data.ok()) << data.status();
  const FashionMnist embedded = EmbeddedFashionMnistSample();
  ASSERT_EQ(data->train.images.shape(), embedded.train.images.shape());
  for (int64_t i = 0; i < embedded.train.images.size(); i += 97) {
    ASSERT_EQ(data->train.images.data<float>()[i],
              embedded.train.images.data<float>()[i]);
  }
  EXPECT_THAT(data->source, HasSubstr("complete"));
}

TEST(FashionMnistTest, MissingFilesAreNamed) {
  absl::StatusOr<FashionMnist> data = LoadFashionMnist("/no/such/directory");
  EXPECT_EQ(data.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(data.status().message(),
              HasSubstr("/no/such/directory/train-images-idx3-ubyte.gz"));
}

TEST(FashionMnistTest, RejectsLabelsOutOfRangeOrMiscounted) {
  // Plain IDX: 500 labels, the last one 12.
  std::string labels("\0\0\x08\x01\0\0\x01\xf4", 8);
  labels += std::string(499, '\3') + "\x0c";
  absl::StatusOr<FashionMnist> bad_label =
      LoadFashionMnist(FakeDataDirectory("bad_label", labels));
  // The label file is named, not the images file.
  EXPECT_THAT(bad_label.status().message(),
              HasSubstr("/t10k-labels-idx1-ubyte.gz: label 12 of image 499 "
                        "is not in [0, 10)"));

  std::string short_labels("\0\0\x08\x01\0\0\0\x03\1\2\3", 11);
  absl::StatusOr<FashionMnist> miscounted =
      LoadFashionMnist(FakeDataDirectory("miscounted", short_labels));
  EXPECT_THAT(miscounted.status().message(),
              HasSubstr("/t10k-labels-idx1-ubyte.gz: 3 labels for 500 images "
                        "of "));
  EXPECT_THAT(miscounted.status().message(),
              HasSubstr("/t10k-images-idx3-ubyte.gz"));
}

}  // namespace
}  // namespace theta::models
