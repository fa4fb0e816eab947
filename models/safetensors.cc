#include "models/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "graph/dims.h"
#include "graph/type.h"
#include "nlohmann/json.hpp"

namespace theta::models {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this reader copies bytes");

using Json = nlohmann::json;

// One tensor's header entry.
struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct Header {
  std::vector<Entry> entries;  // sorted by begin
  std::map<std::string, std::string> metadata;
};

constexpr struct {
  const char* name;
  DType dtype;
} kDTypes[] = {
    {"F32", DType::kFloat32}, {"F64", DType::kFloat64}, {"I32", DType::kInt32},
    {"I64", DType::kInt64},   {"U8", DType::kUInt8},    {"BOOL", DType::kBool},
};

std::string Errno() { return std::strerror(errno); }

std::string ShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::Status Invalid(absl::string_view source, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", what));
}

absl::Status ParseDTypeOf(const std::string& name, const Json& value,
                          absl::string_view source, DType* dtype) {
  if (!value.is_string()) {
    return Invalid(
        source, absl::StrCat("tensor '", name, "': \"dtype\" is not a string"));
  }
  const std::string text = value.get<std::string>();
  for (const auto& d : kDTypes) {
    if (text == d.name) {
      *dtype = d.dtype;
      return absl::OkStatus();
    }
  }
  return Invalid(source,
                 absl::StrCat("tensor '", name, "' has dtype ", text,
                              ", which Theta does not support (F32, F64, "
                              "I32, I64, U8, BOOL)"));
}

// Reads the unsigned integers of a JSON array (shape or data_offsets).
absl::Status ParseUints(const std::string& name, const char* field,
                        const Json& value, absl::string_view source,
                        std::vector<uint64_t>* out) {
  if (!value.is_array()) {
    return Invalid(source, absl::StrCat("tensor '", name, "': \"", field,
                                        "\" is not an array"));
  }
  for (const Json& v : value) {
    if (!v.is_number_unsigned()) {
      return Invalid(
          source,
          absl::StrCat("tensor '", name, "': \"", field, "\" ", value.dump(),
                       " holds something other than an integer "
                       ">= 0"));
    }
    out->push_back(v.get<uint64_t>());
  }
  return absl::OkStatus();
}

absl::Status ParseEntry(const std::string& name, const Json& value,
                        uint64_t data_size, absl::string_view source,
                        Entry* entry) {
  entry->name = name;
  if (!value.is_object()) {
    return Invalid(source, absl::StrCat("tensor '", name,
                                        "': its entry is not a JSON object"));
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!value.contains(field)) {
      return Invalid(source,
                     absl::StrCat("tensor '", name, "': no \"", field, "\""));
    }
  }
  THETA_RETURN_IF_ERROR(
      ParseDTypeOf(name, value["dtype"], source, &entry->dtype));
  std::vector<uint64_t> shape, offsets;
  THETA_RETURN_IF_ERROR(
      ParseUints(name, "shape", value["shape"], source, &shape));
  THETA_RETURN_IF_ERROR(ParseUints(name, "data_offsets", value["data_offsets"],
                                   source, &offsets));
  if (shape.size() > static_cast<size_t>(kMaxDims)) {
    return Invalid(source,
                   absl::StrCat("tensor '", name, "' has rank ", shape.size(),
                                "; Theta allows ", kMaxDims));
  }
  if (offsets.size() != 2) {
    return Invalid(source,
                   absl::StrCat("tensor '", name, "': \"data_offsets\" has ",
                                offsets.size(), " entries, not [begin, end]"));
  }
  uint64_t bytes = DTypeSize(entry->dtype);
  for (uint64_t d : shape) {
    if (d > static_cast<uint64_t>(INT64_MAX) ||
        __builtin_mul_overflow(bytes, d, &bytes) || bytes > INT64_MAX) {
      return Invalid(source, absl::StrCat("tensor '", name, "': shape ",
                                          value["shape"].dump(),
                                          " overflows 64-bit sizes"));
    }
    entry->shape.push_back(static_cast<int64_t>(d));
  }
  // A zero dimension makes the byte count 0 above, but Theta's tensors also
  // bound every partial product of the shape (a 0 x 2^62 x 2^62 tensor
  // cannot be built): reject such a shape here, by name, rather than let
  // the Tensor constructor throw.
  if (absl::Status fits = CheckShapeFits(entry->shape, entry->dtype);
      !fits.ok()) {
    return Invalid(source,
                   absl::StrCat("tensor '", name, "': ", fits.message()));
  }
  entry->begin = offsets[0];
  entry->end = offsets[1];
  if (entry->begin > entry->end || entry->end > data_size) {
    return Invalid(
        source,
        absl::StrCat("tensor '", name, "': data_offsets [", entry->begin, ", ",
                     entry->end, "] lie outside the data section of ",
                     data_size, " bytes (a truncated or corrupted file?)"));
  }
  if (entry->end - entry->begin != bytes) {
    return Invalid(
        source,
        absl::StrCat("tensor '", name, "': data_offsets [", entry->begin, ", ",
                     entry->end, "] hold ", entry->end - entry->begin,
                     " bytes, but ", value["dtype"].get<std::string>(), " ",
                     ShapeText(entry->shape), " needs ", bytes));
  }
  return absl::OkStatus();
}

absl::Status ParseMetadata(const Json& value, absl::string_view source,
                           std::map<std::string, std::string>* metadata) {
  if (!value.is_object()) {
    return Invalid(source, "\"__metadata__\" is not a JSON object");
  }
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      return Invalid(source, absl::StrCat("\"__metadata__\" entry '", key,
                                          "' is not a string"));
    }
    (*metadata)[key] = v.get<std::string>();
  }
  return absl::OkStatus();
}

