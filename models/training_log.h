// A record of a training run: one row per evaluation (step, epoch, mean
// training loss since the previous row, test accuracy, elapsed seconds),
// written as CSV and as an SVG chart of loss and accuracy against steps.
//
//   TrainingLog log;
//   log.Add({.step = 100, .epoch = 1, .train_loss = 0.61, ...});
//   absl::Status s = log.WriteCsv("out/training_log.csv");
//
// Files are written to a temporary name beside the target and renamed into
// place, so a reader never sees half a file and an old file is never lost to
// a failed write. TrainingLogFile appends the rows to a CSV file as training
// goes, so that a run that is stopped keeps every row logged so far.
#ifndef THETA_MODELS_TRAINING_LOG_H_
#define THETA_MODELS_TRAINING_LOG_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace theta::models {

struct TrainingLogRow {
  int64_t step = 0;  // optimiser steps so far
  double epoch = 0;  // epochs so far (fractional mid-epoch)
  double train_loss = 0;
  double test_accuracy = 0;  // in [0, 1]
  double seconds = 0;        // since training started
};

class TrainingLog {
 public:
  void Add(const TrainingLogRow& row) { rows_.push_back(row); }
  const std::vector<TrainingLogRow>& rows() const { return rows_; }

  std::string ToCsv() const;
  // Two panels side by side: training loss and test accuracy by step.
  std::string ToSvg(const std::string& title) const;

  absl::Status WriteCsv(const std::string& path) const;
  absl::Status WriteSvg(const std::string& path,
                        const std::string& title) const;

 private:
  std::vector<TrainingLogRow> rows_;
};

// A CSV training log written as training goes: Create() writes the header
// (replacing an old file), each Append() one line, flushed and synced to
// disk before it returns. Same columns as TrainingLog::ToCsv().
//
//   absl::StatusOr<TrainingLogFile> csv = TrainingLogFile::Create(path);
//   if (csv.ok()) absl::Status s = csv->Append(row);
class TrainingLogFile {
 public:
  // Errors name the file.
  static absl::StatusOr<TrainingLogFile> Create(const std::string& path);
  absl::Status Append(const TrainingLogRow& row);
  const std::string& path() const { return path_; }

  TrainingLogFile(TrainingLogFile&& other) noexcept;
  TrainingLogFile& operator=(TrainingLogFile&& other) noexcept;
  TrainingLogFile(const TrainingLogFile&) = delete;
  TrainingLogFile& operator=(const TrainingLogFile&) = delete;
  ~TrainingLogFile();

 private:
  TrainingLogFile(std::string path, std::FILE* file)
      : path_(std::move(path)), file_(file) {}
  absl::Status Write(const std::string& text);

  std::string path_;
  std::FILE* file_ = nullptr;
};

// OK when files can be created in the existing directory `dir` (checked by
// creating and removing one); otherwise an error naming `dir` and why.
absl::Status CheckDirectoryWritable(const std::string& dir);

// Writes `contents` to `path` through a temporary file in the same directory
// and a rename; errors name the file.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents);

}  // namespace theta::models

#endif  // THETA_MODELS_TRAINING_LOG_H_
