// The fault-injecting plugin on its own: it forwards to the CPU plugin, and
// an armed fault fails exactly the chosen call, once, with a message naming
// it.
#include "backends/testing/faulty_plugin.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace theta::backends {
namespace {

using ::testing::HasSubstr;

std::string Runfile(const std::string& relative) {
  const char* root = std::getenv("TEST_SRCDIR");
  return std::string(root != nullptr ? root : ".") + "/theta/" + relative;
}

class FaultyPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Backend*> b =
        GetBackend(Runfile("backends/testing/libtheta_faulty.so"));
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = *b;
    control_ =
        static_cast<const theta_faulty_control*>(backend_->api().get_extension(
            backend_->plugin(), kFaultyControlExtension));
    ASSERT_NE(control_, nullptr);
  }
  void TearDown() override {
    for (int kind = 0; kind < THETA_FAULT_KIND_COUNT; ++kind) {
      control_->fail_at(kind, 0);
    }
  }

  Backend* backend_ = nullptr;
  const theta_faulty_control* control_ = nullptr;
};

TEST_F(FaultyPluginTest, ForwardsToTheCpuPlugin) {
  EXPECT_EQ(backend_->name(), "faulty");
  EXPECT_TRUE(backend_->Supports(THETA_KERNEL_GEMM, THETA_DTYPE_F32));
  absl::StatusOr<Buffer> buffer = backend_->Allocate(4 * sizeof(float));
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  const std::vector<float> in = {1, 2, 3, 4};
  std::vector<float> out(4);
  ASSERT_TRUE(
      backend_->CopyToDevice(buffer->data(), in.data(), 4 * sizeof(float))
          .ok());
  const int64_t shape[] = {4};
  const int64_t strides[] = {1};
  const theta_array array{buffer->data(), THETA_DTYPE_F32, 1, shape, strides};
  ASSERT_TRUE(
      backend_
          ->Check(backend_->api().fill(backend_->stream(), &array, 7), "fill")
          .ok());
  ASSERT_TRUE(
      backend_->CopyToHost(out.data(), buffer->data(), 4 * sizeof(float)).ok());
  ASSERT_TRUE(backend_->Synchronize().ok());
  EXPECT_EQ(out, std::vector<float>({7, 7, 7, 7}));
}

TEST_F(FaultyPluginTest, FailsTheChosenAllocationOnce) {
  const int64_t before = control_->calls(THETA_FAULT_ALLOCATION);
  const int64_t failures = control_->failures();
  control_->fail_at(THETA_FAULT_ALLOCATION, 2);
  absl::StatusOr<Buffer> first = backend_->Allocate(64);
  EXPECT_TRUE(first.ok()) << first.status();
  absl::StatusOr<Buffer> second = backend_->Allocate(128);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("injected failure of allocation #",
                                     before + 2, " (buffer of 128 bytes)")));
  absl::StatusOr<Buffer> third = backend_->Allocate(128);
  EXPECT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(control_->calls(THETA_FAULT_ALLOCATION), before + 3);
  EXPECT_EQ(control_->failures(), failures + 1);
}

TEST_F(FaultyPluginTest, FailsTheChosenKernelAndDisarms) {
  absl::StatusOr<Buffer> buffer = backend_->Allocate(sizeof(double));
  ASSERT_TRUE(buffer.ok());
  const theta_array array{buffer->data(), THETA_DTYPE_F64, 0, nullptr, nullptr};
  control_->fail_at(THETA_FAULT_KERNEL, 1);
  absl::Status failed = backend_->Check(
      backend_->api().fill(backend_->stream(), &array, 1), "fill");
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(failed.message(), HasSubstr("injected failure of kernel launch"));
  EXPECT_THAT(failed.message(), HasSubstr("(fill)"));
  EXPECT_TRUE(
      backend_
          ->Check(backend_->api().fill(backend_->stream(), &array, 1), "fill")
          .ok());
  // Disarming before the call leaves it working.
  control_->fail_at(THETA_FAULT_KERNEL, 1);
  control_->fail_at(THETA_FAULT_KERNEL, 0);
  EXPECT_TRUE(
      backend_
          ->Check(backend_->api().fill(backend_->stream(), &array, 2), "fill")
          .ok());
}

TEST_F(FaultyPluginTest, FailsTheChosenTransfer) {
  absl::StatusOr<Buffer> buffer = backend_->Allocate(16);
  ASSERT_TRUE(buffer.ok());
  char host[16] = {};
  control_->fail_at(THETA_FAULT_TRANSFER, 1);
  absl::Status failed = backend_->CopyToHost(host, buffer->data(), 16);
  EXPECT_THAT(failed.message(), HasSubstr("injected failure of transfer #"));
  EXPECT_THAT(failed.message(), HasSubstr("(device to host copy of 16 bytes)"));
  EXPECT_TRUE(backend_->CopyToHost(host, buffer->data(), 16).ok());
}

TEST_F(FaultyPluginTest, UnknownKindsAreIgnored) {
  control_->fail_at(7, 1);
  control_->fail_at(-1, 1);
  EXPECT_EQ(control_->calls(7), 0);
  EXPECT_TRUE(backend_->Allocate(8).ok());
}

}  // namespace
}  // namespace theta::backends
