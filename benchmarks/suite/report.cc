// WriteReport(): the three files of the report.
#include "benchmarks/suite/report.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace theta::suite {
namespace {

absl::Status WriteText(const std::filesystem::path& path,
                       const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out)
    return absl::UnavailableError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteReport(const SuiteReport& report, const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", dir, ": ", error.message()));
  }
  const std::filesystem::path d(dir);
  if (absl::Status s =
          WriteText(d / "report.json", ReportJson(report).dump(2) + "\n");
      !s.ok()) {
    return s;
  }
  THETA_RETURN_IF_ERROR(WriteText(d / "report.md", ReportMarkdown(report)));
  return WriteText(d / "chart.svg", ComparisonChartSvg(report));
}

}  // namespace theta::suite
