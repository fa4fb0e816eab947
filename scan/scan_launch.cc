// Running a Scan node: the body's plan is run once per step with its input
// and output addresses pointed at rows of the loop's arrays. Nothing is
// copied or allocated per step.
#include <memory>
#include <span>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "compile/early_stop.h"
#include "graph/launches.h"
#include "scan/scan_op.h"

namespace theta {
namespace {

// How a body input's address moves from step to step.
struct InputSource {
  enum Kind { kSequence, kTap, kLastState, kNonSequence } kind;
  int array;         // index into arrays_ (sequence / output / non-seq)
  int init = -1;     // index into arrays_ of the initial state
  int64_t row0 = 0;  // kSequence: row at iteration 0
  int64_t step = 1;  // kSequence: rows per iteration (+1 or -1)
  int tap = 0;       // kTap: the tap k (< 0)
  int m = 0;         // kTap: rows of the initial state
  // kTap: rows of the output array before step 0's row (m when the array
  // stores the initial rows: every tap then reads the array).
  int64_t rows_before = 0;
  int output = 0;  // kLastState: which output
};

struct OutputTarget {
  // kScratch: a map output nothing reads (only its shape is used, as a
  // gradient's zeros take the shape of a forward value): every step writes
  // the same row of a buffer of the launch, which stays in cache, and the
  // output array is left unwritten.
  enum Kind { kRow, kReversedRow, kLast, kUntil, kScratch } kind;
  int array = -1;           // output array
  int output = 0;           // ScanOutput index
  int scratch = -1;         // kScratch: index in scratch_rows_
  int64_t rows_before = 0;  // kRow: rows of the array before step 0's row
};

class ScanLaunch : public EarlyStopLaunch {
 public:
  ScanLaunch(const Scan& op, Executable* body) : op_(op), body_(body) {}

  absl::Status Prepare(LaunchContext& ctx);
  absl::Status PrepareOutputs(LaunchContext& ctx, int first_output_array);
  absl::Status PrepareEarlyStop(LaunchContext& ctx);
  absl::Status Run(const ExecContext& ctx) override;
  absl::Status FinishEarlyStop(const ExecContext& ctx);

 private:
  absl::StatusOr<Plan*> GetBodyPlan() {
    return body_->GetPlan(inner_shapes_, inner_strides_, host_values_,
                          {writable_inputs_.get(), inputs_.size()});
  }
  int AddArray(const ArrayRef& ref) {
    arrays_.push_back(ref);
    return static_cast<int>(arrays_.size()) - 1;
  }

  const Scan& op_;
  Executable* body_;
  int64_t n_ = 0;
  std::vector<ArrayRef> arrays_;  // the loop's outer arrays
  std::vector<void*> base_;       // their addresses in the current run
  std::vector<int64_t> row_bytes_;
  std::vector<InputSource> inputs_;
  std::vector<OutputTarget> outputs_;
  std::vector<Dims> inner_shapes_;
  std::vector<Dims> inner_strides_;
  std::vector<void*> ext_in_;
  // Per body input: a device non-sequence, fixed for the whole loop (the
  // body prepares what it reads only from those once per run of the loop).
  std::unique_ptr<bool[]> fixed_inputs_;
  // Per body input: a sequence the body may overwrite row by row after
  // reading it (Executable::GetPlan's writable inputs): one read once per
  // step (a single tap) whose outer array dies at this loop. A body that
  // accumulates into its sequence row (a GEMM with beta 1 over x_t W) then
  // works in place instead of copying the row first.
  std::vector<bool> writable_sequences_;
  std::unique_ptr<bool[]> writable_inputs_;
  // Non-sequences the body reads as host values: (inner input, outer host
  // slot), and their values per inner input.
  std::vector<std::pair<int, int32_t>> host_inputs_;
  std::vector<HostValue> host_values_;
  std::vector<void*> ext_out_;
  // Initial states not laid out contiguously are copied each run into a
  // contiguous buffer of the launch.
  struct InitCopy {
    int array;        // arrays_ index (now describing the copy)
    ArrayRef source;  // the node input as planned
    backends::Buffer buffer;
  };
  std::vector<InitCopy> init_copies_;
  // Outputs that store their initial rows: the initial value's first m rows
  // are copied into the array's first m rows on each run.
  struct InitialRows {
    int init;    // arrays_ index of the initial value
    int output;  // arrays_ index of the output
    Dims shape;  // m rows of one step's shape
  };
  std::vector<InitialRows> initial_rows_;
  // kLast outputs alternate between two buffers until the last step.
  std::vector<std::array<backends::Buffer, 2>> ping_pong_;
  std::vector<backends::Buffer> scratch_rows_;
  backends::Buffer until_;
  uint8_t until_host_[8] = {};
  int64_t until_bytes_ = 0;
  int64_t steps_run_ = 0;
  // Loops with until: per output with rows, a buffer for all N steps.
  struct UntilRows {
    int array;
    int64_t planned_rows;
    int64_t row_bytes;
    backends::Buffer buffer;
    void* planned_base;  // the planned output, in the current run
  };
  std::vector<UntilRows> until_rows_;
};

absl::Status ScanLaunch::Prepare(LaunchContext& ctx) {
  const ScanSpec& s = op_.spec();
  n_ = ctx.input_values[0]->AsInt(0);
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    AddArray(ctx.inputs[i]);  // arrays_[i] is node input i
  }
  const int first_output_array = static_cast<int>(arrays_.size());
  for (const ArrayRef& out : ctx.outputs) AddArray(out);

