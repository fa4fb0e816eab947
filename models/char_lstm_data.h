// The data of the character-level language model (char_lstm): a text (a
// file, or the embedded public-domain passage), its vocabulary of distinct
// bytes, and its sequences as next-character prediction examples in
// (timesteps, samples) layout for models::LstmLanguageModel.
//
//   absl::StatusOr<CharText> text = LoadCharText("book.txt");  // "" embedded
//   CharVocabulary vocabulary(text->bytes);
//   CharSequences data = MakeCharSequences(text->bytes, vocabulary, 50);
//   trainer.Train(data.train, &data.validation, options);
#ifndef THETA_MODELS_CHAR_LSTM_DATA_H_
#define THETA_MODELS_CHAR_LSTM_DATA_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "models/dataset.h"

namespace theta::models {

struct CharText {
  std::string bytes;
  std::string source;  // "PATH" or "the embedded text (...)", for messages
};

// The embedded passage: the first chapter of Jane Austen's Pride and
// Prejudice (1813, public domain), 4,489 bytes of ASCII.
CharText EmbeddedCharText();

// The bytes of the file at `path`, or the embedded text when `path` is
// empty. NotFound / InvalidArgument naming the file when it cannot be
// opened or read, or is empty.
absl::StatusOr<CharText> LoadCharText(const std::string& path);

// The distinct bytes of a text, in increasing order, as ids 0..size()-1.
class CharVocabulary {
 public:
  explicit CharVocabulary(std::string_view text);
  int64_t size() const { return static_cast<int64_t>(bytes_.size()); }
  bool contains(unsigned char c) const { return ids_[c] >= 0; }
  // The id of `c`, which must be in the vocabulary.
  int32_t id(unsigned char c) const { return ids_[c]; }
  unsigned char byte(int32_t id) const { return bytes_[id]; }
  // The bytes in id order.
  std::string bytes() const {
    return std::string(bytes_.begin(), bytes_.end());
  }

 private:
  std::vector<unsigned char> bytes_;
  std::array<int32_t, 256> ids_;
};

// The text cut into non-overlapping windows of seq_len + 1 bytes, one per
// example: x the first seq_len ids, y the next character at each of them.
// The last max(1, n / 10) of the n windows are the validation set, so that
// held-out text measures the model. Batches are x, y (seq_len, samples)
// int32.
struct CharSequences {
  TensorDataset train;
  TensorDataset validation;
};

// The number of windows of `seq_len` a text of `bytes` bytes gives.
int64_t CharWindows(int64_t bytes, int64_t seq_len);

// Throws Error when seq_len < 1 or the text gives fewer than 2 windows.
CharSequences MakeCharSequences(std::string_view text,
                                const CharVocabulary& vocabulary,
                                int64_t seq_len);

}  // namespace theta::models

#endif  // THETA_MODELS_CHAR_LSTM_DATA_H_
