#include "backends/plugin_kit/arrays.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "backends/plugin_kit/status.h"

namespace theta::plugin_kit {
namespace {

// The message of a status (freed), or "" for success.
std::string Message(theta_status* s) {
  if (s == nullptr) return "";
  std::string m = s->message;
  FreeStatus(s);
  return m;
}

float data[64];

theta_array Array(int ndim, const int64_t* shape, const int64_t* strides) {
  return theta_array{data, THETA_DTYPE_F32, ndim, shape, strides};
}

TEST(ArraysTest, AcceptsAValidArray) {
  const int64_t shape[] = {2, 3}, strides[] = {3, 1};
  EXPECT_EQ(Message(CheckArray("f", "input", Array(2, shape, strides))), "");
  EXPECT_EQ(NumElements(Array(2, shape, strides)), 6);
  EXPECT_EQ(MaxAbsOffset(Array(2, shape, strides)), 5);
}

TEST(ArraysTest, RejectsBadDtypeRankAndShape) {
  const int64_t shape[] = {2, -1}, strides[] = {1, 1};
  theta_array a = Array(2, shape, strides);
  EXPECT_EQ(Message(CheckArray("f", "x", a)),
            "f: x.shape[1] is -1 (must be >= 0)");
  a.ndim = THETA_MAX_DIMS + 1;
  EXPECT_EQ(Message(CheckArray("f", "x", a)),
            "f: x has ndim 9 (must be in [0, 8])");
  const int bad_dtype = 17;
  std::memcpy(&a.dtype, &bad_dtype, sizeof(bad_dtype));
  EXPECT_EQ(Message(CheckArray("f", "x", a)), "f: x has invalid dtype 17");
}

TEST(ArraysTest, NegativeStridesOnlyWhereAllowed) {
  const int64_t shape[] = {4}, strides[] = {-1};
  theta_array a = Array(1, shape, strides);
  a.data = data + 3;
  EXPECT_NE(Message(CheckArray("copy", "destination", a))
                .find("negative strides are allowed only"),
            std::string::npos);
  EXPECT_EQ(
      Message(CheckArray("copy", "source", a, StrideSign::kAnyForReadOnly)),
      "");
  EXPECT_EQ(MaxAbsOffset(a), 3);
}

TEST(ArraysTest, RejectsUnaddressableExtentAndMissingData) {
  const int64_t shape[] = {INT64_MAX / 2, 4}, strides[] = {4, 1};
  EXPECT_NE(Message(CheckArray("f", "x", Array(2, shape, strides)))
                .find("too large to address"),
            std::string::npos);
  const int64_t small[] = {2}, unit[] = {1};
  theta_array a = Array(1, small, unit);
  a.data = nullptr;
  EXPECT_EQ(Message(CheckArray("f", "x", a)),
            "f: x data is NULL but it has 2 elements");
  const int64_t empty[] = {0};
  a.shape = empty;
  EXPECT_EQ(Message(CheckArray("f", "x", a)), "");  // no elements, no data
}

TEST(ArraysTest, WritableOutputsDoNotBroadcast) {
  const int64_t shape[] = {3, 1}, strides[] = {0, 0};
  EXPECT_NE(Message(CheckWritable("f", "output", Array(2, shape, strides)))
                .find("an output must not broadcast"),
            std::string::npos);
  const int64_t one[] = {1, 1};
  EXPECT_EQ(Message(CheckWritable("f", "output", Array(2, one, strides))), "");
}

TEST(ArraysTest, DtypeSizesAndShapeString) {
  EXPECT_EQ(DtypeSize(THETA_DTYPE_F64), 8u);
  EXPECT_EQ(DtypeSize(THETA_DTYPE_BOOL), 1u);
  EXPECT_EQ(DtypeSize(42), 0u);
  EXPECT_FALSE(IsValidDtype(-1));
  const int64_t shape[] = {2, 3};
  EXPECT_EQ(ShapeString(2, shape), "(2, 3)");
  EXPECT_EQ(ShapeString(0, nullptr), "()");
}

}  // namespace
}  // namespace theta::plugin_kit
