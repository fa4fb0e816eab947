// The char_lstm program without its flag parsing: checks every option
// before any work, loads the text (a file or the embedded passage), trains
// an LstmLanguageModel on it with a Trainer, printing loss and perplexity
// at every evaluation, optionally checkpointing and resuming, and samples
// text from the trained model.
//
//   CharLstmOptions o = {.text = "book.txt", .epochs = 5};
//   ValidateCharLstmOptions(o);   // throws Error naming every bad flag
//   return RunCharLstm(o);
#ifndef THETA_MODELS_CHAR_LSTM_PROGRAM_H_
#define THETA_MODELS_CHAR_LSTM_PROGRAM_H_

#include <cstdint>
#include <string>

namespace theta::models {

// The program's flags, by flag name.
struct CharLstmOptions {
  std::string text;  // a file; empty: the embedded passage
  int seq_len = 64;
  int hidden = 128;
  int embedding = 32;
  int batch_size = 8;
  int epochs = 20;
  std::string optimizer = "adam";
  double learning_rate = 0.01;
  uint32_t seed = 1;
  int sample_chars = 300;
  double temperature = 0.8;
  std::string prime;  // empty: the text's first character
  std::string checkpoint_dir;
  bool resume = false;
  std::string backend;
};

// Throws Error("invalid flags: ...") naming every flag out of its range
// (without reading the text: LoadCharText and RunCharLstm check that).
void ValidateCharLstmOptions(const CharLstmOptions& options);

// Runs the program and returns its exit status; throws Error naming the
// flag or file at fault (a --text that cannot be read, is empty or too
// short for --seq_len and --batch_size, a --prime byte not in the text, a
// --checkpoint_dir that cannot be written, a --resume without a
// checkpoint, a checkpoint of another model or of a text with another
// vocabulary, a diverging run). With --checkpoint_dir, every evaluation
// writes char_lstm.safetensors (Trainer state) and
// char_lstm_vocabulary.safetensors (the text's bytes in id order), each
// atomically.
int RunCharLstm(const CharLstmOptions& options);

}  // namespace theta::models

#endif  // THETA_MODELS_CHAR_LSTM_PROGRAM_H_