  // Initial states must be row-contiguous: steps read them like the
  // output rows. Others are copied into contiguous buffers.
  for (size_t o = 0; o < s.outputs.size(); ++o) {
    const int init = s.initial_input_of_output(static_cast<int>(o));
    if (init < 0 || arrays_[init].contiguous()) continue;
    absl::StatusOr<backends::Buffer> copy =
        ctx.backend.Allocate(arrays_[init].nbytes());
    if (!copy.ok()) return copy.status();
    init_copies_.push_back({init, arrays_[init], *std::move(copy)});
    arrays_[init].strides = ContiguousStrides(arrays_[init].shape);
  }

  int inner = 0;
  for (size_t i = 0; i < s.sequences.size(); ++i) {
    const ScanSequence& seq = s.sequences[i];
    const ArrayRef& a = arrays_[1 + i];
    const int64_t allowed = a.shape[0] - (seq.hi() - seq.lo());
    for (int tap : seq.taps) {
      InputSource src{InputSource::kSequence, static_cast<int>(1 + i)};
      // Forward: positions 0..N-1; backwards: the last N usable positions
      // from the end. Taps keep their meaning in the original index.
      if (seq.backwards) {
        src.row0 = (allowed - 1) + tap - seq.lo();
        src.step = -1;
      } else {
        src.row0 = tap - seq.lo();
        src.step = 1;
      }
      inputs_.push_back(src);
      writable_sequences_.push_back(seq.taps.size() == 1 &&
                                    !ctx.inputs_dying.empty() &&
                                    ctx.inputs_dying[1 + i]);
      inner_shapes_.push_back(Dims());
      inner_strides_.push_back(Dims());
      for (int d = 1; d < a.shape.size(); ++d) {
        inner_shapes_.back().push_back(a.shape[d]);
        inner_strides_.back().push_back(a.strides[d]);
      }
      ++inner;
    }
  }
  for (size_t o = 0; o < s.outputs.size(); ++o) {
    const ScanOutput& out = s.outputs[o];
    const int init = s.initial_input_of_output(static_cast<int>(o));
    if (init < 0) continue;
    const ArrayRef& a = arrays_[init];
    for (int tap : out.taps) {
      InputSource src{out.kind == ScanOutputKind::kLast
                          ? InputSource::kLastState
                          : InputSource::kTap,
                      first_output_array + static_cast<int>(o), init};
      src.tap = tap;
      src.m = out.m();
      src.rows_before = out.rows_before_steps();
      src.output = static_cast<int>(o);
      inputs_.push_back(src);
      Dims row = out.kind == ScanOutputKind::kLast ? a.shape : Dims();
      if (out.kind != ScanOutputKind::kLast) {
        for (int d = 1; d < a.shape.size(); ++d) row.push_back(a.shape[d]);
      }
      inner_shapes_.push_back(row);
      inner_strides_.push_back(ContiguousStrides(row));
      ++inner;
    }
  }
  host_values_.assign(s.inner_inputs.size(), HostValue{});
  for (int j = 0; j < s.num_non_sequences; ++j) {
    const int index = s.first_non_sequence_input() + j;
    inputs_.push_back(InputSource{InputSource::kNonSequence, index});
    if (op_.ConsumesHostValue(ctx.node, index)) {
      // A shape-like value the body reads on the host.
      host_inputs_.push_back({inner, ctx.input_host_slots[index]});
      host_values_[inner] = *ctx.input_values[index];
      inner_shapes_.push_back(ctx.input_values[index]->shape);
      inner_strides_.push_back(
          ContiguousStrides(ctx.input_values[index]->shape));
    } else {
      inner_shapes_.push_back(arrays_[index].shape);
      inner_strides_.push_back(arrays_[index].strides);
    }
    ++inner;
  }
  THETA_RETURN_IF_ERROR(PrepareOutputs(ctx, first_output_array));
  if (s.has_until) {
    THETA_RETURN_IF_ERROR(PrepareEarlyStop(ctx));
  }
  base_.assign(arrays_.size(), nullptr);
  row_bytes_.assign(arrays_.size(), 0);
  for (size_t a = 0; a < arrays_.size(); ++a) {
    if (arrays_[a].shape.size() > 0) {
      row_bytes_[a] = arrays_[a].strides[0] *
                      static_cast<int64_t>(DTypeSize(arrays_[a].dtype));
    }
  }
  ext_in_.assign(inputs_.size(), nullptr);
  fixed_inputs_ = std::make_unique<bool[]>(inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) {
    fixed_inputs_[i] = inputs_[i].kind == InputSource::kNonSequence;
  }
  for (const auto& [inner, slot] : host_inputs_) fixed_inputs_[inner] = false;
  writable_inputs_ = std::make_unique<bool[]>(inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) {
    writable_inputs_[i] =
        i < writable_sequences_.size() && writable_sequences_[i];
  }
  ext_out_.assign(outputs_.size(), nullptr);
  // Plan the body now, so that shape errors surface when planning.
  return GetBodyPlan().status();
}

// Where each step writes each output (see OutputTarget).
absl::Status ScanLaunch::PrepareOutputs(LaunchContext& ctx,
                                        int first_output_array) {
  const ScanSpec& s = op_.spec();
  ping_pong_.resize(s.outputs.size());
  for (size_t o = 0; o < s.outputs.size(); ++o) {
    const ScanOutput& out = s.outputs[o];
    const int array = first_output_array + static_cast<int>(o);
    if (out.kind == ScanOutputKind::kLast) {
      for (auto& buffer : ping_pong_[o]) {
        absl::StatusOr<backends::Buffer> b =
            ctx.backend.Allocate(arrays_[array].nbytes());
        if (!b.ok()) return b.status();
        buffer = *std::move(b);
      }
      outputs_.push_back({OutputTarget::kLast, array, static_cast<int>(o)});
    } else if (out.kind == ScanOutputKind::kMap && !s.has_until &&
               o < ctx.outputs_unread.size() && ctx.outputs_unread[o]) {
      const ArrayRef& a = arrays_[array];
      const int64_t rows =
          a.shape.size() > 0 ? std::max<int64_t>(a.shape[0], 1) : 1;
      absl::StatusOr<backends::Buffer> b = ctx.backend.Allocate(
          static_cast<uint64_t>(std::max<int64_t>(a.nbytes() / rows, 1)));
      if (!b.ok()) return b.status();
      scratch_rows_.push_back(*std::move(b));
      outputs_.push_back({OutputTarget::kScratch, array, static_cast<int>(o),
                          static_cast<int>(scratch_rows_.size()) - 1});
    } else {
      outputs_.push_back({out.reverse_storage ? OutputTarget::kReversedRow
                                              : OutputTarget::kRow,
                          array, static_cast<int>(o)});
      outputs_.back().rows_before = out.rows_before_steps();
      if (out.stores_initial_rows) {
        if (s.has_until) {
          return absl::InternalError(
              "scan: a loop that may stop early cannot store initial rows");
        }
        const int init = s.initial_input_of_output(static_cast<int>(o));
        Dims rows = arrays_[init].shape;
        rows[0] = out.m();
        initial_rows_.push_back({init, array, rows});
      }
    }
  }
  return absl::OkStatus();
}

// Steps may end early: rows go to buffers for all N steps, and the rows
// that ran are copied to the outputs planned for them.
absl::Status ScanLaunch::PrepareEarlyStop(LaunchContext& ctx) {
  const ScanSpec& s = op_.spec();
  for (const OutputTarget& t : outputs_) {
    if (t.kind == OutputTarget::kLast) continue;
    const ArrayRef& out = arrays_[t.array];
    const int64_t row = out.numel() / std::max<int64_t>(out.shape[0], 1) *
                        static_cast<int64_t>(DTypeSize(out.dtype));
    absl::StatusOr<backends::Buffer> b = ctx.backend.Allocate(
        static_cast<uint64_t>(std::max<int64_t>(n_, 1) * row));
    if (!b.ok()) return b.status();
    until_rows_.push_back({t.array, out.shape[0], row, *std::move(b), nullptr});
  }
  const Var& cond = s.inner_outputs.back();
  until_bytes_ = static_cast<int64_t>(DTypeSize(cond.dtype()));
  absl::StatusOr<backends::Buffer> b = ctx.backend.Allocate(until_bytes_);
  if (!b.ok()) return b.status();
  until_ = *std::move(b);
  outputs_.push_back({OutputTarget::kUntil});
  return absl::OkStatus();
}

absl::Status ScanLaunch::Run(const ExecContext& ctx) {
  const ScanSpec& s = op_.spec();
  for (const auto& [inner, slot] : host_inputs_)
    host_values_[inner] = ctx.host_values[slot];
  absl::StatusOr<Plan*> plan_or = GetBodyPlan();
  if (!plan_or.ok()) return plan_or.status();
  Plan& plan = **plan_or;
  for (size_t a = 0; a < arrays_.size(); ++a) {
    base_[a] = arrays_[a].slot >= 0 ? arrays_[a].Address(ctx.slots) : nullptr;
  }
  for (InitCopy& copy : init_copies_) {
    const ArrayRef& a = arrays_[copy.array];
    theta_copy_args args;
    args.struct_size = sizeof(args);
    args.source = copy.source.ToAbi(ctx.slots);
    args.destination =
        theta_array{copy.buffer.data(), ToAbi(a.dtype), a.shape.size(),
                    a.shape.data(), a.strides.data()};
    THETA_RETURN_IF_ERROR(ctx.backend->Check(
        ctx.backend->api().copy(ctx.backend->stream(), &args), "copy"));
    base_[copy.array] = copy.buffer.data();
  }
  for (const InitialRows& r : initial_rows_) {
    const ArrayRef& from = arrays_[r.init];
    const ArrayRef& to = arrays_[r.output];
    theta_copy_args args;
    args.struct_size = sizeof(args);
    args.source = theta_array{base_[r.init], ToAbi(from.dtype), r.shape.size(),
                              r.shape.data(), from.strides.data()};
    args.destination =
        theta_array{base_[r.output], ToAbi(to.dtype), r.shape.size(),
                    r.shape.data(), to.strides.data()};
    THETA_RETURN_IF_ERROR(ctx.backend->Check(
        ctx.backend->api().copy(ctx.backend->stream(), &args), "copy"));
  }
  for (UntilRows& r : until_rows_) {
    r.planned_base = base_[r.array];
    base_[r.array] = r.buffer.data();
  }
  steps_run_ = n_;
  if (n_ == 0) {
    // No steps: final states are the initial ones.
    for (const OutputTarget& t : outputs_) {
      if (t.kind != OutputTarget::kLast) continue;
      const int init = s.initial_input_of_output(t.output);
      THETA_RETURN_IF_ERROR(ctx.backend->CopyWithinDevice(
          base_[t.array], base_[init], arrays_[t.array].nbytes()));
    }
    return absl::OkStatus();
  }
  // Non-sequences stay where they are for every step: the body prepares
  // what it reads only from them (its GEMMs' weights) once.
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (inputs_[i].kind == InputSource::kNonSequence) {
      ext_in_[i] = base_[inputs_[i].array];
    }
  }
  absl::Cleanup end_fixed = [&] { body_->EndFixedInputs(plan); };
  THETA_RETURN_IF_ERROR(body_->BeginFixedInputs(
      plan, ext_in_,
      std::span<const bool>(fixed_inputs_.get(), inputs_.size())));
  for (int64_t u = 0; u < n_; ++u) {
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const InputSource& src = inputs_[i];
      char* base = static_cast<char*>(base_[src.array]);
      switch (src.kind) {
        case InputSource::kSequence:
          ext_in_[i] = base + (src.row0 + src.step * u) * row_bytes_[src.array];
          break;
        case InputSource::kTap: {
          const int64_t q = src.rows_before + u + src.tap;
          ext_in_[i] = q >= 0 ? base + q * row_bytes_[src.array]
                              : static_cast<char*>(base_[src.init]) +
                                    (src.m + q) * row_bytes_[src.init];
          break;
        }
        case InputSource::kLastState:
          ext_in_[i] = u == 0 ? base_[src.init]
                              : ping_pong_[src.output][(u - 1) % 2].data();
          break;
        case InputSource::kNonSequence:
          ext_in_[i] = base;
          break;
      }
    }
    for (size_t o = 0; o < outputs_.size(); ++o) {
      const OutputTarget& t = outputs_[o];
      switch (t.kind) {
        case OutputTarget::kRow:
          ext_out_[o] = static_cast<char*>(base_[t.array]) +
                        (t.rows_before + u) * row_bytes_[t.array];
          break;
        case OutputTarget::kReversedRow:
          ext_out_[o] = static_cast<char*>(base_[t.array]) +
                        (n_ - 1 - u) * row_bytes_[t.array];
          break;
        case OutputTarget::kLast:
          ext_out_[o] =
              u == n_ - 1 ? base_[t.array] : ping_pong_[t.output][u % 2].data();
          break;
        case OutputTarget::kUntil:
          ext_out_[o] = until_.data();
          break;
        case OutputTarget::kScratch:
          ext_out_[o] = scratch_rows_[t.scratch].data();
          break;
      }
    }
    absl::Status st = body_->Run(plan, {}, ext_in_, ext_out_, host_values_);
    if (!st.ok()) [[unlikely]] {
      return absl::Status(st.code(),
                          absl::StrCat("scan built at ", s.source.FileLine(),
                                       ", step ", u, ": ", st.message()));
    }
    if (s.has_until) {
      if (absl::Status c =
              ctx.backend->CopyToHost(until_host_, until_.data(), until_bytes_);
          !c.ok()) {
        return c;
      }
      THETA_RETURN_IF_ERROR(ctx.backend->Synchronize());
      bool stop = false;
      for (int64_t b = 0; b < until_bytes_; ++b) stop |= until_host_[b] != 0;
      if (stop && u + 1 < n_) {
        steps_run_ = u + 1;
        break;
      }
    }
  }
  if (s.has_until) return FinishEarlyStop(ctx);
  return absl::OkStatus();
}

