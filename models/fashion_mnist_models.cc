#include "models/fashion_mnist_models.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "models/classifiers.h"

namespace theta::models {
namespace {

constexpr char kModelKey[] = "program.model";
constexpr char kHiddenKey[] = "program.hidden";

}  // namespace

const char* ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kSoftmax:
      return "softmax";
    case ModelKind::kMlp:
      return "mlp";
    case ModelKind::kLstm:
      return "lstm";
  }
  return "?";
}

absl::StatusOr<ModelKind> ParseModelKind(absl::string_view name) {
  for (ModelKind kind :
       {ModelKind::kSoftmax, ModelKind::kMlp, ModelKind::kLstm}) {
    if (name == ModelKindName(kind)) return kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", name, "\" is not one of softmax, mlp, lstm"));
}

ModelDefaults DefaultsOf(ModelKind kind) {
  switch (kind) {
    case ModelKind::kSoftmax:
      return {.epochs = 10,
              .hidden = 0,
              .out_dir = "softmax_regression_run",
              .learning_rate = 1e-3,
              .lr_schedule = "constant"};
    case ModelKind::kMlp:
      return {.epochs = 10,
              .hidden = 512,
              .out_dir = "mlp_run",
              .learning_rate = 1e-3,
              .lr_schedule = "constant"};
    case ModelKind::kLstm:
      break;
  }
  return {.epochs = 3,
          .hidden = 128,
          .out_dir = "fashion_mnist_run",
          .learning_rate = 3e-3,
          .lr_schedule = "cosine"};
}

ImageLayout LayoutOf(ModelKind kind) {
  return kind == ModelKind::kLstm ? ImageLayout::kRows : ImageLayout::kFlat;
}

std::string Describe(const ModelChoice& choice) {
  switch (choice.kind) {
    case ModelKind::kSoftmax:
      return "softmax regression";
    case ModelKind::kMlp:
      return absl::StrCat("MLP 784-", choice.hidden, "-10");
    case ModelKind::kLstm:
      break;
  }
  return absl::StrCat("LSTM, ", choice.hidden, " hidden units");
}

Model BuildFashionMnistModel(const ModelChoice& choice, Rng& rng) {
  switch (choice.kind) {
    case ModelKind::kSoftmax:
      return SoftmaxRegression({}, rng);
    case ModelKind::kMlp:
      return Mlp({.hidden = {choice.hidden}}, rng);
    case ModelKind::kLstm:
      break;
  }
  return LstmClassifier({.hidden = choice.hidden,
                         .input_mean = kFashionMnistPixelMean,
                         .input_scale = 1.0 / kFashionMnistPixelStd},
                        rng);
}

std::map<std::string, std::string> ModelMetadata(const ModelChoice& choice) {
  return {{kModelKey, ModelKindName(choice.kind)},
          {kHiddenKey, absl::StrCat(choice.hidden)}};
}

absl::StatusOr<ModelChoice> ModelFromMetadata(
    const std::map<std::string, std::string>& metadata,
    const std::string& path) {
  auto missing = [&](const char* key, const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": not a checkpoint of a Fashion-MNIST program: "
                     "metadata \"",
                     key, "\" ", why));
  };
  ModelChoice choice;
  auto model = metadata.find(kModelKey);
  if (model == metadata.end()) return missing(kModelKey, "is missing");
  absl::StatusOr<ModelKind> kind = ParseModelKind(model->second);
  if (!kind.ok())
    return missing(kModelKey, std::string(kind.status().message()));
  choice.kind = *kind;
  auto hidden = metadata.find(kHiddenKey);
  if (hidden == metadata.end()) return missing(kHiddenKey, "is missing");
  if (!absl::SimpleAtoi(hidden->second, &choice.hidden) || choice.hidden < 0 ||
      (choice.kind != ModelKind::kSoftmax && choice.hidden < 1)) {
    return missing(kHiddenKey,
                   absl::StrCat("= \"", hidden->second,
                                "\" is not a valid number of hidden units"));
  }
  return choice;
}

}  // namespace theta::models
