// libFuzzer harness for the plugin loader's checks of a plugin's table
// (backends/plugin_library.h: ValidateApiTable, CompleteApiTable,
// StatusCodeFromPlugin), without dlopen: the bytes describe the table a
// plugin's entry point would return.
//
// Input layout (missing bytes read as 0xff):
//   1 byte   struct_size: mode % 6 picks 8 raw bytes, the fixed header's
//            end - 1..+1, the ABI 1.0 size + a signed byte, this loader's
//            size, this size + a byte, or 0
//   1 byte   abi_major: 0 picks THETA_BACKEND_ABI_MAJOR, else 4 raw bytes
//   4 bytes  abi_minor
//   name, version: 1 byte each, 0: NULL, 1: "", else that many % 32 bytes
//   one bit per function pointer slot after the header: set = non-NULL
//   4 bytes  a status code, for StatusCodeFromPlugin
// The table lives in a heap block of exactly the bytes its struct_size
// promises (up to this loader's size), so AddressSanitizer reports any read
// past what the plugin declared. A table that passes must complete into one
// where every entry is set, with the plugin's header, and each optional
// entry ("supports" since 1.1, "gemm_prepare" with its free since 1.2)
// listed as missing exactly when the plugin lacks it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "backends/api/theta_backend.h"
#include "backends/plugin_library.h"

namespace {

using theta::backends::CompleteApiTable;
using theta::backends::StatusCodeFromPlugin;
using theta::backends::ValidateApiTable;

constexpr size_t kHeaderEnd =
    offsetof(theta_backend_api, version) +
    sizeof(static_cast<theta_backend_api*>(0)->version);
constexpr size_t kFirstEntry = offsetof(theta_backend_api, status_code);
constexpr size_t kSlots =
    (sizeof(theta_backend_api) - kFirstEntry) / sizeof(void*);

// Reads the input front to back; past its end every byte is 0xff.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0xff; }
  template <typename T>
  T Raw() {
    uint8_t bytes[sizeof(T)];
    for (uint8_t& b : bytes) b = Byte();
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
  }
  // NULL, "" or up to 31 bytes of the input (kept alive in *storage).
  const char* String(std::string* storage) {
    const uint8_t mode = Byte();
    if (mode == 0) return nullptr;
    storage->clear();
    if (mode != 1) {
      for (int i = 0; i < mode % 32; ++i) {
        const char c = static_cast<char>(Byte());
        if (c != '\0') storage->push_back(c);
      }
    }
    return storage->c_str();
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

size_t StructSize(Reader& in) {
  switch (in.Byte() % 6) {
    case 0:
      return in.Raw<size_t>();
    case 1:
      return kHeaderEnd - 1 + in.Byte() % 3;
    case 2:
      return THETA_BACKEND_API_SIZE_1_0 + static_cast<int8_t>(in.Byte());
    case 3:
      return sizeof(theta_backend_api);
    case 4:
      return sizeof(theta_backend_api) + in.Byte();
    default:
      return 0;
  }
}

// A non-NULL entry: the table is only checked and copied, never called,
// except the loader's own stand-ins.
void NeverCalled() { std::abort(); }

bool SlotIsSet(const theta_backend_api& api, size_t slot) {
  void* p;
  std::memcpy(
      &p,
      reinterpret_cast<const char*>(&api) + kFirstEntry + slot * sizeof(void*),
      sizeof(p));
  return p != nullptr;
}

void CheckCompleted(const theta_backend_api& plugin,
                    const theta_backend_api& api,
                    const std::vector<std::string>& missing) {
  if (api.struct_size != plugin.struct_size ||
      api.abi_major != plugin.abi_major || api.abi_minor != plugin.abi_minor ||
      api.name != plugin.name || api.version != plugin.version) {
    std::abort();
  }
  for (size_t slot = 0; slot < kSlots; ++slot) {
    if (!SlotIsSet(api, slot)) std::abort();
  }
  const bool has_supports =
      THETA_API_HAS(&plugin, theta_backend_api, supports) &&
      plugin.supports != nullptr;
  const bool has_prepare =
      THETA_API_HAS(&plugin, theta_backend_api, gemm_operand_free) &&
      plugin.gemm_prepare != nullptr && plugin.gemm_operand_free != nullptr;
  std::vector<std::string> expected;
  if (!has_supports) expected.push_back("supports");
  if (!has_prepare) expected.push_back("gemm_prepare");
  if (missing != expected) std::abort();
  if (!has_supports && api.supports(nullptr, 0, 0) != 0) std::abort();
  if (!has_prepare) {
    // Any non-null value: the stand-in must overwrite it with NULL.
    int sentinel = 0;
    theta_gemm_operand* operand =
        reinterpret_cast<theta_gemm_operand*>(&sentinel);
    if (api.gemm_prepare(nullptr, nullptr, &operand) != nullptr ||
        operand != nullptr) {
      std::abort();
    }
    api.gemm_operand_free(nullptr, nullptr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  theta_backend_api full;
  std::memset(&full, 0, sizeof(full));
  full.struct_size = StructSize(in);
  const uint8_t major = in.Byte();
  full.abi_major = major == 0 ? THETA_BACKEND_ABI_MAJOR : in.Raw<uint32_t>();
  full.abi_minor = in.Raw<uint32_t>();
  std::string name, version;
  full.name = in.String(&name);
  full.version = in.String(&version);
  void (*const set)() = &NeverCalled;
  for (size_t slot = 0; slot < kSlots; slot += 8) {
    const uint8_t bits = in.Byte();
    for (size_t b = 0; b < 8 && slot + b < kSlots; ++b) {
      if ((bits >> b & 1) == 0) continue;
      std::memcpy(reinterpret_cast<char*>(&full) + kFirstEntry +
                      (slot + b) * sizeof(void*),
                  &set, sizeof(set));
    }
  }
  const int32_t code = in.Raw<int32_t>();

  // The bytes the plugin promises: struct_size, at most this loader's
  // table (the loader never reads further), at least the size field.
  const size_t bytes = std::max(
      sizeof(size_t), std::min(full.struct_size, sizeof(theta_backend_api)));
  std::unique_ptr<uint8_t[]> block(new uint8_t[bytes]);
  std::memcpy(block.get(), &full, bytes);
  const auto* table = reinterpret_cast<const theta_backend_api*>(block.get());

  const absl::Status valid = ValidateApiTable(table);
  if (valid.ok()) {
    std::vector<std::string> missing;
    CheckCompleted(full, CompleteApiTable(*table, &missing), missing);
  } else if (valid.message().empty()) {
    std::abort();
  }
  if (ValidateApiTable(nullptr).ok()) std::abort();

  const absl::StatusCode mapped = StatusCodeFromPlugin(full.abi_minor, code);
  if (mapped == absl::StatusCode::kOk ||
      static_cast<int>(mapped) >
          static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    std::abort();
  }
  return 0;
}
