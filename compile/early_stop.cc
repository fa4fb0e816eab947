#include "compile/early_stop.h"

#include "absl/strings/match.h"

namespace theta {
namespace {

constexpr char kRowsDiffer[] = "a row count changed; planning again";

}  // namespace

std::optional<int64_t> EarlyStopRows::Get(const Node* node) const {
  auto it = rows_.find(node);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

bool EarlyStopRows::Matches(
    const std::vector<std::pair<const Node*, int64_t>>& planned) const {
  if (planned.size() != rows_.size()) return false;
  for (const auto& [node, rows] : planned) {
    auto it = rows_.find(node);
    if (it == rows_.end() || it->second != rows) return false;
  }
  return true;
}

absl::Status EarlyStopLaunch::ReportRows(int64_t rows,
                                         absl::Status cannot_replan) const {
  if (sink_ == nullptr) return cannot_replan;
  sink_->Report(node_, rows);
  return RowsDiffer();
}

absl::Status RowsDiffer() { return absl::AbortedError(kRowsDiffer); }

bool IsRowsDiffer(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAborted &&
         absl::EndsWith(status.message(), kRowsDiffer);
}

}  // namespace theta
