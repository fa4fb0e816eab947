// Launches the executor itself inserts: copies between device arrays, and
// uploads of host-known values (scalars, shapes) to the device.
#ifndef THETA_GRAPH_LAUNCHES_H_
#define THETA_GRAPH_LAUNCHES_H_

#include <cstdint>
#include <memory>

#include "graph/runtime.h"

namespace theta {

// Copies `src` to `dst` (same shape and dtype, any strides).
std::unique_ptr<Launch> MakeCopyLaunch(const ArrayRef& src,
                                       const ArrayRef& dst);

// Writes the host value in host slot `host_slot` into contiguous `dst`,
// converting to dst's dtype.
std::unique_ptr<Launch> MakeUploadLaunch(int32_t host_slot,
                                         const ArrayRef& dst);

// Converts a host value to `dtype` bytes (for uploads); `out` must hold
// value.size() elements of dtype.
void HostValueToBytes(const HostValue& value, DType dtype, void* out);

}  // namespace theta

#endif  // THETA_GRAPH_LAUNCHES_H_
