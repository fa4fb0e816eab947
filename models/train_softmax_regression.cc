// train_softmax_regression: trains softmax regression (one dense layer and
// a softmax over the 10 classes, Theano's logistic regression tutorial) on
// Fashion-MNIST images flattened to 784 pixels. Data, flags, progress and
// the training log (training_log.csv, training_curve.svg in --out_dir) as
// train_fashion_mnist's; every flag is checked before any work.
//
//   bazel run //models:train_softmax_regression
#include "models/fashion_mnist_flags.h"

int main(int argc, char** argv) {
  using theta::models::ModelKind;
  return theta::models::TrainFashionMnistMain(
      argc, argv,
      {.program = "train_softmax_regression",
       .usage = "trains softmax regression on Fashion-MNIST",
       .model = ModelKind::kSoftmax,
       .model_flag = false});
}
