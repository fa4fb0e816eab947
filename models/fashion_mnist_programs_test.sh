#!/usr/bin/env bash
# Checks that train_softmax_regression, train_mlp and train_fashion_mnist
# share one set of flags, listed by --help with their ranges, and validate
# every flag before any work: each bad value is rejected with a message
# naming the flag and its allowed range, all bad flags at once, and nothing
# is loaded or trained first. Then a tiny run of each succeeds, printing
# plain lines (no progress bar) when stderr is not a terminal, and a
# progress bar redrawn in place when it is.
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
    "--optimizer=adamax|--optimizer=adamax must be one of sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, adamw" \
    "--optimizer=|--optimizer= must be one of sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, adamw" \
    "--lr_schedule=step|--lr_schedule=step must be one of constant, cosine" \
    "--max_train_images=-1|--max_train_images=-1 must be >= 0" \
    "--epochs=0|--epochs=0 must be >= 1" \
    "--batch_size=0|--batch_size=0 must be >= 1" \
    "--evaluations_per_epoch=-2|--evaluations_per_epoch=-2 must be >= 1"; do
    expect_rejected "$name: invalid flags: ${case#*|}" "${small[@]}" "${case%%|*}"
  done
  expect_rejected \
    "invalid flags: --epochs=0 must be >= 1; --learning_rate=-1 must be a finite number > 0; --optimizer=x must be one of sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, adamw" \
    "${small[@]}" --epochs=0 --learning_rate=-1 --optimizer=x
  # A flag that is not a number is refused by the flag parser, by name.
  expect_rejected "epochs" "${small[@]}" --epochs=three
  if [ "$name" != train_softmax_regression ]; then
    expect_rejected "--hidden=0 must be >= 1" "${small[@]}" --hidden=0
  else
    expect_rejected \
      "invalid flags: --hidden=5: softmax regression has no hidden units" \
      "${small[@]}" --hidden=5
  fi
  if [ "$name" = train_fashion_mnist ]; then
    expect_rejected \
      "invalid flags: --model=cnn must be one of softmax, mlp, lstm" \
      "${small[@]}" --model=cnn
    expect_rejected \
      "invalid flags: --hidden=3: softmax regression has no hidden units" \
      "${small[@]}" --model=softmax --hidden=3
  else
    expect_rejected \
      "invalid flags: --model=lstm: $name trains" "${small[@]}" --model=lstm
  fi
  expect_rejected "invalid flags: --resume needs --checkpoint_dir" \
    "${small[@]}" --resume
  expect_rejected "--checkpoint_dir: cannot create checkpoint directory /proc/x" \
    --max_train_images=128 --out_dir="$tmp/ok_$name" --checkpoint_dir=/proc/x/y
  touch "$tmp/a_file"
  expect_rejected "--checkpoint_dir: checkpoint directory $tmp/a_file is not a directory" \
    --max_train_images=128 --out_dir="$tmp/ok_$name" --checkpoint_dir="$tmp/a_file"

  # --help lists every flag with its range or choices.
  run --help
  for flag in "--model (" "--data_dir (" "--out_dir (" "--backend (" \
    "--epochs (passes over the training set (>= 1); default: 3 (lstm), 10" \
    "--batch_size (images per optimiser step (>= 1" "--hidden (hidden units (>= 1)" \
    "--optimizer (sgd, momentum" "--learning_rate ((initial) learning rate (finite, > 0)" \
    "--momentum (momentum of --optimizer=momentum (in [0, 1))" \
    "--evaluations_per_epoch (" "--max_train_images (" "--seed (" \
    "--checkpoint_dir (" "--resume (" "--lr_schedule (constant, or cosine"; do
    if [[ "$out$err" != *"$flag"* ]]; then
      fail "--help should list: $flag"
    fi
  done
  expect_rejected "--batch_size=500 exceeds the 128 training images" \
    --max_train_images=128 --batch_size=500 --out_dir="$tmp/ok_$name"
  expect_rejected "--data_dir=$tmp/none: " --max_train_images=128 \
    --out_dir="$tmp/ok_$name" --data_dir="$tmp/none"

  # Every optimizer trains a few steps of a small model.
  for optimizer in sgd momentum nesterov adagrad adadelta rmsprop adam adamw; do
    extra=()
    [ "$name" != train_softmax_regression ] && extra=(--hidden=4)
    run --max_train_images=128 --batch_size=64 --evaluations_per_epoch=1 \
      --epochs=1 --optimizer="$optimizer" --out_dir="$tmp/run_$name" \
      "${extra[@]}"
    if [ "$rc" -ne 0 ] || [[ "$out" != *"final test accuracy"* ]] ||
      [ "$(wc -l <"$tmp/run_$name/training_log.csv")" -ne 2 ]; then
      fail "a tiny run with --optimizer=$optimizer should succeed"
    elif [[ "$err" == *$'\r'* || "$err" == *"ex/s"* ]]; then
      fail "without a terminal, no progress bar should be drawn"
    fi
  done
  # On a terminal (a pseudo-terminal from script(1), where present) the
  # progress bar is drawn in place.
  if command -v script >/dev/null; then
    extra=()
    [ "$name" != train_softmax_regression ] && extra=(--hidden=4)
    script -qec "$(printf '%q ' "$program" --max_train_images=256 \
      --batch_size=64 --epochs=1 --out_dir="$tmp/tty_$name" "${extra[@]}")" \
      /dev/null >"$tmp/tty" 2>&1
    rc=$?
    out="$(cat "$tmp/tty")"
    err=""
    if [ "$rc" -ne 0 ] || [[ "$out" != *$'\r['*"step 4/4  loss "*" ex/s  "*" left"* ]]; then
      fail "on a terminal, a progress bar should be drawn in place"
    fi
  fi
done

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "fashion_mnist_programs_test: all cases pass"
