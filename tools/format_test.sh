#!/usr/bin/env bash
# Fails when any of the given files is not clang-format clean (Google style,
# the repository's .clang-format). Run tools/format.sh to fix.
set -euo pipefail
style_file="$1"
shift
if ! command -v clang-format >/dev/null 2>&1; then
  echo "format_test: clang-format is not installed (tools/setup.sh installs it)" >&2
  exit 1
fi
# clang-format looks for .clang-format beside each file; the runfiles tree
# has it at the root, next to the packages.
[ -f .clang-format ] || cp "$style_file" .clang-format
bad=0
for f in "$@"; do
  if ! clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run tools/format.sh)"
    bad=1
  fi
done
count=$#
if [ "$bad" -ne 0 ]; then exit 1; fi
echo "format_test: $count files are clang-format clean"
