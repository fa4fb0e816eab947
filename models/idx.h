// Reading IDX files (the format of MNIST and Fashion-MNIST), plain or
// gzip-compressed, from disk or from memory.
//
//   absl::StatusOr<IdxArray> images =
//       ReadIdxFile("train-images-idx3-ubyte.gz");
//   // images->dims == {60000, 28, 28}
//   // images->data.size() == 60000 * 784
#ifndef THETA_MODELS_IDX_H_
#define THETA_MODELS_IDX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace theta::models {

// An unsigned-byte IDX array (type code 0x08): dimensions and row-major data.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Parses the bytes of an IDX file; gzip data is recognised and inflated.
// Errors name `source` and what was wrong (bad magic, truncated data, ...).
absl::StatusOr<IdxArray> ParseIdx(const uint8_t* bytes, size_t size,
                                  const std::string& source);
absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path);

}  // namespace theta::models

#endif  // THETA_MODELS_IDX_H_
