#!/usr/bin/env bash
# Fails when a library source (every C/C++/CUDA file in the packages'
# format_sources filegroups, tests excepted) passes 1,000 lines or holds a
# function over 150 lines, listing each offender with its length. Exceptions,
# each with its reason, are in tools/size_budget_exceptions.txt; one that no
# longer applies fails the test too, so that the list only shrinks.
#
# Usage (as Bazel runs it): size_budget_test.sh SIZE_BUDGET_BINARY EXCEPTIONS
set -euo pipefail
tool="$1"
exceptions="$2"

# First, the check itself must be able to fail: a 151-line function and a
# 1,001-line file are reported, a 150-line function is not.
scratch="${TEST_TMPDIR:-$(mktemp -d)}/size_budget_self_check"
mkdir -p "$scratch"
{
  echo "namespace theta {"
  echo "int Long(int x) {"
  for i in $(seq 1 149); do echo "  x += $i;  // {"; done
  echo "}"
  echo "int Short(int x) {"
  for i in $(seq 1 148); do echo "  x += \"}\"[0];"; done
  echo "}"
  for i in $(seq 1 698); do echo "// filler"; done
  echo "}  // namespace theta"
} >"$scratch/long.cc"
if out=$("$tool" "$scratch/long.cc" 2>&1); then
  echo "size_budget_test: the tool passed a file that breaks both budgets:" >&2
  echo "$out" >&2
  exit 1
fi
for want in "long.cc: 1001 lines (budget 1000)" \
  "long.cc:2: function Long is 151 lines (budget 150)"; do
  if ! grep -qF "$want" <<<"$out"; then
    echo "size_budget_test: the tool did not report \"$want\"; it said:" >&2
    echo "$out" >&2
    exit 1
  fi
done
if grep -q "function Short" <<<"$out"; then
  echo "size_budget_test: the tool reported a 150-line function:" >&2
  echo "$out" >&2
  exit 1
fi

# Then the repository's library sources. The runfiles tree mirrors the
# repository.
mapfile -t files < <(find -L . -path ./external -prune -o -type f \
  \( -name '*.h' -o -name '*.cc' -o -name '*.cu' -o -name '*.cuh' \) \
  ! -name '*_test.cc' -print | sed 's|^\./||' | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "size_budget_test: found no sources in the runfiles" >&2
  exit 1
fi
"$tool" --max_file_lines=1000 --max_function_lines=150 \
  --exceptions="$exceptions" "${files[@]}"
