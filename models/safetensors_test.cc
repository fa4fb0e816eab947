#include "models/safetensors.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace theta::models {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// A file image: the 8-byte length of `header`, `header`, then `data`.
std::string Image(const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

std::string ErrorOf(const std::string& bytes) {
  absl::StatusOr<SafetensorsContents> c = ParseSafetensors(bytes, "f");
  return c.ok() ? "(no error)" : std::string(c.status().message());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SafetensorsTest, RoundTripOfEveryDtype) {
  const std::string path = TempDir() + "/round_trip.safetensors";
  std::vector<NamedTensor> tensors = {
      {"w", Tensor({1.5f, -2.f, 3.f, 4.25f, 5.f, 6.f}, {2, 3})},
      {"d", Tensor(std::vector<double>{0.1, 1e300})},
      {"i32", Tensor(std::vector<int32_t>{-7, 8})},
      {"i64", Tensor::Scalar<int64_t>(int64_t{1} << 40)},
      {"u8", Tensor(std::vector<uint8_t>{0, 255, 7})},
      {"b", Tensor(std::vector<bool>{true, false})},
      {"empty", Tensor(DType::kFloat32, {0, 4})},
  };
  ASSERT_TRUE(WriteSafetensors(path, tensors, {{"format", "pt"}}).ok());
  absl::StatusOr<SafetensorsContents> c = ReadSafetensors(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metadata,
            (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(c->tensors.size(), tensors.size());
  for (const NamedTensor& t : tensors) {
    const Tensor* got = c->Find(t.name);
    ASSERT_NE(got, nullptr) << t.name;
    EXPECT_EQ(got->dtype(), t.tensor.dtype()) << t.name;
    EXPECT_EQ(got->shape(), t.tensor.shape()) << t.name;
    EXPECT_EQ(
        std::memcmp(got->raw_data(), t.tensor.raw_data(), t.tensor.nbytes()), 0)
        << t.name;
  }
  // The header is padded so that the data starts 8-byte aligned.
  const std::string bytes = ReadFile(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes[8], '{');
}

TEST(SafetensorsTest, ReportsProgress) {
  const std::string path = TempDir() + "/progress.safetensors";
  Tensor big(DType::kFloat64, {1 << 20});  // 8 MB: two 4 MB chunks
  std::vector<std::pair<int64_t, int64_t>> calls;
  ASSERT_TRUE(
      WriteSafetensors(
          path, {{"big", big}}, {},
          {.progress = [&](int64_t w, int64_t t) { calls.emplace_back(w, t); }})
          .ok());
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], std::make_pair(int64_t{4 << 20}, int64_t{8 << 20}));
  EXPECT_EQ(calls[1], std::make_pair(int64_t{8 << 20}, int64_t{8 << 20}));
}

TEST(SafetensorsTest, TooShortForTheLength) {
  EXPECT_EQ(ErrorOf("abc"),
            "f: 3 bytes, too short for the 8-byte header length (not a "
            "safetensors file, or truncated)");
}

TEST(SafetensorsTest, HeaderLengthOverTheLimit) {
  std::string bytes(16, '\0');
  const uint64_t n = uint64_t{1} << 40;
  std::memcpy(bytes.data(), &n, 8);
  EXPECT_EQ(ErrorOf(bytes),
            "f: header length 1099511627776 exceeds the limit of 100000000 "
            "bytes (not a safetensors file?)");
}

TEST(SafetensorsTest, HeaderLengthPastTheEnd) {
  std::string bytes = Image("{}", "").substr(0, 9);
  EXPECT_EQ(ErrorOf(bytes),
            "f: header length 2 exceeds the 1 bytes after it (a truncated "
            "file?)");
}

TEST(SafetensorsTest, HeaderThatIsNotJson) {
  EXPECT_EQ(ErrorOf(Image("{\"a\": [1,", "")),
            "f: the header is not valid JSON (a corrupted file?)");
  EXPECT_EQ(ErrorOf(Image("[1, 2]", "")), "f: the header is not a JSON object");
}

TEST(SafetensorsTest, UnsupportedDtype) {
  EXPECT_EQ(ErrorOf(Image(R"({"h": {"dtype": "F16", "shape": [2],
                              "data_offsets": [0, 4]}})",
                          "abcd")),
            "f: tensor 'h' has dtype F16, which Theta does not support (F32, "
            "F64, I32, I64, U8, BOOL)");
}

TEST(SafetensorsTest, MissingField) {
  EXPECT_EQ(ErrorOf(Image(R"({"w": {"dtype": "F32", "shape": [1]}})", "")),
            "f: tensor 'w': no \"data_offsets\"");
}

TEST(SafetensorsTest, NegativeDimension) {
  EXPECT_EQ(ErrorOf(Image(R"({"w": {"dtype": "F32", "shape": [-1],
                              "data_offsets": [0, 4]}})",
                          "abcd")),
            "f: tensor 'w': \"shape\" [-1] holds something other than an "
            "integer >= 0");
}

TEST(SafetensorsTest, OffsetsPastTheData) {
  EXPECT_EQ(ErrorOf(Image(R"({"w": {"dtype": "F32", "shape": [2],
                              "data_offsets": [0, 8]}})",
                          "abcd")),
            "f: tensor 'w': data_offsets [0, 8] lie outside the data section "
            "of 4 bytes (a truncated or corrupted file?)");
}

