#!/usr/bin/env bash
# Fails when a C/C++/CUDA source in the test's runfiles (every package's
# format_sources filegroup) is not clang-format clean under the repository's
# .clang-format (Google style). Run tools/format.sh to fix.
set -euo pipefail
if ! command -v clang-format >/dev/null 2>&1; then
  echo "format_test: clang-format is not installed (tools/setup.sh installs it)" >&2
  exit 1
fi
# The runfiles tree mirrors the repository, .clang-format at its root.
mapfile -t files < <(find -L . -path ./external -prune -o -type f \
  \( -name '*.h' -o -name '*.cc' -o -name '*.cu' -o -name '*.cuh' \) -print | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "format_test: found no sources in the runfiles" >&2
  exit 1
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: ${f#./} (run tools/format.sh)"
    bad=1
  fi
done
[ "$bad" -eq 0 ] || exit 1
echo "format_test: ${#files[@]} files are clang-format clean"
