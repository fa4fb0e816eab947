// Moved: theta::Error now lives in base/error.h (//base:error). This header
// forwards to it until every include is updated.
#ifndef THETA_BACKENDS_ERROR_H_
#define THETA_BACKENDS_ERROR_H_

#include "base/error.h"

#endif  // THETA_BACKENDS_ERROR_H_
