#include "models/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "graph/dtype.h"
#include "models/init.h"

namespace theta::models {
namespace {

constexpr char kStepName[] = "trainer.step";
constexpr char kBestLossName[] = "trainer.best_validation_loss";
constexpr char kStaleName[] = "trainer.stale_evaluations";

void CheckOptions(const TrainOptions& o, int64_t examples) {
  std::string errors;
  auto add = [&](const std::string& e) {
    absl::StrAppend(&errors, errors.empty() ? "" : "; ", e);
  };
  if (o.epochs < 1) add(absl::StrCat("epochs=", o.epochs, " must be >= 1"));
  if (o.batch_size < 1 || o.batch_size > examples) {
    add(absl::StrCat("batch_size=", o.batch_size, " must be in [1, ", examples,
                     "] (the training examples)"));
  }
  if (o.validate_every < 0) {
    add(absl::StrCat("validate_every=", o.validate_every, " must be >= 0"));
  }
  if (o.patience < 0) {
    add(absl::StrCat("patience=", o.patience, " must be >= 0"));
  }
  if (o.max_steps < 0) {
    add(absl::StrCat("max_steps=", o.max_steps, " must be >= 0"));
  }
  if (!errors.empty()) throw Error("Trainer::Train: " + errors);
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    absl::StrAppend(&s, i ? ", " : "", shape[i]);
  }
  return s + ")";
}

}  // namespace

void ShuffledOrder(uint64_t seed, int64_t epoch, std::vector<int64_t>& order) {
  std::iota(order.begin(), order.end(), 0);
  std::seed_seq seq{static_cast<uint32_t>(seed),
                    static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(epoch)};
  Rng rng(seq);
  std::shuffle(order.begin(), order.end(), rng);
}

Trainer::Trainer(Model model, optim::Optimizer& optimizer)
    : model_(std::move(model)), optimizer_(optimizer) {
  train_step_ =
      function({model_.x, model_.y}, {model_.cost},
               {.updates = optimizer_.minimize(model_.cost, model_.params),
                .name = model_.name + "_train_step"});
  evaluate_ = function({model_.x, model_.y},
                       {model_.cost, model_.correct, model_.count},
                       {.name = model_.name + "_evaluate"});
  predict_ = function({model_.x}, {model_.predictions},
                      {.name = model_.name + "_predict"});
  state_vars_ = model_.params;
  for (const SharedVar& s : optimizer_.state()) state_vars_.push_back(s);
}

Evaluation Trainer::Evaluate(const Dataset& data, int64_t batch_size) {
  if (batch_size < 1) {
    throw Error(absl::StrCat("Trainer::Evaluate: batch_size=", batch_size,
                             " must be >= 1"));
  }
  const int64_t n = data.size();
  std::vector<int64_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<Tensor> batch, outputs;
  double loss_sum = 0, correct = 0, count = 0;
  for (int64_t first = 0; first < n; first += batch_size) {
    const int64_t size = std::min(batch_size, n - first);
    if (batch.empty() || batch[1].shape()[batch[1].ndim() - 1] != size) {
      batch = data.AllocateBatch(size);
    }
    data.FillBatch(std::span<const int64_t>(rows).subspan(first, size), batch);
    if (first == 0) CheckModelInput(model_, batch[0]);
    evaluate_.Call(batch, outputs);
    const double batch_count = outputs[2].item<float>();
    loss_sum += outputs[0].item<float>() * batch_count;
    correct += outputs[1].item<float>();
    count += batch_count;
  }
  if (count == 0) return {};
  return {.loss = loss_sum / count, .accuracy = correct / count};
}

Tensor Trainer::Predict(const Tensor& x) {
  CheckModelInput(model_, x);
  std::vector<Tensor> outputs;
  predict_.Call(std::span<const Tensor>(&x, 1), outputs);
  return outputs[0];
}

EvaluationReport Trainer::EvaluateAt(const Dataset* validation, int64_t step,
                                     double epoch, double train_loss,
                                     double seconds) {
  EvaluationReport report{
      .step = step, .epoch = epoch, .train_loss = train_loss};
  if (validation != nullptr) {
    report.validation = Evaluate(*validation);
    if (report.validation.loss < best_loss_) {
      best_loss_ = report.validation.loss;
      stale_evaluations_ = 0;
    } else {
      ++stale_evaluations_;
    }
  }
  report.seconds = seconds;
  return report;
}

