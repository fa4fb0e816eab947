// A user's first program: softmax regression on a small synthetic problem,
// built from //:theta alone (see examples/BUILD and the README). It prints
// the cost every 20 steps and the final training accuracy, and exits 1 when
// the model did not learn.
#include <cstdio>
#include <random>
#include <string>

#include "theta.h"

using namespace theta;

int Run() {
  constexpr int64_t kSamples = 64, kFeatures = 4, kClasses = 3;
  // Each class is a cloud around its own centre.
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  Tensor images(DType::kFloat32, {kSamples, kFeatures});
  Tensor labels(DType::kInt32, {kSamples});
  for (int64_t i = 0; i < kSamples; ++i) {
    const int32_t c = static_cast<int32_t>(i % kClasses);
    labels.data<int32_t>()[i] = c;
    for (int64_t j = 0; j < kFeatures; ++j) {
      images.data<float>()[i * kFeatures + j] =
          (j == c ? 1.0f : 0.0f) + noise(rng);
    }
  }

  Var x = fmatrix("x");  // (batch, features)
  Var y = ivector("y");  // (batch,) class labels
  SharedVar W = shared(Tensor(DType::kFloat32, {kFeatures, kClasses}), "W");
  SharedVar b = shared(Tensor(DType::kFloat32, {kClasses}), "b");
  Var p = nnet::softmax(dot(x, W) + b);
  Var cost = mean(nnet::categorical_crossentropy(p, y));
  std::vector<Var> g = grad(cost, {W, b});
  Function train =
      function({x, y}, {cost},
               {.updates = {{W, W - 0.5f * g[0]}, {b, b - 0.5f * g[1]}}});
  Function predict = function({x}, {argmax(p, 1)});

  for (int step = 0; step <= 100; ++step) {
    const float loss = train({images, labels})[0].data<float>()[0];
    if (step % 20 == 0) std::printf("step %3d  cost %.4f\n", step, loss);
  }
  const Tensor predicted = predict({images})[0];
  int correct = 0;
  for (int64_t i = 0; i < kSamples; ++i) {
    correct += predicted.data<int64_t>()[i] == labels.data<int32_t>()[i];
  }
  std::printf("training accuracy %d/%lld on backend %s\n", correct,
              static_cast<long long>(kSamples),
              std::string(train.backend().name()).c_str());
  return correct >= kSamples * 9 / 10 ? 0 : 1;
}

int main() {
  try {
    return Run();
  } catch (const Error& e) {
    std::fprintf(stderr, "softmax_regression: %s\n", e.what());
    return 1;
  }
}
