// train_fashion_mnist: trains a classifier on Fashion-MNIST; by default
// (--model=lstm) an LSTM reading each 28x28 image as a sequence of 28 rows
// of 28 pixels, (timesteps, samples, features) layout, the last hidden
// state feeding a softmax over the 10 classes, its input standardised with
// the data set's pixel mean and deviation, trained with Adam at 3e-3 on a
// cosine schedule to 0 over 3 epochs (>= 88% on the full test set);
// --model=mlp and --model=softmax train the models of train_mlp and
// train_softmax_regression. Built on //models' layers, Trainer and //optim.
// Uses Debian's dataset-fashion-mnist when installed, the 2,000/500-image
// sample built into //models otherwise.
//
//   bazel run //models:train_fashion_mnist -- --checkpoint_dir=ckpt
//   bazel run //models:train_fashion_mnist -- --checkpoint_dir=ckpt --resume
//
// Shows progress (a bar on a terminal, lines otherwise) and writes
// training_log.csv and training_curve.svg to --out_dir (relative to where
// `bazel run` was started) as training goes: the CSV gains a line (flushed
// to disk) and the chart is redrawn at each evaluation, as is the
// checkpoint with --checkpoint_dir. Every flag is checked, and --out_dir
// and --checkpoint_dir tried, before any work (fashion_mnist_flags.h).
#include "models/fashion_mnist_flags.h"

int main(int argc, char** argv) {
  using theta::models::ModelKind;
  return theta::models::TrainFashionMnistMain(
      argc, argv,
      {.program = "train_fashion_mnist",
       .usage = "trains a Fashion-MNIST classifier (an LSTM by default)",
       .model = ModelKind::kLstm,
       .model_flag = true});
}
