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
#include <initializer_list>
#include <optional>
#include <source_location>
#include <string>
#include <type_traits>
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
      : initial_(std::move(initial)), taps_({-1}) {}
  // Fed back with the given taps, all negative. Taps exactly {-1}: as a
  // bare initial value (Theano's dict(initial=x0, taps=[-1])), `initial`
  // has the shape of one step. Other taps: `initial` has a leading time
  // axis of length m = max |k| (row j is the state at time j - m). Empty
  // taps: not fed back (the initial value is unused; a warning says so).
  OutputInfo(Var initial, std::vector<int> taps)
      : initial_(std::move(initial)), taps_(std::move(taps)) {}
  static OutputInfo None() { return OutputInfo(); }

  const Var& initial() const { return initial_; }
  const std::vector<int>& taps() const { return taps_; }
  // Whether the initial value has the shape of one step (no time axis):
  // given bare, or with taps exactly {-1}.
  bool single_step() const { return taps_ == std::vector<int>{-1}; }

 private:
  Var initial_;
  std::vector<int> taps_;
};

// What fn returns for one step.
struct StepResult {
  StepResult() = default;
  StepResult(std::vector<Var> outputs)  // NOLINT: implicit
      : outputs(std::move(outputs)) {}
  StepResult(Var output) : outputs({std::move(output)}) {}  // NOLINT
  // return {h, c}; from a step declared -> StepResult.
  StepResult(std::initializer_list<Var> outputs)  // NOLINT: implicit
      : outputs(outputs) {}
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

namespace scan_internal {

// The parameter count of a callable whose parameters are all Vars (none
// for other callables: `vars` is false).
template <typename Signature>
struct StepSignature {
  static constexpr bool vars = false;
};
template <typename R, typename... A>
struct StepSignature<R(A...)> {
  static constexpr bool vars = (std::is_convertible_v<const Var&, A> && ...) &&
                               std::is_convertible_v<R, StepResult>;
  static constexpr int arity = static_cast<int>(sizeof...(A));
};
template <typename R, typename... A>
struct StepSignature<R(A...) noexcept> : StepSignature<R(A...)> {};

template <typename F, typename = void>
struct StepTraits : StepSignature<F> {};
template <typename R, typename... A>
struct StepTraits<R (*)(A...), void> : StepSignature<R(A...)> {};
template <typename R, typename... A>
struct StepTraits<R (*)(A...) noexcept, void> : StepSignature<R(A...)> {};
template <typename F>
struct StepTraits<F, std::void_t<decltype(&F::operator())>>
    : StepTraits<decltype(&F::operator()), void> {};
template <typename C, typename R, typename... A>
struct StepTraits<R (C::*)(A...), void> : StepSignature<R(A...)> {};
template <typename C, typename R, typename... A>
struct StepTraits<R (C::*)(A...) const, void> : StepSignature<R(A...)> {};
template <typename C, typename R, typename... A>
struct StepTraits<R (C::*)(A...) noexcept, void> : StepSignature<R(A...)> {};
template <typename C, typename R, typename... A>
struct StepTraits<R (C::*)(A...) const noexcept, void>
    : StepSignature<R(A...)> {};

// A callable taking Vars one by one: [](Var u_t, Var h_prev, Var W) {...}.
template <typename F>
concept VarStepFunction =
    !std::is_convertible_v<F, ScanFn> && StepTraits<std::decay_t<F>>::vars;

template <typename F, size_t... I>
StepResult CallWithVars(F& fn, [[maybe_unused]] const std::vector<Var>& in,
                        std::index_sequence<I...>) {
  return StepResult(fn(in[I]...));
}

// scan() for a step whose parameter count is `arity` (-1: any, the
// std::vector<Var> form); checks the count before calling fn.
ScanResult ScanWithArity(const ScanFn& fn, int arity,
                         const ScanOptions& options, std::source_location loc);

}  // namespace scan_internal

// Builds the loop. Throws Error (naming the output or sequence by index and
// name, what was expected and given, and where the scan was built) for every
// construction-time error of scan/SEMANTICS.md.
ScanResult scan(const ScanFn& fn, const ScanOptions& options,
                std::source_location loc = std::source_location::current());

// As above, with a step that names its parameters, one Var per argument in
// fn's order (sequence taps, fed-back output taps, non-sequences):
//
//   scan([](Var u_t, Var h_prev, Var W) { return tanh(u_t + dot(h_prev, W)); },
//        {.sequences = {u}, .outputs_info = {h0}, .non_sequences = {W}});
//
// Throws Error naming both counts when the parameters are not as many as
// the arguments scan passes. The step returns a Var, a std::vector<Var> or
// a StepResult; to return several outputs as a braced list, spell the
// return type: [](Var x, Var h) -> StepResult { return {h1, c1}; }.
template <typename F>
requires scan_internal::VarStepFunction<F> ScanResult
scan(F&& fn, const ScanOptions& options,
     std::source_location loc = std::source_location::current()) {
  constexpr int arity = scan_internal::StepTraits<std::decay_t<F>>::arity;
  return scan_internal::ScanWithArity(
      [&fn](const std::vector<Var>& in) {
        return scan_internal::CallWithVars(fn, in,
                                           std::make_index_sequence<arity>());
      },
      arity, options, loc);
}

}  // namespace theta

#endif  // THETA_SCAN_SCAN_H_
