// The char_lstm data: text loading (the embedded passage, files, and the
// errors that name the file), the vocabulary, and the windows of
// next-character examples.
#include "models/char_lstm_data.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace theta::models {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

TEST(CharLstmDataTest, EmbeddedTextIsThePassage) {
  const CharText text = EmbeddedCharText();
  EXPECT_EQ(text.bytes.size(), 4489u);
  EXPECT_EQ(text.bytes.substr(0, 42),
            "It is a truth universally acknowledged, th");
  EXPECT_THAT(text.source, HasSubstr("Pride and Prejudice"));
  absl::StatusOr<CharText> loaded = LoadCharText("");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->bytes, text.bytes);
}

TEST(CharLstmDataTest, LoadsAFileByteForByte) {
  const std::string path = TempPath("bytes.txt");
  const std::string bytes("a\0b\xff\n", 5);
  std::ofstream(path, std::ios::binary) << bytes;
  absl::StatusOr<CharText> text = LoadCharText(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->bytes, bytes);
  EXPECT_EQ(text->source, path);
}

TEST(CharLstmDataTest, FileErrorsNameTheFile) {
  const std::string missing = TempPath("missing.txt");
  EXPECT_EQ(LoadCharText(missing).status().message(),
            missing + ": No such file or directory");
  EXPECT_EQ(LoadCharText(missing).status().code(), absl::StatusCode::kNotFound);
  const std::string empty = TempPath("empty.txt");
  std::ofstream(empty, std::ios::binary).flush();
  EXPECT_EQ(LoadCharText(empty).status().message(),
            empty + ": the file is empty");
  const std::string dir = TempPath("");
  EXPECT_EQ(LoadCharText(dir).status().message(),
            dir + ": is a directory, not a text file");
}

TEST(CharLstmDataTest, VocabularyIsTheDistinctBytesInOrder) {
  const CharVocabulary v(std::string("banana\xff", 7));
  EXPECT_EQ(v.size(), 4);
  EXPECT_EQ(v.bytes(), "abn\xff");
  EXPECT_EQ(v.id('a'), 0);
  EXPECT_EQ(v.id('n'), 2);
  EXPECT_EQ(v.id(0xff), 3);
  EXPECT_EQ(v.byte(1), 'b');
  EXPECT_TRUE(v.contains('b'));
  EXPECT_FALSE(v.contains('c'));
}

std::vector<int32_t> Ids(const Tensor& t) { return t.to_vector<int32_t>(); }

TEST(CharLstmDataTest, WindowsPredictTheNextCharacter) {
  // 23 bytes, seq_len 3: (23 - 1) / 3 = 7 windows; the last is held out.
  const std::string text = "abcdefghijklmnopqrstuvw";
  const CharVocabulary v(text);
  EXPECT_EQ(CharWindows(23, 3), 7);
  CharSequences data = MakeCharSequences(text, v, 3);
  ASSERT_EQ(data.train.size(), 6);
  ASSERT_EQ(data.validation.size(), 1);
  // A batch of windows 1 and 4, time-major: x (3, 2), y (3, 2).
  std::vector<Tensor> batch = data.train.AllocateBatch(2);
  const std::vector<int64_t> rows = {1, 4};
  data.train.FillBatch(rows, batch);
  EXPECT_EQ(batch[0].shape(), (std::vector<int64_t>{3, 2}));
  // "def" and "mno" -> ids 3,4,5 and 12,13,14, interleaved by step.
  EXPECT_EQ(Ids(batch[0]), (std::vector<int32_t>{3, 12, 4, 13, 5, 14}));
  EXPECT_EQ(Ids(batch[1]), (std::vector<int32_t>{4, 13, 5, 14, 6, 15}));
  std::vector<Tensor> held_out = data.validation.AllocateBatch(1);
  data.validation.FillBatch(std::vector<int64_t>{0}, held_out);
  // Window 6: "stu" -> "tuv".
  EXPECT_EQ(Ids(held_out[0]), (std::vector<int32_t>{18, 19, 20}));
  EXPECT_EQ(Ids(held_out[1]), (std::vector<int32_t>{19, 20, 21}));
}

TEST(CharLstmDataTest, ATenthIsHeldOut) {
  const std::string text(201, 'x');
  const CharVocabulary v(text);
  CharSequences data = MakeCharSequences(text, v, 4);  // 50 windows
  EXPECT_EQ(data.train.size(), 45);
  EXPECT_EQ(data.validation.size(), 5);
}

TEST(CharLstmDataTest, TooShortTextsAndBadLengthsAreErrors) {
  const CharVocabulary v("abcde");
  try {
    MakeCharSequences("abcde", v, 3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "MakeCharSequences: a text of 5 bytes gives 1 windows of 3 "
                 "characters; at least 2 are needed (7 bytes)");
  }
  try {
    MakeCharSequences("abcde", v, 0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "MakeCharSequences: seq_len=0 must be >= 1");
  }
  EXPECT_EQ(CharWindows(5, 0), 0);
  EXPECT_EQ(CharWindows(0, 3), 0);
}

}  // namespace
}  // namespace theta::models
