#include "benchmarks/suite/format.h"

#include "absl/strings/str_format.h"

namespace theta::suite {
namespace {

// Three significant digits.
std::string Significant(double v) {
  if (v >= 100) return absl::StrFormat("%.0f", v);
  if (v >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.2f", v);
}

}  // namespace

std::string FormatSeconds(double seconds) {
  if (seconds >= 1) return Significant(seconds) + " s";
  if (seconds >= 1e-3) return Significant(seconds * 1e3) + " ms";
  if (seconds >= 1e-6) return Significant(seconds * 1e6) + " µs";
  return Significant(seconds * 1e9) + " ns";
}

std::string FormatValue(double value, const std::string& unit) {
  if (unit == "s") return FormatSeconds(value);
  return Significant(value) + " " + unit;
}

std::string FormatRatio(double ratio) {
  return ratio >= 0.1 ? absl::StrFormat("%.2f", ratio)
                      : absl::StrFormat("%.2g", ratio);
}

std::string FormatRange(const Summary& s, const std::string& unit) {
  std::string out = FormatValue(s.median, unit);
  if (s.count > 1) {
    out +=
        " (" + FormatValue(s.min, unit) + ".." + FormatValue(s.max, unit) + ")";
  }
  return out;
}

}  // namespace theta::suite
