#!/usr/bin/env bash
# Fails unless libtheta_cuda.so exports exactly one symbol,
# theta_backend_get_api, and does not link the CUDA driver (libcuda is
# dlopen'd at run time so the plugin loads on machines without one).
set -euo pipefail
lib="$1"
exported="$(nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort)"
if [ "$exported" != "theta_backend_get_api" ]; then
  echo "exports_test: $lib exports:" >&2
  echo "$exported" >&2
  exit 1
fi
if objdump -p "$lib" | grep -q 'NEEDED.*libcuda\.so'; then
  echo "exports_test: $lib links libcuda (it must dlopen it)" >&2
  objdump -p "$lib" | grep NEEDED >&2
  exit 1
fi
echo "exports_test: $lib exports only theta_backend_get_api; no libcuda link"
