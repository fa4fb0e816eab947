// Runs char_lstm (argv[1]) as a user would: briefly on the embedded text
// and on a text file (the loss falls, the sample has the requested number
// of characters, all from the text, and one seed gives one sample),
// resuming from a checkpoint, and with each kind of bad flag or --text
// file, which must stop it before any work with a message naming the flag
// or file. The embedded text itself is argv[2].
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string program_path, embedded_text_path;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

struct ProgramRun {
  int status = -1;
  std::string out, err;
};

ProgramRun RunProgram(const std::vector<std::string>& flags) {
  const std::string out = TempDir() + "/stdout", err = TempDir() + "/stderr";
  std::string command = "'" + program_path + "'";
  for (const std::string& f : flags) absl::StrAppend(&command, " '", f, "'");
  absl::StrAppend(&command, " >'", out, "' 2>'", err, "'");
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out),
          ReadFile(err)};
}

// The loss on the training text at "start" or "end".
double TrainingLoss(const std::string& out, const std::string& label) {
  const std::string key = label + ": training text loss ";
  const size_t at = out.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no '" << key << "' line in:\n" << out;
    return 0;
  }
  return std::stod(out.substr(at + key.size()));
}

// What follows the "sample of N characters" line, without the final
// newline the program ends it with.
std::string Sample(const std::string& out, int chars) {
  const std::string key = absl::StrCat("sample of ", chars, " characters");
  const size_t at = out.find(key);
  if (at == std::string::npos || out.empty() || out.back() != '\n') {
    ADD_FAILURE() << "no '" << key << "' at the end of:\n" << out;
    return "";
  }
  const size_t start = out.find('\n', at) + 1;
  return out.substr(start, out.size() - 1 - start);
}

std::set<char> Characters(const std::string& s) {
  return std::set<char>(s.begin(), s.end());
}

// Few steps of a small model.
const std::vector<std::string> kSmall = {"--hidden=32", "--embedding=8",
                                         "--seq_len=32", "--batch_size=8"};

std::vector<std::string> With(std::vector<std::string> flags,
                              const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

TEST(CharLstmTest, TrainsOnTheEmbeddedTextAndSamples) {
  const ProgramRun r =
      RunProgram(With(kSmall, {"--epochs=3", "--sample_chars=120"}));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("the embedded text (Pride and Prejudice"));
  EXPECT_THAT(r.out, HasSubstr("4489 bytes"));
  EXPECT_THAT(r.out, HasSubstr("step "));
  EXPECT_LT(TrainingLoss(r.out, "end"), TrainingLoss(r.out, "start") - 0.3);
  const std::string sample = Sample(r.out, 120);
  EXPECT_EQ(sample.size(), 120u);
  const std::set<char> text = Characters(ReadFile(embedded_text_path));
  for (char c : sample) EXPECT_TRUE(text.count(c)) << int{c};
}

TEST(CharLstmTest, TrainsOnATextFile) {
  // A short repetitive text: the model learns it quickly.
  std::string text;
  for (int i = 0; i < 40; ++i) text += "the cat sat on the mat. ";
  const std::string path = TempDir() + "/cats.txt";
  WriteFile(path, text);
  const ProgramRun r =
      RunProgram(With(kSmall, {"--text=" + path, "--epochs=6",
                               "--sample_chars=57", "--prime=the "}));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(path + ": 960 bytes, 11 distinct characters"));
  EXPECT_LT(TrainingLoss(r.out, "end"), TrainingLoss(r.out, "start") - 0.5);
  const std::string sample = Sample(r.out, 57);
  EXPECT_EQ(sample.size(), 57u);
  const std::set<char> allowed = Characters(text);
  for (char c : sample) EXPECT_TRUE(allowed.count(c)) << int{c};
}

TEST(CharLstmTest, OneSeedGivesOneSample) {
  const std::vector<std::string> flags =
      With(kSmall, {"--epochs=1", "--sample_chars=80"});
  const ProgramRun a = RunProgram(With(flags, {"--seed=5"}));
  const ProgramRun b = RunProgram(With(flags, {"--seed=5"}));
  const ProgramRun c = RunProgram(With(flags, {"--seed=6"}));
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(Sample(a.out, 80), Sample(b.out, 80));
  EXPECT_EQ(TrainingLoss(a.out, "end"), TrainingLoss(b.out, "end"));
  EXPECT_NE(Sample(a.out, 80), Sample(c.out, 80));
}

