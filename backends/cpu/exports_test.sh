#!/usr/bin/env bash
# Fails unless libtheta_cpu.so exports exactly one symbol,
# theta_backend_get_api (OpenBLAS, Eigen and the kernels stay hidden).
set -euo pipefail
lib="$1"
exported="$(nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort)"
if [ "$exported" != "theta_backend_get_api" ]; then
  echo "exports_test: $lib exports:" >&2
  echo "$exported" >&2
  exit 1
fi
echo "exports_test: $lib exports only theta_backend_get_api"