TrainResult Trainer::Train(const Dataset& train, const Dataset* validation,
                           const TrainOptions& o) {
  CheckOptions(o, train.size());
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps_per_epoch = train.size() / o.batch_size;
  const int64_t total = o.epochs * steps_per_epoch;
  std::vector<int64_t> order(train.size());
  int64_t order_epoch = -1;
  std::vector<Tensor> batch = train.AllocateBatch(o.batch_size), outputs;
  TrainResult result;
  double loss_sum = 0;
  int64_t loss_count = 0;
  bool checked_input = false;
  double evaluation_seconds = 0;
  while (step_ < total) {
    const int64_t epoch = step_ / steps_per_epoch;
    const int64_t s = step_ % steps_per_epoch;
    if (epoch != order_epoch) {
      ShuffledOrder(o.seed, epoch, order);
      order_epoch = epoch;
    }
    train.FillBatch(
        std::span<const int64_t>(order).subspan(s * o.batch_size, o.batch_size),
        batch);
    if (!checked_input) {
      CheckModelInput(model_, batch[0]);
      checked_input = true;
    }
    train_step_.Call(batch, outputs);
    const double loss = outputs[0].item<float>();
    if (!std::isfinite(loss)) {
      throw Error(absl::StrCat(
          "training stopped at step ", step_ + 1, ": the loss is ", loss,
          last_checkpoint_step_ >= 0
              ? absl::StrCat("; the last good checkpoint is of step ",
                             last_checkpoint_step_)
              : std::string("; no checkpoint was written"),
          "; try a smaller learning rate"));
    }
    ++step_;
    loss_sum += loss;
    ++loss_count;
    const double epochs_done = static_cast<double>(step_) / steps_per_epoch;
    if (o.on_step)
      o.on_step({.step = step_, .epoch = epochs_done, .loss = loss});
    const bool epoch_end = step_ % steps_per_epoch == 0;
    const bool due =
        o.validate_every > 0 ? step_ % o.validate_every == 0 : false;
    if (epoch_end || due) {
      auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             start)
            .count();
      };
      const double evaluation_start = seconds();
      EvaluationReport report =
          EvaluateAt(validation, step_, epochs_done, loss_sum / loss_count, 0);
      report.seconds = seconds();
      evaluation_seconds += report.seconds - evaluation_start;
      report.evaluation_seconds = evaluation_seconds;
      loss_sum = 0;
      loss_count = 0;
      result.evaluations.push_back(report);
      if (o.on_checkpoint) {
        o.on_checkpoint(step_);
        last_checkpoint_step_ = step_;
      }
      if (o.on_evaluation) o.on_evaluation(report);
      if (o.patience > 0 && stale_evaluations_ >= o.patience) {
        result.stopped_early = true;
        break;
      }
    }
    if (o.max_steps > 0 && step_ >= o.max_steps) break;
  }
  result.steps = step_;
  return result;
}

NamedTensors Trainer::State() const {
  NamedTensors state;
  for (const SharedVar& v : state_vars_) {
    state.emplace_back(v.name(), v.get_value());
  }
  state.emplace_back(kStepName, Tensor::Scalar<int64_t>(step_));
  state.emplace_back(kBestLossName, Tensor::Scalar<double>(best_loss_));
  state.emplace_back(kStaleName, Tensor::Scalar<int64_t>(stale_evaluations_));
  return state;
}

void Trainer::Restore(const NamedTensors& state) {
  std::map<std::string, const Tensor*> by_name;
  for (const auto& [name, tensor] : state) by_name[name] = &tensor;
  auto find = [&](const std::string& name, DType dtype,
                  const std::vector<int64_t>& shape) -> const Tensor& {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      throw Error(absl::StrCat("checkpoint does not fit model \"", model_.name,
                               "\": tensor \"", name, "\" is missing"));
    }
    const Tensor& t = *it->second;
    if (t.dtype() != dtype || t.shape() != shape) {
      throw Error(absl::StrCat(
          "checkpoint does not fit model \"", model_.name, "\": tensor \"",
          name, "\" is ", DTypeName(t.dtype()), ShapeString(t.shape()),
          ", the model needs ", DTypeName(dtype), ShapeString(shape)));
    }
    by_name.erase(it);
    return t;
  };
  // Check everything before changing anything.
  std::vector<const Tensor*> values;
  for (const SharedVar& v : state_vars_) {
    values.push_back(&find(v.name(), v.get()->shared()->dtype(),
                           v.value_shape().ToVector()));
  }
  const Tensor& step = find(kStepName, DType::kInt64, {});
  const Tensor& best = find(kBestLossName, DType::kFloat64, {});
  const Tensor& stale = find(kStaleName, DType::kInt64, {});
  if (!by_name.empty()) {
    throw Error(absl::StrCat("checkpoint does not fit model \"", model_.name,
                             "\": it holds tensor \"", by_name.begin()->first,
                             "\", which the model does not have"));
  }
  for (size_t i = 0; i < state_vars_.size(); ++i) {
    state_vars_[i].set_value(*values[i]);
  }
  step_ = step.item<int64_t>();
  best_loss_ = best.item<double>();
  stale_evaluations_ = stale.item<int64_t>();
}

}  // namespace theta::models
