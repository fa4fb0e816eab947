// Trainer: compiles a Model's training step (with an optimizer's updates),
// its evaluation and its prediction, and runs the training loop: epochs of
// minibatches in a seeded shuffled order, evaluation on validation data
// every N steps, early stopping, a per-step callback, checkpoints of the
// parameters, the optimizer state and the loop's own position.
//
//   optim::Adam adam({.lr = 1e-3});
//   Trainer trainer(Mlp({}, rng), adam);
//   TrainResult r = trainer.Train(train, &test, {.epochs = 3});
//   Evaluation e = trainer.Evaluate(test);
//
// Resuming (Restore from State, or Load from a checkpoint) continues with
// exactly the steps a run that never stopped would take: the shuffled
// order of epoch e depends only on (seed, e), and the step count is part of
// the state. Not thread-safe; one Train at a time.
#ifndef THETA_MODELS_TRAINER_H_
#define THETA_MODELS_TRAINER_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "compile/function.h"
#include "graph/tensor.h"
#include "models/dataset.h"
#include "models/model.h"
#include "optim/optimizer.h"

namespace theta::models {

struct Evaluation {
  double loss = 0;      // mean cost per prediction
  double accuracy = 0;  // correct predictions / predictions
};

struct StepReport {
  int64_t step = 0;  // steps taken so far, this one included
  double epoch = 0;  // fractional epochs done
  double loss = 0;   // this step's mean loss
};

struct EvaluationReport {
  int64_t step = 0;
  double epoch = 0;
  double train_loss = 0;  // mean step loss since the previous evaluation
  Evaluation validation;
  double seconds = 0;  // since Train started
  // Of `seconds`, the time spent evaluating (this one included).
  double evaluation_seconds = 0;
};

struct TrainOptions {
  int epochs = 1;           // >= 1
  int64_t batch_size = 64;  // >= 1, at most the training examples
  uint64_t seed = 1;        // of the shuffled order of each epoch
  // Evaluate every this many steps (>= 0); 0: at the end of each epoch.
  // The last step of each epoch always evaluates.
  int64_t validate_every = 0;
  // Stop when the validation loss has not improved for this many
  // evaluations in a row (0: never stop early).
  int patience = 0;
  // Stop after this many steps in all (0: no limit); the run can resume.
  int64_t max_steps = 0;
  // Called after every step and every evaluation.
  std::function<void(const StepReport&)> on_step;
  std::function<void(const EvaluationReport&)> on_evaluation;
  // Called after every evaluation with the step reached (for checkpoints);
  // a failure it throws stops training.
  std::function<void(int64_t step)> on_checkpoint;
};

struct TrainResult {
  int64_t steps = 0;  // steps taken in all (including before a resume)
  bool stopped_early = false;
  std::vector<EvaluationReport> evaluations;  // of this call
};

// Named tensors: the parameters ("<param name>"), the optimizer state
// ("<param name>.<slot>") and the loop ("trainer.step", ...).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Trainer {
 public:
  // Compiles the three functions; the optimizer must outlive the Trainer.
  Trainer(Model model, optim::Optimizer& optimizer);

  // Trains from the current step to `epochs` epochs. Throws Error for
  // invalid options, and when a step's loss is not finite: the message
  // names the step and the last step whose checkpoint was written.
  TrainResult Train(const Dataset& train, const Dataset* validation,
                    const TrainOptions& options);
  // Loss and accuracy over all of `data`, in batches of `batch_size`.
  Evaluation Evaluate(const Dataset& data, int64_t batch_size = 500);
  // The predicted class ids of a batch of inputs (Error naming the input
  // layer when x does not fit it).
  Tensor Predict(const Tensor& x);

  // Everything a checkpoint holds, and its restoration: Restore throws
  // Error naming the first tensor that is missing or of another dtype or
  // shape (a checkpoint of another model), or a name it does not know.
  NamedTensors State() const;
  void Restore(const NamedTensors& state);

  // The shared variables a checkpoint holds: the parameters, then the
  // optimizer state; and the loop's own position, restored with them.
  const std::vector<SharedVar>& state_variables() const { return state_vars_; }
  struct LoopState {
    int64_t step = 0;
    double best_validation_loss = std::numeric_limits<double>::infinity();
    int64_t stale_evaluations = 0;
  };
  LoopState loop_state() const {
    return {step_, best_loss_, stale_evaluations_};
  }
  void set_loop_state(const LoopState& s) {
    step_ = s.step;
    best_loss_ = s.best_validation_loss;
    stale_evaluations_ = s.stale_evaluations;
  }

  const Model& model() const { return model_; }
  int64_t step() const { return step_; }
  // The step of the last on_checkpoint call (-1: none yet).
  int64_t last_checkpoint_step() const { return last_checkpoint_step_; }

 private:
  EvaluationReport EvaluateAt(const Dataset* validation, int64_t step,
                              double epoch, double train_loss, double seconds);

  Model model_;
  optim::Optimizer& optimizer_;
  Function train_step_, evaluate_, predict_;
  std::vector<SharedVar> state_vars_;  // params, then optimizer state
  int64_t step_ = 0;
  double best_loss_ = std::numeric_limits<double>::infinity();
  int64_t stale_evaluations_ = 0;
  int64_t last_checkpoint_step_ = -1;
};

// The order of the examples in epoch `epoch`: 0..n-1 shuffled by a
// generator seeded from (seed, epoch) alone.
void ShuffledOrder(uint64_t seed, int64_t epoch, std::vector<int64_t>& order);

}  // namespace theta::models

#endif  // THETA_MODELS_TRAINER_H_