absl::Status ScanLaunch::FinishEarlyStop(const ExecContext& ctx) {
  const ScanSpec& s = op_.spec();
  for (const UntilRows& r : until_rows_) {
    if (r.planned_rows == steps_run_) continue;
    return ReportRows(
        steps_run_,
        absl::UnimplementedError(absl::StrCat(
            "scan built at ", s.source.FileLine(),
            ": a loop that stops early (until) inside another loop's body is "
            "not supported")));
  }
  for (const UntilRows& r : until_rows_) {
    THETA_RETURN_IF_ERROR(ctx.backend->CopyWithinDevice(
        r.planned_base, r.buffer.data(), steps_run_ * r.row_bytes));
  }
  // States kept at their end: after an early stop the last one is in the
  // ping-pong buffers.
  if (steps_run_ > 0 && steps_run_ < n_) {
    for (const OutputTarget& t : outputs_) {
      if (t.kind != OutputTarget::kLast) continue;
      THETA_RETURN_IF_ERROR(ctx.backend->CopyWithinDevice(
          base_[t.array], ping_pong_[t.output][(steps_run_ - 1) % 2].data(),
          arrays_[t.array].nbytes()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Launch>> Scan::MakeLaunch(
    LaunchContext& ctx) const {
  absl::StatusOr<Executable*> body = Body(ctx.backend, ctx.nan_guard);
  if (!body.ok()) return body.status();
  auto launch = std::make_unique<ScanLaunch>(*this, *body);
  THETA_RETURN_IF_ERROR(launch->Prepare(ctx));
  return std::unique_ptr<Launch>(std::move(launch));
}

}  // namespace theta
