// libFuzzer harness for the safetensors reader (models/safetensors.h), the
// format of Theta's checkpoints.
//
// The input is a whole file: 8 bytes of header length, the JSON header, the
// data section. Beyond "no crash, no sanitizer report", a parse that succeeds
// must be consistent with the bytes it came from: the tensors' bytes tile
// the data section exactly, every tensor's byte size is its dtype size times
// its element count, names are unique and found by Find().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "graph/dtype.h"
#include "models/safetensors.h"

namespace {

void CheckConsistent(const theta::models::SafetensorsContents& contents,
                     const uint8_t* data, size_t size) {
  uint64_t header = 0;
  std::memcpy(&header, data, 8);
  const uint64_t data_size = size - 8 - header;
  uint64_t covered = 0;
  std::set<std::string> names;
  for (const theta::models::NamedTensor& t : contents.tensors) {
    if (t.name.empty() || t.name == "__metadata__") std::abort();
    if (!names.insert(t.name).second) std::abort();
    if (contents.Find(t.name) != &t.tensor) std::abort();
    uint64_t elements = 1;
    for (int64_t d : t.tensor.shape()) {
      if (d < 0) std::abort();
      elements *= static_cast<uint64_t>(d);
    }
    if (static_cast<uint64_t>(t.tensor.size()) != elements) std::abort();
    const uint64_t bytes = elements * theta::DTypeSize(t.tensor.dtype());
    // Tensors follow each other in the data section, in file order.
    if (bytes > 0 && std::memcmp(t.tensor.raw_data(),
                                 data + 8 + header + covered, bytes) != 0) {
      std::abort();
    }
    covered += bytes;
  }
  if (covered != data_size) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto parsed = theta::models::ParseSafetensors(bytes, "fuzz input");
  if (parsed.ok()) CheckConsistent(*parsed, data, size);
  return 0;
}