// Entries sorted by offset must tile the data section exactly.
absl::Status CheckLayout(std::vector<Entry>& entries, uint64_t data_size,
                         absl::string_view source) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t at = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.begin < at) {
      return Invalid(source,
                     absl::StrCat("tensors '", entries[i - 1].name, "' and '",
                                  e.name, "' overlap in the data section"));
    }
    if (e.begin > at) {
      return Invalid(
          source, absl::StrCat("bytes [", at, ", ", e.begin,
                               ") of the data section, before tensor '", e.name,
                               "', belong to no tensor"));
    }
    at = e.end;
  }
  if (at != data_size) {
    return Invalid(source, absl::StrCat("the data section has ", data_size,
                                        " bytes but its tensors cover ", at,
                                        " (trailing bytes)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Header> ParseHeader(absl::string_view text, uint64_t data_size,
                                   absl::string_view source) {
  Json json = Json::parse(text.begin(), text.end(), nullptr,
                          /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return Invalid(source, "the header is not valid JSON (a corrupted file?)");
  }
  if (!json.is_object()) {
    return Invalid(source, "the header is not a JSON object");
  }
  Header header;
  for (const auto& [key, value] : json.items()) {
    if (key == "__metadata__") {
      THETA_RETURN_IF_ERROR(ParseMetadata(value, source, &header.metadata));
      continue;
    }
    Entry entry;
    THETA_RETURN_IF_ERROR(ParseEntry(key, value, data_size, source, &entry));
    header.entries.push_back(std::move(entry));
  }
  THETA_RETURN_IF_ERROR(CheckLayout(header.entries, data_size, source));
  return header;
}

// Checks the 8-byte header length against the bytes that follow it.
absl::StatusOr<uint64_t> CheckHeaderLength(absl::string_view prefix,
                                           uint64_t file_size,
                                           absl::string_view source) {
  if (file_size < 8) {
    return Invalid(source, absl::StrCat(file_size,
                                        " bytes, too short for the 8-byte "
                                        "header length (not a safetensors "
                                        "file, or truncated)"));
  }
  uint64_t n = 0;
  std::memcpy(&n, prefix.data(), 8);
  if (n > kMaxSafetensorsHeader) {
    return Invalid(source,
                   absl::StrCat("header length ", n, " exceeds the limit of ",
                                kMaxSafetensorsHeader,
                                " bytes (not a safetensors file?)"));
  }
  if (n > file_size - 8) {
    return Invalid(source, absl::StrCat("header length ", n, " exceeds the ",
                                        file_size - 8,
                                        " bytes after it (a truncated file?)"));
  }
  if (n < 2) {
    return Invalid(source, absl::StrCat("header length ", n,
                                        " is too short for a JSON object"));
  }
  return n;
}

}  // namespace

const Tensor* SafetensorsContents::Find(absl::string_view name) const {
  for (const NamedTensor& t : tensors) {
    if (t.name == name) return &t.tensor;
  }
  return nullptr;
}

const char* SafetensorsDType(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

absl::StatusOr<SafetensorsContents> ParseSafetensors(absl::string_view bytes,
                                                     absl::string_view source) {
  THETA_ASSIGN_OR_RETURN(const uint64_t n,
                         CheckHeaderLength(bytes, bytes.size(), source));
  const uint64_t data_start = 8 + n;
  THETA_ASSIGN_OR_RETURN(
      Header header,
      ParseHeader(bytes.substr(8, n), bytes.size() - data_start, source));
  SafetensorsContents out;
  out.metadata = std::move(header.metadata);
  for (const Entry& e : header.entries) {
    Tensor t(e.dtype, std::span<const int64_t>(e.shape));
    if (e.end > e.begin) {
      std::memcpy(t.raw_data(), bytes.data() + data_start + e.begin,
                  e.end - e.begin);
    }
    out.tensors.push_back({e.name, std::move(t)});
  }
  return out;
}

absl::StatusOr<SafetensorsContents> ReadSafetensors(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot open checkpoint ", path, ": ", Errno()));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::InternalError(absl::StrCat("fstat ", path, ": ", Errno()));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto read_at = [&](void* dst, uint64_t count, uint64_t offset) {
    char* p = static_cast<char*>(dst);
    while (count > 0) {
      const ssize_t r = ::pread(fd, p, count, static_cast<off_t>(offset));
      if (r <= 0) {
        return absl::DataLossError(
            absl::StrCat("read ", path, " at byte ", offset, ": ",
                         r == 0 ? "unexpected end of file" : Errno()));
      }
      p += r;
      count -= r;
      offset += r;
    }
    return absl::OkStatus();
  };
  char prefix[8] = {};
  if (size >= 8) THETA_RETURN_IF_ERROR(read_at(prefix, 8, 0));
  THETA_ASSIGN_OR_RETURN(
      const uint64_t n,
      CheckHeaderLength(absl::string_view(prefix, 8), size, path));
  std::string text(n, '\0');
  THETA_RETURN_IF_ERROR(read_at(text.data(), n, 8));
  THETA_ASSIGN_OR_RETURN(Header header, ParseHeader(text, size - 8 - n, path));
  SafetensorsContents out;
  out.metadata = std::move(header.metadata);
  for (const Entry& e : header.entries) {
    Tensor t(e.dtype, std::span<const int64_t>(e.shape));
    THETA_RETURN_IF_ERROR(
        read_at(t.raw_data(), e.end - e.begin, 8 + n + e.begin));
    out.tensors.push_back({e.name, std::move(t)});
  }
  return out;
}

}  // namespace theta::models
