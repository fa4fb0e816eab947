#include "base/error.h"

#include <string>

#include "gtest/gtest.h"

namespace theta {
namespace {

TEST(ErrorTest, KeepsMessageCodeAndWhereItWasRaised) {
  const int line = __LINE__ + 1;
  Error error("shape (2, 3) does not fit (3, 2)", absl::StatusCode::kNotFound);
  EXPECT_STREQ(error.what(), "shape (2, 3) does not fit (3, 2)");
  EXPECT_EQ(error.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(error.location().line(), static_cast<unsigned>(line));
  EXPECT_NE(std::string(error.location().file_name()).find("error_test.cc"),
            std::string::npos);
}

TEST(ErrorTest, DefaultsToInvalidArgumentAndNeverOk) {
  EXPECT_EQ(Error("bad").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Error("odd", absl::StatusCode::kOk).code(),
            absl::StatusCode::kUnknown);
}

TEST(ErrorTest, RoundTripsThroughStatus) {
  Error error("no backend named 'tpu'", absl::StatusCode::kNotFound);
  absl::Status status = error.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "no backend named 'tpu'");
}

TEST(ThrowIfErrorTest, ThrowsTheStatusAtTheCallersLine) {
  EXPECT_NO_THROW(ThrowIfError(absl::OkStatus()));
  int line = 0;
  try {
    line = __LINE__ + 1;
    ThrowIfError(absl::ResourceExhaustedError("cannot allocate 8 bytes"));
    FAIL() << "ThrowIfError did not throw";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "cannot allocate 8 bytes");
    EXPECT_EQ(error.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(error.location().line(), static_cast<unsigned>(line));
  }
}

TEST(ErrorTest, IsCaughtAsStdException) {
  try {
    throw Error("x");
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "x");
  }
}

}  // namespace
}  // namespace theta
