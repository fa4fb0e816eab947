// Datasets: batches in flat and time-major layouts hold the chosen examples.
#include "models/dataset.h"

#include <vector>

#include "base/error.h"
#include "gtest/gtest.h"

namespace theta::models {
namespace {

TEST(DatasetTest, TensorDatasetStacksExamplesAlongAxis0) {
  TensorDataset d(Tensor({0.f, 1.f, 2.f, 3.f, 4.f, 5.f}, {3, 2}),
                  Tensor({7, 8, 9}, {3}));
  EXPECT_EQ(d.size(), 3);
  std::vector<Tensor> batch = d.AllocateBatch(2);
  const std::vector<int64_t> rows = {2, 0};
  d.FillBatch(rows, batch);
  EXPECT_EQ(batch[0].to_vector<float>(), (std::vector<float>{4, 5, 0, 1}));
  EXPECT_EQ(batch[1].to_vector<int32_t>(), (std::vector<int32_t>{9, 7}));
}

// Examples (T=2, F=2) become a (2, samples, 2) batch; y (T) a (2, samples).
TEST(DatasetTest, TimeMajorBatchesPutTimeFirst) {
  TensorDataset d(
      Tensor({0.f, 1.f, 2.f, 3.f, 10.f, 11.f, 12.f, 13.f}, {2, 2, 2}),
      Tensor({1, 2, 3, 4}, {2, 2}), /*time_major=*/true);
  std::vector<Tensor> batch = d.AllocateBatch(2);
  EXPECT_EQ(batch[0].shape(), (std::vector<int64_t>{2, 2, 2}));
  const std::vector<int64_t> rows = {1, 0};
  d.FillBatch(rows, batch);
  EXPECT_EQ(batch[0].to_vector<float>(),
            (std::vector<float>{10, 11, 0, 1, 12, 13, 2, 3}));
  EXPECT_EQ(batch[1].to_vector<int32_t>(), (std::vector<int32_t>{3, 1, 4, 2}));
}

TEST(DatasetTest, ImageRowsLayoutReadsAnImageRowByRow) {
  LabelledImages images{Tensor(DType::kFloat32, {2, 784}), Tensor({5, 6}, {2})};
  for (int64_t i = 0; i < 2 * 784; ++i) images.images.data<float>()[i] = i;
  ImageDataset rows(images, ImageLayout::kRows, /*limit=*/1);
  EXPECT_EQ(rows.size(), 1);
  std::vector<Tensor> batch = rows.AllocateBatch(1);
  const std::vector<int64_t> one = {0};
  rows.FillBatch(one, batch);
  EXPECT_EQ(batch[0].shape(), (std::vector<int64_t>{28, 1, 28}));
  EXPECT_EQ(batch[0].at<float>({3, 0, 5}), 3 * 28 + 5);
  ImageDataset flat(images, ImageLayout::kFlat);
  batch = flat.AllocateBatch(1);
  const std::vector<int64_t> second = {1};
  flat.FillBatch(second, batch);
  EXPECT_EQ(batch[0].at<float>({0, 10}), 784 + 10);
  EXPECT_EQ(batch[1].to_vector<int32_t>(), (std::vector<int32_t>{6}));
}

TEST(DatasetTest, MismatchedExampleCountsAreAnError) {
  try {
    TensorDataset(Tensor(DType::kFloat32, {3, 2}), Tensor(DType::kInt32, {4}));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "TensorDataset: x and y must hold the same number of "
                 "examples along axis 0; given x (3, 2) and y (4,)");
  }
}

}  // namespace
}  // namespace theta::models
