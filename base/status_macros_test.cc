#include "base/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace theta {
namespace {

absl::Status FailIfNegative(int value, int* calls) {
  ++*calls;
  if (value < 0) return absl::InvalidArgumentError("negative");
  return absl::OkStatus();
}

absl::Status CheckBoth(int a, int b, int* calls) {
  THETA_RETURN_IF_ERROR(FailIfNegative(a, calls));
  THETA_RETURN_IF_ERROR(FailIfNegative(b, calls));
  return absl::OkStatus();
}

TEST(ReturnIfErrorTest, ReturnsTheFirstErrorAndEvaluatesOnce) {
  int calls = 0;
  EXPECT_TRUE(CheckBoth(1, 2, &calls).ok());
  EXPECT_EQ(calls, 2);
  calls = 0;
  absl::Status status = CheckBoth(-1, 2, &calls);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "negative");
  EXPECT_EQ(calls, 1);
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(int value) {
  if (value < 0) return absl::OutOfRangeError("no negative ints");
  return std::make_unique<int>(value);
}

absl::StatusOr<int> SumOfTwo(int a, int b) {
  THETA_ASSIGN_OR_RETURN(std::unique_ptr<int> first, MakeInt(a));
  std::unique_ptr<int> second;
  THETA_ASSIGN_OR_RETURN(second, MakeInt(b));  // into an existing variable
  return *first + *second;
}

TEST(AssignOrReturnTest, MovesTheValueOrReturnsTheError) {
  absl::StatusOr<int> sum = SumOfTwo(2, 3);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(*sum, 5);
  absl::StatusOr<int> failed = SumOfTwo(2, -3);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(failed.status().message(), "no negative ints");
}

}  // namespace
}  // namespace theta
