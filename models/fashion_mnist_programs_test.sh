#!/usr/bin/env bash
# Checks that train_softmax_regression, train_mlp and train_fashion_mnist
# validate every flag before any work: each bad value is rejected with a
# message naming the flag and its allowed range, all bad flags at once,
# and nothing is loaded or trained first. Then a tiny run of each succeeds.
# Arguments: the three programs.
set -uo pipefail
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0

run() {
  "$program" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out="$(cat "$tmp/out")"
  err="$(cat "$tmp/err")"
}

fail() {
  echo "FAIL: $(basename "$program"): $1" >&2
  echo "  exit status: $rc" >&2
  echo "  stdout: $out" >&2
  echo "  stderr: $err" >&2
  failures=$((failures + 1))
}

expect_rejected() {
  local expected="$1"
  shift
  run "$@"
  if [ "$rc" -ne 1 ] || [[ "$err" != *"$expected"* ]]; then
    fail "$* should fail with: $expected"
  elif [[ "$out" == *"Fashion-MNIST from"* || "$out" == *"step "* ]]; then
    fail "$* did work before failing"
  elif [ -e "$tmp/never" ]; then
    fail "$* created --out_dir before failing"
  fi
}

for program in "$@"; do
  name="$(basename "$program")"
  small=(--max_train_images=128 --batch_size=64 --evaluations_per_epoch=1
         --epochs=1 --out_dir="$tmp/never")
  for case in \
    "--learning_rate=0|--learning_rate=0 must be a finite number > 0" \
    "--learning_rate=nan|--learning_rate=nan must be a finite number > 0" \
    "--momentum=1|--momentum=1 must be in [0, 1)" \
    "--optimizer=adamax|--optimizer=adamax must be one of sgd, momentum, adam" \
    "--optimizer=|--optimizer= must be one of sgd, momentum, adam" \
    "--max_train_images=-1|--max_train_images=-1 must be >= 0" \
    "--epochs=0|--epochs=0 must be >= 1" \
    "--batch_size=0|--batch_size=0 must be >= 1" \
    "--evaluations_per_epoch=-2|--evaluations_per_epoch=-2 must be >= 1" \
    "--out_dir=|--out_dir must not be empty"; do
    expect_rejected "$name: invalid flags: ${case#*|}" "${small[@]}" "${case%%|*}"
  done
  expect_rejected \
    "invalid flags: --epochs=0 must be >= 1; --learning_rate=-1 must be a finite number > 0; --optimizer=x must be one of sgd, momentum, adam" \
    "${small[@]}" --epochs=0 --learning_rate=-1 --optimizer=x
  # A flag that is not a number is refused by the flag parser, by name.
  expect_rejected "epochs" "${small[@]}" --epochs=three
  if [ "$name" != train_softmax_regression ]; then
    expect_rejected "--hidden=0 must be >= 1" "${small[@]}" --hidden=0
  else
    expect_rejected "Unknown command line flag 'hidden'" "${small[@]}" --hidden=5
  fi
  expect_rejected "--batch_size=500 exceeds the 128 training images" \
    --max_train_images=128 --batch_size=500 --out_dir="$tmp/ok_$name"
  expect_rejected "--data_dir=$tmp/none: " --max_train_images=128 \
    --out_dir="$tmp/ok_$name" --data_dir="$tmp/none"

  # Every optimizer trains a few steps of a small model.
  for optimizer in sgd momentum adam; do
    extra=()
    [ "$name" != train_softmax_regression ] && extra=(--hidden=4)
    run --max_train_images=128 --batch_size=64 --evaluations_per_epoch=1 \
      --epochs=1 --optimizer="$optimizer" --out_dir="$tmp/run_$name" \
      "${extra[@]}"
    if [ "$rc" -ne 0 ] || [[ "$out" != *"final test accuracy"* ]] ||
      [ "$(wc -l <"$tmp/run_$name/training_log.csv")" -ne 2 ]; then
      fail "a tiny run with --optimizer=$optimizer should succeed"
    fi
  done
done

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "fashion_mnist_programs_test: all cases pass"
