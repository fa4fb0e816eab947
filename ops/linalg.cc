#include "ops/linalg.h"

#include <algorithm>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "backends/kernel_args.h"
#include "base/status_macros.h"
#include "graph/launches.h"
#include "ops/elementwise.h"
#include "ops/elementwise_op.h"
#include "ops/grad_util.h"
#include "ops/linalg_ops.h"
#include "ops/shape.h"

namespace theta {
namespace {

absl::Status InvalidArg(const std::string& m) {
  return absl::InvalidArgumentError(m);
}

// How a (rows x cols) matrix view with strides (s0, s1) is passed to a
// row-major GEMM: as stored (ld = row stride) or as a transpose (ld = column
// stride). Neither: it must be copied.
struct MatrixLayout {
  bool ok = false;
  bool transposed = false;
  int64_t ld = 1;
};

MatrixLayout LayoutOf(int64_t rows, int64_t cols, int64_t s0, int64_t s1) {
  MatrixLayout l;
  if (cols == 1 || s1 == 1) {
    l.ok = true;
    l.ld = std::max<int64_t>(rows == 1 ? cols : s0, std::max<int64_t>(cols, 1));
    if (rows > 1 && s0 < cols) l.ok = false;
    if (l.ok) return l;
  }
  if (rows == 1 || s0 == 1) {
    l.ok = true;
    l.transposed = true;
    l.ld = std::max<int64_t>(cols == 1 ? rows : s1, std::max<int64_t>(rows, 1));
    if (cols > 1 && s1 < rows) l.ok = false;
    return l;
  }
  return l;
}

class GemmLaunch : public Launch {
 public:
  static absl::StatusOr<std::unique_ptr<Launch>> Create(LaunchContext& ctx,
                                                        double alpha,
                                                        double beta,
                                                        bool has_bias) {
    auto launch = std::unique_ptr<GemmLaunch>(new GemmLaunch());
    const ArrayRef& out = ctx.outputs[0];
    const bool batched = out.shape.size() == 3;
    const int o = batched ? 1 : 0;
    ArrayRef a = ctx.inputs[0];
    ArrayRef b = ctx.inputs[1];
    const int64_t m = out.shape[o], n = out.shape[o + 1];
    const int64_t k = a.shape[o + 1];
    // Operands GEMM cannot read in place are copied to scratch first.
    // Returns the scratch index x was copied to, or -1.
    auto prepare = [&](ArrayRef& x,
                       MatrixLayout& layout) -> absl::StatusOr<int> {
      layout =
          LayoutOf(x.shape[o], x.shape[o + 1], x.strides[o], x.strides[o + 1]);
      if (layout.ok) return -1;
      absl::StatusOr<backends::Buffer> scratch =
          ctx.backend.Allocate(x.nbytes());
      if (!scratch.ok()) return scratch.status();
      const int index = static_cast<int>(launch->scratch_.size());
      launch->scratch_.push_back(*std::move(scratch));
      ArrayRef contiguous = MakeContiguousRef(-1, 0, x.dtype, x.shape);
      launch->pre_copies_.push_back({x, contiguous});
      x = contiguous;
      layout =
          LayoutOf(x.shape[o], x.shape[o + 1], x.strides[o], x.strides[o + 1]);
      return index;
    };
    MatrixLayout la, lb;
    absl::StatusOr<int> sa = prepare(a, la);
    if (!sa.ok()) return sa.status();
    absl::StatusOr<int> sb = prepare(b, lb);
    if (!sb.ok()) return sb.status();
    launch->a_scratch_ = *sa;
    launch->b_scratch_ = *sb;
    launch->a_ = a;
    launch->b_ = b;
    launch->out_ = out;
    if (has_bias) {
      const ArrayRef& c = ctx.inputs[2];
      if (!(c.slot == out.slot && c.byte_offset == out.byte_offset &&
            c.shape == out.shape)) {
        // Broadcast the bias into the output; GEMM then accumulates.
        ArrayRef src = out;
        src.slot = c.slot;
        src.byte_offset = c.byte_offset;
        const int offset = out.shape.size() - c.shape.size();
        for (int d = 0; d < out.shape.size(); ++d) {
          const int cd = d - offset;
          src.strides[d] = (cd < 0 || c.shape[cd] == 1) ? 0 : c.strides[cd];
        }
        launch->bias_copy_ = MakeCopyLaunch(src, out);
      }
    }
    theta_gemm_args& g = launch->args_;
    g.struct_size = sizeof(g);
    g.dtype = ToAbi(out.dtype);
    g.trans_a = la.transposed;
    g.trans_b = lb.transposed;
    g.m = m;
    g.n = n;
    g.k = k;
    g.alpha = alpha;
    g.beta = has_bias ? beta : 0.0;
    g.lda = la.ld;
    g.ldb = lb.ld;
    g.ldc = std::max<int64_t>(n, 1);
    g.batch = batched ? out.shape[0] : 1;
    g.stride_a = batched ? a.strides[0] : 0;
    g.stride_b = batched ? b.strides[0] : 0;
    g.stride_c = batched ? out.strides[0] : 0;
    return std::unique_ptr<Launch>(std::move(launch));
  }

