// The three models the Fashion-MNIST programs train (softmax regression, an
// MLP, an LSTM reading images row by row), by name: their default flags,
// their data layout, their builder, and the checkpoint metadata that lets
// predict_fashion_mnist rebuild the model a checkpoint was written for.
//
//   absl::StatusOr<ModelKind> kind = ParseModelKind("mlp");
//   ModelChoice choice{*kind, DefaultsOf(*kind).hidden};
//   Model m = BuildFashionMnistModel(choice, rng);
#ifndef THETA_MODELS_FASHION_MNIST_MODELS_H_
#define THETA_MODELS_FASHION_MNIST_MODELS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/dataset.h"
#include "models/init.h"
#include "models/model.h"

namespace theta::models {

enum class ModelKind { kSoftmax, kMlp, kLstm };

// "softmax", "mlp", "lstm": the values of --model.
const char* ModelKindName(ModelKind kind);
// The kind named `name`; InvalidArgument listing the names otherwise.
absl::StatusOr<ModelKind> ParseModelKind(absl::string_view name);

// The flags whose default depends on the model.
struct ModelDefaults {
  int epochs;
  int hidden;           // 0: the model has no hidden units
  const char* out_dir;  // relative to where the program was started
  double learning_rate;
  const char* lr_schedule;  // "constant" or "cosine"
};
ModelDefaults DefaultsOf(ModelKind kind);

// A model and its size: what a checkpoint must match.
struct ModelChoice {
  ModelKind kind = ModelKind::kLstm;
  int64_t hidden = 0;  // ignored for softmax regression
};

// Fashion-MNIST's training-set pixel mean and standard deviation (of
// pixel / 255); the LSTM standardises its input with them.
inline constexpr double kFashionMnistPixelMean = 0.2860;
inline constexpr double kFashionMnistPixelStd = 0.3530;

// kFlat for softmax regression and the MLP, kRows for the LSTM.
ImageLayout LayoutOf(ModelKind kind);
// "MLP 784-512-10", for the log.
std::string Describe(const ModelChoice& choice);
// The LSTM standardises its input in the graph: (x - mean) / std.
Model BuildFashionMnistModel(const ModelChoice& choice, Rng& rng);

// The checkpoint metadata that names the model ("program.model",
// "program.hidden"), and its reading back: the error names `path` and the
// key that is missing or not valid.
std::map<std::string, std::string> ModelMetadata(const ModelChoice& choice);
absl::StatusOr<ModelChoice> ModelFromMetadata(
    const std::map<std::string, std::string>& metadata,
    const std::string& path);

// Fashion-MNIST's class names, by label.
inline constexpr std::array<const char*, 10> kFashionMnistClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

}  // namespace theta::models

#endif  // THETA_MODELS_FASHION_MNIST_MODELS_H_
