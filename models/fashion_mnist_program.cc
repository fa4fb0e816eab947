#include "models/fashion_mnist_program.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "backends/backend.h"
#include "backends/registry.h"
#include "base/error.h"
#include "models/checkpoint.h"
#include "models/fashion_mnist.h"
#include "models/progress_bar.h"
#include "models/safetensors.h"
#include "models/trainer.h"
#include "models/trainer_checkpoint.h"
#include "models/training_log.h"
#include "optim/adam.h"
#include "optim/factory.h"
#include "optim/momentum.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

namespace theta::models {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

FashionMnist LoadProgramData(const std::string& given) {
  const std::string dir = given.empty() ? kDefaultFashionMnistDir : given;
  absl::StatusOr<FashionMnist> loaded = LoadFashionMnist(dir);
  if (loaded.ok()) return *std::move(loaded);
  if (!given.empty()) {
    throw Error(
        absl::StrCat("--data_dir=", dir, ": ", loaded.status().message()));
  }
  std::printf(
      "Full data set not loaded (%s);\nusing the embedded sample (give "
      "--data_dir to require the full set).\n",
      std::string(loaded.status().message()).c_str());
  return EmbeddedFashionMnistSample();
}

namespace {

// `bazel run` starts programs in their runfiles; paths are relative to
// where it was run.
std::filesystem::path FromWorkingDirectory(const std::string& path) {
  std::filesystem::path p = path;
  const char* workspace = std::getenv("BUILD_WORKING_DIRECTORY");
  if (p.is_relative() && workspace != nullptr) p = workspace / p;
  return p;
}

// Creates --out_dir if needed and checks that files can be written there.
std::string OutputDirectory(const std::string& out_dir) {
  const std::filesystem::path dir = FromWorkingDirectory(out_dir);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw Error(absl::StrCat("--out_dir: cannot create ", dir.string(), ": ",
                             error.message()));
  }
  if (absl::Status s = CheckDirectoryWritable(dir.string()); !s.ok()) {
    throw Error(absl::StrCat("--out_dir: ", s.message()));
  }
  return dir.string();
}

// The optimizer of --optimizer, its learning rate read from `lr`.
std::unique_ptr<optim::Optimizer> MakeOptimizer(const ProgramOptions& o,
                                                const optim::Schedule& lr) {
  if (o.optimizer == "sgd") {
    return std::make_unique<optim::Sgd>(optim::SgdOptions{.lr = lr.var()});
  }
  if (o.optimizer == "momentum") {
    return std::make_unique<optim::Momentum>(
        optim::MomentumOptions{.lr = lr.var(), .momentum = o.momentum});
  }
  if (o.optimizer == "adam") {
    return std::make_unique<optim::Adam>(optim::AdamOptions{.lr = lr.var()});
  }
  // The others with the factory's defaults (validated before any work).
  absl::StatusOr<std::unique_ptr<optim::Optimizer>> made =
      optim::MakeOptimizer(o.optimizer, lr.var());
  ThrowIfError(made.status());
  return *std::move(made);
}

optim::ScheduleFn LearningRate(const ProgramOptions& o, int64_t total_steps) {
  if (o.lr_schedule == "cosine") {
    return optim::cosine_decay(o.learning_rate, total_steps);
  }
  return optim::constant_rate(o.learning_rate);
}

// The shortest decimal that reads back as `value` ("0.003").
std::string ShortestDecimal(double value) {
  char text[32];
  const std::to_chars_result r =
      std::to_chars(text, text + sizeof(text), value);
  return std::string(text, r.ptr);
}

// What a checkpoint records of the run beyond the trainer's own state, and
// what --resume requires to be the same: the model and its size, then the
// flags that fix the order and size of the steps.
std::map<std::string, std::string> RunMetadata(const ProgramOptions& o) {
  std::map<std::string, std::string> m = ModelMetadata(o.model);
  m["program.optimizer"] = o.optimizer;
  m["program.batch_size"] = absl::StrCat(o.batch_size);
  m["program.seed"] = absl::StrCat(o.seed);
  m["program.max_train_images"] = absl::StrCat(o.max_train_images);
  m["program.learning_rate"] = ShortestDecimal(o.learning_rate);
  m["program.lr_schedule"] = o.lr_schedule;
  // A cosine schedule spans the run's steps: resuming it needs the same
  // end (CheckResumable compares it only then).
  m["program.epochs"] = absl::StrCat(o.epochs);
  return m;
}

// Throws Error naming `path` and the first thing in which its checkpoint
// differs from this run (the model, its size, a flag), or why it does not
// load.
void CheckResumable(const ProgramOptions& o, const std::string& path) {
  if (!std::filesystem::exists(path)) {
    throw Error(absl::StrCat("--resume: no checkpoint ", path,
                             " (train once with --checkpoint_dir first)"));
  }
  absl::StatusOr<SafetensorsContents> file = ReadSafetensors(path);
  if (!file.ok()) {
    throw Error(absl::StrCat("--resume: ", file.status().message()));
  }
  absl::StatusOr<ModelChoice> model = ModelFromMetadata(file->metadata, path);
  if (!model.ok()) {
    throw Error(absl::StrCat("--resume: ", model.status().message()));
  }
  if (model->kind != o.model.kind || (o.model.kind != ModelKind::kSoftmax &&
                                      model->hidden != o.model.hidden)) {
    throw Error(absl::StrCat("--resume: ", path, " is a checkpoint of ",
                             Describe(*model), ", not of ", Describe(o.model)));
  }
  for (const auto& [key, value] : RunMetadata(o)) {
    if (key == "program.epochs" && o.lr_schedule != "cosine") continue;
    auto it = file->metadata.find(key);
    const std::string flag = key.substr(key.find('.') + 1);
    if (it == file->metadata.end() || it->second != value) {
      throw Error(absl::StrCat(
          "--resume: ", path, " was written with --", flag, "=",
          it == file->metadata.end() ? "(not recorded)" : it->second,
          ", this run has --", flag, "=", value));
    }
  }
}

// Loads the checkpoint into `trainer`; throws when it does not fit, or when
// it is already at `total_steps`.
void Resume(Trainer& trainer, const std::string& path, int64_t total_steps,
            int epochs) {
  if (absl::Status s = LoadTrainerCheckpoint(trainer, path); !s.ok()) {
    throw Error(absl::StrCat("--resume: ", s.message()));
  }
  if (trainer.step() >= total_steps) {
    throw Error(absl::StrCat("--resume: ", path, " is at step ", trainer.step(),
                             ", already the end of --epochs=", epochs, " (",
                             total_steps, " steps); give more --epochs"));
  }
  std::printf("resumed from %s at step %lld\n", path.c_str(),
              static_cast<long long>(trainer.step()));
}

// The rows of the training_log.csv already at `csv` up to `step`, which a
// resumed run keeps; none when the file is missing. Lines that are not
// rows (the header) are skipped.
std::vector<TrainingLogRow> EarlierRows(const std::string& csv, int64_t step) {
  std::vector<TrainingLogRow> rows;
  std::ifstream in(csv);
  for (std::string line; std::getline(in, line);) {
    const std::vector<absl::string_view> f = absl::StrSplit(line, ',');
    TrainingLogRow r;
    if (f.size() == 5 && absl::SimpleAtoi(f[0], &r.step) &&
        absl::SimpleAtod(f[1], &r.epoch) &&
        absl::SimpleAtod(f[2], &r.train_loss) &&
        absl::SimpleAtod(f[3], &r.test_accuracy) &&
        absl::SimpleAtod(f[4], &r.seconds) && r.step <= step) {
      rows.push_back(r);
    }
  }
  return rows;
}

}  // namespace

