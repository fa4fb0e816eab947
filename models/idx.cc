#include "models/idx.h"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <span>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "graph/dims.h"

namespace theta::models {
namespace {

// What the header of an IDX file declares.
struct IdxHeader {
  std::vector<int64_t> dims;
  size_t header_bytes = 0;  // 4 + 4 * rank
  size_t count = 0;         // elements (bytes) of data that follow
};

// Checks the magic number, element type and dimensions at the start of
// `bytes` (`container` is added to a bad magic number's message) and fills
// `header`; the dimensions must describe fewer than 2^63 elements.
absl::Status ParseHeader(const uint8_t* bytes, size_t size,
                         const std::string& source, const char* container,
                         IdxHeader& header) {
  if (size < 4 || bytes[0] != 0 || bytes[1] != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": not an IDX file (bad magic number", container, ")"));
  }
  if (bytes[2] != 0x08) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": IDX element type 0x", absl::Hex(bytes[2]),
                     " is not unsigned byte (0x08)"));
  }
  const int rank = bytes[3];
  const size_t header_bytes = 4 + 4 * static_cast<size_t>(rank);
  if (rank < 1 || size < header_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": truncated IDX header (rank ", rank, ")"));
  }
  header.dims.clear();
  for (int d = 0; d < rank; ++d) {
    const uint8_t* p = bytes + 4 + 4 * d;
    header.dims.push_back((int64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) |
                          p[3]);
  }
  // The same overflow check as every other shape in Theta.
  if (!CheckedShapeBytes(header.dims, 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": IDX dimensions (", absl::StrJoin(header.dims, ", "),
        ") declare more elements than fit in int64"));
  }
  int64_t count = 1;
  for (int64_t n : header.dims) count *= n;
  header.header_bytes = header_bytes;
  header.count = static_cast<size_t>(count);
  return absl::OkStatus();
}

absl::Status CheckDataSize(const IdxHeader& header, size_t data_bytes,
                           bool at_least, const std::string& source) {
  if (data_bytes < header.count) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": truncated IDX data: ", data_bytes,
                     " bytes for ", header.count, " elements"));
  }
  if (data_bytes > header.count) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": IDX data longer than its header declares: ",
        at_least ? "more than " : "", at_least ? header.count : data_bytes,
        " bytes for ", header.count, " elements of shape (",
        absl::StrJoin(header.dims, ", "), ")"));
  }
  return absl::OkStatus();
}

// Inflates a gzip stream on demand, so that a header can be checked before
// the data behind it is inflated and the data bounded by what it declares.
class GzipReader {
 public:
  GzipReader(const uint8_t* bytes, size_t size, const std::string& source)
      : source_(source) {
    stream_.next_in = const_cast<uint8_t*>(bytes);
    stream_.avail_in = static_cast<uInt>(size);
  }
  ~GzipReader() {
    if (started_) inflateEnd(&stream_);
  }
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  // Inflates until out().size() >= `bytes` or the stream ends; never makes
  // out() longer than `bytes`. An error names the source.
  absl::Status InflateTo(size_t bytes) {
    if (!started_) {
      // 16 + MAX_WBITS: expect a gzip header.
      if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) {
        return absl::InternalError(
            absl::StrCat(source_, ": cannot start zlib"));
      }
      started_ = true;
    }
    uint8_t chunk[1 << 16];
    while (!ended_ && out_.size() < bytes) {
      const size_t want = std::min(sizeof(chunk), bytes - out_.size());
      stream_.next_out = chunk;
      stream_.avail_out = static_cast<uInt>(want);
      const int status = inflate(&stream_, Z_NO_FLUSH);
      if (status != Z_OK && status != Z_STREAM_END) {
        return absl::InvalidArgumentError(
            absl::StrCat(source_, ": corrupt gzip data (zlib: ",
                         stream_.msg != nullptr ? stream_.msg : "error", ")"));
      }
      out_.insert(out_.end(), chunk, chunk + (want - stream_.avail_out));
      ended_ = status == Z_STREAM_END;
      if (!ended_ && stream_.avail_in == 0 && stream_.avail_out != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(source_, ": truncated gzip data"));
      }
    }
    return absl::OkStatus();
  }
  bool ended() const { return ended_; }
  std::vector<uint8_t>& out() { return out_; }

 private:
  const std::string& source_;
  z_stream stream_{};
  bool started_ = false;
  bool ended_ = false;
  std::vector<uint8_t> out_;
};

absl::StatusOr<IdxArray> ParseGzipIdx(const uint8_t* bytes, size_t size,
                                      const std::string& source) {
  constexpr char kContainer[] = " in the inflated gzip data";
  GzipReader reader(bytes, size, source);
  // The magic number and rank first, then the dimensions they announce
  // (at most 4 + 4 * 255 bytes), then the header is checked: a file that is
  // not IDX is rejected before its data is inflated.
  THETA_RETURN_IF_ERROR(reader.InflateTo(4));
  if (reader.out().size() == 4) {
    THETA_RETURN_IF_ERROR(reader.InflateTo(4 + 4 * size_t{reader.out()[3]}));
  }
  IdxHeader header;
  absl::Status s = ParseHeader(reader.out().data(), reader.out().size(), source,
                               kContainer, header);
  if (!s.ok()) return s;
  // At most one byte beyond what the header declares: enough to tell that
  // the data is longer, never more than the header implies.
  if (s = reader.InflateTo(header.header_bytes + header.count + 1); !s.ok()) {
    return s;
  }
  const size_t data_bytes = reader.out().size() - header.header_bytes;
  if (s = CheckDataSize(header, data_bytes, /*at_least=*/!reader.ended(),
                        source);
      !s.ok()) {
    return s;
  }
  IdxArray array;
  array.dims = std::move(header.dims);
  std::vector<uint8_t>& out = reader.out();
  out.erase(out.begin(), out.begin() + header.header_bytes);
  array.data = std::move(out);
  return array;
}

}  // namespace

absl::StatusOr<IdxArray> ParseIdx(const uint8_t* bytes, size_t size,
                                  const std::string& source) {
  if (size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    return ParseGzipIdx(bytes, size, source);
  }
  IdxHeader header;
  THETA_RETURN_IF_ERROR(ParseHeader(bytes, size, source, "", header));
  const size_t data_bytes = size - header.header_bytes;
  if (absl::Status s =
          CheckDataSize(header, data_bytes, /*at_least=*/false, source);
      !s.ok()) {
    return s;
  }
  IdxArray array;
  array.dims = std::move(header.dims);
  array.data.assign(bytes + header.header_bytes,
                    bytes + header.header_bytes + header.count);
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
