#include "graph/tensor.h"

#include <functional>
#include <string>

#include "gmock/gmock.h"
#include "graph/tensor_eigen.h"
#include "graph/type.h"
#include "gtest/gtest.h"

namespace theta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TensorTest, BuiltFromVectorAndReadBack) {
  Tensor t(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_THAT(t.shape(), ElementsAre(2, 3));
  EXPECT_EQ(t.size(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(t.at<float>({1, 0}), 4.0f);
  EXPECT_THAT(t.to_vector<float>(), ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(TensorTest, BuiltFromBracedListsAsTheHeaderShows) {
  Tensor a({1.f, 2.f, 3.f, 4.f}, {2, 2});
  EXPECT_EQ(a.dtype(), DType::kFloat32);
  EXPECT_THAT(a.shape(), ElementsAre(2, 2));
  EXPECT_EQ(a.at<float>({1, 0}), 3.0f);
  Tensor b({1.0, 2.0, 3.0}, {3, 1});
  EXPECT_EQ(b.dtype(), DType::kFloat64);
  EXPECT_THAT(b.shape(), ElementsAre(3, 1));
  Tensor c({int64_t{7}, int64_t{8}}, {2});
  EXPECT_EQ(c.dtype(), DType::kInt64);
  EXPECT_THAT(c.to_vector<int64_t>(), ElementsAre(7, 8));
  try {
    Tensor({1.f, 2.f, 3.f}, {2, 2});
    ADD_FAILURE() << "3 values for a 2x2 tensor were accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("3 values given for shape (2, 2)"));
  }
}

TEST(TensorTest, ZeroFilledAndAligned) {
  Tensor t(DType::kFloat64, {3, 5});
  for (double v : t.to_vector<double>()) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
}

TEST(TensorTest, CopiesShareDataCloneDoesNot) {
  Tensor a(std::vector<int32_t>{1, 2, 3});
  Tensor b = a;
  Tensor c = a.clone();
  a.data<int32_t>()[0] = 7;
  EXPECT_EQ(b.data<int32_t>()[0], 7);
  EXPECT_EQ(c.data<int32_t>()[0], 1);
  EXPECT_EQ(a.use_count(), 2);
}

TEST(TensorTest, ScalarAndItem) {
  Tensor s = Tensor::Scalar<int64_t>(42);
  EXPECT_EQ(s.ndim(), 0);
  EXPECT_EQ(s.size(), 1);
  EXPECT_EQ(s.item<int64_t>(), 42);
  EXPECT_EQ(Tensor::ScalarOf(DType::kInt32, 3.9).item<int32_t>(), 3);
  EXPECT_EQ(Tensor::ScalarOf(DType::kBool, -2).to_vector<bool>()[0], true);
}

TEST(TensorTest, ReshapeSharesAndAstypeConverts) {
  Tensor t(std::vector<double>{1.5, -2.5, 3.0, 4.0}, {2, 2});
  Tensor r = t.reshape({4});
  EXPECT_THAT(r.shape(), ElementsAre(4));
  EXPECT_EQ(r.raw_data(), t.raw_data());
  Tensor i = t.astype(DType::kInt32);
  EXPECT_THAT(i.to_vector<int32_t>(), ElementsAre(1, -2, 3, 4));
}

TEST(TensorTest, ErrorsNameTheProblem) {
  try {
    Tensor(std::vector<float>{1, 2, 3}, {2, 2});
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("3 values given for shape (2, 2)"));
  }
  Tensor t(DType::kFloat32, {2});
  try {
    t.data<double>();
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("requested float64 data of a float32"));
  }
  try {
    Tensor(DType::kInt32, {2}).data<float>();
    ADD_FAILURE() << "float data of an int32 tensor was given";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("requested float32 data of an int32"));
  }
  try {
    t.item<float>();
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("has 2 elements, not 1"));
  }
  try {
    t.reshape({3});
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot view 2 elements"));
  }
  EXPECT_THROW(Tensor(DType::kFloat32, {-1}), Error);
  EXPECT_THROW(t.at<float>({2}), Error);
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TensorTest, ShapesWhoseSizeOverflowsAreRejected) {
  constexpr int64_t k2to40 = int64_t{1} << 40;
  // The element count wraps to 4: a 16-byte buffer behind a huge shape.
  EXPECT_EQ(ErrorOf([] {
              Tensor(DType::kFloat32, {(int64_t{1} << 62) + 1, 4});
            }),
            "Tensor: shape (4611686018427387905, 4) of float32 is too large: "
            "its size in bytes overflows int64");
  // The element count wraps to 0.
  EXPECT_THAT(ErrorOf([] {
                Tensor(DType::kFloat32, {k2to40, k2to40});
              }),
              HasSubstr("shape (1099511627776, 1099511627776) of float32 is "
                        "too large"));
  // The elements fit in int64, their bytes do not.
  EXPECT_THAT(
      ErrorOf([] { Tensor(DType::kFloat64, {int64_t{1} << 61}); }),
      HasSubstr("shape (2305843009213693952,) of float64 is too large"));
  // As in NumPy, an empty dimension does not excuse the others.
  EXPECT_THAT(ErrorOf([] {
                Tensor(DType::kUInt8, {k2to40, 0, k2to40});
              }),
              HasSubstr("too large"));
  EXPECT_THAT(ErrorOf([] {
                Tensor::Uninitialized(DType::kInt32, Dims({k2to40, k2to40}));
              }),
              HasSubstr("shape (1099511627776, 1099511627776) of int32"));
  // 2^80 elements wrap to the 0 elements of the source.
  Tensor empty(DType::kFloat32, {0});
  EXPECT_EQ(ErrorOf([&] {
              empty.reshape({k2to40, k2to40});
            }),
            "Tensor::reshape: shape (1099511627776, 1099511627776) of float32 "
            "is too large: its size in bytes overflows int64");
  EXPECT_EQ(Tensor(DType::kUInt8, {k2to40, 0, 7}).size(), 0);
}

TEST(TensorTest, StaticTypesWhoseSizeOverflowsAreRejected) {
  constexpr int64_t k2to40 = int64_t{1} << 40;
  EXPECT_THAT(ErrorOf([] {
                TensorType(DType::kFloat32, {k2to40, k2to40});
              }),
              HasSubstr("shape (1099511627776, 1099511627776) of float32 is "
                        "too large"));
  EXPECT_THAT(
      ErrorOf([] {
        TensorType(DType::kFloat32, Dims({kUnknownDim, k2to40, k2to40}));
      }),
      HasSubstr("shape (?, 1099511627776, 1099511627776)"));
  // Unknown sizes are not counted.
  EXPECT_EQ(TensorType(DType::kFloat32, {kUnknownDim, k2to40}).ToString(),
            "float32(?, 1099511627776)");
}

TEST(TensorTest, UnallocatableTensorIsAnErrorNotBadAlloc) {
  // 2^60 bytes: more than any address space, so the allocation fails
  // whatever the machine's memory and overcommit settings.
  EXPECT_EQ(ErrorOf([] {
              Tensor(DType::kFloat32, {int64_t{1} << 28, int64_t{1} << 30});
            }),
            "Tensor: cannot allocate 1152921504606846976 bytes for a float32 "
            "tensor of shape (268435456, 1073741824)");
}

TEST(TensorTest, EigenViewsShareMemory) {
  Tensor t(DType::kFloat32, {2, 3});
  auto m = AsEigenMatrix<float>(t);
  m(1, 2) = 5.0f;
  EXPECT_EQ(t.at<float>({1, 2}), 5.0f);
  auto v = AsEigenVector<float>(t);
  EXPECT_EQ(v.sum(), 5.0f);
  Tensor vec(DType::kFloat32, {3});
  EXPECT_THROW(AsEigenMatrix<float>(vec), Error);
}

}  // namespace
}  // namespace theta
