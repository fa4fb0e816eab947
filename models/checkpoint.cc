#include "models/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace theta::models {
namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::Status CheckNames(const std::string& path,
                        const std::vector<SharedVar>& vars) {
  std::set<std::string> names;
  for (size_t i = 0; i < vars.size(); ++i) {
    const SharedVar& v = vars[i];
    if (!v.defined() || v->kind() != VarKind::kShared) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint ", path, ": variable ", i,
          v.defined() ? absl::StrCat(" ('", v->DisplayName(), "')") : "",
          " is not a shared variable"));
    }
    if (v.name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint ", path, ": shared variable ", i,
                       " has no name; checkpoints store values by name"));
    }
    if (!names.insert(v.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint ", path, ": two variables are named '", v.name(), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& path,
                            const std::vector<SharedVar>& vars,
                            const std::map<std::string, std::string>& metadata,
                            const SafetensorsWriteOptions& options) {
  absl::Status s = CheckNames(path, vars);
  if (!s.ok()) return s;
  std::vector<NamedTensor> tensors;
  tensors.reserve(vars.size());
  for (const SharedVar& v : vars) tensors.push_back({v.name(), v.get_value()});
  return WriteSafetensors(path, tensors, metadata, options);
}

absl::Status LoadCheckpoint(const std::string& path,
                            const std::vector<SharedVar>& vars,
                            std::map<std::string, std::string>* metadata) {
  absl::Status s = CheckNames(path, vars);
  if (!s.ok()) return s;
  absl::StatusOr<SafetensorsContents> contents = ReadSafetensors(path);
  if (!contents.ok()) return contents.status();
  std::vector<const Tensor*> found(vars.size());
  std::set<std::string> wanted;
  for (size_t i = 0; i < vars.size(); ++i) {
    const SharedVar& v = vars[i];
    wanted.insert(v.name());
    found[i] = contents->Find(v.name());
    if (found[i] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint ", path, " has no tensor '", v.name(),
          "', which the model has (a checkpoint of another architecture?)"));
    }
    const std::vector<int64_t> shape = v.value_shape().ToVector();
    if (found[i]->dtype() != v.dtype() || found[i]->shape() != shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint ", path, ": tensor '", v.name(), "' is ",
          SafetensorsDType(found[i]->dtype()), " ",
          ShapeText(found[i]->shape()), " in the file but ",
          SafetensorsDType(v.dtype()), " ", ShapeText(shape),
          " in the model (a checkpoint of another architecture?)"));
    }
  }
  for (const NamedTensor& t : contents->tensors) {
    if (!wanted.contains(t.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint ", path, " has a tensor '", t.name,
                       "' that the model does not (a checkpoint of another "
                       "architecture?)"));
    }
  }
  for (size_t i = 0; i < vars.size(); ++i) vars[i].set_value(*found[i]);
  if (metadata != nullptr) *metadata = std::move(contents->metadata);
  return absl::OkStatus();
}

absl::Status PrepareCheckpointDirectory(const std::string& dir) {
  if (dir.empty()) {
    return absl::InvalidArgumentError("checkpoint directory: empty path");
  }
  // mkdir -p, one component at a time.
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at != dir.size() && dir[at] != '/') continue;
    const std::string prefix = dir.substr(0, at);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create checkpoint directory ", prefix, ": ",
                       std::strerror(errno)));
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint directory ", dir, " is not a directory"));
  }
  std::string probe = dir + "/.theta-write-probe-XXXXXX";
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("checkpoint directory ", dir,
                     " is not writable: ", std::strerror(errno)));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return absl::OkStatus();
}

}  // namespace theta::models