TEST(CharLstmTest, ResumingContinuesAsAnUninterruptedRun) {
  const std::string dir = TempDir() + "/resume";
  const std::vector<std::string> flags = With(kSmall, {"--sample_chars=40"});
  const ProgramRun whole = RunProgram(With(flags, {"--epochs=3"}));
  const ProgramRun first =
      RunProgram(With(flags, {"--epochs=2", "--checkpoint_dir=" + dir}));
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_TRUE(std::filesystem::exists(dir + "/char_lstm.safetensors"));
  const ProgramRun rest = RunProgram(
      With(flags, {"--epochs=3", "--checkpoint_dir=" + dir, "--resume"}));
  ASSERT_EQ(whole.status, 0) << whole.err;
  ASSERT_EQ(rest.status, 0) << rest.err;
  EXPECT_THAT(rest.out, HasSubstr("resumed from " + dir));
  EXPECT_EQ(TrainingLoss(rest.out, "end"), TrainingLoss(whole.out, "end"));
  EXPECT_EQ(Sample(rest.out, 40), Sample(whole.out, 40));

  // The same checkpoint with another text (another vocabulary).
  const std::string other = TempDir() + "/other.txt";
  std::string text;
  for (int i = 0; i < 20; ++i) text += "abcdefghijklmnopqrstuvwxyz\n";
  WriteFile(other, text);
  const ProgramRun wrong = RunProgram(
      With(flags, {"--text=" + other, "--checkpoint_dir=" + dir, "--resume"}));
  EXPECT_EQ(wrong.status, 1);
  EXPECT_THAT(wrong.err,
              HasSubstr("--resume: the checkpoint was trained on a text of "
                        "another vocabulary ("));
  EXPECT_THAT(wrong.err, HasSubstr("this text has 27); resume with the same "
                                   "--text"));
  EXPECT_THAT(wrong.out, IsEmpty());
}

// Exit status 1, `message` on stderr, and nothing done (no output).
void ExpectRejected(const std::vector<std::string>& flags,
                    const std::string& message) {
  const ProgramRun r = RunProgram(flags);
  EXPECT_EQ(r.status, 1) << absl::StrJoin(flags, " ");
  EXPECT_THAT(r.err, HasSubstr(message)) << absl::StrJoin(flags, " ");
  EXPECT_THAT(r.out, IsEmpty()) << absl::StrJoin(flags, " ");
}

TEST(CharLstmTest, BadFlagsStopBeforeAnyWork) {
  ExpectRejected({"--seq_len=0"}, "invalid flags: --seq_len=0 must be >= 1");
  ExpectRejected({"--hidden=0"}, "--hidden=0 must be >= 1");
  ExpectRejected({"--embedding=-2"}, "--embedding=-2 must be >= 1");
  ExpectRejected({"--batch_size=0"}, "--batch_size=0 must be >= 1");
  ExpectRejected({"--epochs=0"}, "--epochs=0 must be >= 1");
  ExpectRejected({"--sample_chars=-1"}, "--sample_chars=-1 must be >= 0");
  ExpectRejected({"--learning_rate=0"},
                 "--learning_rate=0 must be a finite number > 0");
  ExpectRejected({"--learning_rate=nan"},
                 "--learning_rate=nan must be a finite number > 0");
  ExpectRejected({"--temperature=-1"},
                 "--temperature=-1 must be a finite number > 0");
  ExpectRejected({"--optimizer=lbfgs"},
                 "--optimizer=lbfgs must be one of sgd, momentum, nesterov, "
                 "adagrad, adadelta, rmsprop, adam, adamw");
  ExpectRejected({"--resume"}, "--resume needs --checkpoint_dir");
  // Every bad flag at once.
  ExpectRejected({"--hidden=0", "--epochs=0"},
                 "invalid flags: --hidden=0 must be >= 1; --epochs=0 must be "
                 ">= 1");
}

TEST(CharLstmTest, BadTextFilesAreNamed) {
  const std::string missing = TempDir() + "/no_such_file.txt";
  ExpectRejected({"--text=" + missing},
                 "--text=" + missing + ": No such file or directory");
  const std::string empty = TempDir() + "/empty.txt";
  WriteFile(empty, "");
  ExpectRejected({"--text=" + empty},
                 "--text=" + empty + ": the file is empty");
  ExpectRejected({"--text=" + TempDir()},
                 "--text=" + TempDir() + ": is a directory, not a text file");
  const std::string short_text = TempDir() + "/short.txt";
  WriteFile(short_text, "abcdefghij");
  ExpectRejected({"--text=" + short_text, "--seq_len=5"},
                 "--text: " + short_text +
                     " has 10 bytes, too short for --seq_len=5: it needs at "
                     "least 11 bytes (two sequences)");
}

TEST(CharLstmTest, FlagsThatDoNotFitTheText) {
  ExpectRejected({"--batch_size=500"},
                 "--batch_size=500 exceeds the 63 training sequences of "
                 "--seq_len=64 characters in the embedded text");
  ExpectRejected({"--prime=It{"},
                 "--prime: the character '{' does not occur in the embedded "
                 "text");
  const std::string file = TempDir() + "/a_file";
  WriteFile(file, "x");
  ExpectRejected({"--checkpoint_dir=" + file + "/sub"},
                 "--checkpoint_dir: cannot create " + file + "/sub");
  const std::string empty_dir = TempDir() + "/no_checkpoint";
  std::filesystem::create_directories(empty_dir);
  ExpectRejected(
      {"--checkpoint_dir=" + empty_dir, "--resume"},
      "--resume: no checkpoint at " + empty_dir + "/char_lstm.safetensors");
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CHAR_LSTM EMBEDDED_TEXT\n", argv[0]);
    return 2;
  }
  program_path = argv[1];
  embedded_text_path = argv[2];
  return RUN_ALL_TESTS();
}
