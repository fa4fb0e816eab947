// A Trainer's checkpoint: its parameters and optimizer state as a
// safetensors file (//models:checkpoint, written atomically), the loop's
// position (step, best validation loss, evaluations without improvement)
// in the file's metadata. Loading it into a Trainer of the same model and
// optimizer resumes training exactly where it stopped.
//
//   options.on_checkpoint = [&](int64_t) {
//     ThrowIfError(SaveTrainerCheckpoint(trainer, dir + "/last.safetensors"));
//   };
//   absl::Status s = LoadTrainerCheckpoint(trainer, path);   // to resume
#ifndef THETA_MODELS_TRAINER_CHECKPOINT_H_
#define THETA_MODELS_TRAINER_CHECKPOINT_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "models/trainer.h"

namespace theta::models {

// `metadata` adds the caller's own keys (what a program needs to rebuild
// the model); a key the trainer writes itself ("trainer.*", "model") is an
// InvalidArgument error naming it, and nothing is written.
absl::Status SaveTrainerCheckpoint(
    const Trainer& trainer, const std::string& path,
    const std::map<std::string, std::string>& metadata = {});
// All or nothing: on an error (a file that does not load, a checkpoint of
// another model or optimizer, metadata that is missing or malformed) the
// trainer is unchanged and the message names the file and what was wrong.
absl::Status LoadTrainerCheckpoint(Trainer& trainer, const std::string& path);

}  // namespace theta::models

#endif  // THETA_MODELS_TRAINER_CHECKPOINT_H_
