#include "graph/text.h"

#include "graph/dtype.h"
#include "gtest/gtest.h"

namespace theta {
namespace {

TEST(TextTest, CountPicksSingularOrPlural) {
  EXPECT_EQ(Count(1, "entry", "entries"), "1 entry");
  EXPECT_EQ(Count(0, "entry", "entries"), "0 entries");
  EXPECT_EQ(Count(2, "entry", "entries"), "2 entries");
  EXPECT_EQ(Count(1, "row"), "1 row");
  EXPECT_EQ(Count(3, "row"), "3 rows");
  EXPECT_EQ(Count(-1, "step"), "-1 step");
}

TEST(TextTest, ArticleOfDTypeNames) {
  EXPECT_STREQ(Article(DTypeName(DType::kInt32)), "an");
  EXPECT_STREQ(Article(DTypeName(DType::kInt64)), "an");
  EXPECT_STREQ(Article(DTypeName(DType::kFloat32)), "a");
  EXPECT_STREQ(Article(DTypeName(DType::kFloat64)), "a");
  EXPECT_STREQ(Article(DTypeName(DType::kUInt8)), "a");
  EXPECT_STREQ(Article(DTypeName(DType::kBool)), "a");
  EXPECT_STREQ(Article("element"), "an");
  EXPECT_STREQ(Article(""), "a");
}

}  // namespace
}  // namespace theta
