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
// a failed write.
#ifndef THETA_MODELS_TRAINING_LOG_H_
#define THETA_MODELS_TRAINING_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

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

// Writes `contents` to `path` through a temporary file in the same directory
// and a rename; errors name the file.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents);

}  // namespace theta::models

#endif  // THETA_MODELS_TRAINING_LOG_H_
