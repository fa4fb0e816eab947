// train_mlp: trains a multilayer perceptron (784 pixels, --hidden ReLU
// units, a softmax over the 10 classes) on Fashion-MNIST. Data, flags,
// progress and the training log (training_log.csv, training_curve.svg in
// --out_dir) as train_fashion_mnist's (fashion_mnist_flags.h); every flag is
// checked before any work.
//
//   bazel run //models:train_mlp -- --hidden=512
#include "models/fashion_mnist_flags.h"

int main(int argc, char** argv) {
  using theta::models::ModelKind;
  return theta::models::TrainFashionMnistMain(
      argc, argv,
      {.program = "train_mlp",
       .usage = "trains an MLP on Fashion-MNIST",
       .model = ModelKind::kMlp,
       .model_flag = false});
}
