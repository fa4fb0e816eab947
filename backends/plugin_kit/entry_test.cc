#include "backends/plugin_kit/entry.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace {

// A struct as it would look after ABI 1.1 appended a field with default 7:
// a 1.0 caller's struct ends at `value`.
struct test_args {
  size_t struct_size;
  int32_t value;
  int32_t newer;  // ABI 1.1; default 7
};

}  // namespace

namespace theta::plugin_kit {

template <>
struct ArgsTraits<test_args> {
  static constexpr size_t kMinSize = THETA_FIELD_END(test_args, value);
  static test_args Defaults() { return test_args{sizeof(test_args), 0, 7}; }
};

namespace {

std::string Message(theta_status* s) {
  if (s == nullptr) return "";
  std::string m = s->message;
  FreeStatus(s);
  return m;
}

TEST(EntryTest, GuardTurnsExceptionsIntoStatuses) {
  theta_status* s = Guard(
      "gemm", []() -> theta_status* { throw std::runtime_error("boom"); });
  EXPECT_EQ(s->code, THETA_STATUS_INTERNAL);
  EXPECT_EQ(Message(s), "gemm: internal error: boom");
  s = Guard("copy", []() -> theta_status* { throw std::bad_alloc(); });
  EXPECT_EQ(s->code, THETA_STATUS_OUT_OF_MEMORY);
  EXPECT_EQ(Message(s), "copy: out of host memory");
  s = Guard("fill", []() -> theta_status* { throw 3; });
  EXPECT_EQ(Message(s), "fill: unknown internal error");
  EXPECT_EQ(Guard("ok", []() -> theta_status* { return nullptr; }), nullptr);
}

TEST(EntryTest, CurrentStructIsReadInPlace) {
  test_args args{sizeof(test_args), 5, 9};
  test_args local{};
  const test_args* full = nullptr;
  EXPECT_EQ(ReadArgs("k", "args", &args, &local, &full), nullptr);
  EXPECT_EQ(full, &args);
  EXPECT_EQ(full->newer, 9);
}

TEST(EntryTest, OlderStructGetsTheNewerFieldsDefaults) {
  // A 1.0 caller: its struct ends at `value`; what lies beyond is not its.
  test_args args{THETA_FIELD_END(test_args, value), 5, -1};
  test_args local{};
  const test_args* full = nullptr;
  EXPECT_EQ(ReadArgs("k", "args", &args, &local, &full), nullptr);
  EXPECT_EQ(full, &local);
  EXPECT_EQ(full->value, 5);
  EXPECT_EQ(full->newer, 7);
  EXPECT_EQ(full->struct_size, sizeof(test_args));
}

TEST(EntryTest, StructSmallerThanItsFrozenSizeIsRefused) {
  test_args args{4, 5, 9};
  test_args local{};
  const test_args* full = nullptr;
  EXPECT_EQ(Message(ReadArgs("k", "args", &args, &local, &full)),
            "k: args->struct_size is 4, expected at least 12 (its frozen "
            "size)");
  EXPECT_EQ(Message(ReadArgs<test_args>("k", "args", nullptr, &local, &full)),
            "k: args is NULL");
}

TEST(EntryTest, FrozenSizesOfTheKernelStructs) {
  // A 1.0 caller's sizeof is at least the frozen size: every field of 1.0.
  EXPECT_LE(ArgsTraits<theta_gemm_args>::kMinSize, sizeof(theta_gemm_args));
  EXPECT_EQ(ArgsTraits<theta_gemm_args>::kMinSize,
            THETA_FIELD_END(theta_gemm_args, batch));
  EXPECT_EQ(ArgsTraits<theta_rng_args>::kMinSize,
            THETA_FIELD_END(theta_rng_args, output));
}

struct FakeStream {};

TEST(EntryTest, KernelEntryChecksStreamAndArgs) {
  FakeStream stream;
  int calls = 0;
  auto body = [&](const theta_gemm_args& a) -> theta_status* {
    ++calls;
    EXPECT_EQ(a.m, 4);
    return nullptr;
  };
  theta_gemm_args g{};
  g.struct_size = THETA_GEMM_ARGS_SIZE_1_0;
  g.m = 4;
  EXPECT_EQ(KernelEntry("gemm", &stream, &g, body), nullptr);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(Message(KernelEntry<FakeStream>("gemm", nullptr, &g, body)),
            "gemm: stream is NULL");
  g.struct_size = 8;
  EXPECT_NE(Message(KernelEntry("gemm", &stream, &g, body))
                .find("gemm: args->struct_size is 8"),
            std::string::npos);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace theta::plugin_kit
