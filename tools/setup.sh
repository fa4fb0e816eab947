#!/usr/bin/env bash
# Installs what building, testing and running Theta need, from Debian 12's
# packages. Idempotent: when everything is present it installs nothing.
# The CUDA toolkit is not a Debian package; where it is absent the build goes
# on without the CUDA plugin (see third_party/cuda/cuda_configure.bzl).
set -euo pipefail

packages=(
  bazel-bootstrap        # Bazel 4.2.3, the build
  bazel-platforms        # @platforms, used by WORKSPACE
  g++                    # the C++20 compiler
  clang-format           # //tools:format_test checks formatting
  libopenblas-dev        # GEMM in the CPU plugin
  libdnnl-dev            # oneDNN: the CPU plugin's second GEMM provider
  libeigen3-dev          # vectorised math in the CPU plugin
  libabsl-dev            # Status, StatusOr, strings, containers, flags
  libgtest-dev           # tests
  libgmock-dev           # tests
  libbenchmark-dev       # benchmarks
  nlohmann-json3-dev     # the benchmark suite reads and writes JSON reports
  zlib1g-dev             # gzip-compressed datasets
  dataset-fashion-mnist  # the real data the example programs train on
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed; nothing to do."
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "setup: error: need root (or sudo) to apt-get install: ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -q; then
  echo "setup: error: 'apt-get update' failed; check the network or the apt sources" >&2
  exit 1
fi
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  echo "setup: error: 'apt-get install ${missing[*]}' failed" >&2
  exit 1
fi
echo "setup: done."
