#include "optim/factory.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/error.h"
#include "optim/adadelta.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/adamw.h"
#include "optim/momentum.h"
#include "optim/nesterov.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"

namespace theta::optim {
namespace {

std::unique_ptr<Optimizer> Make(absl::string_view name, const Hyper& lr) {
  if (name == "sgd") return std::make_unique<Sgd>(SgdOptions{.lr = lr});
  if (name == "momentum") {
    return std::make_unique<Momentum>(MomentumOptions{.lr = lr});
  }
  if (name == "nesterov") {
    return std::make_unique<Nesterov>(NesterovOptions{.lr = lr});
  }
  if (name == "adagrad") {
    return std::make_unique<Adagrad>(AdagradOptions{.lr = lr});
  }
  if (name == "adadelta") {
    return std::make_unique<Adadelta>(AdadeltaOptions{.lr = lr});
  }
  if (name == "rmsprop") {
    return std::make_unique<RmsProp>(RmsPropOptions{.lr = lr});
  }
  if (name == "adam") return std::make_unique<Adam>(AdamOptions{.lr = lr});
  if (name == "adamw") {
    return std::make_unique<AdamW>(AdamWOptions{.adam = {.lr = lr}});
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& OptimizerNames() {
  static const std::vector<std::string> names = {
      "sgd",      "momentum", "nesterov", "adagrad",
      "adadelta", "rmsprop",  "adam",     "adamw"};
  return names;
}

absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(absl::string_view name,
                                                         const Hyper& lr) {
  try {
    std::unique_ptr<Optimizer> opt = Make(name, lr);
    if (opt == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown optimizer '", name, "'; choose one of ",
                       absl::StrJoin(OptimizerNames(), ", ")));
    }
    return opt;
  } catch (const Error& e) {
    return absl::InvalidArgumentError(e.what());
  }
}

}  // namespace theta::optim
