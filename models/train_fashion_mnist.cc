// train_fashion_mnist: trains an LSTM classifier on Fashion-MNIST, reading
// each 28x28 image as a sequence of 28 rows of 28 pixels, (timesteps,
// samples, features) layout, the last hidden state feeding a softmax over
// the 10 classes; SGD with momentum. Uses Debian's dataset-fashion-mnist
// when installed, the 2,000/500-image sample built into //models otherwise.
//
//   bazel run //models:train_fashion_mnist -- --epochs=3 --hidden=128
//
// Prints progress and writes training_log.csv and training_curve.svg to
// --out_dir (relative to where `bazel run` was started) as training goes:
// the CSV gains a line (flushed to disk) and the chart is redrawn at each
// evaluation. Every flag is checked, and --out_dir tried, before any work.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "autodiff/grad.h"
#include "backends/backend.h"
#include "backends/error.h"
#include "backends/registry.h"
#include "compile/function.h"
#include "graph/shared.h"
#include "models/fashion_mnist.h"
#include "models/training_log.h"
#include "ops/ops.h"
#include "scan/scan.h"

ABSL_FLAG(std::string, data_dir, "",
          "directory of the Fashion-MNIST IDX files; a directory given here "
          "must load. Default: /usr/share/datasets/fashion-mnist (Debian's "
          "dataset-fashion-mnist), else the embedded 2,000/500-image sample");
ABSL_FLAG(std::string, out_dir, "fashion_mnist_run",
          "where training_log.csv and training_curve.svg are written");
ABSL_FLAG(std::string, backend, "",
          "backend to train on (cpu, cuda, or a plugin path); default: "
          "$THETA_BACKEND, else the first usable one");
ABSL_FLAG(int, epochs, 1, "passes over the training set (>= 1)");
ABSL_FLAG(int, batch_size, 64,
          "images per optimiser step (>= 1, at most the training images)");
ABSL_FLAG(int, hidden, 128, "LSTM hidden units (>= 1)");
ABSL_FLAG(double, learning_rate, 0.05, "SGD learning rate (finite, > 0)");
ABSL_FLAG(double, momentum, 0.9, "SGD momentum (in [0, 1))");
ABSL_FLAG(int, evaluations_per_epoch, 4,
          "test-set evaluations (rows of the log) per epoch (>= 1)");
ABSL_FLAG(int, max_train_images, 0,
          "use only the first N training images (>= 0; 0: all)");
ABSL_FLAG(uint32_t, seed, 1, "seed of initial weights and shuffling");

