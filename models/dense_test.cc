// Dense and Embedding: values, gradients (verify_grad), input errors.
#include "models/dense.h"

#include "autodiff/verify_grad.h"
#include "base/error.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/embedding.h"
#include "ops/ops.h"

namespace theta::models {
namespace {

using ::testing::HasSubstr;

Tensor Random64(std::vector<int64_t> shape, uint64_t seed) {
  Rng rng(seed);
  return Uniform(shape, 1.0, rng).astype(DType::kFloat64);
}

TEST(DenseTest, ComputesReluOfAffineMap) {
  Rng rng(1);
  Dense layer(3, 2, rng, {.activation = Activation::kRelu});
  layer.w().set_value(Tensor({1.f, -1.f, 2.f, 0.f, 0.f, 3.f}, {3, 2}));
  layer.b().set_value(Tensor({0.5f, -10.f}, {2}));
  Var x = fmatrix("x");
  Function f = function({x}, {layer(x)});
  Tensor y = f({Tensor({1.f, 1.f, 1.f}, {1, 3})})[0];
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{3.5f, 0.f}));
}

TEST(DenseTest, MapsEachTimestepOfARank3Input) {
  Rng rng(1);
  Dense layer(2, 3, rng);
  Var x = ftensor3("x");
  Function f = function({x}, {layer(x)});
  Tensor y = f({Tensor(DType::kFloat32, {4, 5, 2})})[0];
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{4, 5, 3}));
}

TEST(DenseTest, GradientMatchesCentralDifferences) {
  Rng rng(1);
  for (Activation a :
       {Activation::kLinear, Activation::kTanh, Activation::kSigmoid}) {
    Dense layer(4, 3, rng, {.activation = a});
    VerifyGradResult r = verify_grad(
        [&](const std::vector<Var>& in) {
          return layer.Apply(in[0], in[1], in[2]);
        },
        {Random64({5, 4}, 1), Random64({4, 3}, 2), Random64({3}, 3)});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(DenseTest, WrongInputNamesTheLayerAndBothShapes) {
  Rng rng(1);
  Dense layer(784, 10, rng, {.name = "softmax"});
  try {
    layer(tensor(DType::kFloat32, {kUnknownDim, 100}, "x"));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "dense \"softmax\": input must be float32 (samples, "
                 "features) = (?, 784); given float32(?, 100)");
  }
  EXPECT_THAT(
      [&] { layer(dmatrix("x")); },
      ::testing::ThrowsMessage<Error>(HasSubstr("given float64(?, ?)")));
  EXPECT_THAT([&] { layer(fvector("x")); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("dense \"softmax\": input must be float32")));
  EXPECT_THROW(Dense(0, 3, rng), Error);
}

TEST(EmbeddingTest, LooksUpRowsAndItsGradientScattersIntoThem) {
  Rng rng(1);
  Embedding embed(5, 2, rng, "words");
  embed.table().set_value(
      Tensor({0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f}, {5, 2}));
  Var ids = imatrix("ids");
  Function f = function({ids}, {embed(ids)});
  Tensor y = f({Tensor({4, 0, 4}, {3, 1})})[0];
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(y.to_vector<float>(),
            (std::vector<float>{8.f, 9.f, 0.f, 1.f, 8.f, 9.f}));
  Tensor id_values({1, 3, 1}, {3});
  VerifyGradResult r = verify_grad(
      [&](const std::vector<Var>& in) {
        return tanh(embed.Apply(constant(id_values), in[0]));
      },
      {Random64({5, 2}, 4)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(EmbeddingTest, FloatIdsAreAnErrorNamingTheLayer) {
  Rng rng(1);
  Embedding embed(5, 2, rng, "words");
  EXPECT_THAT([&] { embed(fmatrix("ids")); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("embedding \"words\": input must be int32 or "
                            "int64 ids; given float32(?, ?)")));
}

}  // namespace
}  // namespace theta::models
