#include "models/fashion_mnist_program.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/backend.h"
#include "backends/registry.h"
#include "base/error.h"
#include "models/fashion_mnist.h"
#include "models/trainer.h"
#include "models/training_log.h"
#include "optim/adam.h"
#include "optim/momentum.h"
#include "optim/sgd.h"

namespace theta::models {
namespace {

using Clock = std::chrono::steady_clock;

FashionMnist LoadData(const std::string& given) {
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

// Creates --out_dir if needed and checks that files can be written there.
std::string OutputDirectory(const std::string& out_dir) {
  std::filesystem::path dir = out_dir;
  // `bazel run` starts programs in their runfiles; write where it was run.
  const char* workspace = std::getenv("BUILD_WORKING_DIRECTORY");
  if (dir.is_relative() && workspace != nullptr) dir = workspace / dir;
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

std::unique_ptr<optim::Optimizer> MakeOptimizer(const ProgramOptions& o) {
  if (o.optimizer == "sgd") {
    return std::make_unique<optim::Sgd>(
        optim::SgdOptions{.lr = o.learning_rate});
  }
  if (o.optimizer == "momentum") {
    return std::make_unique<optim::Momentum>(
        optim::MomentumOptions{.lr = o.learning_rate, .momentum = o.momentum});
  }
  return std::make_unique<optim::Adam>(
      optim::AdamOptions{.lr = o.learning_rate});
}

}  // namespace

void ValidateProgramOptions(const ProgramOptions& o) {
  std::vector<std::string> errors;
  auto at_least = [&](const char* name, int value, int minimum) {
    if (value < minimum) {
      errors.push_back(
          absl::StrCat("--", name, "=", value, " must be >= ", minimum));
    }
  };
  at_least("epochs", o.epochs, 1);
  at_least("batch_size", o.batch_size, 1);
  if (o.has_hidden_flag) at_least("hidden", o.hidden, 1);
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
  if (o.optimizer != "sgd" && o.optimizer != "momentum" &&
      o.optimizer != "adam") {
    errors.push_back(absl::StrCat("--optimizer=", o.optimizer,
                                  " must be one of sgd, momentum, adam"));
  }
  if (o.out_dir.empty()) errors.push_back("--out_dir must not be empty");
  if (!errors.empty()) {
    throw Error(absl::StrCat("invalid flags: ", absl::StrJoin(errors, "; ")));
  }
}

int RunFashionMnistProgram(const ProgramOptions& o, ImageLayout layout,
                           const std::string& description,
                           const std::function<Model(Rng&)>& build) {
  ValidateProgramOptions(o);
  if (!o.backend.empty()) backends::use(o.backend);
  const std::string out_dir = OutputDirectory(o.out_dir);
  const FashionMnist data = LoadData(o.data_dir);
  const ImageDataset train(data.train, layout, o.max_train_images);
  const ImageDataset test(data.test, layout);
  if (train.size() < o.batch_size) {
    throw Error(absl::StrCat("--batch_size=", o.batch_size, " exceeds the ",
                             train.size(), " training images"));
  }
  backends::Backend& backend = backends::current();
  std::printf(
      "Fashion-MNIST from %s: %lld training, %lld test images\n"
      "%s, batch %d, %s, on backend %s (%s)\n",
      data.source.c_str(), static_cast<long long>(train.size()),
      static_cast<long long>(test.size()), description.c_str(), o.batch_size,
      o.optimizer.c_str(), std::string(backend.name()).c_str(),
      backend.device_name().c_str());

  Rng rng(o.seed);
  const auto compile_start = Clock::now();
  std::unique_ptr<optim::Optimizer> optimizer = MakeOptimizer(o);
  Trainer trainer(build(rng), *optimizer);
  std::printf(
      "compiled in %.0f ms\n",
      std::chrono::duration<double, std::milli>(Clock::now() - compile_start)
          .count());

  const std::string csv = out_dir + "/training_log.csv";
  const std::string svg = out_dir + "/training_curve.svg";
  const std::string title =
      absl::StrCat(description, " on Fashion-MNIST, ", data.source);
  absl::StatusOr<TrainingLogFile> csv_file = TrainingLogFile::Create(csv);
  ThrowIfError(csv_file.status());
  TrainingLog log;
  const int64_t steps_per_epoch = train.size() / o.batch_size;
  TrainOptions options{.epochs = o.epochs,
                       .batch_size = o.batch_size,
                       .seed = o.seed,
                       .validate_every = std::max<int64_t>(
                           1, steps_per_epoch / o.evaluations_per_epoch)};
  options.on_evaluation = [&](const EvaluationReport& r) {
    const TrainingLogRow row{.step = r.step,
                             .epoch = r.epoch,
                             .train_loss = r.train_loss,
                             .test_accuracy = r.validation.accuracy,
                             .seconds = r.seconds};
    log.Add(row);
    ThrowIfError(csv_file->Append(row));
    ThrowIfError(log.WriteSvg(svg, title));
    std::printf(
        "step %6lld  epoch %5.2f  loss %.4f  test accuracy %5.2f%%  "
        "(%.0f training images/s)\n",
        static_cast<long long>(row.step), row.epoch, row.train_loss,
        100 * row.test_accuracy,
        r.step * o.batch_size / (r.seconds - r.evaluation_seconds));
    std::fflush(stdout);
  };
  trainer.Train(train, &test, options);
  std::printf("final test accuracy %.2f%%; wrote %s and %s\n",
              100 * log.rows().back().test_accuracy, csv.c_str(), svg.c_str());
  return 0;
}

}  // namespace theta::models
