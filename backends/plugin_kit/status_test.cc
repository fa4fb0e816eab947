#include "backends/plugin_kit/status.h"

#include <gtest/gtest.h>

namespace theta::plugin_kit {
namespace {

TEST(StatusTest, MakeStatusCarriesCodeAndFormattedMessage) {
  theta_status* s = InvalidArgument("gemm: m is ", -3, ", must be >= 0");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(StatusCode(s), THETA_STATUS_INVALID_ARGUMENT);
  EXPECT_STREQ(StatusMessage(s), "gemm: m is -3, must be >= 0");
  StatusFree(s);
}

TEST(StatusTest, EachHelperHasItsCode) {
  theta_status* u = Unimplemented("x");
  theta_status* f = FailedPrecondition("y");
  EXPECT_EQ(StatusCode(u), THETA_STATUS_UNIMPLEMENTED);
  EXPECT_EQ(StatusCode(f), THETA_STATUS_FAILED_PRECONDITION);
  FreeStatus(u);
  FreeStatus(f);
}

TEST(StatusTest, NullIsSuccess) {
  EXPECT_EQ(StatusCode(nullptr), THETA_STATUS_OK);
  EXPECT_STREQ(StatusMessage(nullptr), "");
  StatusFree(nullptr);  // no effect
}

TEST(StatusTest, StaticOutOfMemoryStatusIsNeverFreed) {
  theta_status* oom = OutOfMemoryStatus();
  EXPECT_EQ(oom->code, THETA_STATUS_OUT_OF_MEMORY);
  EXPECT_EQ(oom->message, "out of memory");
  FreeStatus(oom);
  EXPECT_EQ(OutOfMemoryStatus()->message, "out of memory");
  EXPECT_EQ(Prefixed("gemm", oom), oom);
  EXPECT_EQ(oom->message, "out of memory");
}

TEST(StatusTest, PrefixedNamesTheFunction) {
  theta_status* s = Prefixed(
      "buffer_alloc", MakeStatus(THETA_STATUS_INTERNAL, "cudaMalloc failed"));
  EXPECT_EQ(s->message, "buffer_alloc: cudaMalloc failed");
  FreeStatus(s);
  EXPECT_EQ(Prefixed("x", nullptr), nullptr);
}

TEST(StatusTest, DtypeNames) {
  EXPECT_EQ(DtypeName(THETA_DTYPE_F32), "F32");
  EXPECT_EQ(DtypeName(THETA_DTYPE_BOOL), "BOOL");
  EXPECT_EQ(DtypeName(9), "dtype(9)");
}

}  // namespace
}  // namespace theta::plugin_kit
