#include "models/idx.h"

#include <zlib.h>

#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace theta::models {
namespace {

absl::StatusOr<std::vector<uint8_t>> Inflate(const uint8_t* bytes, size_t size,
                                             const std::string& source) {
  z_stream stream{};
  // 16 + MAX_WBITS: expect a gzip header.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError(absl::StrCat(source, ": cannot start zlib"));
  }
  std::vector<uint8_t> out;
  stream.next_in = const_cast<uint8_t*>(bytes);
  stream.avail_in = static_cast<uInt>(size);
  uint8_t chunk[1 << 16];
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    stream.next_out = chunk;
    stream.avail_out = sizeof(chunk);
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      inflateEnd(&stream);
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": corrupt gzip data (zlib: ",
                       stream.msg != nullptr ? stream.msg : "error", ")"));
    }
    out.insert(out.end(), chunk, chunk + (sizeof(chunk) - stream.avail_out));
    if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
      inflateEnd(&stream);
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": truncated gzip data"));
    }
  }
  inflateEnd(&stream);
  return out;
}

}  // namespace

absl::StatusOr<IdxArray> ParseIdx(const uint8_t* bytes, size_t size,
                                  const std::string& source) {
  std::vector<uint8_t> inflated;
  if (size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    absl::StatusOr<std::vector<uint8_t>> data = Inflate(bytes, size, source);
    if (!data.ok()) return data.status();
    inflated = *std::move(data);
    bytes = inflated.data();
    size = inflated.size();
  }
  if (size < 4 || bytes[0] != 0 || bytes[1] != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not an IDX file (bad magic number)"));
  }
  if (bytes[2] != 0x08) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": IDX element type 0x", absl::Hex(bytes[2]),
                     " is not unsigned byte (0x08)"));
  }
  const int rank = bytes[3];
  if (rank < 1 || size < 4 + 4 * static_cast<size_t>(rank)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": truncated IDX header (rank ", rank, ")"));
  }
  IdxArray array;
  size_t count = 1;
  for (int d = 0; d < rank; ++d) {
    const uint8_t* p = bytes + 4 + 4 * d;
    const int64_t n = (int64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    array.dims.push_back(n);
    count *= static_cast<size_t>(n);
  }
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (size - header < count) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": truncated IDX data: ", size - header,
                     " bytes for ", count, " elements"));
  }
  array.data.assign(bytes + header, bytes + header + count);
  return array;
}

absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  return ParseIdx(bytes.data(), bytes.size(), path);
}

}  // namespace theta::models