TEST(SafetensorsTest, OffsetsThatDoNotMatchDtypeAndShape) {
  EXPECT_EQ(ErrorOf(Image(R"({"w": {"dtype": "F64", "shape": [1, 3],
                              "data_offsets": [0, 8]}})",
                          "abcdefgh")),
            "f: tensor 'w': data_offsets [0, 8] hold 8 bytes, but F64 [1, 3] "
            "needs 24");
}

TEST(SafetensorsTest, ShapeThatOverflows) {
  EXPECT_EQ(
      ErrorOf(Image(R"({"w": {"dtype": "F32",
                        "shape": [4294967296, 4294967296],
                        "data_offsets": [0, 0]}})",
                    "")),
      "f: tensor 'w': shape [4294967296,4294967296] overflows 64-bit sizes");
}

// A zero dimension makes the byte count 0, but the other dimensions'
// product still overflows: a status naming the tensor, not the Tensor
// constructor's exception (found by fuzz/safetensors_fuzzer.cc; the seed
// fuzz/corpus/safetensors/shape_zero_times_huge).
TEST(SafetensorsTest, EmptyShapeWhoseOtherDimensionsOverflow) {
  EXPECT_EQ(
      ErrorOf(Image(R"({"w": {"dtype": "F32",
                        "shape": [0, 4611686018427387904, 4611686018427387904],
                        "data_offsets": [0, 0]}})",
                    "")),
      "f: tensor 'w': shape (0, 4611686018427387904, 4611686018427387904) of "
      "float32 is too large: its size in bytes overflows int64");
}

TEST(SafetensorsTest, OverlappingTensors) {
  EXPECT_EQ(ErrorOf(Image(R"({"a": {"dtype": "F32", "shape": [2],
                              "data_offsets": [0, 8]},
                              "b": {"dtype": "F32", "shape": [1],
                              "data_offsets": [4, 8]}})",
                          "abcdefgh")),
            "f: tensors 'a' and 'b' overlap in the data section");
}

TEST(SafetensorsTest, BytesThatBelongToNoTensor) {
  EXPECT_EQ(ErrorOf(Image(R"({"a": {"dtype": "F32", "shape": [1],
                              "data_offsets": [4, 8]}})",
                          "abcdefgh")),
            "f: bytes [0, 4) of the data section, before tensor 'a', belong "
            "to no tensor");
  EXPECT_EQ(ErrorOf(Image(R"({"a": {"dtype": "F32", "shape": [1],
                              "data_offsets": [0, 4]}})",
                          "abcdefgh")),
            "f: the data section has 8 bytes but its tensors cover 4 "
            "(trailing bytes)");
}

TEST(SafetensorsTest, MetadataThatIsNotStrings) {
  EXPECT_EQ(ErrorOf(Image(R"({"__metadata__": {"epoch": 3}})", "")),
            "f: \"__metadata__\" entry 'epoch' is not a string");
}

TEST(SafetensorsTest, TruncatedFile) {
  const std::string path = TempDir() + "/truncated.safetensors";
  ASSERT_TRUE(
      WriteSafetensors(path, {{"w", Tensor(DType::kFloat32, {10})}}).ok());
  const std::string bytes = ReadFile(path);
  ASSERT_EQ(::truncate(path.c_str(), bytes.size() - 8), 0);
  absl::StatusOr<SafetensorsContents> c = ReadSafetensors(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            path +
                ": tensor 'w': data_offsets [0, 40] lie outside the data "
                "section of 32 bytes (a truncated or corrupted file?)");
}

TEST(SafetensorsTest, MissingFile) {
  absl::StatusOr<SafetensorsContents> c =
      ReadSafetensors(TempDir() + "/no_such.safetensors");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "cannot open checkpoint " + TempDir() +
                                      "/no_such.safetensors: No such file or "
                                      "directory");
}

TEST(SafetensorsTest, WriterRejectsBadNames) {
  const std::string path = TempDir() + "/bad.safetensors";
  Tensor t(DType::kFloat32, {1});
  EXPECT_EQ(WriteSafetensors(path, {{"a", t}, {"a", t}}).message(),
            "write " + path + ": two tensors are named 'a'");
  EXPECT_EQ(WriteSafetensors(path, {{"__metadata__", t}}).message(),
            "write " + path + ": a tensor may not be named '__metadata__'");
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(SafetensorsTest, DirectoryThatDoesNotExist) {
  const std::string path = TempDir() + "/no_dir/x.safetensors";
  EXPECT_EQ(
      WriteSafetensors(path, {{"a", Tensor(DType::kFloat32, {1})}}).message(),
      "cannot write checkpoint " + path + ": cannot create a file in " +
          TempDir() +
          "/no_dir: No such file or directory (the previous "
          "checkpoint, if any, is unchanged)");
}

// A failed rename (the target is a non-empty directory) leaves no
// temporary file behind.
TEST(SafetensorsTest, FailedRenameRemovesTheTemporaryFile) {
  const std::string dir = TempDir() + "/rename_fails";
  const std::string path = dir + "/ckpt";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((path + "/inside").c_str(), 0755), 0);
  absl::Status s =
      WriteSafetensors(path, {{"a", Tensor(DType::kFloat32, {1})}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot write checkpoint " + path + ": rename " +
                             path + ".tmp-"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("Is a directory (the previous checkpoint, if "
                             "any, is unchanged)"),
            std::string::npos)
      << s.message();
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    entries.push_back(e.path().filename().string());
  }
  EXPECT_EQ(entries, std::vector<std::string>{"ckpt"});
}

}  // namespace
}  // namespace theta::models
