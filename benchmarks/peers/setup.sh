#!/usr/bin/env bash
# Makes the venv of the peers that //benchmarks:suite compares Theta with:
# PyTorch 2.x and PyTensor, from PyPI. Optional tooling: Theta itself never
# needs Python.
#
#   benchmarks/peers/setup.sh            # .venv in the repository root
#   benchmarks/peers/setup.sh /opt/peers # or a venv of your choosing
#                                        # (then: suite -- --venv=/opt/peers)
#
# About torch's size: PyPI's Linux torch wheel (2.15.0: 540 MB) is a CUDA
# build, and libtorch.so links libtorch_cuda.so, so even CPU use needs the
# CUDA libraries at import time. Measured on Debian 12 with CUDA 13.0 in
# /usr/local/cuda: `--no-deps` plus the pure-Python dependencies fails
# (libcufile.so.0, libcusparseLt.so.0, libnvshmem_host.so.3 missing); adding
# those three wheels (+306 MB) still fails (undefined symbol ncclCommResume:
# the toolkit's NCCL is older than the one torch was built against). So this
# installs torch with its declared dependencies: about 5.8 GB in the venv and
# 5 minutes here. PyPI holds no CPU-only torch wheel for Linux.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-$root/.venv}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "peers/setup: $python cannot make venvs (Debian: apt-get install python3-venv)" >&2
  exit 1
fi
echo "peers/setup: making the venv $venv"
"$python" -m venv "$venv"
# No pip cache: the wheels would take as much room again.
"$venv/bin/python" -m pip install --no-cache-dir --upgrade pip
"$venv/bin/python" -m pip install --no-cache-dir "torch>=2,<3" "pytensor>=2.20"
echo "peers/setup: installed; what the suite will see:"
"$venv/bin/python" "$root/benchmarks/peers/run_peer.py" --probe --out -
# PyTensor compiles (numba or C) into an on-disk cache; a first compile of
# the LSTM steps takes minutes. Fill the cache now rather than in the
# suite's first timed round.
echo "peers/setup: compiling PyTensor's functions once (fills its cache)"
"$venv/bin/python" "$root/benchmarks/peers/run_peer.py" --framework pytensor \
  --workloads "$("$venv/bin/python" -c 'import sys; sys.path.insert(0, "'"$root"'/benchmarks/peers"); import pytensor_workloads as w; print(",".join(w.WORKLOADS))')" \
  --min_time 0 --out /dev/null
echo "peers/setup: done. Run: bazel run //benchmarks:suite -- --quick"
