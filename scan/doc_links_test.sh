#!/usr/bin/env bash
# Every Markdown document that a file given as an argument refers to (a path
# ending in .md, relative to the repository root) must be in the repository:
# a reader of scan.h must be able to open the semantics it points to.
set -euo pipefail
root="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-theta}"
missing=0
checked=0
for file in "$@"; do
  for doc in $(grep -oE '[A-Za-z0-9_./-]+\.md' "$file" | sort -u); do
    checked=$((checked + 1))
    if [ ! -f "$root/$doc" ]; then
      echo "$file refers to $doc, which is not in the repository" >&2
      missing=$((missing + 1))
    fi
  done
done
if [ "$missing" -ne 0 ]; then exit 1; fi
if [ "$checked" -eq 0 ]; then
  echo "no document references found in: $*" >&2
  exit 1
fi
echo "doc_links_test: $checked references, all present"
