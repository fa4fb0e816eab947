#include "models/training_log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace theta::models {
namespace {

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

struct Series {
  std::string label;
  std::string colour;
  std::vector<double> x, y;
};

// One chart panel at (left, top) of size width x height: axes, the range
// of each axis at its ends, and the series as a polyline with dots.
std::string Panel(const Series& s, double left, double top, double width,
                  double height) {
  std::string svg;
  const double margin = 48;
  const double x0 = left + margin, y0 = top + height - margin;
  const double w = width - 1.5 * margin, h = height - 2 * margin;
  absl::StrAppendFormat(&svg,
                        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" "
                        "text-anchor=\"middle\">%s</text>\n",
                        left + width / 2, top + 24, XmlEscape(s.label));
  absl::StrAppendFormat(&svg,
                        "<path d=\"M%.1f %.1f V%.1f H%.1f\" stroke=\"#444\" "
                        "fill=\"none\"/>\n",
                        x0, y0 - h, y0, x0 + w);
  if (s.x.empty()) return svg;
  const auto [xmin_it, xmax_it] = std::minmax_element(s.x.begin(), s.x.end());
  const auto [ymin_it, ymax_it] = std::minmax_element(s.y.begin(), s.y.end());
  double xmin = *xmin_it, xmax = *xmax_it, ymin = *ymin_it, ymax = *ymax_it;
  if (xmax == xmin) xmax = xmin + 1;
  if (ymax == ymin) ymax = ymin + 1;
  auto px = [&](double v) { return x0 + (v - xmin) / (xmax - xmin) * w; };
  auto py = [&](double v) { return y0 - (v - ymin) / (ymax - ymin) * h; };
  const char* kLabel =
      "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
      "text-anchor=\"%s\">%s</text>\n";
  absl::StrAppendFormat(&svg, kLabel, x0 - 4, y0, "end",
                        absl::StrFormat("%.3g", ymin));
  absl::StrAppendFormat(&svg, kLabel, x0 - 4, y0 - h + 8, "end",
                        absl::StrFormat("%.3g", ymax));
  absl::StrAppendFormat(&svg, kLabel, x0, y0 + 16, "start",
                        absl::StrFormat("%.0f", xmin));
  absl::StrAppendFormat(&svg, kLabel, x0 + w, y0 + 16, "end",
                        absl::StrFormat("%.0f", xmax));
  absl::StrAppendFormat(&svg, kLabel, x0 + w / 2, y0 + 32, "middle", "step");
  std::string points;
  for (size_t i = 0; i < s.x.size(); ++i) {
    absl::StrAppendFormat(&points, "%s%.1f,%.1f", i == 0 ? "" : " ", px(s.x[i]),
                          py(s.y[i]));
  }
  absl::StrAppendFormat(&svg,
                        "<polyline points=\"%s\" stroke=\"%s\" "
                        "stroke-width=\"2\" fill=\"none\"/>\n",
                        points, s.colour);
  for (size_t i = 0; i < s.x.size(); ++i) {
    absl::StrAppendFormat(&svg,
                          "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                          "fill=\"%s\"/>\n",
                          px(s.x[i]), py(s.y[i]), s.colour);
  }
  return svg;
}

constexpr char kCsvHeader[] = "step,epoch,train_loss,test_accuracy,seconds\n";

std::string CsvLine(const TrainingLogRow& r) {
  return absl::StrFormat("%d,%.4f,%.6f,%.6f,%.3f\n", r.step, r.epoch,
                         r.train_loss, r.test_accuracy, r.seconds);
}

}  // namespace

std::string TrainingLog::ToCsv() const {
  std::string csv = kCsvHeader;
  for (const TrainingLogRow& r : rows_) csv += CsvLine(r);
  return csv;
}

std::string TrainingLog::ToSvg(const std::string& title) const {
  Series loss{"training loss (mean cross-entropy)", "#1f77b4", {}, {}};
  Series accuracy{"test accuracy", "#d62728", {}, {}};
  for (const TrainingLogRow& r : rows_) {
    loss.x.push_back(static_cast<double>(r.step));
    loss.y.push_back(r.train_loss);
    accuracy.x.push_back(static_cast<double>(r.step));
    accuracy.y.push_back(r.test_accuracy);
  }
  const double width = 480, height = 320;
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
      "height=\"%.0f\" font-family=\"sans-serif\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%.0f\" y=\"20\" font-size=\"16\" "
      "text-anchor=\"middle\">%s</text>\n",
      2 * width, height + 30, width, XmlEscape(title));
  svg += Panel(loss, 0, 30, width, height);
  svg += Panel(accuracy, width, 30, width, height);
  svg += "</svg>\n";
  return svg;
}

absl::Status TrainingLog::WriteCsv(const std::string& path) const {
  return WriteFileAtomically(path, ToCsv());
}

absl::Status TrainingLog::WriteSvg(const std::string& path,
                                   const std::string& title) const {
  return WriteFileAtomically(path, ToSvg(title));
}

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents) {
  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  auto failure = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot write ", path, ": ", what, ": ", reason));
  };
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) return failure("cannot create a temporary file");
  const bool written = std::fwrite(contents.data(), 1, contents.size(), file) ==
                           contents.size() &&
                       std::fflush(file) == 0 && fsync(fileno(file)) == 0;
  if (std::fclose(file) != 0 || !written) return failure("write failed");
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return failure("rename failed");
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingLogFile> TrainingLogFile::Create(
    const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  TrainingLogFile log(path, file);
  THETA_RETURN_IF_ERROR(log.Write(kCsvHeader));
  return log;
}

absl::Status TrainingLogFile::Append(const TrainingLogRow& row) {
  return Write(CsvLine(row));
}

absl::Status TrainingLogFile::Write(const std::string& text) {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path_, ": the log was moved from"));
  }
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() ||
      std::fflush(file_) != 0 || fsync(fileno(file_)) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

TrainingLogFile::TrainingLogFile(TrainingLogFile&& other) noexcept
    : path_(std::move(other.path_)), file_(other.file_) {
  other.file_ = nullptr;
}

TrainingLogFile& TrainingLogFile::operator=(TrainingLogFile&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) std::fclose(file_);
    path_ = std::move(other.path_);
    file_ = other.file_;
    other.file_ = nullptr;
  }
  return *this;
}

TrainingLogFile::~TrainingLogFile() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status CheckDirectoryWritable(const std::string& dir) {
  std::string probe = dir + "/.theta_write_check.XXXXXX";
  const int fd = mkstemp(probe.data());
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create files in ", dir, ": ", std::strerror(errno)));
  }
  close(fd);
  std::remove(probe.c_str());
  return absl::OkStatus();
}

}  // namespace theta::models
