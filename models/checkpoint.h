// Checkpoints: the values of a list of named shared variables (a model's
// parameters and its optimizer's state) saved to and restored from one
// safetensors file, each tensor under its variable's name.
//
//   std::vector<SharedVar> vars = model.params();
//   for (const SharedVar& s : adam.state()) vars.push_back(s);
//   absl::Status s = SaveCheckpoint(dir + "/model.safetensors", vars);
//   s = LoadCheckpoint(dir + "/model.safetensors", vars);
//
// Saving is atomic (safetensors.h): a failure or a crash leaves the previous
// checkpoint as it was. Loading is all or nothing: the file must hold exactly
// the variables' names, each with the variable's dtype and current shape,
// and no other tensor; otherwise nothing is set and the error names the file
// and the tensor (a checkpoint of another architecture). Errors are
// absl::Status values.
#ifndef THETA_MODELS_CHECKPOINT_H_
#define THETA_MODELS_CHECKPOINT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "graph/shared.h"
#include "models/safetensors.h"

namespace theta::models {

// Writes the current value of every variable under its name (names must be
// unique and non-empty) and `metadata` to `path`.
absl::Status SaveCheckpoint(
    const std::string& path, const std::vector<SharedVar>& vars,
    const std::map<std::string, std::string>& metadata = {},
    const SafetensorsWriteOptions& options = {});

// Sets every variable from the tensor of its name in `path` (see above);
// stores the file's metadata in *metadata when not null.
absl::Status LoadCheckpoint(
    const std::string& path, const std::vector<SharedVar>& vars,
    std::map<std::string, std::string>* metadata = nullptr);

// Creates `dir` (and its parents) when missing and checks that a file can be
// created in it, so that a training run learns of an unwritable checkpoint
// directory before it trains. The error names the directory and the reason.
absl::Status PrepareCheckpointDirectory(const std::string& dir);

}  // namespace theta::models

#endif  // THETA_MODELS_CHECKPOINT_H_
