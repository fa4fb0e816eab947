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

std::string WriteTemporary(const std::string& name,
                           const std::vector<uint8_t>& bytes) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

// `plain` with `extra` zero bytes appended, gzip-compressed; with
// `break_checksum`, the CRC-32 in the gzip trailer is wrong, so inflating
// the stream to its end fails.
std::vector<uint8_t> GzipWithTail(std::vector<uint8_t> plain, size_t extra,
                                  bool break_checksum) {
  plain.resize(plain.size() + extra, 0);
  std::vector<uint8_t> gz = Gzip(plain);
  if (break_checksum) gz[gz.size() - 8] ^= 0xff;
  return gz;
}

TEST(IdxTest, RejectsDimensionsWhoseElementCountOverflows) {
  // 20 bytes: magic, four dimensions of 65536 (2^64 elements), no data.
  const std::vector<uint8_t> bytes = {0, 0, 8, 4, 0, 1, 0, 0, 0, 1,
                                      0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
  const std::string path = WriteTemporary("overflow.idx", bytes);
  absl::StatusOr<IdxArray> array = ReadIdxFile(path);
  EXPECT_EQ(array.status().message(),
            path +
                ": IDX dimensions (65536, 65536, 65536, 65536) declare "
                "more elements than fit in int64");
  // 2^48 elements fit in int64 but not in the file.
  const std::vector<uint8_t> fits(bytes.begin(), bytes.begin() + 16);
  std::vector<uint8_t> three = fits;
  three[3] = 3;
  EXPECT_THAT(ParseIdx(three.data(), three.size(), "t").status().message(),
              HasSubstr("truncated IDX data: 0 bytes for 281474976710656 "
                        "elements"));
}

TEST(IdxTest, RejectsDataLongerThanItsHeaderDeclares) {
  std::vector<uint8_t> plain = IdxBytes({2, 3});
  plain.push_back(7);
  EXPECT_EQ(ParseIdx(plain.data(), plain.size(), "t.idx").status().message(),
            "t.idx: IDX data longer than its header declares: 7 bytes for 6 "
            "elements of shape (2, 3)");
  const std::vector<uint8_t> gz = GzipWithTail(IdxBytes({2, 3}), 1 << 20,
                                               /*break_checksum=*/false);
  EXPECT_EQ(ParseIdx(gz.data(), gz.size(), "t.idx.gz").status().message(),
            "t.idx.gz: IDX data longer than its header declares: more than 6 "
            "bytes for 6 elements of shape (2, 3)");
}

TEST(IdxTest, GzipInflationIsBoundedByTheHeader) {
  // A small stand-in for a gzip bomb: a megabyte of zeros behind a header
  // that declares six bytes, and a broken checksum at the end of the stream.
  // Inflating everything would end at the checksum; bounded inflation stops
  // one byte after the declared data and never reaches it.
  const std::vector<uint8_t> gz = GzipWithTail(IdxBytes({2, 3}), 1 << 20,
                                               /*break_checksum=*/true);
  EXPECT_THAT(ParseIdx(gz.data(), gz.size(), "t.idx.gz").status().message(),
              HasSubstr("t.idx.gz: IDX data longer than its header declares"));
  // Data of the declared size is inflated to the end of the stream, so its
  // checksum is still checked.
  const std::vector<uint8_t> exact =
      GzipWithTail(IdxBytes({10, 10}), 0, /*break_checksum=*/true);
  EXPECT_THAT(ParseIdx(exact.data(), exact.size(), "t").status().message(),
              HasSubstr("corrupt gzip data"));
  // Shorter data names both sizes.
  std::vector<uint8_t> short_data = IdxBytes({10, 10});
  short_data.pop_back();
  const std::vector<uint8_t> short_gz = Gzip(short_data);
  EXPECT_THAT(
      ParseIdx(short_gz.data(), short_gz.size(), "t").status().message(),
      HasSubstr("t: truncated IDX data: 99 bytes for 100 elements"));
}

TEST(IdxTest, GzipWithBadMagicIsRejectedBeforeItsDataIsInflated) {
  const std::vector<uint8_t> gz =
      GzipWithTail({'P', 'K', 3, 4}, 1 << 20, /*break_checksum=*/true);
  const std::string path = WriteTemporary("bomb.idx.gz", gz);
  EXPECT_EQ(ReadIdxFile(path).status().message(),
            path +
                ": not an IDX file (bad magic number in the inflated gzip "
                "data)");
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