std::string CheckpointPath(const std::string& checkpoint_dir) {
  return (std::filesystem::path(checkpoint_dir) / "checkpoint.safetensors")
      .string();
}

void ValidateProgramOptions(const ProgramOptions& o) {
  std::vector<std::string> errors = o.flag_errors;
  auto at_least = [&](const char* name, int64_t value, int minimum) {
    if (value < minimum) {
      errors.push_back(
          absl::StrCat("--", name, "=", value, " must be >= ", minimum));
    }
  };
  at_least("epochs", o.epochs, 1);
  at_least("batch_size", o.batch_size, 1);
  if (o.model.kind != ModelKind::kSoftmax) {
    at_least("hidden", o.model.hidden, 1);
  } else if (o.hidden_given) {
    errors.push_back(absl::StrCat("--hidden=", o.model.hidden,
                                  ": softmax regression has no hidden units"));
  }
  at_least("evaluations_per_epoch", o.evaluations_per_epoch, 1);
  at_least("max_train_images", o.max_train_images, 0);
  if (!std::isfinite(o.learning_rate) || o.learning_rate <= 0) {
    errors.push_back(absl::StrCat("--learning_rate=", o.learning_rate,
                                  " must be a finite number > 0"));
  }
  if (!(o.momentum >= 0 && o.momentum < 1)) {
    errors.push_back(
        absl::StrCat("--momentum=", o.momentum, " must be in [0, 1)"));
  }
  if (o.lr_schedule != "constant" && o.lr_schedule != "cosine") {
    errors.push_back(absl::StrCat("--lr_schedule=", o.lr_schedule,
                                  " must be one of constant, cosine"));
  }
  const std::vector<std::string>& optimizers = optim::OptimizerNames();
  if (std::find(optimizers.begin(), optimizers.end(), o.optimizer) ==
      optimizers.end()) {
    errors.push_back(absl::StrCat("--optimizer=", o.optimizer,
                                  " must be one of ",
                                  absl::StrJoin(optimizers, ", ")));
  }
  if (o.out_dir.empty()) errors.push_back("--out_dir must not be empty");
  if (o.resume && o.checkpoint_dir.empty()) {
    errors.push_back("--resume needs --checkpoint_dir");
  }
  if (!errors.empty()) {
    throw Error(absl::StrCat("invalid flags: ", absl::StrJoin(errors, "; ")));
  }
}

