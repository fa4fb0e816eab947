// predict_fashion_mnist: loads a checkpoint written by train_fashion_mnist,
// train_mlp or train_softmax_regression (--checkpoint_dir), rebuilds the
// model it records (kind and size in its metadata), classifies the test
// set, and prints the accuracy and the 10x10 confusion matrix (rows: true
// class, columns: predicted class).
//
//   bazel run //models:predict_fashion_mnist -- --checkpoint=fashion_mnist_ckpt
//
// Data as the training programs: --data_dir, else Debian's directory, else
// the embedded sample. Every flag is checked before any work.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/registry.h"
#include "base/error.h"
#include "models/fashion_mnist_models.h"
#include "models/fashion_mnist_program.h"
#include "models/safetensors.h"
#include "models/trainer.h"
#include "models/trainer_checkpoint.h"
#include "optim/factory.h"

ABSL_FLAG(std::string, checkpoint, "",
          "a checkpoint.safetensors written by a training program's "
          "--checkpoint_dir, or that directory (required)");
ABSL_FLAG(std::string, data_dir, "",
          "directory of the Fashion-MNIST IDX files; a directory given here "
          "must load. Default: /usr/share/datasets/fashion-mnist (Debian's "
          "dataset-fashion-mnist), else the embedded 2,000/500-image sample");
ABSL_FLAG(std::string, backend, "",
          "backend to run on (cpu, cuda, or a plugin path); default: "
          "$THETA_BACKEND, else the first usable one");
ABSL_FLAG(int, batch_size, 500, "images per prediction call (>= 1)");

namespace theta::models {
namespace {

struct Flags {
  std::string checkpoint, data_dir, backend;
  int batch_size;
};

void Validate(const Flags& f) {
  std::vector<std::string> errors;
  if (f.checkpoint.empty()) errors.push_back("--checkpoint is required");
  if (f.batch_size < 1) {
    errors.push_back(
        absl::StrCat("--batch_size=", f.batch_size, " must be >= 1"));
  }
  if (!errors.empty()) {
    throw Error(absl::StrCat("invalid flags: ", absl::StrJoin(errors, "; ")));
  }
}

std::string CheckpointFile(const std::string& given) {
  std::filesystem::path p = given;
  const char* workspace = std::getenv("BUILD_WORKING_DIRECTORY");
  if (p.is_relative() && workspace != nullptr) p = workspace / p;
  if (std::filesystem::is_directory(p)) return CheckpointPath(p.string());
  return p.string();
}

// Restores the model and optimizer recorded in `path`'s metadata.
struct Restored {
  ModelChoice model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<Trainer> trainer;
};
Restored Restore(const std::string& path) {
  absl::StatusOr<SafetensorsContents> file = ReadSafetensors(path);
  if (!file.ok())
    throw Error(absl::StrCat("--checkpoint: ", file.status().message()));
  absl::StatusOr<ModelChoice> model = ModelFromMetadata(file->metadata, path);
  if (!model.ok()) {
    throw Error(absl::StrCat("--checkpoint: ", model.status().message()));
  }
  auto it = file->metadata.find("program.optimizer");
  const std::string optimizer = it == file->metadata.end() ? "" : it->second;
  absl::StatusOr<std::unique_ptr<optim::Optimizer>> opt =
      optim::MakeOptimizer(optimizer, 1e-3);
  if (!opt.ok()) {
    throw Error(absl::StrCat(
        "--checkpoint: ", path,
        ": metadata \"program.optimizer\": ", opt.status().message()));
  }
  Restored r{.model = *model, .optimizer = *std::move(opt)};
  Rng rng(1);
  r.trainer = std::make_unique<Trainer>(BuildFashionMnistModel(r.model, rng),
                                        *r.optimizer);
  if (absl::Status s = LoadTrainerCheckpoint(*r.trainer, path); !s.ok()) {
    throw Error(absl::StrCat("--checkpoint: ", s.message()));
  }
  return r;
}

// counts[true class][predicted class] over all of `data`.
using Confusion = std::vector<std::vector<int64_t>>;
Confusion ConfusionMatrix(Trainer& trainer, const ImageDataset& data,
                          int64_t batch_size) {
  Confusion counts(kFashionMnistClasses,
                   std::vector<int64_t>(kFashionMnistClasses, 0));
  std::vector<int64_t> rows;
  std::vector<Tensor> batch;  // reallocated only for the last, short batch
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const int64_t n = std::min(batch_size, data.size() - begin);
    if (static_cast<int64_t>(rows.size()) != n) {
      rows.resize(n);
      batch = data.AllocateBatch(n);
    }
    for (int64_t i = 0; i < n; ++i) rows[i] = begin + i;
    data.FillBatch(rows, batch);
    const std::vector<int32_t> predicted =
        trainer.Predict(batch[0]).astype(DType::kInt32).to_vector<int32_t>();
    const std::vector<int32_t> labels = batch[1].to_vector<int32_t>();
    for (int64_t i = 0; i < n; ++i) ++counts[labels[i]][predicted[i]];
  }
  return counts;
}

void PrintConfusion(const Confusion& counts) {
  std::printf("confusion matrix (rows: true class, columns: predicted)\n");
  std::printf("%-13s", "");
  for (int c = 0; c < kFashionMnistClasses; ++c) std::printf(" %6d", c);
  std::printf("\n");
  for (int t = 0; t < kFashionMnistClasses; ++t) {
    std::printf("%d %-11s", t, kFashionMnistClassNames[t]);
    for (int64_t n : counts[t])
      std::printf(" %6lld", static_cast<long long>(n));
    std::printf("\n");
  }
}

int Run(const Flags& f) {
  Validate(f);
  if (!f.backend.empty()) backends::use(f.backend);
  const std::string path = CheckpointFile(f.checkpoint);
  Restored r = Restore(path);
  const FashionMnist data = LoadProgramData(f.data_dir);
  const ImageDataset test(data.test, LayoutOf(r.model.kind));
  std::printf("%s from %s (step %lld) on %lld test images from %s\n",
              Describe(r.model).c_str(), path.c_str(),
              static_cast<long long>(r.trainer->step()),
              static_cast<long long>(test.size()), data.source.c_str());
  const Confusion counts = ConfusionMatrix(*r.trainer, test, f.batch_size);
  int64_t correct = 0;
  for (int c = 0; c < kFashionMnistClasses; ++c) correct += counts[c][c];
  const Evaluation e = r.trainer->Evaluate(test, f.batch_size);
  std::printf("test accuracy %.2f%% (%lld of %lld), loss %.4f\n",
              100.0 * correct / test.size(), static_cast<long long>(correct),
              static_cast<long long>(test.size()), e.loss);
  PrintConfusion(counts);
  return 0;
}

}  // namespace
}  // namespace theta::models

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "classifies Fashion-MNIST's test set with a training program's "
      "checkpoint: accuracy and confusion matrix; see --help");
  absl::ParseCommandLine(argc, argv);
  try {
    return theta::models::Run({.checkpoint = absl::GetFlag(FLAGS_checkpoint),
                               .data_dir = absl::GetFlag(FLAGS_data_dir),
                               .backend = absl::GetFlag(FLAGS_backend),
                               .batch_size = absl::GetFlag(FLAGS_batch_size)});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict_fashion_mnist: %s\n", e.what());
    return 1;
  }
}
