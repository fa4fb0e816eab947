// libFuzzer harness for the IDX / gzip loader (models/idx.h).
//
// The first input byte picks the path: even parses the remaining bytes as
// they are (plain IDX, or gzip when they start with gzip's magic); odd first
// gzip-compresses them, so that the inflating path sees structured IDX
// headers and not only random deflate streams. Beyond "no crash, no
// sanitizer report", a parse that succeeds must be consistent: the data holds
// exactly the product of the dimensions, none negative.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "models/idx.h"

namespace {

// Gzip-compresses `bytes` (a window of 15 + 16 selects the gzip container).
std::vector<uint8_t> Gzip(const uint8_t* bytes, size_t size) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    std::abort();
  }
  std::vector<uint8_t> out(deflateBound(&stream, size) + 32);
  stream.next_in = const_cast<Bytef*>(bytes);
  stream.avail_in = static_cast<uInt>(size);
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

void CheckConsistent(const theta::models::IdxArray& array) {
  size_t count = 1;
  for (int64_t dim : array.dims) {
    if (dim < 0) std::abort();
    count *= static_cast<size_t>(dim);
  }
  if (count != array.data.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool compress_first = (data[0] & 1) != 0;
  const uint8_t* body = data + 1;
  const size_t body_size = size - 1;
  auto parsed = [&] {
    if (!compress_first) {
      return theta::models::ParseIdx(body, body_size, "fuzz input");
    }
    std::vector<uint8_t> gz = Gzip(body, body_size);
    return theta::models::ParseIdx(gz.data(), gz.size(), "fuzz input");
  }();
  if (parsed.ok()) CheckConsistent(*parsed);
  return 0;
}