int RunFashionMnistProgram(const ProgramOptions& o) {
  ValidateProgramOptions(o);
  if (!o.backend.empty()) backends::use(o.backend);
  const std::string out_dir = OutputDirectory(o.out_dir);
  std::string checkpoint;
  if (!o.checkpoint_dir.empty()) {
    const std::string dir = FromWorkingDirectory(o.checkpoint_dir).string();
    if (absl::Status s = PrepareCheckpointDirectory(dir); !s.ok()) {
      throw Error(absl::StrCat("--checkpoint_dir: ", s.message()));
    }
    checkpoint = CheckpointPath(dir);
    if (o.resume) CheckResumable(o, checkpoint);
  }
  const FashionMnist data = LoadProgramData(o.data_dir);
  const ImageDataset train(data.train, LayoutOf(o.model.kind),
                           o.max_train_images);
  const ImageDataset test(data.test, LayoutOf(o.model.kind));
  if (train.size() < o.batch_size) {
    throw Error(absl::StrCat("--batch_size=", o.batch_size, " exceeds the ",
                             train.size(), " training images"));
  }
  backends::Backend& backend = backends::current();
  const std::string description = Describe(o.model);
  std::printf(
      "Fashion-MNIST from %s: %lld training, %lld test images\n"
      "%s, batch %d, %s (learning rate %g, %s), on backend %s (%s)\n",
      data.source.c_str(), static_cast<long long>(train.size()),
      static_cast<long long>(test.size()), description.c_str(), o.batch_size,
      o.optimizer.c_str(), o.learning_rate, o.lr_schedule.c_str(),
      std::string(backend.name()).c_str(), backend.device_name().c_str());

  const int64_t steps_per_epoch = train.size() / o.batch_size;
  const int64_t total_steps = steps_per_epoch * o.epochs;
  Rng rng(o.seed);
  const auto compile_start = Clock::now();
  optim::Schedule lr(LearningRate(o, total_steps), "lr");
  std::unique_ptr<optim::Optimizer> optimizer = MakeOptimizer(o, lr);
  Trainer trainer(BuildFashionMnistModel(o.model, rng), *optimizer);
  std::printf(
      "compiled in %.0f ms\n",
      std::chrono::duration<double, std::milli>(Clock::now() - compile_start)
          .count());
  if (o.resume) Resume(trainer, checkpoint, total_steps, o.epochs);
  lr.advance(trainer.step());

  const std::string csv = out_dir + "/training_log.csv";
  const std::string svg = out_dir + "/training_curve.svg";
  const std::string title =
      absl::StrCat(description, " on Fashion-MNIST, ", data.source);
  // A resumed run keeps the rows logged up to its checkpoint, and counts
  // its seconds on from theirs.
  const std::vector<TrainingLogRow> earlier =
      o.resume ? EarlierRows(csv, trainer.step())
               : std::vector<TrainingLogRow>{};
  const double seconds_before = earlier.empty() ? 0 : earlier.back().seconds;
  absl::StatusOr<TrainingLogFile> csv_file = TrainingLogFile::Create(csv);
  ThrowIfError(csv_file.status());
  TrainingLog log;
  for (const TrainingLogRow& row : earlier) {
    log.Add(row);
    ThrowIfError(csv_file->Append(row));
  }
  TrainOptions options{.epochs = o.epochs,
                       .batch_size = o.batch_size,
                       .seed = o.seed,
                       .validate_every = std::max<int64_t>(
                           1, steps_per_epoch / o.evaluations_per_epoch)};
  std::optional<ProgressBar> bar;
  if (UseProgressBar(stderr)) {
    bar.emplace(stderr, ProgressBar::Options{.total_steps = total_steps,
                                             .first_step = trainer.step(),
                                             .batch_size = o.batch_size});
  }
  // The rate of the next step; then the bar, on a terminal.
  options.on_step = [&](const StepReport& r) {
    lr.advance(r.step);
    if (bar) bar->Update(r.step, r.loss);
  };
  const int64_t first_step = trainer.step();
  options.on_evaluation = [&](const EvaluationReport& r) {
    const TrainingLogRow row{.step = r.step,
                             .epoch = r.epoch,
                             .train_loss = r.train_loss,
                             .test_accuracy = r.validation.accuracy,
                             .seconds = seconds_before + r.seconds};
    log.Add(row);
    ThrowIfError(csv_file->Append(row));
    ThrowIfError(log.WriteSvg(svg, title));
    if (bar) bar->Clear();
    std::printf(
        "step %6lld  epoch %5.2f  loss %.4f  test accuracy %5.2f%%  "
        "(%.0f training images/s)\n",
        static_cast<long long>(row.step), row.epoch, row.train_loss,
        100 * row.test_accuracy,
        (r.step - first_step) * o.batch_size /
            (r.seconds - r.evaluation_seconds));
    std::fflush(stdout);
  };
  if (!checkpoint.empty()) {
    const std::map<std::string, std::string> metadata = RunMetadata(o);
    options.on_checkpoint = [&, metadata](int64_t) {
      ThrowIfError(SaveTrainerCheckpoint(trainer, checkpoint, metadata));
    };
  }
  trainer.Train(train, &test, options);
  if (bar) bar->Clear();
  std::printf("final test accuracy %.2f%%; wrote %s and %s%s%s\n",
              100 * log.rows().back().test_accuracy, csv.c_str(), svg.c_str(),
              checkpoint.empty() ? "" : " and ", checkpoint.c_str());
  return 0;
}

}  // namespace theta::models
