// Number formatting shared by the suite's reports.
//
//   FormatSeconds(0.0123) == "12.3 ms";  FormatRange(s, "s") == "12.3 ms
//   (12.1..13.0)"
#ifndef THETA_BENCHMARKS_SUITE_FORMAT_H_
#define THETA_BENCHMARKS_SUITE_FORMAT_H_

#include <string>

#include "benchmarks/suite/stats.h"

namespace theta::suite {

// Seconds with three significant digits in ns, µs, ms or s.
std::string FormatSeconds(double seconds);
// A value of `unit` ("s": seconds; anything else: the number and the unit).
std::string FormatValue(double value, const std::string& unit);
// A ratio with two decimals, or two significant digits below 0.1.
std::string FormatRatio(double ratio);
// "median (min..max)"; the range omitted for a single value.
std::string FormatRange(const Summary& s, const std::string& unit);

}  // namespace theta::suite

#endif  // THETA_BENCHMARKS_SUITE_FORMAT_H_
