#include "models/trainer_checkpoint.h"

#include <cstdlib>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "models/checkpoint.h"

namespace theta::models {
namespace {

constexpr char kStep[] = "trainer.step";
constexpr char kBest[] = "trainer.best_validation_loss";
constexpr char kStale[] = "trainer.stale_evaluations";

}  // namespace

absl::Status SaveTrainerCheckpoint(
    const Trainer& trainer, const std::string& path,
    const std::map<std::string, std::string>& metadata) {
  const Trainer::LoopState loop = trainer.loop_state();
  std::map<std::string, std::string> all = {
      {kStep, absl::StrCat(loop.step)},
      {kBest, absl::StrFormat("%.17g", loop.best_validation_loss)},
      {kStale, absl::StrCat(loop.stale_evaluations)},
      {"model", trainer.model().name}};
  for (const auto& [key, value] : metadata) {
    if (!all.emplace(key, value).second || absl::StartsWith(key, "trainer.")) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": metadata key \"", key, "\" is reserved for the trainer"));
    }
  }
  return SaveCheckpoint(path, trainer.state_variables(), all);
}

absl::Status LoadTrainerCheckpoint(Trainer& trainer, const std::string& path) {
  // Read the loop state first into copies, so that a bad file changes
  // nothing: LoadCheckpoint itself is all or nothing, but runs last.
  const std::vector<SharedVar>& vars = trainer.state_variables();
  std::vector<Tensor> before;
  for (const SharedVar& v : vars) before.push_back(v.get_value());
  std::map<std::string, std::string> metadata;
  THETA_RETURN_IF_ERROR(LoadCheckpoint(path, vars, &metadata));
  Trainer::LoopState loop;
  auto number = [&](const char* key, auto* out) -> bool {
    auto it = metadata.find(key);
    if (it == metadata.end()) return false;
    if constexpr (std::is_same_v<decltype(*out), double&>) {
      char* end = nullptr;
      *out = std::strtod(it->second.c_str(), &end);
      return end != it->second.c_str() && *end == '\0';
    } else {
      return absl::SimpleAtoi(it->second, out);
    }
  };
  for (const auto& [key, ok] :
       {std::pair{kStep, number(kStep, &loop.step)},
        std::pair{kBest, number(kBest, &loop.best_validation_loss)},
        std::pair{kStale, number(kStale, &loop.stale_evaluations)}}) {
    if (!ok || loop.step < 0 || loop.stale_evaluations < 0) {
      for (size_t i = 0; i < vars.size(); ++i) vars[i].set_value(before[i]);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a training checkpoint: metadata \"", key,
                       "\" is missing or not a valid number"));
    }
  }
  trainer.set_loop_state(loop);
  return absl::OkStatus();
}

}  // namespace theta::models
