// Labels out of [0, classes) are a run-time error naming the label, its
// position and the range, on every path that reads labels: one_hot, the
// fused softmax cross-entropy, and cross-entropy of any other
// probabilities (Theano: "y_idx value out of bounds"). Before, every path
// but the fused one gave rows of zeros: a loss of 0 and no gradient.
#include "ops/labels.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;

TEST(LabelsTest, OneHotOfALabelOutOfRangeIsAnError) {
  Var y = ivector("y");
  Function f = function({y}, {one_hot(y, 4)});
  EXPECT_THAT(ErrorOf([&] {
                f({Tensor(std::vector<int32_t>{1, 9, -1})});
              }),
              HasSubstr("one_hot: label 9 at position 1 is out of range "
                        "[0, 4)"));
  EXPECT_THAT(ErrorOf([&] {
                f({Tensor(std::vector<int32_t>{1, 3, -1})});
              }),
              HasSubstr("one_hot: label -1 at position 2 is out of range "
                        "[0, 4)"));
  // The same function, good labels: right rows.
  EXPECT_TRUE(AllClose(f({Tensor(std::vector<int32_t>{3, 0})})[0],
                       {0, 0, 0, 1, 1, 0, 0, 0}));
  // int64 labels of rank 2, a position of two indices.
  Var m = lmatrix("m");
  Function g = function({m}, {one_hot(m, 3)});
  EXPECT_THAT(
      ErrorOf([&] {
        g({Tensor(std::vector<int64_t>{0, 1, 2, int64_t{1} << 40}, {2, 2})});
      }),
      HasSubstr("one_hot: label 1099511627776 at position (1, 1) is "
                "out of range [0, 3)"));
}

// categorical_crossentropy written other than as (softmax(z), y): here
// on clipped probabilities, as users write it to avoid log(0).
TEST(LabelsTest, CrossentropyOfClippedSoftmaxRejectsLabelsOutOfRange) {
  Var z = dmatrix("z");
  Var y = ivector("y");
  Var p = clip(nnet::softmax(z), 1e-7, 1 - 1e-7);
  Var loss = nnet::categorical_crossentropy(p, y);
  Function f = function({z, y}, {loss});
  const Tensor zv = testing::Random(DType::kFloat64, {2, 3}, 5);
  EXPECT_THAT(ErrorOf([&] {
                f({zv, Tensor(std::vector<int32_t>{3, 3})});
              }),
              HasSubstr("categorical_crossentropy: label 3 at row 0 is out "
                        "of range [0, 3)"));
  EXPECT_THAT(ErrorOf([&] {
                f({zv, Tensor(std::vector<int32_t>{-1, 5})});
              }),
              HasSubstr("categorical_crossentropy: label -1 at row 0 is out "
                        "of range [0, 3)"));
  // Good labels afterwards: -log p[label], against a reference here.
  const std::vector<int32_t> labels = {2, 0};
  Tensor got = f({zv, Tensor(labels)})[0];
  std::vector<double> expected;
  for (int i = 0; i < 2; ++i) {
    double total = 0;
    for (int j = 0; j < 3; ++j) total += std::exp(zv.GetAsDouble(i * 3 + j));
    expected.push_back(
        -std::log(std::exp(zv.GetAsDouble(i * 3 + labels[i])) / total));
  }
  EXPECT_TRUE(AllClose(got, expected, 1e-6, 1e-9));
}

// The fused path named the gather's internal flat position ("index 8 out of
// range [-8, 8) at position 1"); now it names the label and its row.
TEST(LabelsTest, FusedSoftmaxCrossentropyNamesTheLabel) {
  Var z = fmatrix("z");
  Var y = lvector("y");
  Function f =
      function({z, y}, {nnet::categorical_crossentropy(nnet::softmax(z), y)});
  const Tensor zv = testing::Random(DType::kFloat32, {2, 3}, 6);
  EXPECT_THAT(ErrorOf([&] {
                f({zv, Tensor(std::vector<int64_t>{0, 5})});
              }),
              HasSubstr("categorical_crossentropy: label 5 at row 1 is out of "
                        "range [0, 3)"));
  EXPECT_THAT(ErrorOf([&] {
                f({zv, Tensor(std::vector<int64_t>{2, -3})});
              }),
              HasSubstr("categorical_crossentropy: label -3 at row 1 is out "
                        "of range [0, 3)"));
  EXPECT_EQ(f({zv, Tensor(std::vector<int64_t>{0, 2})})[0].size(), 2);
}

TEST(LabelsTest, FirstLabelOutOfRangeFormatsThePosition) {
  const std::vector<int64_t> ok = {0, 1, 2};
  EXPECT_TRUE(FirstLabelOutOfRange("f", "row", ok, Dims({3}), 3).ok());
  const std::vector<int64_t> bad = {0, 1, 2, 7, -1, 0};
  EXPECT_EQ(
      FirstLabelOutOfRange("f", "position", bad, Dims({2, 3}), 3).message(),
      "f: label 7 at position (1, 0) is out of range [0, 3)");
}

}  // namespace
}  // namespace theta
