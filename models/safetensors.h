// Reader and writer of the safetensors format (huggingface/safetensors), the
// file format of Theta's checkpoints:
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   a JSON object {name: {"dtype": "F32", "shape": [2, 3],
//             "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
//             (padded with spaces)
//   the rest  the tensors' bytes, row-major little-endian; data_offsets are
//             relative to the start of this part
//
//   std::vector<NamedTensor> t = {{"W", w}, {"b", b}};
//   absl::Status s = WriteSafetensors("/ckpt/model.safetensors", t);
//   absl::StatusOr<SafetensorsContents> c =
//       ReadSafetensors("/ckpt/model.safetensors");
//
// Writes are atomic: the data goes to a temporary file in the same directory,
// which is flushed to disk (fsync) and renamed over `path`, and then the
// directory is flushed; a crash at any moment leaves either the previous file
// or the new one, whole. On failure `path` is unchanged and the temporary
// file removed. Reads validate everything before returning: the header
// length (against the file size and a 100 MB bound), the JSON, each entry's
// dtype, shape and offsets (in range, without overflow, matching dtype x
// shape, neither overlapping nor leaving bytes unaccounted for), and name the
// file and tensor at fault. Theta's dtypes: F32, F64, I32, I64, U8, BOOL.
// Thread-compatible; files are read whole into Tensors.
#ifndef THETA_MODELS_SAFETENSORS_H_
#define THETA_MODELS_SAFETENSORS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/tensor.h"

namespace theta::models {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

struct SafetensorsContents {
  // In the order of their data in the file.
  std::vector<NamedTensor> tensors;
  std::map<std::string, std::string> metadata;  // "__metadata__"
  // The tensor named `name`, or null.
  const Tensor* Find(absl::string_view name) const;
};

// The largest header accepted (as the Python package's limit).
inline constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

struct SafetensorsWriteOptions {
  // Called after each chunk of tensor data is written with the bytes written
  // so far and the total (a progress display for large checkpoints).
  std::function<void(int64_t written, int64_t total)> progress;
};

// Writes `tensors` (unique, non-empty names other than "__metadata__",
// defined tensors) and `metadata` to `path`, atomically (see above).
// Errors name the path, the tensor and the system call with its reason.
absl::Status WriteSafetensors(
    const std::string& path, const std::vector<NamedTensor>& tensors,
    const std::map<std::string, std::string>& metadata = {},
    const SafetensorsWriteOptions& options = {});

// Reads and validates the file at `path`.
absl::StatusOr<SafetensorsContents> ReadSafetensors(const std::string& path);

// The same from bytes in memory; `source` names them in errors.
absl::StatusOr<SafetensorsContents> ParseSafetensors(absl::string_view bytes,
                                                     absl::string_view source);

// "F32" for kFloat32, ...
const char* SafetensorsDType(DType dtype);

}  // namespace theta::models

#endif  // THETA_MODELS_SAFETENSORS_H_
