#!/usr/bin/env bash
# Builds Theta's libFuzzer harnesses with clang (-fsanitize=fuzzer,address,
# undefined) and runs each for a given number of minutes, outside CI.
#
#   fuzz/run_fuzzers.sh [MINUTES] [HARNESS...]     # default: 1 minute, all
#
# Harnesses: idx (IDX/gzip loader), safetensors (checkpoint reader),
# plugin_table (the plugin loader's checks of a plugin's table). With
# FUZZ_RUNS=N set, each also stops after N executions (whichever comes
# first). Each starts from its seed corpus in
# fuzz/corpus/<harness>/ and keeps what it finds in $FUZZ_WORK (default
# /tmp/theta_fuzz/<harness>/corpus). A crash is written to
# $FUZZ_WORK/<harness>/crash-*; copy it into fuzz/corpus/<harness>/ once
# fixed, so that `bazel test //fuzz/...` replays it from then on.
# Needs clang (Debian's clang-14) and the -dev packages tools/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-1}"
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(idx safetensors plugin_table)
runs=()
[ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
work="${FUZZ_WORK:-/tmp/theta_fuzz}"
command -v clang++ >/dev/null || {
  echo "run_fuzzers.sh: clang++ not found (apt-get install clang)" >&2
  exit 1
}

absl_libs=(-labsl_statusor -labsl_status -labsl_cord -labsl_cord_internal
  -labsl_cordz_info -labsl_cordz_handle -labsl_cordz_functions
  -labsl_exponential_biased -labsl_strerror -labsl_bad_optional_access
  -labsl_bad_variant_access -labsl_stacktrace -labsl_symbolize
  -labsl_debugging_internal -labsl_demangle_internal -labsl_synchronization
  -labsl_graphcycles_internal -labsl_malloc_internal -labsl_time
  -labsl_time_zone -labsl_civil_time -labsl_str_format_internal
  -labsl_strings -labsl_strings_internal -labsl_int128 -labsl_base
  -labsl_raw_logging_internal -labsl_log_severity -labsl_spinlock_wait
  -labsl_throw_delegate)

# The library sources each harness needs besides its own file.
sources_of() {
  case "$1" in
    idx) echo "models/idx.cc" ;;
    safetensors)
      echo "models/safetensors.cc graph/tensor.cc graph/text.cc" \
        "graph/type.cc graph/dtype.cc base/error.cc"
      ;;
    plugin_table) echo "backends/plugin_library.cc" ;;
    *)
      echo "run_fuzzers.sh: no harness named '$1'" \
        "(have: idx safetensors plugin_table)" >&2
      return 1
      ;;
  esac
}

printf '%-10s %12s %8s %s\n' harness executions crashes corpus
for name in "${harnesses[@]}"; do
  srcs=$(sources_of "$name")
  dir="$work/$name"
  mkdir -p "$dir/corpus"
  binary="$dir/${name}_fuzzer"
  # -include: clang 14 cannot compile libstdc++ 12's std::source_location
  # (base/error.h uses it); see fuzz/source_location_compat.h.
  # shellcheck disable=SC2086
  clang++ -std=c++20 -O1 -g -I. -include fuzz/source_location_compat.h \
    -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined "fuzz/${name}_fuzzer.cc" $srcs \
    -lz -ldl "${absl_libs[@]}" -o "$binary"
  log="$dir/fuzz.log"
  set +e
  "$binary" -max_total_time=$((minutes * 60)) "${runs[@]}" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/" \
    "$dir/corpus" "fuzz/corpus/$name" >"$log" 2>&1
  set -e
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
    grep -o '[0-9]*$' || echo "?")
  crashes=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 \
    -name 'leak-*' -o -maxdepth 1 -name 'oom-*' -o -maxdepth 1 \
    -name 'timeout-*' | wc -l)
  printf '%-10s %12s %8s %s\n' "$name" "$executions" "$crashes" \
    "$(find "$dir/corpus" -type f | wc -l) files"
  [ "$crashes" -eq 0 ] || echo "  see $log and $dir/crash-*"
done