  absl::Status Run(const ExecContext& ctx) override {
    // Scratch arrays use the launch's own buffers as their "slots".
    for (size_t i = 0; i < pre_copies_.size(); ++i) {
      const ArrayRef& src = pre_copies_[i].first;
      const ArrayRef& dst = pre_copies_[i].second;
      void* scratch = scratch_[i].data();
      if (src.contiguous()) {
        THETA_RETURN_IF_ERROR(ctx.backend->CopyWithinDevice(
            scratch, src.Address(ctx.slots), src.nbytes()));
        continue;
      }
      theta_copy_args copy;
      copy.struct_size = sizeof(copy);
      copy.source = src.ToAbi(ctx.slots);
      copy.destination =
          theta_array{scratch, ToAbi(dst.dtype), dst.shape.size(),
                      dst.shape.data(), dst.strides.data()};
      THETA_RETURN_IF_ERROR(ctx.backend->Check(
          ctx.backend->api().copy(ctx.backend->stream(), &copy), "copy"));
    }
    if (bias_copy_) {
      THETA_RETURN_IF_ERROR(bias_copy_->Run(ctx));
    }
    args_.a =
        a_scratch_ >= 0 ? scratch_[a_scratch_].data() : a_.Address(ctx.slots);
    args_.b =
        b_scratch_ >= 0 ? scratch_[b_scratch_].data() : b_.Address(ctx.slots);
    args_.c = out_.Address(ctx.slots);
    return ctx.backend->Check(
        ctx.backend->api().gemm(ctx.backend->stream(), &args_), "gemm");
  }

  // B read in place from a fixed slot (a loop's weights) is prepared once
  // for all the loop's products; B copied to scratch per run is not.
  absl::Status PrepareFixedOperands(
      const ExecContext& ctx, std::span<const bool> fixed_slots) override {
    if (b_scratch_ >= 0 || b_.slot < 0 || !fixed_slots[b_.slot] ||
        args_.k == 0 || args_.n == 0 ||
        (args_.batch > 1 && args_.stride_b != 0)) {
      return absl::OkStatus();
    }
    theta_gemm_prepare_args p = backends::GemmPrepareArgsFor(args_);
    p.data = b_.Address(ctx.slots);  // args_.b is set per run
    THETA_RETURN_IF_ERROR(ctx.backend->PrepareGemmOperand(p, &prepared_b_));
    args_.prepared_b = prepared_b_;
    return absl::OkStatus();
  }

  void ReleaseFixedOperands(const ExecContext& ctx) override {
    ctx.backend->FreeGemmOperand(prepared_b_);
    prepared_b_ = nullptr;
    args_.prepared_b = nullptr;
  }

