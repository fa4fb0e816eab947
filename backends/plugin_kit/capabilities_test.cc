#include "backends/plugin_kit/capabilities.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace theta::plugin_kit {
namespace {

int32_t Ask(int32_t kernel, int32_t dtype) {
  return SupportsAdmitted(nullptr, kernel, dtype);
}

TEST(CapabilitiesTest, FloatingOnlyKernels) {
  for (int k : {THETA_KERNEL_GEMM, THETA_KERNEL_SOFTMAX, THETA_KERNEL_RNG}) {
    EXPECT_EQ(Ask(k, THETA_DTYPE_F32), 1) << k;
    EXPECT_EQ(Ask(k, THETA_DTYPE_F64), 1) << k;
    EXPECT_EQ(Ask(k, THETA_DTYPE_I32), 0) << k;
    EXPECT_EQ(Ask(k, THETA_DTYPE_BOOL), 0) << k;
  }
}

TEST(CapabilitiesTest, ElementwiseComputeDtypes) {
  EXPECT_EQ(Ask(THETA_KERNEL_ELEMENTWISE, THETA_DTYPE_I64), 1);
  EXPECT_EQ(Ask(THETA_KERNEL_ELEMENTWISE, THETA_DTYPE_U8), 0);
  EXPECT_EQ(Ask(THETA_KERNEL_ELEMENTWISE, THETA_DTYPE_BOOL), 0);
}

TEST(CapabilitiesTest, DataMovementTakesEveryDtype) {
  for (int d = THETA_DTYPE_F32; d <= THETA_DTYPE_BOOL; ++d) {
    EXPECT_EQ(Ask(THETA_KERNEL_COPY, d), 1);
    EXPECT_EQ(Ask(THETA_KERNEL_FILL, d), 1);
    EXPECT_EQ(Ask(THETA_KERNEL_GATHER, d), 1);
    EXPECT_EQ(Ask(THETA_KERNEL_REDUCE, d), 1);
    EXPECT_EQ(Ask(THETA_KERNEL_SCATTER_ADD, d), d == THETA_DTYPE_BOOL ? 0 : 1);
  }
}

TEST(CapabilitiesTest, UnknownValuesAreUnsupported) {
  EXPECT_EQ(Ask(THETA_KERNEL_COUNT, THETA_DTYPE_F32), 0);
  EXPECT_EQ(Ask(-1, THETA_DTYPE_F32), 0);
  EXPECT_EQ(Ask(THETA_KERNEL_COPY, 6), 0);
  EXPECT_EQ(Ask(THETA_KERNEL_COPY, -1), 0);
}

}  // namespace
}  // namespace theta::plugin_kit
