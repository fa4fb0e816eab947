// The summary of one measurement over the suite's rounds.
//
//   Summary s = Summarize({3.0, 1.0, 2.0});  // median 2, min 1, max 3
#ifndef THETA_BENCHMARKS_SUITE_STATS_H_
#define THETA_BENCHMARKS_SUITE_STATS_H_

#include <vector>

namespace theta::suite {

struct Summary {
  double median = 0, min = 0, max = 0;
  int count = 0;  // 0: no values (the others are then 0)
};

// The median of an even count is the mean of the two middle values.
Summary Summarize(std::vector<double> values);

}  // namespace theta::suite

#endif  // THETA_BENCHMARKS_SUITE_STATS_H_
