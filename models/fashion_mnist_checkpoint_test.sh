#!/usr/bin/env bash
# Checks the training programs' checkpoints and predict_fashion_mnist (a few
# steps of tiny models): a run interrupted (by its
# --epochs, or by kill -9) and continued with --resume ends with the same
# checkpoint, byte for byte, and the same accuracy as a run that never
# stopped; --resume without a checkpoint, with one of another model or of
# other flags, or with a corrupted one, fails before training with a
# message naming the file and what did not fit; predict_fashion_mnist
# reports the accuracy the training program reported for the same test set,
# with a confusion matrix, and rejects bad flags and files by name.
# Arguments: train_fashion_mnist, train_mlp, predict_fashion_mnist.
set -uo pipefail
train="$1"
train_mlp="$2"
predict="$3"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0

run() {
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out="$(cat "$tmp/out")"
  err="$(cat "$tmp/err")"
}

fail() {
  echo "FAIL: $1" >&2
  echo "  exit status: $rc" >&2
  echo "  stdout: $out" >&2
  echo "  stderr: $err" >&2
  failures=$((failures + 1))
}

# Expects exit status 1 and stderr holding $1, with no training done.
expect_rejected() {
  local expected="$1"
  shift
  run "$@"
  if [ "$rc" -ne 1 ] || [[ "$err" != *"$expected"* ]]; then
    fail "$* should fail with: $expected"
  elif [[ "$out" == *"step "* ]]; then
    fail "$* trained before failing"
  fi
}

# The "final test accuracy" of the last run.
final_accuracy() { sed -n 's/^final test accuracy \([0-9.]*%\).*/\1/p' "$tmp/out"; }

small=(--max_train_images=256 --batch_size=64 --hidden=4
       --evaluations_per_epoch=2 --out_dir="$tmp/log")

constant=(--lr_schedule=constant)

# A run that never stops: 2 epochs, 8 steps, a checkpoint at every
# evaluation.
run "$train" "${small[@]}" "${constant[@]}" --epochs=2 \
  --checkpoint_dir="$tmp/whole"
whole="$(final_accuracy)"
# The test images: the full set when installed, else the embedded sample's.
images="$(sed -n 's/^Fashion-MNIST from .* training, \([0-9]*\) test images$/\1/p' "$tmp/out")"
if [ "$rc" -ne 0 ] || [ -z "$whole" ] ||
  [ ! -f "$tmp/whole/checkpoint.safetensors" ]; then
  fail "a run with --checkpoint_dir should succeed and leave a checkpoint"
fi

# Stopped after epoch 1, resumed to epoch 2 (a constant learning rate: a
# cosine schedule ends with its --epochs).
whole_steps="$(cut -d, -f1,2,4 "$tmp/log/training_log.csv")"
run "$train" "${small[@]}" "${constant[@]}" --epochs=1 \
  --checkpoint_dir="$tmp/parts" --out_dir="$tmp/parts_log"
run "$train" "${small[@]}" "${constant[@]}" --epochs=2 \
  --checkpoint_dir="$tmp/parts" --out_dir="$tmp/parts_log" --resume
if [ "$rc" -ne 0 ] || [[ "$out" != *"resumed from $tmp/parts/checkpoint.safetensors at step 4"* ]]; then
  fail "--resume should continue from step 4"
elif [ "$(cut -d, -f1,2,4 "$tmp/parts_log/training_log.csv")" != "$whole_steps" ]; then
  fail "the resumed run's log should keep the rows before the checkpoint: $whole_steps"
elif [ "$(final_accuracy)" != "$whole" ]; then
  fail "the resumed run should end at $whole"
elif ! cmp -s "$tmp/whole/checkpoint.safetensors" \
  "$tmp/parts/checkpoint.safetensors"; then
  fail "the resumed run's checkpoint should equal the uninterrupted run's"
fi

# With the LSTM's default cosine schedule: killed (-9) once it has written
# its first checkpoint, then resumed, it ends as a run that never stopped.
# (The evaluation's line is printed before the checkpoint is written: a kill
# between the two, likelier on a loaded machine, left nothing to resume.)
run "$train" "${small[@]}" --epochs=2 --checkpoint_dir="$tmp/cosine"
cosine="$(final_accuracy)"
if [ "$rc" -ne 0 ] || [[ "$out" != *"(learning rate 0.003, cosine)"* ]]; then
  fail "the LSTM should train with a cosine schedule from 0.003 by default"
fi
"$train" "${small[@]}" --epochs=2 --checkpoint_dir="$tmp/killed" \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
while kill -0 "$pid" 2>/dev/null &&
  [ ! -f "$tmp/killed/checkpoint.safetensors" ]; do
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
run "$train" "${small[@]}" --epochs=2 --checkpoint_dir="$tmp/killed" --resume
if [ "$rc" -ne 0 ] || [ "$(final_accuracy)" != "$cosine" ] ||
  ! cmp -s "$tmp/cosine/checkpoint.safetensors" \
    "$tmp/killed/checkpoint.safetensors"; then
  fail "a run killed and resumed should end as the uninterrupted one ($cosine)"
fi

