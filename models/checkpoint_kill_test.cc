// A process killed (SIGKILL) in the middle of writing a checkpoint leaves
// the previous checkpoint whole and loadable (issue #17). The writer is
// checkpoint_kill_writer, whose path is argv[1].
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "models/checkpoint.h"

namespace theta::models {
namespace {

std::string writer_path;

TEST(CheckpointKillTest, KilledWriterLeavesThePreviousCheckpoint) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/kill";
  ASSERT_TRUE(PrepareCheckpointDirectory(dir).ok());
  const std::string path = dir + "/model.safetensors";
  SharedVar w = shared(Tensor({1.f, 2.f, 3.f}, {3}), "W");
  ASSERT_TRUE(SaveCheckpoint(path, {w}).ok());

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(writer_path.c_str(), writer_path.c_str(), path.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char c;
  while (out.find("writing\n") == std::string::npos &&
         ::read(fds[0], &c, 1) == 1) {
    out += c;
  }
  ASSERT_EQ(out, "writing\n");
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  // The killed write left its partial temporary file beside the checkpoint.
  int partial = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("model.safetensors.tmp-")) {
      ++partial;
      EXPECT_LT(e.file_size(), 32u << 20);
    }
  }
  EXPECT_EQ(partial, 1);
  // The checkpoint is the previous one, whole.
  w.set_value(Tensor({0.f, 0.f, 0.f}, {3}));
  absl::Status s = LoadCheckpoint(path, {w});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(w.get_value().to_vector<float>(), (std::vector<float>{1, 2, 3}));
}

}  // namespace
}  // namespace theta::models

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    std::cerr << "usage: checkpoint_kill_test PATH_OF_checkpoint_kill_writer\n";
    return 2;
  }
  theta::models::writer_path = argv[1];
  return RUN_ALL_TESTS();
}