namespace theta {
namespace {

constexpr int64_t kRows = 28;  // timesteps
constexpr int64_t kCols = 28;  // features per timestep

using Clock = std::chrono::steady_clock;

Tensor UniformTensor(std::vector<int64_t> shape, float limit,
                     std::mt19937& rng) {
  Tensor t(DType::kFloat32, shape);
  std::uniform_real_distribution<float> dist(-limit, limit);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.size(); ++i) p[i] = dist(rng);
  return t;
}

// Copies images `order[first, first + n)` into `x` as (28 rows, n, 28).
void FillBatch(const Tensor& images, const std::vector<int64_t>& order,
               int64_t first, int64_t n, Tensor& x) {
  const float* src = images.data<float>();
  float* dst = x.data<float>();
  for (int64_t b = 0; b < n; ++b) {
    const float* image = src + order[first + b] * kRows * kCols;
    for (int64_t t = 0; t < kRows; ++t) {
      std::copy_n(image + t * kCols, kCols, dst + (t * n + b) * kCols);
    }
  }
}

struct Classifier {
  std::vector<SharedVar> params;
  Function train_step;  // (x, y) -> mean loss; updates the parameters
  Function predict;     // x -> class per sample
};

Classifier BuildLstmClassifier(int64_t hidden, float learning_rate,
                               float momentum, std::mt19937& rng) {
  const int64_t h = hidden;
  Tensor bias(DType::kFloat32, {4 * h});
  std::fill_n(bias.data<float>() + h, h, 1.0f);  // forget gate starts open
  SharedVar w = shared(
      UniformTensor({kCols, 4 * h}, std::sqrt(6.0f / (kCols + 4 * h)), rng),
      "W");
  SharedVar u =
      shared(UniformTensor({h, 4 * h}, 1.0f / std::sqrt(float(h)), rng), "U");
  SharedVar b = shared(bias, "b");
  SharedVar wo = shared(
      UniformTensor({h, models::kFashionMnistClasses},
                    std::sqrt(6.0f / (h + models::kFashionMnistClasses)), rng),
      "Wo");
  SharedVar bo =
      shared(Tensor(DType::kFloat32, {models::kFashionMnistClasses}), "bo");

  Var x = ftensor3("x");  // (rows, batch, columns)
  Var y = ivector("y");   // (batch,)
  Var h0 = zeros({shape_i(x, 1), h}, DType::kFloat32);
  ScanResult lstm = scan(
      [&](const std::vector<Var>& in) {
        // in = {x_t, h_{t-1}, c_{t-1}, W, U, b}; gates: input, forget,
        // output, candidate.
        Var gates = dot(in[0], in[3]) + dot(in[1], in[4]) + in[5];
        auto gate = [&](int k) {
          return slice(gates, {Slice::All(), Slice(k * h, (k + 1) * h)});
        };
        Var cell = sigmoid(gate(1)) * in[2] + sigmoid(gate(0)) * tanh(gate(3));
        return StepResult{{sigmoid(gate(2)) * tanh(cell), cell}};
      },
      {.sequences = {x},
       .outputs_info = {h0, h0},
       .non_sequences = {w, u, b},
       .name = "lstm"});
  Var logits = dot(index(lstm.outputs[0], -1), wo) + bo;
  Var cost = mean(nnet::categorical_crossentropy(nnet::softmax(logits), y));

  Classifier model;
  model.params = {w, u, b, wo, bo};
  std::vector<Var> grads = grad(cost, model.params);
  FunctionOptions options{.name = "lstm_train_step"};
  for (size_t p = 0; p < model.params.size(); ++p) {
    // velocity' = momentum velocity - lr grad; param' = param + velocity'
    const SharedVar& param = model.params[p];
    SharedVar velocity =
        shared_like(param, 0.0, absl::StrCat(param.name(), "_velocity"));
    Var step = momentum * velocity - learning_rate * grads[p];
    options.updates.push_back({velocity, step});
    options.updates.push_back({param, param + step});
  }
  model.train_step = function({x, y}, {cost}, options);
  model.predict = function({x}, {argmax(logits, 1)}, {.name = "lstm_predict"});
  return model;
}

double TestAccuracy(Classifier& model, const models::LabelledImages& test) {
  const int64_t n = test.labels.size(), batch = 500;
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  int64_t correct = 0;
  std::vector<Tensor> inputs(1), outputs;
  for (int64_t first = 0; first < n; first += batch) {
    const int64_t count = std::min(batch, n - first);
    if (inputs[0].size() != kRows * count * kCols) {
      inputs[0] = Tensor(DType::kFloat32, {kRows, count, kCols});
    }
    FillBatch(test.images, order, first, count, inputs[0]);
    model.predict.Call(inputs, outputs);
    const int64_t* predicted = outputs[0].data<int64_t>();  // argmax: int64
    for (int64_t i = 0; i < count; ++i) {
      correct += predicted[i] == test.labels.data<int32_t>()[first + i];
    }
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

// Every flag's value against its allowed range, before any work starts;
// throws one Error listing each flag that is out of range.
void ValidateFlags() {
  std::vector<std::string> errors;
  auto at_least = [&](const char* name, int value, int minimum) {
    if (value < minimum) {
      errors.push_back(
          absl::StrCat("--", name, "=", value, " must be >= ", minimum));
    }
  };
  at_least("epochs", absl::GetFlag(FLAGS_epochs), 1);
  at_least("batch_size", absl::GetFlag(FLAGS_batch_size), 1);
  at_least("hidden", absl::GetFlag(FLAGS_hidden), 1);
  at_least("evaluations_per_epoch", absl::GetFlag(FLAGS_evaluations_per_epoch),
           1);
  at_least("max_train_images", absl::GetFlag(FLAGS_max_train_images), 0);
  const double learning_rate = absl::GetFlag(FLAGS_learning_rate);
  if (!std::isfinite(learning_rate) || learning_rate <= 0) {
    errors.push_back(absl::StrCat("--learning_rate=", learning_rate,
                                  " must be a finite number > 0"));
  }
  const double momentum = absl::GetFlag(FLAGS_momentum);
  if (!(momentum >= 0 && momentum < 1)) {
    errors.push_back(
        absl::StrCat("--momentum=", momentum, " must be in [0, 1)"));
  }
  if (absl::GetFlag(FLAGS_out_dir).empty()) {
    errors.push_back("--out_dir must not be empty");
  }
  if (!errors.empty()) {
    throw Error(absl::StrCat("invalid flags: ", absl::StrJoin(errors, "; ")));
  }
}

// The data of --data_dir; the embedded sample only when --data_dir was not
// given and the default directory does not load.
models::FashionMnist LoadData() {
  const std::string given = absl::GetFlag(FLAGS_data_dir);
  const std::string dir =
      given.empty() ? models::kDefaultFashionMnistDir : given;
  absl::StatusOr<models::FashionMnist> loaded = models::LoadFashionMnist(dir);
  if (loaded.ok()) return *std::move(loaded);
  if (!given.empty()) {
    throw Error(
        absl::StrCat("--data_dir=", dir, ": ", loaded.status().message()));
  }
  std::printf(
      "Full data set not loaded (%s);\nusing the embedded sample (give "
      "--data_dir to require the full set).\n",
      std::string(loaded.status().message()).c_str());
  return models::EmbeddedFashionMnistSample();
}

// Creates --out_dir if needed and checks that files can be written there.
std::string OutputDirectory() {
  std::filesystem::path dir = absl::GetFlag(FLAGS_out_dir);
  // `bazel run` starts programs in their runfiles; write where it was run.
  const char* workspace = std::getenv("BUILD_WORKING_DIRECTORY");
  if (dir.is_relative() && workspace != nullptr) dir = workspace / dir;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw Error(absl::StrCat("--out_dir: cannot create ", dir.string(), ": ",
                             error.message()));
  }
  if (absl::Status s = models::CheckDirectoryWritable(dir.string()); !s.ok()) {
    throw Error(absl::StrCat("--out_dir: ", s.message()));
  }
  return dir.string();
}

int Run() {
  ValidateFlags();
  const int epochs = absl::GetFlag(FLAGS_epochs);
  const int64_t batch = absl::GetFlag(FLAGS_batch_size);
  const int64_t hidden = absl::GetFlag(FLAGS_hidden);
  if (!absl::GetFlag(FLAGS_backend).empty()) {
    backends::use(absl::GetFlag(FLAGS_backend));
  }
  const std::string out_dir = OutputDirectory();
  const models::FashionMnist data = LoadData();
  int64_t train_count = data.train.labels.size();
  if (const int limit = absl::GetFlag(FLAGS_max_train_images); limit > 0) {
    train_count = std::min<int64_t>(train_count, limit);
  }
  if (train_count < batch) {
    throw Error(absl::StrCat("--batch_size=", batch, " exceeds the ",
                             train_count, " training images"));
  }
  backends::Backend& backend = backends::current();
  std::printf(
      "Fashion-MNIST from %s: %lld training, %lld test images\n"
      "LSTM, %lld hidden units, batch %lld, on backend %s (%s)\n",
      data.source.c_str(), static_cast<long long>(train_count),
      static_cast<long long>(data.test.labels.size()),
      static_cast<long long>(hidden), static_cast<long long>(batch),
      std::string(backend.name()).c_str(), backend.device_name().c_str());

  std::mt19937 rng(absl::GetFlag(FLAGS_seed));
  const auto compile_start = Clock::now();
  Classifier model = BuildLstmClassifier(
      hidden, static_cast<float>(absl::GetFlag(FLAGS_learning_rate)),
      static_cast<float>(absl::GetFlag(FLAGS_momentum)), rng);
  std::printf(
      "compiled in %.0f ms\n",
      std::chrono::duration<double, std::milli>(Clock::now() - compile_start)
          .count());

  const int64_t steps_per_epoch = train_count / batch;
  const int64_t evaluate_every = std::max<int64_t>(
      1, steps_per_epoch / absl::GetFlag(FLAGS_evaluations_per_epoch));
  std::vector<int64_t> order(train_count);
  std::iota(order.begin(), order.end(), 0);
  std::vector<Tensor> inputs = {Tensor(DType::kFloat32, {kRows, batch, kCols}),
                                Tensor(DType::kInt32, {batch})};
  std::vector<Tensor> outputs;
  const std::string csv = out_dir + "/training_log.csv";
  const std::string svg = out_dir + "/training_curve.svg";
  const std::string title =
      absl::StrCat("LSTM (", hidden, " units) on Fashion-MNIST, ", data.source);
  absl::StatusOr<models::TrainingLogFile> csv_file =
      models::TrainingLogFile::Create(csv);
  ThrowIfError(csv_file.status());
  models::TrainingLog log;
  const auto start = Clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  double loss_sum = 0, evaluation_seconds = 0;
  int64_t loss_count = 0, step = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      FillBatch(data.train.images, order, s * batch, batch, inputs[0]);
      int32_t* labels = inputs[1].data<int32_t>();
      for (int64_t i = 0; i < batch; ++i) {
        labels[i] = data.train.labels.data<int32_t>()[order[s * batch + i]];
      }
      model.train_step.Call(inputs, outputs);
      const double loss = outputs[0].data<float>()[0];
      if (!std::isfinite(loss)) {
        throw Error(absl::StrCat("training diverged at step ", step + 1,
                                 " (loss ", loss,
                                 "); try a smaller --learning_rate"));
      }
      loss_sum += loss;
      ++loss_count;
      ++step;
      if ((s + 1) % evaluate_every == 0 || s + 1 == steps_per_epoch) {
        const double evaluation_start = seconds();
        const models::TrainingLogRow row{
            .step = step,
            .epoch = epoch + static_cast<double>(s + 1) / steps_per_epoch,
            .train_loss = loss_sum / loss_count,
            .test_accuracy = TestAccuracy(model, data.test),
            .seconds = seconds()};
        evaluation_seconds += row.seconds - evaluation_start;
        log.Add(row);
        ThrowIfError(csv_file->Append(row));
        ThrowIfError(log.WriteSvg(svg, title));
        std::printf(
            "step %6lld  epoch %5.2f  loss %.4f  test accuracy %5.2f%%  "
            "(%.0f training images/s)\n",
            static_cast<long long>(row.step), row.epoch, row.train_loss,
            100 * row.test_accuracy,
            step * batch / (row.seconds - evaluation_seconds));
        std::fflush(stdout);
        loss_sum = 0;
        loss_count = 0;
      }
    }
  }
  std::printf("final test accuracy %.2f%%; wrote %s and %s\n",
              100 * log.rows().back().test_accuracy, csv.c_str(), svg.c_str());
  return 0;
}

}  // namespace
}  // namespace theta

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "trains an LSTM classifier on Fashion-MNIST; see --help");
  absl::ParseCommandLine(argc, argv);
  try {
    return theta::Run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_fashion_mnist: %s\n", e.what());
    return 1;
  }
}