# What --resume refuses, naming the file and what did not fit.
ckpt="$tmp/whole/checkpoint.safetensors"
expect_rejected "--resume: no checkpoint $tmp/empty/checkpoint.safetensors" \
  "$train" "${small[@]}" --checkpoint_dir="$tmp/empty" --resume
expect_rejected \
  "--resume: $ckpt is a checkpoint of LSTM, 4 hidden units, not of MLP 784-4-10" \
  "$train" "${small[@]}" --model=mlp --checkpoint_dir="$tmp/whole" --resume
expect_rejected \
  "--resume: $ckpt is a checkpoint of LSTM, 4 hidden units, not of LSTM, 5 hidden units" \
  "$train" "${small[@]}" --hidden=5 --checkpoint_dir="$tmp/whole" --resume
expect_rejected \
  "--resume: $ckpt was written with --batch_size=64, this run has --batch_size=32" \
  "$train" "${small[@]}" "${constant[@]}" --batch_size=32 \
  --checkpoint_dir="$tmp/whole" --resume
expect_rejected \
  "--resume: $ckpt was written with --optimizer=adam, this run has --optimizer=sgd" \
  "$train" "${small[@]}" "${constant[@]}" --optimizer=sgd \
  --checkpoint_dir="$tmp/whole" --resume
expect_rejected \
  "--resume: $ckpt was written with --learning_rate=0.003, this run has --learning_rate=0.01" \
  "$train" "${small[@]}" "${constant[@]}" --learning_rate=0.01 \
  --checkpoint_dir="$tmp/whole" --resume
expect_rejected \
  "--resume: $ckpt was written with --lr_schedule=constant, this run has --lr_schedule=cosine" \
  "$train" "${small[@]}" --epochs=2 --checkpoint_dir="$tmp/whole" --resume
expect_rejected \
  "--resume: $tmp/cosine/checkpoint.safetensors was written with --epochs=2, this run has --epochs=3" \
  "$train" "${small[@]}" --epochs=3 --checkpoint_dir="$tmp/cosine" --resume
expect_rejected \
  "--resume: $ckpt is at step 8, already the end of --epochs=2 (8 steps)" \
  "$train" "${small[@]}" "${constant[@]}" --epochs=2 \
  --checkpoint_dir="$tmp/whole" --resume
mkdir -p "$tmp/truncated"
head -c 100 "$ckpt" >"$tmp/truncated/checkpoint.safetensors"
expect_rejected "--resume: $tmp/truncated/checkpoint.safetensors" \
  "$train" "${small[@]}" --checkpoint_dir="$tmp/truncated" --resume
mkdir -p "$tmp/foreign"
printf '\x02\x00\x00\x00\x00\x00\x00\x00{}' >"$tmp/foreign/checkpoint.safetensors"
expect_rejected \
  "--resume: $tmp/foreign/checkpoint.safetensors: not a checkpoint of a Fashion-MNIST program: metadata \"program.model\" is missing" \
  "$train" "${small[@]}" --checkpoint_dir="$tmp/foreign" --resume

# predict_fashion_mnist reports the accuracy training reported on the same
# test set, and a confusion matrix over all of its images.
run "$predict" --checkpoint="$tmp/whole"
if [ "$rc" -ne 0 ] || [[ "$out" != *"test accuracy $whole ("*" of $images)"* ]]; then
  fail "predict_fashion_mnist should report the training run's $whole"
elif [ "$(grep -c '^[0-9] ' "$tmp/out")" -ne 10 ] ||
  [[ "$out" != *"9 Ankle boot"* || "$out" != *"0 T-shirt/top"* ]]; then
  fail "predict_fashion_mnist should print 10 rows named by class"
elif [ "$(grep '^[0-9] ' "$tmp/out" | sed 's/^[0-9] [^0-9]*//' |
  tr -s ' ' '\n' | awk '{s += $1} END {print s}')" -ne "$images" ]; then
  fail "the confusion matrix should count the $images test images"
fi
# An MLP's checkpoint (from train_mlp) is rebuilt as an MLP.
run "$train_mlp" --max_train_images=256 --hidden=4 --epochs=1 \
  --evaluations_per_epoch=1 --out_dir="$tmp/mlp_log" --checkpoint_dir="$tmp/mlp"
mlp="$(final_accuracy)"
run "$predict" --checkpoint="$tmp/mlp/checkpoint.safetensors" --batch_size=64
if [ "$rc" -ne 0 ] || [[ "$out" != *"MLP 784-4-10 from"* ]] ||
  [[ "$out" != *"test accuracy $mlp ("* ]]; then
  fail "predict_fashion_mnist should rebuild train_mlp's MLP ($mlp)"
fi
expect_rejected "invalid flags: --checkpoint is required; --batch_size=0 must be >= 1" \
  "$predict" --batch_size=0
expect_rejected "--checkpoint: cannot open checkpoint $tmp/none.safetensors: " \
  "$predict" --checkpoint="$tmp/none.safetensors"
expect_rejected "--checkpoint: $tmp/truncated/checkpoint.safetensors" \
  "$predict" --checkpoint="$tmp/truncated"
expect_rejected "--data_dir=$tmp/no_data: " \
  "$predict" --checkpoint="$tmp/whole" --data_dir="$tmp/no_data"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "fashion_mnist_checkpoint_test: all cases pass"
