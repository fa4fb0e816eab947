#include "graph/warning.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace theta {
namespace {

using ::testing::ElementsAre;

TEST(WarningTest, DefaultPrintsToStderrWithPrefix) {
  ::testing::internal::CaptureStderr();
  Warn("something odd");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "theta warning: something odd\n");
}

TEST(WarningTest, HandlerRedirectsAndIsRestored) {
  std::vector<std::string> seen;
  WarningHandler previous = SetWarningHandler(
      [&](std::string_view message) { seen.emplace_back(message); });
  ::testing::internal::CaptureStderr();
  Warn("first");
  Warn("second");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_THAT(seen, ElementsAre("first", "second"));
  // The previous handler (the default) comes back.
  SetWarningHandler(previous);
  ::testing::internal::CaptureStderr();
  Warn("third");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "theta warning: third\n");
  EXPECT_EQ(seen.size(), 2u);
}

TEST(WarningTest, EmptyHandlerSilencesAndScopedHandlerRestores) {
  {
    ScopedWarningHandler silence(nullptr);
    ::testing::internal::CaptureStderr();
    Warn("quiet");
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  }
  ::testing::internal::CaptureStderr();
  Warn("loud");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "theta warning: loud\n");
}

}  // namespace
}  // namespace theta
