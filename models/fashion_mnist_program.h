// What the Fashion-MNIST training programs (train_softmax_regression,
// train_mlp, train_fashion_mnist) share: the check of every flag before any
// work, the data (--data_dir, else Debian's directory, else the embedded
// sample), the output directory, the optimizer, and the training run that
// prints progress and writes training_log.csv and training_curve.svg at
// each evaluation.
//
//   ProgramOptions o = {.program = "train_mlp", .epochs = 5, ...};
//   ValidateProgramOptions(o);          // throws Error listing bad flags
//   return RunFashionMnistProgram(o, ImageLayout::kFlat, "MLP 784-512-10",
//                                 [&](Rng& rng) { return Mlp({}, rng); });
#ifndef THETA_MODELS_FASHION_MNIST_PROGRAM_H_
#define THETA_MODELS_FASHION_MNIST_PROGRAM_H_

#include <cstdint>
#include <functional>
#include <string>

#include "models/dataset.h"
#include "models/init.h"
#include "models/model.h"

namespace theta::models {

// The programs' flags, by flag name.
struct ProgramOptions {
  std::string program;   // for messages
  std::string data_dir;  // empty: the default directory, else the sample
  std::string out_dir;
  std::string backend;
  std::string optimizer;  // sgd | momentum | adam
  int epochs = 1;
  int batch_size = 64;
  double learning_rate = 0.05;
  double momentum = 0.9;
  int evaluations_per_epoch = 4;
  int max_train_images = 0;
  uint32_t seed = 1;
  // Hidden units, for the programs with a --hidden flag (0: no such flag).
  int hidden = 0;
  bool has_hidden_flag = false;
};

// Throws Error("invalid flags: ...") naming every flag out of its range.
void ValidateProgramOptions(const ProgramOptions& options);

// Trains the model `build` makes (on data in `layout`) and returns the exit
// status; throws Error for data that does not load, an --out_dir that
// cannot be written, or a diverging run. `description` heads the log.
int RunFashionMnistProgram(const ProgramOptions& options, ImageLayout layout,
                           const std::string& description,
                           const std::function<Model(Rng&)>& build);

}  // namespace theta::models

#endif  // THETA_MODELS_FASHION_MNIST_PROGRAM_H_
