#include "graph/launches.h"

#include <cstring>

#include "backends/api/elementwise_semantics.h"

namespace theta {
namespace {

class CopyLaunch : public Launch {
 public:
  CopyLaunch(const ArrayRef& src, const ArrayRef& dst) : src_(src), dst_(dst) {}
  absl::Status Run(const ExecContext& ctx) override {
    if (src_.numel() == 0) return absl::OkStatus();
    if (src_.contiguous() && dst_.contiguous()) {
      return ctx.backend->CopyWithinDevice(
          dst_.Address(ctx.slots), src_.Address(ctx.slots), src_.nbytes());
    }
    theta_copy_args args;
    args.struct_size = sizeof(args);
    args.source = src_.ToAbi(ctx.slots);
    args.destination = dst_.ToAbi(ctx.slots);
    return ctx.backend->Check(
        ctx.backend->api().copy(ctx.backend->stream(), &args), "copy");
  }

 private:
  ArrayRef src_;
  ArrayRef dst_;
};

class UploadLaunch : public Launch {
 public:
  UploadLaunch(int32_t host_slot, const ArrayRef& dst)
      : host_slot_(host_slot), dst_(dst) {}
  absl::Status Run(const ExecContext& ctx) override {
    const HostValue& value = ctx.host_values[host_slot_];
    HostValueToBytes(value, dst_.dtype, staging_);
    return ctx.backend->CopyToDevice(dst_.Address(ctx.slots), staging_,
                                     value.size() * DTypeSize(dst_.dtype));
  }

 private:
  int32_t host_slot_;
  ArrayRef dst_;
  // Host memory read by an asynchronous copy: lives as long as the plan.
  alignas(8) unsigned char staging_[kMaxHostElements * 8];
};

}  // namespace

void HostValueToBytes(const HostValue& value, DType dtype, void* out) {
  for (int i = 0; i < value.size(); ++i) {
    switch (dtype) {
      case DType::kFloat32:
        static_cast<float*>(out)[i] = static_cast<float>(value.AsDouble(i));
        break;
      case DType::kFloat64:
        static_cast<double*>(out)[i] = value.AsDouble(i);
        break;
      case DType::kInt32:
        static_cast<int32_t*>(out)[i] =
            IsFloat(value.dtype) ? ew::Convert<int32_t>(value.floats[i])
                                 : static_cast<int32_t>(value.ints[i]);
        break;
      case DType::kInt64:
        static_cast<int64_t*>(out)[i] =
            IsFloat(value.dtype) ? ew::Convert<int64_t>(value.floats[i])
                                 : value.ints[i];
        break;
      case DType::kUInt8:
        static_cast<uint8_t*>(out)[i] =
            IsFloat(value.dtype) ? ew::Convert<uint8_t>(value.floats[i])
                                 : static_cast<uint8_t>(value.ints[i]);
        break;
      case DType::kBool:
        static_cast<uint8_t*>(out)[i] = value.AsDouble(i) != 0 ? 1 : 0;
        break;
    }
  }
}

std::unique_ptr<Launch> MakeCopyLaunch(const ArrayRef& src,
                                       const ArrayRef& dst) {
  return std::make_unique<CopyLaunch>(src, dst);
}

std::unique_ptr<Launch> MakeUploadLaunch(int32_t host_slot,
                                         const ArrayRef& dst) {
  return std::make_unique<UploadLaunch>(host_slot, dst);
}

}  // namespace theta
