#!/usr/bin/env bash
# A user's own program that links //:theta and nothing else finds the CPU
# plugin wherever the README says it will:
#   1. in its Bazel runfiles (as `bazel run` and `bazel test` start it);
#   2. installed, through THETA_BACKEND_PATH;
#   3. installed, with the plugin copied beside the program;
# and, installed with no plugin anywhere, fails with a message that says
# where it looked.
set -euo pipefail
program="$1"
plugin="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }

out="$("$program")" || fail "runfiles: the program failed: $out"
grep -q "training accuracy" <<<"$out" || fail "runfiles: no accuracy in: $out"
echo "runfiles: ok"

install="$TEST_TMPDIR/install"
mkdir -p "$install/bin" "$install/lib/theta"
cp "$program" "$install/bin/"
cp "$plugin" "$install/lib/theta/"
installed="$install/bin/$(basename "$program")"
bare=(env -u TEST_SRCDIR -u RUNFILES_DIR -u RUNFILES_MANIFEST_FILE
      -u THETA_BACKEND_PATH -u THETA_BACKEND)

if out="$("${bare[@]}" "$installed" 2>&1)"; then
  fail "installed without a plugin: the program succeeded: $out"
fi
grep -q "THETA_BACKEND_PATH" <<<"$out" ||
  fail "installed without a plugin: the error does not say where to look: $out"
echo "no plugin: fails as expected: $(grep -m1 -i "backend" <<<"$out")"

out="$("${bare[@]}" THETA_BACKEND_PATH="$install/lib/theta" "$installed")" ||
  fail "THETA_BACKEND_PATH: the program failed: $out"
grep -q "training accuracy" <<<"$out" || fail "THETA_BACKEND_PATH: $out"
echo "THETA_BACKEND_PATH: ok"

cp "$plugin" "$install/bin/"
out="$("${bare[@]}" "$installed")" || fail "beside the program: $out"
grep -q "training accuracy" <<<"$out" || fail "beside the program: $out"
echo "beside the program: ok"
