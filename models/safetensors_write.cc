// WriteSafetensors (declared in safetensors.h): the header, then the data,
// into a temporary file that is fsynced and renamed over the target.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "models/safetensors.h"
#include "nlohmann/json.hpp"

namespace theta::models {
namespace {

constexpr int64_t kChunk = 4 << 20;

std::string Errno() { return std::strerror(errno); }

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status CheckTensors(const std::string& path,
                          const std::vector<NamedTensor>& tensors) {
  std::set<std::string> names;
  for (const NamedTensor& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__") {
      return absl::InvalidArgumentError(absl::StrCat(
          "write ", path, ": a tensor may not be named '", t.name, "'"));
    }
    if (!names.insert(t.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "write ", path, ": two tensors are named '", t.name, "'"));
    }
    if (!t.tensor.defined()) {
      return absl::InvalidArgumentError(
          absl::StrCat("write ", path, ": tensor '", t.name, "' is undefined"));
    }
  }
  return absl::OkStatus();
}

// The 8-byte length and the JSON header, padded with spaces to a multiple
// of 8 bytes (as the Python package does) so that the data is aligned.
std::string EncodeHeader(const std::vector<NamedTensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    json["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  for (const NamedTensor& t : tensors) {
    const uint64_t end = offset + t.tensor.nbytes();
    json[t.name] = {{"dtype", SafetensorsDType(t.tensor.dtype())},
                    {"shape", t.tensor.shape()},
                    {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text = json.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');
  const uint64_t n = text.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + text;
}

absl::Status WriteAll(int fd, const char* data, size_t size,
                      const std::string& tmp) {
  while (size > 0) {
    const ssize_t w = ::write(fd, data, size);
    if (w < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("write ", tmp, ": ", Errno()));
    }
    data += w;
    size -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status WriteContents(int fd, const std::string& tmp,
                           const std::string& header,
                           const std::vector<NamedTensor>& tensors,
                           const SafetensorsWriteOptions& options) {
  absl::Status s = WriteAll(fd, header.data(), header.size(), tmp);
  if (!s.ok()) return s;
  int64_t total = 0;
  for (const NamedTensor& t : tensors) total += t.tensor.nbytes();
  int64_t written = 0;
  for (const NamedTensor& t : tensors) {
    const char* data = static_cast<const char*>(t.tensor.raw_data());
    const int64_t size = t.tensor.nbytes();
    for (int64_t at = 0; at < size; at += kChunk) {
      const int64_t n = std::min(kChunk, size - at);
      s = WriteAll(fd, data + at, n, tmp);
      if (!s.ok()) return s;
      written += n;
      if (options.progress) options.progress(written, total);
    }
  }
  if (::fsync(fd) != 0) {
    return absl::InternalError(absl::StrCat("fsync ", tmp, ": ", Errno()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteSafetensors(
    const std::string& path, const std::vector<NamedTensor>& tensors,
    const std::map<std::string, std::string>& metadata,
    const SafetensorsWriteOptions& options) {
  absl::Status s = CheckTensors(path, tensors);
  if (!s.ok()) return s;
  const std::string header = EncodeHeader(tensors, metadata);
  const std::string dir = DirectoryOf(path);
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot write checkpoint ", path, ": cannot create a file in ", dir,
        ": ", Errno(), " (the previous checkpoint, if any, is unchanged)"));
  }
  ::fchmod(fd, 0644);
  s = WriteContents(fd, tmp, header, tensors, options);
  if (::close(fd) != 0 && s.ok()) {
    s = absl::InternalError(absl::StrCat("close ", tmp, ": ", Errno()));
  }
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = absl::InternalError(
        absl::StrCat("rename ", tmp, " to ", path, ": ", Errno()));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return absl::Status(
        s.code(),
        absl::StrCat("cannot write checkpoint ", path, ": ", s.message(),
                     " (the previous checkpoint, if any, is "
                     "unchanged)"));
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    const std::string reason = Errno();
    if (dir_fd >= 0) ::close(dir_fd);
    return absl::InternalError(absl::StrCat(
        "checkpoint ", path, " written, but fsync of its directory ", dir,
        " failed: ", reason, " (a crash now may lose the rename)"));
  }
  ::close(dir_fd);
  return absl::OkStatus();
}

}  // namespace theta::models
