#!/usr/bin/env bash
# Checks what train_fashion_mnist does before and while it trains: every
# flag is validated before any work, an explicit --data_dir never falls back
# to the embedded sample, an --out_dir that cannot be written is reported
# before training, and the training log is on disk row by row as training
# goes (a run that fails midway keeps the rows logged so far).
set -uo pipefail
program="$1"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0

# Runs the program with the given flags; sets $rc, $out (stdout) and $err.
run() {
  "$program" "$@" >"$tmp/out" 2>"$tmp/err"
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

# Expects exit status 1, stderr holding $1, and no work done.
expect_rejected() {
  local expected="$1"
  shift
  run "$@"
  if [ "$rc" -ne 1 ] || [[ "$err" != *"$expected"* ]]; then
    fail "$* should fail with: $expected"
  elif [[ "$out" == *"Fashion-MNIST from"* || "$out" == *"step "* ]]; then
    fail "$* did work before failing"
  fi
}

small=(--max_train_images=128 --batch_size=64 --hidden=4
       --evaluations_per_epoch=1 --out_dir="$tmp/run")

# Flags out of range are rejected, each named with its allowed range.
for case in \
  "--learning_rate=-0.1|--learning_rate=-0.1 must be a finite number > 0" \
  "--learning_rate=nan|--learning_rate=nan must be a finite number > 0" \
  "--learning_rate=inf|--learning_rate=inf must be a finite number > 0" \
  "--momentum=5|--momentum=5 must be in [0, 1)" \
  "--momentum=-0.5|--momentum=-0.5 must be in [0, 1)" \
  "--max_train_images=-5|--max_train_images=-5 must be >= 0" \
  "--epochs=0|--epochs=0 must be >= 1" \
  "--batch_size=-1|--batch_size=-1 must be >= 1" \
  "--hidden=0|--hidden=0 must be >= 1" \
  "--evaluations_per_epoch=0|--evaluations_per_epoch=0 must be >= 1"; do
  expect_rejected "${case#*|}" "${small[@]}" "${case%%|*}"
done
# All bad flags are reported at once.
expect_rejected \
  "invalid flags: --max_train_images=-5 must be >= 0; --learning_rate=-0.1" \
  "${small[@]}" --learning_rate=-0.1 --max_train_images=-5

# An explicit --data_dir that does not load is an error, not a fallback.
expect_rejected \
  "--data_dir=$tmp/no_data: $tmp/no_data/train-images-idx3-ubyte.gz: cannot open" \
  "${small[@]}" --data_dir="$tmp/no_data"
mkdir -p "$tmp/corrupt"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte \
  t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  echo "not IDX" >"$tmp/corrupt/$f.gz"
done
expect_rejected \
  "--data_dir=$tmp/corrupt: $tmp/corrupt/train-images-idx3-ubyte.gz: not an IDX file" \
  "${small[@]}" --data_dir="$tmp/corrupt"

# An --out_dir where no file can be created (even by root) is reported
# before training.
expect_rejected "--out_dir: cannot create files in /proc: " \
  "${small[@]}" --out_dir=/proc
touch "$tmp/a_file"
expect_rejected "--out_dir: cannot create $tmp/a_file" \
  "${small[@]}" --out_dir="$tmp/a_file"

# The log is written as training goes: kill -9 the program once it has
# printed its first evaluation (printed after the row is logged); the row
# and the chart must already be on disk.
"$program" --max_train_images=128 --batch_size=64 --hidden=4 \
  --evaluations_per_epoch=2 --epochs=100000 --out_dir="$tmp/killed" \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! grep -q "^step" "$tmp/out"; do
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rc=$?
out="$(cat "$tmp/out")"
err="$(cat "$tmp/err")"
log="$(cat "$tmp/killed/training_log.csv" 2>/dev/null)"
if ! grep -q "^step" "$tmp/out"; then
  fail "the program should print an evaluation before it is killed"
elif [[ "$log" != "step,epoch,train_loss,test_accuracy,seconds"$'\n'"1,0.5000,"* ]]; then
  fail "training_log.csv should hold the header and step 1, holds: $log"
elif ! grep -q "<polyline" "$tmp/killed/training_curve.svg" 2>/dev/null; then
  fail "training_curve.svg should be drawn at the first evaluation"
fi

# Without --data_dir (the default directory, or the sample when it is
# absent), a normal run succeeds with one row logged per epoch (3 epochs by
# default: the LSTM's accuracy target is for 3 epochs).
run "${small[@]}" --out_dir="$tmp/normal"
if [ "$rc" -ne 0 ] ||
  [ "$(wc -l <"$tmp/normal/training_log.csv")" -ne 4 ]; then
  fail "a normal run should succeed and log one row per epoch"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "train_fashion_mnist_test: all cases pass"
