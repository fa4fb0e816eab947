#!/usr/bin/env bash
# Builds libtorch_softmax_call.cc against the LibTorch inside the peers' venv
# (benchmarks/peers/setup.sh) and runs it, for the suite's 20x16 softmax
# call comparison:
#
#   benchmarks/peers/libtorch_softmax_call.sh [VENV] [-- rows cols min_s threads]
#
# VENV defaults to .venv in the repository root. The binary goes to
# $TMPDIR (or /tmp); nothing is written into the repository.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${1:-$root/.venv}"
[[ $# -gt 0 ]] && shift
[[ "${1:-}" == "--" ]] && shift
python="$venv/bin/python"
if [[ ! -x "$python" ]]; then
  echo "libtorch_softmax_call: no venv at $venv (run benchmarks/peers/setup.sh)" >&2
  exit 1
fi
torch_dir="$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
abi="$("$python" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
out="${TMPDIR:-/tmp}/libtorch_softmax_call"
g++ -O2 -std=c++20 -D_GLIBCXX_USE_CXX11_ABI="$abi" \
  -isystem "$torch_dir/include" \
  -isystem "$torch_dir/include/torch/csrc/api/include" \
  "$here/libtorch_softmax_call.cc" -o "$out" \
  -L"$torch_dir/lib" -Wl,-rpath,"$torch_dir/lib" -ltorch -ltorch_cpu -lc10
exec "$out" "$@"
