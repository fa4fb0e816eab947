// Argument checks of the CUDA plugin's kernels: the plugin kit's (the rules
// and messages every plugin shares) under this plugin's namespace.
#ifndef THETA_BACKENDS_CUDA_VALIDATE_H_
#define THETA_BACKENDS_CUDA_VALIDATE_H_

#include "backends/plugin_kit/arrays.h"

namespace theta::cuda {

using ::theta::plugin_kit::CheckArray;
using ::theta::plugin_kit::CheckWritable;
using ::theta::plugin_kit::DtypeSize;
using ::theta::plugin_kit::IsValidDtype;
using ::theta::plugin_kit::MaxAbsOffset;
using ::theta::plugin_kit::NumElements;
using ::theta::plugin_kit::RawEnum;
using ::theta::plugin_kit::ShapeString;
using ::theta::plugin_kit::StrideSign;

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_VALIDATE_H_
