// What the Fashion-MNIST training programs (train_softmax_regression,
// train_mlp, train_fashion_mnist) share: the check of every flag before any
// work, the data (--data_dir, else Debian's directory, else the embedded
// sample), the output directory, the optimizer, checkpoints (written at
// each evaluation, resumed with --resume), and the training run that shows
// progress and writes training_log.csv and training_curve.svg at each
// evaluation. The flags themselves: fashion_mnist_flags.h.
//
//   ProgramOptions o = {.program = "train_mlp", .model = {ModelKind::kMlp,
//                       512}, .epochs = 5, ...};
//   ValidateProgramOptions(o);          // throws Error listing bad flags
//   return RunFashionMnistProgram(o);
#ifndef THETA_MODELS_FASHION_MNIST_PROGRAM_H_
#define THETA_MODELS_FASHION_MNIST_PROGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "models/fashion_mnist.h"
#include "models/fashion_mnist_models.h"

namespace theta::models {

// The programs' flags, by flag name.
struct ProgramOptions {
  std::string program;   // for messages
  std::string data_dir;  // empty: the default directory, else the sample
  std::string out_dir;
  std::string backend;
  std::string optimizer;  // sgd | momentum | adam
  ModelChoice model;
  // Where checkpoints go (empty: none), and whether to resume from the one
  // there.
  std::string checkpoint_dir;
  bool resume = false;
  int epochs = 1;
  int batch_size = 64;
  double learning_rate = 0.05;
  std::string lr_schedule = "constant";  // constant | cosine
  double momentum = 0.9;
  int evaluations_per_epoch = 4;
  int max_train_images = 0;
  uint32_t seed = 1;
  // Whether --hidden was given (an error for softmax regression).
  bool hidden_given = false;
  // Errors found while reading the flags (a bad --model), reported first.
  std::vector<std::string> flag_errors;
};

// Throws Error("invalid flags: ...") naming every flag out of its range.
void ValidateProgramOptions(const ProgramOptions& options);

// Trains options.model and returns the exit status (with --resume, the
// rows of the training_log.csv in --out_dir up to the checkpoint's step are
// kept and the new ones follow); throws Error for data
// that does not load, an --out_dir or --checkpoint_dir that cannot be
// written, a --resume checkpoint that is missing or does not fit (naming
// the file and what did not fit), or a diverging run. Everything but the
// run itself is checked before training starts.
int RunFashionMnistProgram(const ProgramOptions& options);

// The data of --data_dir (Error naming it when it does not load), or
// without one the default directory, else the embedded sample (saying so on
// stdout).
FashionMnist LoadProgramData(const std::string& data_dir);

// The checkpoint file in `checkpoint_dir`: <dir>/checkpoint.safetensors.
std::string CheckpointPath(const std::string& checkpoint_dir);

}  // namespace theta::models

#endif  // THETA_MODELS_FASHION_MNIST_PROGRAM_H_
