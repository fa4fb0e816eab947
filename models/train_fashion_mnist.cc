// train_fashion_mnist: trains an LSTM classifier on Fashion-MNIST, reading
// each 28x28 image as a sequence of 28 rows of 28 pixels, (timesteps,
// samples, features) layout, the last hidden state feeding a softmax over
// the 10 classes; Adam (lr 0.001) by default. Built on //models' Lstm,
// Trainer and //optim. Uses Debian's dataset-fashion-mnist when installed,
// the 2,000/500-image sample built into //models otherwise.
//
//   bazel run //models:train_fashion_mnist -- --epochs=3 --hidden=128
//
// Prints progress and writes training_log.csv and training_curve.svg to
// --out_dir (relative to where `bazel run` was started) as training goes:
// the CSV gains a line (flushed to disk) and the chart is redrawn at each
// evaluation. Every flag is checked, and --out_dir tried, before any work.
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
ABSL_FLAG(std::string, out_dir, "fashion_mnist_run",
          "where training_log.csv and training_curve.svg are written");
ABSL_FLAG(std::string, backend, "",
          "backend to train on (cpu, cuda, or a plugin path); default: "
          "$THETA_BACKEND, else the first usable one");
ABSL_FLAG(int, epochs, 3, "passes over the training set (>= 1)");
ABSL_FLAG(int, batch_size, 64,
          "images per optimiser step (>= 1, at most the training images)");
ABSL_FLAG(int, hidden, 128, "LSTM hidden units (>= 1)");
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
  return {.program = "train_fashion_mnist",
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
          .hidden = absl::GetFlag(FLAGS_hidden),
          .has_hidden_flag = true};
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "trains an LSTM classifier on Fashion-MNIST; see --help");
  absl::ParseCommandLine(argc, argv);
  try {
    const theta::models::ProgramOptions options = FlagValues();
    theta::models::ValidateProgramOptions(options);
    const int64_t hidden = options.hidden;
    return theta::models::RunFashionMnistProgram(
        options, theta::models::ImageLayout::kRows,
        absl::StrCat("LSTM, ", hidden, " hidden units"),
        [&](theta::models::Rng& rng) {
          return theta::models::LstmClassifier({.hidden = hidden}, rng);
        });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_fashion_mnist: %s\n", e.what());
    return 1;
  }
}
