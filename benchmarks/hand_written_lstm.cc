#include "benchmarks/hand_written_lstm.h"

namespace theta::bench {
namespace {

// Register numbers of the programs below.
enum : uint16_t { r0, r1, r2, r3, r4, r5, r6 };

constexpr theta_ew_instr Load(uint16_t dst, uint16_t input) {
  return {THETA_EW_LOAD, dst, input, 0, 0};
}
constexpr theta_ew_instr Store(uint16_t output, uint16_t src) {
  return {THETA_EW_STORE, output, src, 0, 0};
}
constexpr theta_ew_instr Param(uint16_t dst, uint16_t param) {
  return {THETA_EW_PARAM, dst, param, 0, 0};
}
constexpr theta_ew_instr Op(theta_ew_opcode op, uint16_t dst, uint16_t a,
                            uint16_t b = 0) {
  return {static_cast<uint16_t>(op), dst, a, b, 0};
}

// One step's gates. Inputs: the pre-activations of the input, forget and
// output gates and of the cell candidate (z_i, z_f, z_o, z_g), their biases
// (same order), c_{t-1}. Outputs: the activations i, f, o, g (in place over
// the pre-activations), c_t = f c_{t-1} + i g, h_t = o tanh(c_t).
constexpr theta_ew_instr kGates[] = {
    Load(r0, 0),
    Load(r1, 4),
    Op(THETA_EW_ADD, r0, r0, r1),
    Op(THETA_EW_SIGMOID, r0, r0),
    Store(0, r0),  // i
    Load(r1, 1),
    Load(r2, 5),
    Op(THETA_EW_ADD, r1, r1, r2),
    Op(THETA_EW_SIGMOID, r1, r1),
    Store(1, r1),  // f
    Load(r2, 2),
    Load(r3, 6),
    Op(THETA_EW_ADD, r2, r2, r3),
    Op(THETA_EW_SIGMOID, r2, r2),
    Store(2, r2),  // o
    Load(r3, 3),
    Load(r4, 7),
    Op(THETA_EW_ADD, r3, r3, r4),
    Op(THETA_EW_TANH, r3, r3),
    Store(3, r3),  // g
    Load(r4, 8),
    Op(THETA_EW_MUL, r4, r1, r4),
    Op(THETA_EW_MUL, r5, r0, r3),
    Op(THETA_EW_ADD, r4, r4, r5),
    Store(4, r4),  // c_t
    Op(THETA_EW_TANH, r4, r4),
    Op(THETA_EW_MUL, r4, r2, r4),
    Store(5, r4),  // h_t
};

// One step's gate gradients. Inputs: dh_t (from the head and from step
// t+1), dc (from step t+1), the activations i, f, o, g, c_t, c_{t-1}; param
// 0 is 1. Outputs: the pre-activation gradients of i, f, o, g, and dc for
// step t-1 (in place over the input dc):
//   dc' = dc + dh o (1 - tanh(c_t)^2)
//   d z_o = dh tanh(c_t) o (1 - o)     d z_i = dc' g i (1 - i)
//   d z_g = dc' i (1 - g^2)            d z_f = dc' c_{t-1} f (1 - f)
//   dc for step t-1 = dc' f
constexpr theta_ew_instr kGateGradients[] = {
    Load(r0, 0),
    Load(r1, 6),
    Op(THETA_EW_TANH, r1, r1),
    Load(r2, 4),
    Param(r3, 0),
    Op(THETA_EW_MUL, r4, r1, r1),
    Op(THETA_EW_SUB, r4, r3, r4),
    Op(THETA_EW_MUL, r5, r0, r2),
    Op(THETA_EW_MUL, r5, r5, r4),
    Load(r6, 1),
    Op(THETA_EW_ADD, r6, r6, r5),  // dc'
    Op(THETA_EW_MUL, r5, r0, r1),
    Op(THETA_EW_SUB, r4, r3, r2),
    Op(THETA_EW_MUL, r4, r4, r2),
    Op(THETA_EW_MUL, r5, r5, r4),
    Store(2, r5),  // d z_o
    Load(r0, 2),
    Load(r1, 5),
    Op(THETA_EW_MUL, r2, r6, r1),
    Op(THETA_EW_SUB, r4, r3, r0),
    Op(THETA_EW_MUL, r4, r4, r0),
    Op(THETA_EW_MUL, r2, r2, r4),
    Store(0, r2),  // d z_i
    Op(THETA_EW_MUL, r2, r6, r0),
    Op(THETA_EW_MUL, r4, r1, r1),
    Op(THETA_EW_SUB, r4, r3, r4),
    Op(THETA_EW_MUL, r2, r2, r4),
    Store(3, r2),  // d z_g
    Load(r0, 3),
    Load(r1, 7),
    Op(THETA_EW_MUL, r2, r6, r1),
    Op(THETA_EW_SUB, r4, r3, r0),
    Op(THETA_EW_MUL, r4, r4, r0),
    Op(THETA_EW_MUL, r2, r2, r4),
    Store(1, r2),  // d z_f
    Op(THETA_EW_MUL, r2, r6, r0),
    Store(4, r2),  // dc for step t-1
};

// out = a + b (b broadcast along rows).
constexpr theta_ew_instr kAdd[] = {Load(r0, 0), Load(r1, 1),
                                   Op(THETA_EW_ADD, r0, r0, r1), Store(0, r0)};
// out = a * param 0.
constexpr theta_ew_instr kScale[] = {
    Load(r0, 0), Param(r1, 0), Op(THETA_EW_MUL, r0, r0, r1), Store(0, r0)};
// out = -log(a) * param 0.
constexpr theta_ew_instr kScaledNll[] = {
    Load(r0, 0),  Op(THETA_EW_LOG, r0, r0),     Op(THETA_EW_NEG, r0, r0),
    Param(r1, 0), Op(THETA_EW_MUL, r0, r0, r1), Store(0, r0)};
// out = a - param 0 * b.
constexpr theta_ew_instr kSgd[] = {Load(r0, 0),
                                   Load(r1, 1),
                                   Param(r2, 0),
                                   Op(THETA_EW_MUL, r1, r1, r2),
                                   Op(THETA_EW_SUB, r0, r0, r1),
                                   Store(0, r0)};

constexpr int64_t kContiguous[] = {1};

// Float offsets into device buffers.
float* At(backends::Buffer& buffer, int64_t offset = 0) {
  return static_cast<float*>(buffer.data()) + offset;
}

theta_array F32Array(void* data, std::span<const int64_t> shape,
                     std::span<const int64_t> strides) {
  return {data, THETA_DTYPE_F32, static_cast<int32_t>(shape.size()),
          shape.data(), strides.data()};
}

uint64_t F32Bytes(int64_t n) { return static_cast<uint64_t>(n) * 4; }

}  // namespace

HandWrittenLstm::HandWrittenLstm(backends::Backend& backend,
                                 const LstmConfig& config,
                                 const LstmParameters& initial,
                                 const LstmBatch& batch)
    : k_(backend), c_(config), rows_(config.t * config.b) {
  const int64_t gates = 4 * c_.h, classes = LstmConfig::kClasses;
  auto upload = [&](const Tensor& value) {
    backends::Buffer buffer = k_.Alloc(value.nbytes());
    k_.Upload(buffer.data(), value);
    return buffer;
  };
  w_ = upload(initial.w);
  u_ = upload(initial.u);
  b_ = upload(initial.b);
  wo_ = upload(initial.wo);
  bo_ = upload(initial.bo);
  dw_ = k_.Alloc(initial.w.nbytes());
  du_ = k_.Alloc(initial.u.nbytes());
  db_ = k_.Alloc(initial.b.nbytes());
  dwo_ = k_.Alloc(initial.wo.nbytes());
  dbo_ = k_.Alloc(initial.bo.nbytes());
  x_ = upload(batch.x);
  Tensor picked_index(DType::kInt64, {rows_});
  Tensor minus_inv_rows(DType::kFloat32, {rows_});
  for (int64_t row = 0; row < rows_; ++row) {
    picked_index.data<int64_t>()[row] =
        row * classes + batch.y.data<int32_t>()[row];
    minus_inv_rows.data<float>()[row] = -1.0f / static_cast<float>(rows_);
  }
  picked_index_ = upload(picked_index);
  minus_inv_rows_ = upload(minus_inv_rows);
  gates_ = k_.Alloc(F32Bytes(rows_ * gates));
  hs_ = k_.Alloc(F32Bytes((c_.t + 1) * c_.b * c_.h));
  cs_ = k_.Alloc(F32Bytes((c_.t + 1) * c_.b * c_.h));
  probs_ = k_.Alloc(F32Bytes(rows_ * classes));
  picked_ = k_.Alloc(F32Bytes(rows_));
  cost_ = k_.Alloc(F32Bytes(1));
  dlogits_ = k_.Alloc(F32Bytes(rows_ * classes));
  dhs_ = k_.Alloc(F32Bytes(rows_ * c_.h));
  dc_ = k_.Alloc(F32Bytes(c_.b * c_.h));
  dgates_ = k_.Alloc(F32Bytes(rows_ * gates));
  // The initial state h_0 = c_0 = 0 (row 0); no step writes it.
  k_.Zero(hs_.data(), F32Bytes(c_.b * c_.h));
  k_.Zero(cs_.data(), F32Bytes(c_.b * c_.h));
}

void HandWrittenLstm::Step() {
  Forward();
  Backward();
  Update();
}

void HandWrittenLstm::Forward() {
  const int64_t h = c_.h, g = 4 * h, b = c_.b, state = b * h;
  const int64_t classes = LstmConfig::kClasses;
  const int64_t gate_strides[] = {g, 1}, bias_strides[] = {0, 1};
  const int64_t state_strides[] = {h, 1}, state_shape[] = {b, h};
  // The input projection of every step at once.
  k_.Gemm(x_.data(), w_.data(), gates_.data(), false, false, rows_, g, c_.i,
          0.0);
  for (int64_t t = 0; t < c_.t; ++t) {
    float* z = At(gates_, t * b * g);
    k_.Gemm(At(hs_, t * state), u_.data(), z, false, false, b, g, h, 1.0);
    const theta_ew_operand inputs[] = {
        F32Operand(z, gate_strides),
        F32Operand(z + h, gate_strides),
        F32Operand(z + 2 * h, gate_strides),
        F32Operand(z + 3 * h, gate_strides),
        F32Operand(At(b_), bias_strides),
        F32Operand(At(b_, h), bias_strides),
        F32Operand(At(b_, 2 * h), bias_strides),
        F32Operand(At(b_, 3 * h), bias_strides),
        F32Operand(At(cs_, t * state), state_strides)};
    const theta_ew_operand outputs[] = {
        inputs[0],
        inputs[1],
        inputs[2],
        inputs[3],
        F32Operand(At(cs_, (t + 1) * state), state_strides),
        F32Operand(At(hs_, (t + 1) * state), state_strides)};
    k_.Elementwise(kGates, 6, state_shape, inputs, outputs);
  }
  // The head: softmax(h Wo + bo) over all rows, then the mean of -log of
  // each label's probability.
  const int64_t logit_shape[] = {rows_, classes},
                logit_strides[] = {classes, 1};
  k_.Gemm(At(hs_, state), wo_.data(), probs_.data(), false, false, rows_,
          classes, h, 0.0);
  const theta_ew_operand logits[] = {F32Operand(probs_.data(), logit_strides),
                                     F32Operand(bo_.data(), bias_strides)};
  k_.Elementwise(kAdd, 2, logit_shape, logits, {logits, 1});
  const theta_softmax_args softmax{
      sizeof(theta_softmax_args), 0,
      F32Array(probs_.data(), logit_shape, logit_strides),
      F32Array(probs_.data(), logit_shape, logit_strides)};
  k_.Check(k_.backend().api().softmax(k_.backend().stream(), &softmax),
           "softmax");
  const int64_t all[] = {rows_ * classes}, rows[] = {rows_}, one[] = {1};
  const theta_gather_args pick{
      sizeof(theta_gather_args),
      0,
      F32Array(probs_.data(), all, kContiguous),
      {picked_index_.data(), THETA_DTYPE_I64, 1, rows, kContiguous},
      F32Array(picked_.data(), rows, kContiguous)};
  k_.Check(k_.backend().api().gather(k_.backend().stream(), &pick), "gather");
  const theta_ew_operand picked[] = {F32Operand(picked_.data(), kContiguous)};
  const double inv_rows[] = {1.0 / static_cast<double>(rows_)};
  k_.Elementwise(kScaledNll, 2, rows, picked, picked, inv_rows);
  const theta_reduce_args sum{sizeof(theta_reduce_args), THETA_REDUCE_SUM,
                              F32Array(picked_.data(), rows, kContiguous), 1,
                              F32Array(cost_.data(), one, kContiguous)};
  k_.Check(k_.backend().api().reduce(k_.backend().stream(), &sum), "reduce");
}

void HandWrittenLstm::Backward() {
  const int64_t h = c_.h, g = 4 * h, b = c_.b, state = b * h;
  const int64_t classes = LstmConfig::kClasses;
  // d logits = (softmax - one_hot(y)) / rows.
  const int64_t all[] = {rows_ * classes}, rows[] = {rows_};
  const theta_ew_operand probs[] = {F32Operand(probs_.data(), kContiguous)};
  const theta_ew_operand dlogits[] = {F32Operand(dlogits_.data(), kContiguous)};
  const double inv_rows[] = {1.0 / static_cast<double>(rows_)};
  k_.Elementwise(kScale, 2, all, probs, dlogits, inv_rows);
  const theta_gather_args one_hot{
      sizeof(theta_gather_args),
      0,
      F32Array(minus_inv_rows_.data(), rows, kContiguous),
      {picked_index_.data(), THETA_DTYPE_I64, 1, rows, kContiguous},
      F32Array(dlogits_.data(), all, kContiguous)};
  k_.Check(k_.backend().api().scatter_add(k_.backend().stream(), &one_hot),
           "scatter_add");
  // The head's gradients, and dh of every step from the head.
  k_.Gemm(At(hs_, state), dlogits_.data(), dwo_.data(), true, false, h, classes,
          rows_, 0.0);
  ColumnSums(dlogits_, rows_, classes, dbo_);
  k_.Gemm(dlogits_.data(), wo_.data(), dhs_.data(), false, true, rows_, h,
          classes, 0.0);
  // Through time: dh_t also gets dG_{t+1} U^T, added in place by the product.
  const int64_t gate_strides[] = {g, 1}, state_strides[] = {h, 1};
  const int64_t state_shape[] = {b, h};
  const double one[] = {1.0};
  k_.Zero(dc_.data(), F32Bytes(state));
  for (int64_t t = c_.t - 1; t >= 0; --t) {
    float* act = At(gates_, t * b * g);
    float* dz = At(dgates_, t * b * g);
    const theta_ew_operand inputs[] = {
        F32Operand(At(dhs_, t * state), state_strides),
        F32Operand(dc_.data(), state_strides),
        F32Operand(act, gate_strides),
        F32Operand(act + h, gate_strides),
        F32Operand(act + 2 * h, gate_strides),
        F32Operand(act + 3 * h, gate_strides),
        F32Operand(At(cs_, (t + 1) * state), state_strides),
        F32Operand(At(cs_, t * state), state_strides)};
    const theta_ew_operand outputs[] = {
        F32Operand(dz, gate_strides), F32Operand(dz + h, gate_strides),
        F32Operand(dz + 2 * h, gate_strides),
        F32Operand(dz + 3 * h, gate_strides), inputs[1]};
    k_.Elementwise(kGateGradients, 7, state_shape, inputs, outputs, one);
    if (t > 0) {
      k_.Gemm(dz, u_.data(), At(dhs_, (t - 1) * state), false, true, b, h, g,
              1.0);
    }
  }
  // The weights' gradients over all rows: h_{t-1} for U, x_t for W.
  k_.Gemm(hs_.data(), dgates_.data(), du_.data(), true, false, h, g, rows_,
          0.0);
  k_.Gemm(x_.data(), dgates_.data(), dw_.data(), true, false, c_.i, g, rows_,
          0.0);
  ColumnSums(dgates_, rows_, g, db_);
}

void HandWrittenLstm::ColumnSums(backends::Buffer& matrix, int64_t rows,
                                 int64_t columns, backends::Buffer& sums) {
  const int64_t shape[] = {rows, columns}, strides[] = {columns, 1};
  const int64_t sums_shape[] = {1, columns};
  const theta_reduce_args reduce{sizeof(theta_reduce_args), THETA_REDUCE_SUM,
                                 F32Array(matrix.data(), shape, strides), 1,
                                 F32Array(sums.data(), sums_shape, strides)};
  k_.Check(k_.backend().api().reduce(k_.backend().stream(), &reduce), "reduce");
}

void HandWrittenLstm::Update() {
  const double rate[] = {c_.learning_rate};
  auto sgd = [&](backends::Buffer& parameter, backends::Buffer& gradient,
                 int64_t size) {
    const int64_t shape[] = {size};
    const theta_ew_operand in[] = {F32Operand(parameter.data(), kContiguous),
                                   F32Operand(gradient.data(), kContiguous)};
    k_.Elementwise(kSgd, 3, shape, in, {in, 1}, rate);
  };
  const int64_t g = 4 * c_.h;
  sgd(w_, dw_, c_.i * g);
  sgd(u_, du_, c_.h * g);
  sgd(b_, db_, g);
  sgd(wo_, dwo_, c_.h * LstmConfig::kClasses);
  sgd(bo_, dbo_, LstmConfig::kClasses);
}

float HandWrittenLstm::Cost() {
  return k_.DownloadF32(cost_.data(), {1}).data<float>()[0];
}

LstmParameters HandWrittenLstm::Parameters() {
  const int64_t g = 4 * c_.h, classes = LstmConfig::kClasses;
  return {k_.DownloadF32(w_.data(), {c_.i, g}),
          k_.DownloadF32(u_.data(), {c_.h, g}), k_.DownloadF32(b_.data(), {g}),
          k_.DownloadF32(wo_.data(), {c_.h, classes}),
          k_.DownloadF32(bo_.data(), {classes})};
}

}  // namespace theta::bench
