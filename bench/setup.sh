#!/usr/bin/env bash
# The benchmarks' system peers (Debian): PyTorch, with OpenBLAS (without it PyTorch's dense layers run on the
# reference BLAS, about 8x slower). npm run bench installs the npm contenders itself; this needs root.
set -euo pipefail
want=()
/usr/bin/python3 -c 'import torch' 2>/dev/null || want+=(python3-torch)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || want+=(libopenblas0-pthread)
if [ ${#want[@]} -eq 0 ]; then
  echo "bench setup: PyTorch and OpenBLAS are installed"
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}"
