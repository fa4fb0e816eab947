#!/usr/bin/env bash
# Formats every C/C++/CUDA file git knows of with clang-format (Google style,
# see .clang-format). `tools/format.sh --check` changes nothing and fails when
# a file is not formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(-i)
if [ "${1:-}" = "--check" ]; then
  mode=(--dry-run -Werror)
fi
git ls-files -co --exclude-standard -- '*.h' '*.cc' '*.cu' '*.cuh' |
  grep -v '^third_party/' | while read -r f; do [ -f "$f" ] && echo "$f"; done |
  xargs -r clang-format --style=file "${mode[@]}"
