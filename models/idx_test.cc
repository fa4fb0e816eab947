#include "models/idx.h"

#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace theta::models {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An unsigned-byte IDX file of the given dimensions holding 0, 1, 2, ...
std::vector<uint8_t> IdxBytes(const std::vector<uint32_t>& dims) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  size_t count = 1;
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(d >> shift);
    count *= d;
  }
  for (size_t i = 0; i < count; ++i) bytes.push_back(i % 251);
  return bytes;
}

std::vector<uint8_t> Gzip(const std::vector<uint8_t>& data) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED,
                         16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::vector<uint8_t> out(deflateBound(&stream, data.size()) + 32);
  stream.next_in = const_cast<uint8_t*>(data.data());
  stream.avail_in = data.size();
  stream.next_out = out.data();
  stream.avail_out = out.size();
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

TEST(IdxTest, ParsesPlainData) {
  const std::vector<uint8_t> bytes = IdxBytes({2, 3});
  absl::StatusOr<IdxArray> array = ParseIdx(bytes.data(), bytes.size(), "t");
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->dims, ElementsAre(2, 3));
  EXPECT_THAT(array->data, ElementsAre(0, 1, 2, 3, 4, 5));
}

TEST(IdxTest, InflatesGzipData) {
  const std::vector<uint8_t> plain = IdxBytes({40, 28, 28});
  const std::vector<uint8_t> gz = Gzip(plain);
  ASSERT_LT(gz.size(), plain.size());
  absl::StatusOr<IdxArray> array = ParseIdx(gz.data(), gz.size(), "t");
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->dims, ElementsAre(40, 28, 28));
  EXPECT_EQ(array->data, std::vector<uint8_t>(plain.begin() + 16, plain.end()));
}

TEST(IdxTest, RejectsBadMagicNamingTheSource) {
  const std::vector<uint8_t> bytes = {'P', 'K', 3, 4, 0, 0, 0, 0};
  absl::StatusOr<IdxArray> array =
      ParseIdx(bytes.data(), bytes.size(), "labels.idx");
  EXPECT_THAT(array.status().message(), HasSubstr("labels.idx"));
  EXPECT_THAT(array.status().message(), HasSubstr("magic"));
}

TEST(IdxTest, RejectsElementTypesOtherThanBytes) {
  std::vector<uint8_t> bytes = IdxBytes({4});
  bytes[2] = 0x0d;  // float
  absl::StatusOr<IdxArray> array = ParseIdx(bytes.data(), bytes.size(), "t");
  EXPECT_THAT(array.status().message(), HasSubstr("0xd"));
}

TEST(IdxTest, RejectsTruncatedHeaderAndData) {
  std::vector<uint8_t> bytes = IdxBytes({10, 10});
  absl::StatusOr<IdxArray> header = ParseIdx(bytes.data(), 8, "t");
  EXPECT_THAT(header.status().message(), HasSubstr("truncated IDX header"));
  absl::StatusOr<IdxArray> data = ParseIdx(bytes.data(), bytes.size() - 1, "t");
  EXPECT_THAT(data.status().message(), HasSubstr("99 bytes for 100 elements"));
}

TEST(IdxTest, RejectsTruncatedAndCorruptGzip) {
  std::vector<uint8_t> gz = Gzip(IdxBytes({50, 50}));
  absl::StatusOr<IdxArray> truncated = ParseIdx(gz.data(), gz.size() / 2, "t");
  EXPECT_THAT(truncated.status().message(), HasSubstr("truncated gzip"));
  for (size_t i = 12; i < gz.size(); ++i) gz[i] ^= 0x5a;
  absl::StatusOr<IdxArray> corrupt = ParseIdx(gz.data(), gz.size(), "t");
  EXPECT_THAT(corrupt.status().message(), HasSubstr("gzip"));
}

TEST(IdxTest, ReadsFilesAndNamesMissingOnes) {
  const std::string path =
      std::string(std::getenv("TEST_TMPDIR")) + "/array.idx.gz";
  const std::vector<uint8_t> gz = Gzip(IdxBytes({3, 2}));
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(gz.data()), gz.size());
  absl::StatusOr<IdxArray> array = ReadIdxFile(path);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->dims, ElementsAre(3, 2));

  absl::StatusOr<IdxArray> missing = ReadIdxFile(path + ".missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("array.idx.gz.missing"));
}

}  // namespace
}  // namespace theta::models
