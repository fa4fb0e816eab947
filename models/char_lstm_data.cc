#include "models/char_lstm_data.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/error.h"

// models/char_lstm_text.txt as bytes (//tools:embed_files): chapter 1 of
// Jane Austen, "Pride and Prejudice" (London: T. Egerton, 1813), public
// domain, as in Project Gutenberg's plain-text edition (#1342).
namespace theta::models::embedded {
extern const unsigned char char_lstm_text[];
extern const size_t char_lstm_text_size;
}  // namespace theta::models::embedded

namespace theta::models {

CharText EmbeddedCharText() {
  return {.bytes = std::string(
              reinterpret_cast<const char*>(embedded::char_lstm_text),
              embedded::char_lstm_text_size),
          .source = "the embedded text (Pride and Prejudice, chapter 1, 1813)"};
}

absl::StatusOr<CharText> LoadCharText(const std::string& path) {
  if (path.empty()) return EmbeddedCharText();
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, not a text file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int e = errno;
    const std::string reason = e != 0 ? std::strerror(e) : "cannot open";
    return e == ENOENT ? absl::NotFoundError(absl::StrCat(path, ": ", reason))
                       : absl::InvalidArgumentError(
                             absl::StrCat(path, ": cannot open: ", reason));
  }
  CharText text{.bytes = std::string(std::istreambuf_iterator<char>(in), {}),
                .source = path};
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": read failed after ", text.bytes.size(), " bytes"));
  }
  if (text.bytes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the file is empty"));
  }
  return text;
}

CharVocabulary::CharVocabulary(std::string_view text) {
  std::array<bool, 256> seen{};
  for (char c : text) seen[static_cast<unsigned char>(c)] = true;
  ids_.fill(-1);
  for (int c = 0; c < 256; ++c) {
    if (!seen[c]) continue;
    ids_[c] = static_cast<int32_t>(bytes_.size());
    bytes_.push_back(static_cast<unsigned char>(c));
  }
}

int64_t CharWindows(int64_t bytes, int64_t seq_len) {
  return seq_len < 1 || bytes < 1 ? 0 : (bytes - 1) / seq_len;
}

namespace {

// Windows [first, first + count) of the text as an (x, y) dataset.
TensorDataset Windows(std::string_view text, const CharVocabulary& vocabulary,
                      int64_t seq_len, int64_t first, int64_t count) {
  Tensor x(DType::kInt32, {count, seq_len});
  Tensor y(DType::kInt32, {count, seq_len});
  int32_t* xs = x.data<int32_t>();
  int32_t* ys = y.data<int32_t>();
  for (int64_t w = 0; w < count; ++w) {
    const size_t start = static_cast<size_t>((first + w) * seq_len);
    for (int64_t t = 0; t < seq_len; ++t) {
      xs[w * seq_len + t] =
          vocabulary.id(static_cast<unsigned char>(text[start + t]));
      ys[w * seq_len + t] =
          vocabulary.id(static_cast<unsigned char>(text[start + t + 1]));
    }
  }
  return TensorDataset(x, y, /*time_major=*/true);
}

}  // namespace

CharSequences MakeCharSequences(std::string_view text,
                                const CharVocabulary& vocabulary,
                                int64_t seq_len) {
  if (seq_len < 1) {
    throw Error(
        absl::StrCat("MakeCharSequences: seq_len=", seq_len, " must be >= 1"));
  }
  const int64_t n = CharWindows(static_cast<int64_t>(text.size()), seq_len);
  if (n < 2) {
    throw Error(absl::StrCat("MakeCharSequences: a text of ", text.size(),
                             " bytes gives ", n, " windows of ", seq_len,
                             " characters; at least 2 are needed (",
                             2 * seq_len + 1, " bytes)"));
  }
  const int64_t held_out = std::max<int64_t>(1, n / 10);
  return {
      .train = Windows(text, vocabulary, seq_len, 0, n - held_out),
      .validation = Windows(text, vocabulary, seq_len, n - held_out, held_out)};
}

}  // namespace theta::models
