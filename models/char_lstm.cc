// char_lstm: trains a character-level LSTM language model on a text file
// (by default an embedded public-domain passage, the first chapter of
// Pride and Prejudice), printing the loss and perplexity per character as
// it goes, then samples text from the trained model. Every flag is checked
// before any work.
//
//   bazel run //models:char_lstm
//   bazel run //models:char_lstm -- --text=/path/book.txt --epochs=5
#include <cstdio>
#include <exception>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "models/char_lstm_program.h"

ABSL_FLAG(std::string, text, "",
          "text file to train on (any bytes; the vocabulary is its distinct "
          "bytes). Default: the embedded first chapter of Jane Austen's "
          "Pride and Prejudice (1813, public domain, 4,489 bytes)");
ABSL_FLAG(int, seq_len, 64,
          "characters per training sequence (>= 1); the text is cut into "
          "non-overlapping sequences, the last tenth held out for validation");
ABSL_FLAG(int, hidden, 128, "LSTM hidden units (>= 1)");
ABSL_FLAG(int, embedding, 32, "character embedding size (>= 1)");
ABSL_FLAG(int, batch_size, 8,
          "sequences per optimiser step (>= 1, at most the training "
          "sequences)");
ABSL_FLAG(int, epochs, 20, "passes over the training sequences (>= 1)");
ABSL_FLAG(std::string, optimizer, "adam",
          "sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam or "
          "adamw (other hyperparameters at their defaults)");
ABSL_FLAG(double, learning_rate, 0.01, "learning rate (finite, > 0)");
ABSL_FLAG(uint32_t, seed, 1,
          "seed of the initial weights, the shuffling and the sampling");
ABSL_FLAG(int, sample_chars, 300,
          "characters to sample from the trained model (>= 0)");
ABSL_FLAG(double, temperature, 0.8,
          "sampling temperature (finite, > 0): below 1 more conservative, "
          "above 1 more varied");
ABSL_FLAG(std::string, prime, "",
          "text the sample starts from (each byte must occur in the text); "
          "default: the text's first character");
ABSL_FLAG(std::string, checkpoint_dir, "",
          "directory for char_lstm.safetensors (parameters, optimizer state "
          "and step) and char_lstm_vocabulary.safetensors, written at every "
          "evaluation; default: none");
ABSL_FLAG(bool, resume, false,
          "continue from the checkpoint in --checkpoint_dir (same text and "
          "flags) instead of starting afresh");
ABSL_FLAG(std::string, backend, "",
          "backend to train on (cpu, cuda, or a plugin path); default: "
          "$THETA_BACKEND, else the first usable one");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "trains a character-level LSTM language model on a text and samples "
      "from it; see --help");
  absl::ParseCommandLine(argc, argv);
  try {
    return theta::models::RunCharLstm(
        {.text = absl::GetFlag(FLAGS_text),
         .seq_len = absl::GetFlag(FLAGS_seq_len),
         .hidden = absl::GetFlag(FLAGS_hidden),
         .embedding = absl::GetFlag(FLAGS_embedding),
         .batch_size = absl::GetFlag(FLAGS_batch_size),
         .epochs = absl::GetFlag(FLAGS_epochs),
         .optimizer = absl::GetFlag(FLAGS_optimizer),
         .learning_rate = absl::GetFlag(FLAGS_learning_rate),
         .seed = absl::GetFlag(FLAGS_seed),
         .sample_chars = absl::GetFlag(FLAGS_sample_chars),
         .temperature = absl::GetFlag(FLAGS_temperature),
         .prime = absl::GetFlag(FLAGS_prime),
         .checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir),
         .resume = absl::GetFlag(FLAGS_resume),
         .backend = absl::GetFlag(FLAGS_backend)});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "char_lstm: %s\n", e.what());
    return 1;
  }
}
