// train_softmax_regression: trains softmax regression (one dense layer and
// a softmax over the 10 classes, Theano's logistic regression tutorial) on
// Fashion-MNIST images flattened to 784 pixels. Data, flags, progress and
// the training log (training_log.csv, training_curve.svg in --out_dir) as
// train_fashion_mnist's; every flag is checked before any work.
//
//   bazel run //models:train_softmax_regression
#include <cstdio>
#include <exception>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "models/classifiers.h"
#include "models/fashion_mnist_program.h"

ABSL_FLAG(std::string, data_dir, "",
          "directory of the Fashion-MNIST IDX files; a directory given here "
          "must load. Default: /usr/share/datasets/fashion-mnist (Debian's "
          "dataset-fashion-mnist), else the embedded 2,000/500-image sample");
ABSL_FLAG(std::string, out_dir, "softmax_regression_run",
          "where training_log.csv and training_curve.svg are written");
ABSL_FLAG(std::string, backend, "",
          "backend to train on (cpu, cuda, or a plugin path); default: "
          "$THETA_BACKEND, else the first usable one");
ABSL_FLAG(int, epochs, 10, "passes over the training set (>= 1)");
ABSL_FLAG(int, batch_size, 64,
          "images per optimiser step (>= 1, at most the training images)");
ABSL_FLAG(std::string, optimizer, "adam",
          "sgd, momentum (v = momentum v - lr g; p += v) or adam");
ABSL_FLAG(double, learning_rate, 0.001, "learning rate (finite, > 0)");
ABSL_FLAG(double, momentum, 0.9,
          "momentum of --optimizer=momentum (in [0, 1))");
ABSL_FLAG(int, evaluations_per_epoch, 4,
          "test-set evaluations (rows of the log) per epoch (>= 1)");
ABSL_FLAG(int, max_train_images, 0,
          "use only the first N training images (>= 0; 0: all)");
ABSL_FLAG(uint32_t, seed, 1, "seed of initial weights and shuffling");

namespace {

theta::models::ProgramOptions FlagValues() {
  return {
      .program = "train_softmax_regression",
      .data_dir = absl::GetFlag(FLAGS_data_dir),
      .out_dir = absl::GetFlag(FLAGS_out_dir),
      .backend = absl::GetFlag(FLAGS_backend),
      .optimizer = absl::GetFlag(FLAGS_optimizer),
      .epochs = absl::GetFlag(FLAGS_epochs),
      .batch_size = absl::GetFlag(FLAGS_batch_size),
      .learning_rate = absl::GetFlag(FLAGS_learning_rate),
      .momentum = absl::GetFlag(FLAGS_momentum),
      .evaluations_per_epoch = absl::GetFlag(FLAGS_evaluations_per_epoch),
      .max_train_images = absl::GetFlag(FLAGS_max_train_images),
      .seed = absl::GetFlag(FLAGS_seed),
  };
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "trains softmax regression on Fashion-MNIST; see --help");
  absl::ParseCommandLine(argc, argv);
  try {
    const theta::models::ProgramOptions options = FlagValues();
    theta::models::ValidateProgramOptions(options);
    return theta::models::RunFashionMnistProgram(
        options, theta::models::ImageLayout::kFlat, "softmax regression",
        [](theta::models::Rng& rng) {
          return theta::models::SoftmaxRegression({}, rng);
        });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_softmax_regression: %s\n", e.what());
    return 1;
  }
}
