#include "models/training_log.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace theta::models {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

TrainingLog TwoRows() {
  TrainingLog log;
  log.Add({.step = 10,
           .epoch = 0.5,
           .train_loss = 2.25,
           .test_accuracy = 0.4,
           .seconds = 1.5});
  log.Add({.step = 20,
           .epoch = 1,
           .train_loss = 1.125,
           .test_accuracy = 0.625,
           .seconds = 3});
  return log;
}

TEST(TrainingLogTest, CsvHasAHeaderAndOneLinePerRow) {
  EXPECT_EQ(TwoRows().ToCsv(),
            "step,epoch,train_loss,test_accuracy,seconds\n"
            "10,0.5000,2.250000,0.400000,1.500\n"
            "20,1.0000,1.125000,0.625000,3.000\n");
}

TEST(TrainingLogTest, SvgPlotsBothSeriesAndEscapesTheTitle) {
  const std::string svg = TwoRows().ToSvg("loss <& accuracy>");
  EXPECT_THAT(svg, StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, HasSubstr("loss &lt;&amp; accuracy&gt;"));
  // Two panels, each a polyline of two points: the loss falls (its y grows
  // downwards on screen), the accuracy rises.
  size_t first = svg.find("<polyline");
  ASSERT_NE(first, std::string::npos);
  size_t second = svg.find("<polyline", first + 1);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(svg.find("<polyline", second + 1), std::string::npos);
  EXPECT_THAT(svg.substr(first), HasSubstr("points=\"48.0,78.0 456.0,302.0\""));
  EXPECT_THAT(svg.substr(second),
              HasSubstr("points=\"528.0,302.0 936.0,78.0\""));
  EXPECT_THAT(svg, ::testing::EndsWith("</svg>\n"));
}

TEST(TrainingLogTest, WritesFilesAtomicallyReplacingOldOnes) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string path = dir + "/log.csv";
  std::ofstream(path) << "old contents";
  ASSERT_TRUE(TwoRows().WriteCsv(path).ok());
  EXPECT_EQ(ReadFile(path), TwoRows().ToCsv());
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_THAT(entry.path().filename().string(),
                ::testing::Not(HasSubstr(".tmp")));
  }
}

TEST(TrainingLogTest, WriteErrorsNameTheFile) {
  absl::Status status =
      TwoRows().WriteSvg("/no/such/directory/curve.svg", "title");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("/no/such/directory/curve.svg"));
}

TEST(TrainingLogTest, LogFileHoldsEachRowAsSoonAsItIsAppended) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/run.csv";
  std::ofstream(path) << "an old run";
  absl::StatusOr<TrainingLogFile> log = TrainingLogFile::Create(path);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(ReadFile(path), "step,epoch,train_loss,test_accuracy,seconds\n");
  const TrainingLog rows = TwoRows();
  ASSERT_TRUE(log->Append(rows.rows()[0]).ok());
  // Read while the log is still open: nothing waits for the end of the run.
  EXPECT_EQ(ReadFile(path),
            "step,epoch,train_loss,test_accuracy,seconds\n"
            "10,0.5000,2.250000,0.400000,1.500\n");
  ASSERT_TRUE(log->Append(rows.rows()[1]).ok());
  EXPECT_EQ(ReadFile(path), rows.ToCsv());
}

TEST(TrainingLogTest, LogFileErrorsNameTheFile) {
  absl::StatusOr<TrainingLogFile> log =
      TrainingLogFile::Create("/no/such/directory/run.csv");
  EXPECT_THAT(log.status().message(),
              HasSubstr("cannot create /no/such/directory/run.csv: No such "
                        "file or directory"));
}

TEST(TrainingLogTest, DirectoryWritabilityIsCheckedLeavingNothingBehind) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string empty = dir + "/writable";
  std::filesystem::create_directory(empty);
  EXPECT_TRUE(CheckDirectoryWritable(empty).ok());
  EXPECT_TRUE(std::filesystem::is_empty(empty));
  // Not writable even by root.
  EXPECT_THAT(CheckDirectoryWritable("/proc").message(),
              HasSubstr("cannot create files in /proc: "));
  const std::string file = dir + "/a_file";
  std::ofstream(file) << "x";
  EXPECT_THAT(
      CheckDirectoryWritable(file).message(),
      HasSubstr("cannot create files in " + file + ": Not a directory"));
}

}  // namespace
}  // namespace theta::models
