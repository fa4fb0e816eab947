// scan: symbolic loops, with Theano's semantics (scan/SEMANTICS.md states
// them point by point).
//
//   // x_t = tanh(A x_{t-1} + b), 100 steps from x0:
//   ScanResult r = scan(
//       [&](const std::vector<Var>& in) {   // in = {x_{t-1}, A, b}
//         return StepResult{{tanh(dot(in[1], in[0]) + in[2])}};
//       },
//       {.outputs_info = {OutputInfo(x0)}, .non_sequences = {A, b},
//        .n_steps = 100});
//   Var xs = r.outputs[0];                 // (100, n)
//
// `fn` receives, in order: for each sequence one slice per tap (in the order
// its taps were listed); for each output that is fed back one slice per tap;
// then every non-sequence. It returns one value per entry of outputs_info
// (or any number when outputs_info is empty), optionally updates of shared
// variables and an `until` condition. The loop is compiled once into a plan
// of kernel calls that runs each step without allocating; its gradient is
// another scan.
#ifndef THETA_SCAN_SCAN_H_
#define THETA_SCAN_SCAN_H_

#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <utility>
#include <vector>

#include "graph/ir.h"
#include "ops/shape.h"

namespace theta {

// A sequence and the taps fn reads of it (default {0}: the current row).
struct Sequence {
  Sequence(Var input) : input(std::move(input)) {}  // NOLINT: implicit
  Sequence(Var input, std::vector<int> taps)
      : input(std::move(input)), taps(std::move(taps)) {}
  Var input;
  std::vector<int> taps = {0};
};

// An entry of outputs_info.
class OutputInfo {
 public:
  // Not fed back: a "map" output (Theano's None).
  OutputInfo() = default;
  // Fed back with taps [-1]; `initial` has the shape of one step.
  OutputInfo(Var initial)  // NOLINT: implicit
      : initial_(std::move(initial)), taps_({-1}), bare_(true) {}
  // Fed back with the given taps, all negative; `initial` has a leading
  // time axis of length m = max |k| (row j is the state at time j - m).
  // Empty taps: not fed back (the initial value is unused; a warning says
  // so).
  OutputInfo(Var initial, std::vector<int> taps)
      : initial_(std::move(initial)), taps_(std::move(taps)) {}
  static OutputInfo None() { return OutputInfo(); }

  const Var& initial() const { return initial_; }
  const std::vector<int>& taps() const { return taps_; }
  bool bare() const { return bare_; }

 private:
  Var initial_;
  std::vector<int> taps_;
  bool bare_ = false;
};

// What fn returns for one step.
struct StepResult {
  StepResult() = default;
  StepResult(std::vector<Var> outputs)  // NOLINT: implicit
      : outputs(std::move(outputs)) {}
  StepResult(Var output) : outputs({std::move(output)}) {}  // NOLINT
  StepResult(std::vector<Var> outputs, std::vector<std::pair<Var, Var>> updates,
             Var until = Var())
      : outputs(std::move(outputs)),
        updates(std::move(updates)),
        until(std::move(until)) {}

  std::vector<Var> outputs;
  // (shared variable, its new value after this step).
  std::vector<std::pair<Var, Var>> updates;
  // Stop after this step when true (a bool or integer scalar).
  Var until;
};

struct ScanOptions {
  std::vector<Sequence> sequences;
  std::vector<OutputInfo> outputs_info;
  std::vector<Var> non_sequences;
  // The number of steps: an integer or an integer scalar Var. Without it,
  // the shortest sequence decides.
  std::optional<DimArg> n_steps;
  bool go_backwards = false;
  // Backpropagate through the last k steps only (-1: all).
  int truncate_gradient = -1;
  // Shared variables and other outside variables used in fn must be passed
  // as non_sequences.
  bool strict = false;
  std::string name;
};

struct ScanResult {
  // One per entry of outputs_info (or per value fn returned), each with N
  // rows: (N,) + the step's shape.
  std::vector<Var> outputs;
  // (shared variable, value after the last step), for function updates.
  std::vector<std::pair<Var, Var>> updates;
};

using ScanFn = std::function<StepResult(const std::vector<Var>&)>;

// Builds the loop. Throws Error (naming the output or sequence by index and
// name, what was expected and given, and where the scan was built) for every
// construction-time error of scan/SEMANTICS.md.
ScanResult scan(const ScanFn& fn, const ScanOptions& options,
                std::source_location loc = std::source_location::current());

}  // namespace theta

#endif  // THETA_SCAN_SCAN_H_
