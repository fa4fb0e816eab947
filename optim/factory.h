// MakeOptimizer: an optimizer chosen by name (a program's --optimizer flag),
// with the given learning rate and the other hyperparameters at their
// defaults (each optimizer's header).
//
//   absl::StatusOr<std::unique_ptr<optim::Optimizer>> opt =
//       optim::MakeOptimizer(absl::GetFlag(FLAGS_optimizer), 1e-3);
//   if (!opt.ok()) { std::cerr << opt.status().message(); return 1; }
#ifndef THETA_OPTIM_FACTORY_H_
#define THETA_OPTIM_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "optim/optimizer.h"

namespace theta::optim {

// "sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam",
// "adamw".
const std::vector<std::string>& OptimizerNames();

// InvalidArgument naming the choices for an unknown name, or naming the
// hyperparameter for a learning rate out of range.
absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(absl::string_view name,
                                                         const Hyper& lr);

}  // namespace theta::optim

#endif  // THETA_OPTIM_FACTORY_H_
