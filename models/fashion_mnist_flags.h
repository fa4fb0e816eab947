// The command-line flags of the Fashion-MNIST training programs, defined
// once for all three, and their main(): train_fashion_mnist (any model,
// --model=softmax|mlp|lstm, LSTM by default), train_mlp and
// train_softmax_regression (one model each, --model refused). The flags
// whose default depends on the model (--epochs, --hidden, --out_dir) take
// it from DefaultsOf(model) when not given; `--help` lists every flag with
// its range.
//
//   int main(int argc, char** argv) {
//     return theta::models::TrainFashionMnistMain(
//         argc, argv, {.program = "train_mlp", .model = ModelKind::kMlp});
//   }
#ifndef THETA_MODELS_FASHION_MNIST_FLAGS_H_
#define THETA_MODELS_FASHION_MNIST_FLAGS_H_

#include "models/fashion_mnist_models.h"

namespace theta::models {

struct TrainProgram {
  const char* program;      // the binary's name, for messages
  const char* usage;        // one line for --help
  ModelKind model;          // the model trained without --model
  bool model_flag = false;  // whether --model may choose another
};

// Parses the flags, checks them all before any work (exit status 1 and a
// message naming each bad flag and its range on stderr), trains, and
// returns the exit status.
int TrainFashionMnistMain(int argc, char** argv, const TrainProgram& program);

}  // namespace theta::models

#endif  // THETA_MODELS_FASHION_MNIST_FLAGS_H_
