// ProgressBar: the rendered line (bar, percentage, loss, rate, time left),
// redraws in place throttled by min_interval, the last step always drawn,
// and Clear() blanking what was drawn.
#include "models/progress_bar.h"

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace theta::models {
namespace {

using ::testing::HasSubstr;

std::string Contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s.push_back(static_cast<char>(c));
  return s;
}

TEST(ProgressBarTest, RendersBarLossRateAndTimeLeft) {
  ProgressBar bar(stderr, {.total_steps = 100, .batch_size = 64});
  // 25 steps of 64 examples in 10 s: 160 ex/s, 75 steps left at 0.4 s.
  const std::string line(bar.Render(25, 0.123456, 10.0));
  EXPECT_EQ(line,
            "[######..................]  25%  step 25/100  loss 0.1235  "
            "160 ex/s  0:30 left");
}

TEST(ProgressBarTest, TimeLeftCountsFromTheResumedStepAndShowsHours) {
  ProgressBar bar(stderr,
                  {.total_steps = 10000, .first_step = 5000, .batch_size = 1});
  // 10 steps since the resume in 10 s: 1 s a step, 4990 s left.
  EXPECT_THAT(std::string(bar.Render(5010, 1.0, 10.0)),
              HasSubstr("  1 ex/s  1:23:10 left"));
  EXPECT_THAT(std::string(bar.Render(5000, 1.0, 0.0)),
              HasSubstr("0 ex/s  -:-- left"));
}

TEST(ProgressBarTest, RedrawsInPlaceAtMostEveryIntervalAndAtTheEnd) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar(f,
                    {.total_steps = 3, .batch_size = 2, .min_interval = 3600});
    bar.Update(1, 1.0);  // too soon: not drawn
    bar.Update(2, 2.0);
    EXPECT_EQ(Contents(f), "");
    std::fseek(f, 0, SEEK_END);
    bar.Update(3, 3.0);  // the last step: drawn, with the mean loss
    const std::string drawn = Contents(f);
    EXPECT_EQ(drawn.front(), '\r');
    EXPECT_THAT(drawn, HasSubstr("100%  step 3/3  loss 2.0000"));
    EXPECT_EQ(drawn.find('\n'), std::string::npos);
    std::fseek(f, 0, SEEK_END);
    bar.Clear();
    const std::string cleared = Contents(f).substr(drawn.size());
    EXPECT_EQ(cleared, "\r" + std::string(drawn.size() - 1, ' ') + "\r");
  }
  std::fclose(f);
}

TEST(ProgressBarTest, ClearWithNothingDrawnWritesNothing) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressBar bar(f, {.total_steps = 10});
  bar.Clear();
  EXPECT_EQ(Contents(f), "");
  std::fclose(f);
}

TEST(ProgressBarTest, AFileIsNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_FALSE(UseProgressBar(f));
  std::fclose(f);
}

}  // namespace
}  // namespace theta::models
