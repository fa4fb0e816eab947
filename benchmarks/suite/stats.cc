#include "benchmarks/suite/stats.h"

#include <algorithm>

namespace theta::suite {

Summary Summarize(std::vector<double> values) {
  Summary s;
  s.count = static_cast<int>(values.size());
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  s.median =
      n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
  s.min = values.front();
  s.max = values.back();
  return s;
}

}  // namespace theta::suite
