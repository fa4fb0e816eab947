#include "models/char_lstm_program.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/backend.h"
#include "backends/registry.h"
#include "base/error.h"
#include "models/char_lstm_data.h"
#include "models/char_lstm_sampler.h"
#include "models/checkpoint.h"
#include "models/classifiers.h"
#include "models/trainer.h"
#include "models/trainer_checkpoint.h"
#include "models/training_log.h"
#include "optim/factory.h"

namespace theta::models {
namespace {

using Clock = std::chrono::steady_clock;

double Milliseconds(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since)
      .count();
}

// "loss 2.1234 (perplexity 8.37)": perplexity is exp(mean cross-entropy
// per character, in nats).
std::string LossText(double loss) {
  char text[64];
  std::snprintf(text, sizeof text, "loss %.4f (perplexity %.2f)", loss,
                std::exp(loss));
  return text;
}

// The checkpoint file in --checkpoint_dir (created if needed, checked for
// writability before training); empty without --checkpoint_dir.
std::string CheckpointPath(const std::string& flag) {
  if (flag.empty()) return "";
  std::filesystem::path dir = flag;
  // `bazel run` starts programs in their runfiles; write where it was run.
  const char* workspace = std::getenv("BUILD_WORKING_DIRECTORY");
  if (dir.is_relative() && workspace != nullptr) dir = workspace / dir;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw Error(absl::StrCat("--checkpoint_dir: cannot create ", dir.string(),
                             ": ", error.message()));
  }
  if (absl::Status s = CheckDirectoryWritable(dir.string()); !s.ok()) {
    throw Error(absl::StrCat("--checkpoint_dir: ", s.message()));
  }
  return (dir / "char_lstm.safetensors").string();
}

// The vocabulary of the checkpoint's text, beside the checkpoint: a resumed
// run must map characters to the same ids.
std::string VocabularyPath(const std::string& checkpoint) {
  return (std::filesystem::path(checkpoint).parent_path() /
          "char_lstm_vocabulary.safetensors")
      .string();
}

void SaveVocabulary(const std::string& checkpoint,
                    const CharVocabulary& vocabulary) {
  const std::string bytes = vocabulary.bytes();
  Tensor t(DType::kUInt8, {static_cast<int64_t>(bytes.size())});
  std::copy(bytes.begin(), bytes.end(), t.data<uint8_t>());
  ThrowIfError(
      WriteSafetensors(VocabularyPath(checkpoint), {{"vocabulary", t}}));
}

// Throws Error unless the checkpoint's text had `vocabulary`.
void CheckVocabulary(const std::string& checkpoint,
                     const CharVocabulary& vocabulary) {
  const std::string path = VocabularyPath(checkpoint);
  absl::StatusOr<SafetensorsContents> file = ReadSafetensors(path);
  if (!file.ok()) {
    throw Error(absl::StrCat("--resume: the checkpoint's vocabulary: ",
                             file.status().message()));
  }
  const Tensor* saved = file->Find("vocabulary");
  std::string bytes;
  if (saved != nullptr && saved->dtype() == DType::kUInt8) {
    bytes.assign(saved->data<uint8_t>(),
                 saved->data<uint8_t>() + saved->size());
  }
  if (bytes != vocabulary.bytes()) {
    throw Error(absl::StrCat(
        "--resume: the checkpoint was trained on a text of another "
        "vocabulary (",
        path, " holds ", bytes.size(), " characters \"", absl::CEscape(bytes),
        "\"; this text has ", vocabulary.size(),
        "); resume with the same --text"));
  }
}

CharText LoadText(const std::string& path) {
  absl::StatusOr<CharText> text = LoadCharText(path);
  if (!text.ok()) {
    throw Error(absl::StrCat("--text=", text.status().message()));
  }
  return *std::move(text);
}

// The checks that need the text: enough windows for --seq_len, enough
// training sequences for --batch_size, a --prime made of the text's bytes.
void CheckAgainstText(const CharLstmOptions& o, const CharText& text,
                      const CharVocabulary& vocabulary) {
  const int64_t bytes = static_cast<int64_t>(text.bytes.size());
  const int64_t windows = CharWindows(bytes, o.seq_len);
  if (windows < 2) {
    throw Error(absl::StrCat("--text: ", text.source, " has ", bytes,
                             " bytes, too short for --seq_len=", o.seq_len,
                             ": it needs at least ", 2 * int64_t{o.seq_len} + 1,
                             " bytes (two sequences)"));
  }
  const int64_t train = windows - std::max<int64_t>(1, windows / 10);
  if (o.batch_size > train) {
    throw Error(absl::StrCat("--batch_size=", o.batch_size, " exceeds the ",
                             train, " training sequences of --seq_len=",
                             o.seq_len, " characters in ", text.source));
  }
  for (char c : o.prime) {
    if (!vocabulary.contains(static_cast<unsigned char>(c))) {
      throw Error(absl::StrCat("--prime: the character '",
                               absl::CEscape(std::string(1, c)),
                               "' does not occur in ", text.source));
    }
  }
}

void PrintMeasurement(const char* label, const Evaluation& train,
                      const Evaluation& validation) {
  std::printf("%s: training text %s, validation text %s\n", label,
              LossText(train.loss).c_str(), LossText(validation.loss).c_str());
  std::fflush(stdout);
}

}  // namespace

