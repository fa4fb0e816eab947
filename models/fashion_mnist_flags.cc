#include "models/fashion_mnist_flags.h"

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "models/fashion_mnist_program.h"

ABSL_FLAG(std::optional<std::string>, model, std::nullopt,
          "train_fashion_mnist only: the model, softmax (softmax regression), "
          "mlp (784-hidden-10, ReLU) or lstm (rows of 28 pixels as 28 "
          "timesteps); default: lstm");
ABSL_FLAG(std::string, data_dir, "",
          "directory of the Fashion-MNIST IDX files; a directory given here "
          "must load. Default: /usr/share/datasets/fashion-mnist (Debian's "
          "dataset-fashion-mnist), else the embedded 2,000/500-image sample");
ABSL_FLAG(std::optional<std::string>, out_dir, std::nullopt,
          "where training_log.csv and training_curve.svg are written; "
          "default (also when given empty): fashion_mnist_run (lstm), "
          "mlp_run, softmax_regression_run");
ABSL_FLAG(std::string, backend, "",
          "backend to train on (cpu, cuda, or a plugin path); default: "
          "$THETA_BACKEND, else the first usable one");
ABSL_FLAG(std::optional<int>, epochs, std::nullopt,
          "passes over the training set (>= 1); default: 3 (lstm), 10 (mlp, "
          "softmax)");
ABSL_FLAG(int, batch_size, 64,
          "images per optimiser step (>= 1, at most the training images)");
ABSL_FLAG(std::optional<int>, hidden, std::nullopt,
          "hidden units (>= 1) of the LSTM (default 128) or the MLP (default "
          "512); softmax regression has none");
ABSL_FLAG(std::string, optimizer, "adam",
          "sgd, momentum (v = momentum v - lr g; p += v), nesterov, adagrad, "
          "adadelta, rmsprop, adam or adamw (optim/*.h state each formula)");
ABSL_FLAG(std::optional<double>, learning_rate, std::nullopt,
          "(initial) learning rate (finite, > 0); default: 0.003 (lstm), "
          "0.001 (mlp, softmax)");
ABSL_FLAG(std::optional<std::string>, lr_schedule, std::nullopt,
          "constant, or cosine (from --learning_rate down to 0 over the "
          "steps of --epochs); default: cosine (lstm), constant (mlp, "
          "softmax)");
ABSL_FLAG(double, momentum, 0.9,
          "momentum of --optimizer=momentum (in [0, 1))");
ABSL_FLAG(int, evaluations_per_epoch, 4,
          "test-set evaluations (rows of the log, checkpoints) per epoch (>= "
          "1)");
ABSL_FLAG(int, max_train_images, 0,
          "use only the first N training images (>= 0; 0: all)");
ABSL_FLAG(uint32_t, seed, 1,
          "seed of initial weights and shuffling (0 to 4294967295)");
ABSL_FLAG(std::string, checkpoint_dir, "",
          "write checkpoint.safetensors (parameters, optimizer state, "
          "progress) here at each evaluation, atomically; empty: none");
ABSL_FLAG(bool, resume, false,
          "continue from the checkpoint in --checkpoint_dir (same model, "
          "optimizer, learning rate and schedule, batch size, seed and data "
          "as the run that wrote it; with --lr_schedule=cosine the same "
          "--epochs), up to --epochs in all");

namespace theta::models {
namespace {

// --help lists the flags defined here, not only those of the main file.
void ShowTheseFlagsInHelp() {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "fashion_mnist_flags");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
}

ProgramOptions FlagValues(const TrainProgram& p) {
  ProgramOptions o;
  o.program = p.program;
  std::vector<std::string> errors;
  ModelKind kind = p.model;
  const std::optional<std::string> model = absl::GetFlag(FLAGS_model);
  if (p.model_flag && model.has_value()) {
    absl::StatusOr<ModelKind> parsed = ParseModelKind(*model);
    if (!parsed.ok()) {
      errors.push_back(absl::StrCat("--model=", *model,
                                    " must be one of softmax, mlp, lstm"));
    } else {
      kind = *parsed;
    }
  } else if (model.has_value()) {
    errors.push_back(absl::StrCat("--model=", *model, ": ", p.program,
                                  " trains ", ModelKindName(p.model),
                                  " only (train_fashion_mnist takes --model)"));
  }
  const ModelDefaults defaults = DefaultsOf(kind);
  const std::optional<int> hidden = absl::GetFlag(FLAGS_hidden);
  o.hidden_given = hidden.has_value();
  o.model = {.kind = kind, .hidden = hidden.value_or(defaults.hidden)};
  o.data_dir = absl::GetFlag(FLAGS_data_dir);
  o.out_dir = absl::GetFlag(FLAGS_out_dir).value_or(defaults.out_dir);
  o.backend = absl::GetFlag(FLAGS_backend);
  o.optimizer = absl::GetFlag(FLAGS_optimizer);
  o.epochs = absl::GetFlag(FLAGS_epochs).value_or(defaults.epochs);
  o.batch_size = absl::GetFlag(FLAGS_batch_size);
  o.learning_rate =
      absl::GetFlag(FLAGS_learning_rate).value_or(defaults.learning_rate);
  o.lr_schedule =
      absl::GetFlag(FLAGS_lr_schedule).value_or(defaults.lr_schedule);
  o.momentum = absl::GetFlag(FLAGS_momentum);
  o.evaluations_per_epoch = absl::GetFlag(FLAGS_evaluations_per_epoch);
  o.max_train_images = absl::GetFlag(FLAGS_max_train_images);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  o.resume = absl::GetFlag(FLAGS_resume);
  o.flag_errors = std::move(errors);
  return o;
}

}  // namespace

int TrainFashionMnistMain(int argc, char** argv, const TrainProgram& program) {
  ShowTheseFlagsInHelp();
  absl::SetProgramUsageMessage(
      absl::StrCat(program.usage, "; flags (all checked before any work):"));
  absl::ParseCommandLine(argc, argv);
  try {
    return RunFashionMnistProgram(FlagValues(program));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program.program, e.what());
    return 1;
  }
}

}  // namespace theta::models