 private:
  ArrayRef a_, b_, out_;
  int a_scratch_ = -1;  // index into scratch_ when A was copied, else -1
  int b_scratch_ = -1;
  // Copies of operands GEMM cannot read as they are; scratch_[i] holds the
  // destination of pre_copies_[i].
  std::vector<backends::Buffer> scratch_;
  std::vector<std::pair<ArrayRef, ArrayRef>> pre_copies_;
  std::unique_ptr<Launch> bias_copy_;
  // B prepared for a loop's runs (PrepareFixedOperands), or null.
  theta_gemm_operand* prepared_b_ = nullptr;
  theta_gemm_args args_{};
};

}  // namespace

std::string Gemm::name() const {
  if (!has_bias_ && alpha_ == 1.0) return "Dot";
  return absl::StrCat("Gemm{alpha=", alpha_,
                      has_bias_ ? absl::StrCat(",beta=", beta_) : "", "}");
}

bool Gemm::Equals(const Op& other) const {
  const Gemm* o = dynamic_cast<const Gemm*>(&other);
  return o != nullptr && o->alpha_ == alpha_ && o->beta_ == beta_ &&
         o->has_bias_ == has_bias_;
}

absl::StatusOr<std::vector<TensorType>> Gemm::OutputTypes(
    std::span<const Var> inputs) const {
  const TensorType& a = inputs[0].type();
  const TensorType& b = inputs[1].type();
  if (a.ndim() != b.ndim() || (a.ndim() != 2 && a.ndim() != 3)) {
    return InvalidArg(
        absl::StrCat("operands must both be matrices or batches of "
                     "matrices, got ",
                     a.ToString(), " and ", b.ToString()));
  }
  if (a.dtype() != b.dtype() || !IsFloat(a.dtype())) {
    return InvalidArg(absl::StrCat("operands must share a float dtype, got ",
                                   a.ToString(), " and ", b.ToString()));
  }
  const int o = a.ndim() == 3 ? 1 : 0;
  const int64_t ka = a.dim(o + 1), kb = b.dim(o);
  if (ka != kUnknownDim && kb != kUnknownDim && ka != kb) {
    return InvalidArg(absl::StrCat("inner dimensions differ: ", a.ToString(),
                                   " x ", b.ToString()));
  }
  Dims shape;
  if (o == 1) {
    shape.push_back(a.dim(0) != kUnknownDim ? a.dim(0) : b.dim(0));
  }
  shape.push_back(a.dim(o));
  shape.push_back(b.dim(o + 1));
  if (has_bias_) {
    const TensorType& c = inputs[2].type();
    if (c.dtype() != a.dtype() || c.ndim() > shape.size()) {
      return InvalidArg(
          absl::StrCat("bias ", c.ToString(), " does not fit the product"));
    }
  }
  return std::vector<TensorType>{TensorType(a.dtype(), shape)};
}

absl::Status Gemm::InferShapes(ShapeContext& ctx) const {
  const Dims& a = ctx.input_shapes[0];
  const Dims& b = ctx.input_shapes[1];
  const int o = a.size() == 3 ? 1 : 0;
  if (a[o + 1] != b[o] || (o == 1 && a[0] != b[0])) {
    return InvalidArg(absl::StrCat("shapes ", a.ToString(), " and ",
                                   b.ToString(), " are not aligned"));
  }
  Dims out;
  if (o == 1) out.push_back(a[0]);
  out.push_back(a[o]);
  out.push_back(b[o + 1]);
  if (has_bias_) {
    const Dims& c = ctx.input_shapes[2];
    const int offset = out.size() - c.size();
    for (int d = 0; d < c.size(); ++d) {
      if (c[d] != 1 && c[d] != out[d + offset]) {
        return InvalidArg(absl::StrCat("bias of shape ", c.ToString(),
                                       " does not broadcast to ",
                                       out.ToString()));
      }
    }
  }
  ctx.output_shapes[0] = out;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> Gemm::MakeLaunch(
    LaunchContext& ctx) const {
  return GemmLaunch::Create(ctx, alpha_, beta_, has_bias_);
}

namespace {

Var SwapLastTwo(const Var& x) {
  std::vector<int> pattern;
  for (int d = 0; d < x.ndim() - 2; ++d) pattern.push_back(d);
  pattern.push_back(x.ndim() - 1);
  pattern.push_back(x.ndim() - 2);
  return dimshuffle(x, pattern);
}

}  // namespace

std::vector<Var> Gemm::Grad(Node& node,
                            std::span<const Var> output_grads) const {
  std::vector<Var> grads(node.num_inputs());
  const Var& gz = output_grads[0];
  if (!gz.defined()) return grads;
  const std::source_location loc = std::source_location::current();
  Var a = node.input(0), b = node.input(1);
  grads[0] = MakeGemm(gz, SwapLastTwo(b), Var(), alpha_, 0.0, loc);
  grads[1] = MakeGemm(SwapLastTwo(a), gz, Var(), alpha_, 0.0, loc);
  if (has_bias_) {
    Var gc = beta_ == 1.0 ? gz : gz * beta_;
    grads[2] = SumToBroadcast(gc, node.input(2).type());
  }
  return grads;
}

const Gemm* AsGemm(const Node* node) {
  // Gemm is final: a type comparison is enough (and cheaper).
  return node != nullptr && node->op_type() == typeid(Gemm)
             ? static_cast<const Gemm*>(&node->op())
             : nullptr;
}

Var MakeGemm(const Var& a, const Var& b, const Var& c, double alpha,
             double beta, std::source_location loc) {
  std::vector<Var> inputs = {a, b};
  if (c.defined()) inputs.push_back(c);
  return ApplyOp1(std::make_shared<Gemm>(alpha, beta, c.defined()),
                  std::move(inputs), loc);
}

// ------------------------------------------------------------------ builders

namespace {

Var Promote(const Var& v, DType dtype, std::source_location loc) {
  return v.dtype() == dtype ? v : cast(v, dtype, loc);
}

}  // namespace

Var dot(const Var& a_in, const Var& b_in, std::source_location loc) {
  DType dtype = Upcast(a_in.dtype(), b_in.dtype());
  if (!IsFloat(dtype)) {
    ThrowAt(MakeSourceInfo(loc),
            absl::StrCat("dot: integer operands are not supported (",
                         a_in.type().ToString(), " x ", b_in.type().ToString(),
                         "); cast them to a float type"));
  }
  Var a = Promote(a_in, dtype, loc), b = Promote(b_in, dtype, loc);
  if (a.ndim() == 0 || b.ndim() == 0)
    return mul(Operand(a, loc), Operand(b, loc));
  if (b.ndim() > 2) return tensordot(a, b, {a.ndim() - 1}, {b.ndim() - 2}, loc);
  if (a.ndim() == 1 && b.ndim() == 1) {
    Var r = MakeGemm(dimshuffle(a, {kNewAxis, 0}, loc),
                     dimshuffle(b, {0, kNewAxis}, loc), Var(), 1.0, 0.0, loc);
    return dimshuffle(r, {}, loc);
  }
  if (a.ndim() == 2 && b.ndim() == 1) {
    Var r =
        MakeGemm(a, dimshuffle(b, {0, kNewAxis}, loc), Var(), 1.0, 0.0, loc);
    return dimshuffle(r, {0}, loc);
  }
  if (a.ndim() == 1 && b.ndim() == 2) {
    Var r =
        MakeGemm(dimshuffle(a, {kNewAxis, 0}, loc), b, Var(), 1.0, 0.0, loc);
    return dimshuffle(r, {1}, loc);
  }
  if (a.ndim() == 2) return MakeGemm(a, b, Var(), 1.0, 0.0, loc);
  // N-D x 1-D/2-D: merge a's leading axes.
  std::vector<DimArg> rows;
  for (int d = 0; d < a.ndim() - 1; ++d) rows.push_back(shape_i(a, d, loc));
  Var a2 = reshape(a, {-1, shape_i(a, a.ndim() - 1, loc)}, loc);
  Var b2 = b.ndim() == 1 ? dimshuffle(b, {0, kNewAxis}, loc) : b;
  Var r = MakeGemm(a2, b2, Var(), 1.0, 0.0, loc);
  if (b.ndim() == 2) rows.push_back(shape_i(b, 1, loc));
  return reshape(r, rows, loc);
}

Var batched_dot(const Var& a_in, const Var& b_in, std::source_location loc) {
  if (a_in.ndim() != 3 || b_in.ndim() != 3) {
    ThrowAt(
        MakeSourceInfo(loc),
        absl::StrCat("batched_dot: operands must have rank 3, got ",
                     a_in.type().ToString(), " and ", b_in.type().ToString()));
  }
  DType dtype = Upcast(a_in.dtype(), b_in.dtype());
  return MakeGemm(Promote(a_in, dtype, loc), Promote(b_in, dtype, loc), Var(),
                  1.0, 0.0, loc);
}

Var matmul(const Var& a, const Var& b, std::source_location loc) {
  if (a.ndim() == 3 && b.ndim() == 3) return batched_dot(a, b, loc);
  if (a.ndim() <= 2 && b.ndim() <= 2) return dot(a, b, loc);
  if (a.ndim() == 3 && b.ndim() == 2) return dot(a, b, loc);
  ThrowAt(MakeSourceInfo(loc), absl::StrCat("matmul: unsupported ranks ",
                                            a.ndim(), " and ", b.ndim()));
}

Var outer(const Var& a, const Var& b, std::source_location loc) {
  if (a.ndim() != 1 || b.ndim() != 1) {
    ThrowAt(MakeSourceInfo(loc), "outer: operands must be vectors");
  }
  return mul(Operand(dimshuffle(a, {0, kNewAxis}, loc), loc),
             Operand(dimshuffle(b, {kNewAxis, 0}, loc), loc));
}

Var tensordot(const Var& a, const Var& b, std::vector<int> a_axes,
              std::vector<int> b_axes, std::source_location loc) {
  if (a_axes.size() != b_axes.size()) {
    ThrowAt(MakeSourceInfo(loc), "tensordot: axis lists differ in length");
  }
  for (int& x : a_axes) x = x < 0 ? x + a.ndim() : x;
  for (int& x : b_axes) x = x < 0 ? x + b.ndim() : x;
  std::vector<int> a_free, b_free;
  for (int d = 0; d < a.ndim(); ++d) {
    if (std::find(a_axes.begin(), a_axes.end(), d) == a_axes.end())
      a_free.push_back(d);
  }
  for (int d = 0; d < b.ndim(); ++d) {
    if (std::find(b_axes.begin(), b_axes.end(), d) == b_axes.end())
      b_free.push_back(d);
  }
  std::vector<int> a_perm = a_free, b_perm = b_axes;
  a_perm.insert(a_perm.end(), a_axes.begin(), a_axes.end());
  b_perm.insert(b_perm.end(), b_free.begin(), b_free.end());
  Var at = transpose(a, a_perm, loc);
  Var bt = transpose(b, b_perm, loc);
  Var a2 = reshape(at,
                   {-1,
                    [&] {
                      Var k = constant(1, DType::kInt64, loc);
                      for (int x : a_axes) k = k * shape_i(a, x, loc);
                      return k;
                    }()},
                   loc);
  Var b2 = reshape(bt,
                   {[&] {
                      Var k = constant(1, DType::kInt64, loc);
                      for (int x : b_axes) k = k * shape_i(b, x, loc);
                      return k;
                    }(),
                    -1},
                   loc);
  Var r = dot(a2, b2, loc);
  std::vector<DimArg> out;
  for (int d : a_free) out.push_back(shape_i(a, d, loc));
  for (int d : b_free) out.push_back(shape_i(b, d, loc));
  return reshape(r, out, loc);
}

Var tensordot(const Var& a, const Var& b, int axes, std::source_location loc) {
  std::vector<int> a_axes, b_axes;
  for (int i = 0; i < axes; ++i) {
    a_axes.push_back(a.ndim() - axes + i);
    b_axes.push_back(i);
  }
  return tensordot(a, b, a_axes, b_axes, loc);
}

}  // namespace theta
