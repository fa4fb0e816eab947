#!/usr/bin/env bash
# Builds the CUDA plugin and runs, against it, on a machine with an NVIDIA
# GPU and driver:
#   1. the plugin's own tests (//backends/cuda/...), device tests required
#      to run (THETA_CUDA_REQUIRE_DEVICE=1: no silent skip);
#   2. the backend conformance suite, //backends/conformance:
#      conformance_test, with THETA_CONFORMANCE_BACKENDS=cuda;
#   3. the backend benchmarks, //benchmarks:backend_bench --backend=cuda.
# A target that does not exist (yet) is reported and skipped. Prints a
# summary; exits non-zero when any step that ran failed.
#
#   backends/cuda/run_on_gpu.sh [--no-tests] [--no-conformance] [--no-bench]
#                               [-- extra bazel flags]
#
# Environment: BAZEL (default: bazel); THETA_CUDA_ALLOW_TF32=1 lets cuBLAS
# use TF32 for F32 GEMM in the benchmarks (the conformance suite needs it
# off).
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2
BAZEL="${BAZEL:-bazel}"
run_tests=1
run_conformance=1
run_bench=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-tests) run_tests=0 ;;
    --no-conformance) run_conformance=0 ;;
    --no-bench) run_bench=0 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run_on_gpu.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

summary=()
failed=0
note() { summary+=("$(printf '%-28s %s' "$1" "$2")"); }
banner() { printf '\n==== %s ====\n' "$1"; }

banner "GPU"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,memory.total \
    --format=csv,noheader || true
else
  echo "nvidia-smi not found; the device tests will say what is missing"
fi

banner "build //backends/cuda:libtheta_cuda.so"
if ! "$BAZEL" build "${extra[@]}" //backends/cuda:libtheta_cuda.so; then
  note "build" "FAILED"
  printf '\n==== summary ====\n%s\n' "${summary[@]}"
  exit 1
fi
note "build" "ok"
plugin_dir="$("$BAZEL" info "${extra[@]}" bazel-bin 2>/dev/null)/backends/cuda"
# The registry also finds the plugin here, whatever a target's runfiles hold.
export THETA_BACKEND_PATH="$plugin_dir${THETA_BACKEND_PATH:+:$THETA_BACKEND_PATH}"
test_env=(--test_env=THETA_BACKEND_PATH="$THETA_BACKEND_PATH"
          --test_env=THETA_CUDA_REQUIRE_DEVICE=1)
[ -n "${THETA_CUDA_ALLOW_TF32:-}" ] &&
  test_env+=(--test_env=THETA_CUDA_ALLOW_TF32="$THETA_CUDA_ALLOW_TF32")

# True when the label exists in the workspace.
exists() { "$BAZEL" query "$1" >/dev/null 2>&1; }

if [ "$run_tests" -eq 1 ]; then
  banner "plugin tests //backends/cuda/..."
  if "$BAZEL" test "${extra[@]}" "${test_env[@]}" --test_output=errors \
      //backends/cuda/...; then
    note "plugin tests" "passed"
  else
    note "plugin tests" "FAILED"
    failed=1
  fi
  # The device tests' own counts.
  logs="$("$BAZEL" info "${extra[@]}" bazel-testlogs 2>/dev/null)/backends/cuda"
  for t in device_test device_kernels_test; do
    [ -f "$logs/$t/test.log" ] || continue
    grep -E '^\[  (PASSED|SKIPPED|FAILED)  \] [0-9]+ tests?[,.]' \
      "$logs/$t/test.log" | sed "s/^/    $t: /"
  done
fi

if [ "$run_conformance" -eq 1 ]; then
  banner "conformance //backends/conformance:conformance_test (cuda)"
  if ! exists //backends/conformance:conformance_test; then
    echo "//backends/conformance:conformance_test does not exist yet; skipped"
    note "conformance" "absent (skipped)"
  elif "$BAZEL" test "${extra[@]}" "${test_env[@]}" --test_output=errors \
      --test_env=THETA_CONFORMANCE_BACKENDS=cuda \
      //backends/conformance:conformance_test; then
    note "conformance (cuda)" "passed"
  else
    note "conformance (cuda)" "FAILED"
    failed=1
  fi
fi

if [ "$run_bench" -eq 1 ]; then
  banner "benchmarks //benchmarks:backend_bench --backend=cuda"
  if ! exists //benchmarks:backend_bench; then
    echo "//benchmarks:backend_bench does not exist yet; skipped"
    note "benchmarks" "absent (skipped)"
  elif "$BAZEL" run "${extra[@]}" //benchmarks:backend_bench -- --backend=cuda; then
    note "benchmarks (cuda)" "ran"
  else
    note "benchmarks (cuda)" "FAILED"
    failed=1
  fi
fi

printf '\n==== summary ====\n'
printf '%s\n' "${summary[@]}"
exit "$failed"