void ValidateCharLstmOptions(const CharLstmOptions& o) {
  std::vector<std::string> errors;
  auto at_least = [&](const char* name, int value, int minimum) {
    if (value < minimum) {
      errors.push_back(
          absl::StrCat("--", name, "=", value, " must be >= ", minimum));
    }
  };
  at_least("seq_len", o.seq_len, 1);
  at_least("hidden", o.hidden, 1);
  at_least("embedding", o.embedding, 1);
  at_least("batch_size", o.batch_size, 1);
  at_least("epochs", o.epochs, 1);
  at_least("sample_chars", o.sample_chars, 0);
  auto positive = [&](const char* name, double value) {
    if (!std::isfinite(value) || value <= 0) {
      errors.push_back(
          absl::StrCat("--", name, "=", value, " must be a finite number > 0"));
    }
  };
  positive("learning_rate", o.learning_rate);
  positive("temperature", o.temperature);
  const std::vector<std::string>& names = optim::OptimizerNames();
  if (std::find(names.begin(), names.end(), o.optimizer) == names.end()) {
    errors.push_back(absl::StrCat("--optimizer=", o.optimizer,
                                  " must be one of ",
                                  absl::StrJoin(names, ", ")));
  }
  if (o.resume && o.checkpoint_dir.empty()) {
    errors.push_back("--resume needs --checkpoint_dir");
  }
  if (!errors.empty()) {
    throw Error(absl::StrCat("invalid flags: ", absl::StrJoin(errors, "; ")));
  }
}

int RunCharLstm(const CharLstmOptions& o) {
  ValidateCharLstmOptions(o);
  if (!o.backend.empty()) backends::use(o.backend);
  const CharText text = LoadText(o.text);
  const CharVocabulary vocabulary(text.bytes);
  CheckAgainstText(o, text, vocabulary);
  const std::string checkpoint = CheckpointPath(o.checkpoint_dir);
  if (o.resume) {
    if (!std::filesystem::exists(checkpoint)) {
      throw Error(absl::StrCat("--resume: no checkpoint at ", checkpoint));
    }
    CheckVocabulary(checkpoint, vocabulary);
  }
  const CharSequences data =
      MakeCharSequences(text.bytes, vocabulary, o.seq_len);
  backends::Backend& backend = backends::current();
  std::printf(
      "%s: %zu bytes, %lld distinct characters\n"
      "%lld training and %lld validation sequences of %d characters; LSTM "
      "language model (embedding %d, %d hidden units); %s, learning rate %g, "
      "batch %d, %d epochs; backend %s (%s)\n",
      text.source.c_str(), text.bytes.size(),
      static_cast<long long>(vocabulary.size()),
      static_cast<long long>(data.train.size()),
      static_cast<long long>(data.validation.size()), o.seq_len, o.embedding,
      o.hidden, o.optimizer.c_str(), o.learning_rate, o.batch_size, o.epochs,
      std::string(backend.name()).c_str(), backend.device_name().c_str());

  const auto compile_start = Clock::now();
  const LstmLanguageModelOptions model_options{.vocabulary = vocabulary.size(),
                                               .embedding = o.embedding,
                                               .hidden = o.hidden};
  Rng rng(o.seed);
  absl::StatusOr<std::unique_ptr<optim::Optimizer>> optimizer =
      optim::MakeOptimizer(o.optimizer, o.learning_rate);
  if (!optimizer.ok()) {
    throw Error(absl::StrCat("--optimizer: ", optimizer.status().message()));
  }
  Trainer trainer(LstmLanguageModel(model_options, rng), **optimizer);
  CharSampler sampler(trainer.model(), model_options);
  std::printf("compiled in %.0f ms\n", Milliseconds(compile_start));
  if (o.resume) {
    ThrowIfError(LoadTrainerCheckpoint(trainer, checkpoint));
    std::printf("resumed from %s at step %lld\n", checkpoint.c_str(),
                static_cast<long long>(trainer.step()));
  }
  PrintMeasurement("start", trainer.Evaluate(data.train),
                   trainer.Evaluate(data.validation));

  TrainOptions options{
      .epochs = o.epochs, .batch_size = o.batch_size, .seed = o.seed};
  const int64_t first_step = trainer.step();
  options.on_evaluation = [&](const EvaluationReport& r) {
    const double seconds = r.seconds - r.evaluation_seconds;
    std::printf(
        "step %5lld  epoch %6.2f  training %s  validation %s  (%.0f "
        "characters/s)\n",
        static_cast<long long>(r.step), r.epoch, LossText(r.train_loss).c_str(),
        LossText(r.validation.loss).c_str(),
        seconds > 0 ? (r.step - first_step) * o.batch_size * o.seq_len / seconds
                    : 0.0);
    std::fflush(stdout);
  };
  if (!checkpoint.empty()) {
    options.on_checkpoint = [&](int64_t) {
      SaveVocabulary(checkpoint, vocabulary);
      ThrowIfError(SaveTrainerCheckpoint(trainer, checkpoint));
    };
  }
  trainer.Train(data.train, &data.validation, options);
  PrintMeasurement("end", trainer.Evaluate(data.train),
                   trainer.Evaluate(data.validation));
  if (!checkpoint.empty()) std::printf("checkpoint: %s\n", checkpoint.c_str());

  const std::string prime = o.prime.empty() ? text.bytes.substr(0, 1) : o.prime;
  Rng sample_rng(o.seed);
  const std::string sample = sampler.Sample(vocabulary, prime, o.sample_chars,
                                            o.temperature, sample_rng);
  std::printf(
      "sample of %d characters after \"%s\" (temperature %g, seed %u):\n",
      o.sample_chars, absl::CEscape(prime).c_str(), o.temperature, o.seed);
  std::fwrite(sample.data(), 1, sample.size(), stdout);
  std::printf("\n");
  return 0;
}

}  // namespace theta::models
