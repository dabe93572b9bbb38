#!/usr/bin/env bash
# Installs what tilec needs and is missing; idempotent and quiet once done.
#   - LLVM/MLIR 19, clang-19 (libclang for bindgen) and lld-19 from Debian packages
#   - ptxas (from the PyPI wheel nvidia-cuda-nvcc-cu12) into tools/cuda/bin
#   - numpy and ml_dtypes (independent references for the tests) into tools/py
# Everything lands in git-ignored folders inside the project or in system packages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf 'setup: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------
pkgs=(llvm-19-dev libmlir-19-dev mlir-19-tools clang-19 libclang-19-dev libpolly-19-dev lld-19 libzstd-dev zlib1g-dev libxml2-dev unzip)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- ptxas and libdevice (math functions on NVIDIA) from the PyPI wheel ----
nvcc_version="12.8.93"
ptxas="$root/tools/cuda/bin/ptxas"
libdevice="$root/tools/cuda/nvvm/libdevice/libdevice.10.bc"
if [ ! -x "$ptxas" ] || [ ! -f "$libdevice" ]; then
  say "fetching ptxas (nvidia-cuda-nvcc-cu12==$nvcc_version)"
  dl="$(mktemp -d)"
  python3 -m pip download -q --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_27_x86_64 \
    -d "$dl" "nvidia-cuda-nvcc-cu12==$nvcc_version"
  mkdir -p "$root/tools/cuda/bin"
  unzip -q -o -j "$dl"/nvidia_cuda_nvcc_cu12-*.whl 'nvidia/cuda_nvcc/bin/ptxas' -d "$root/tools/cuda/bin"
  mkdir -p "$root/tools/cuda/nvvm/libdevice"
  unzip -q -o -j "$dl"/nvidia_cuda_nvcc_cu12-*.whl 'nvidia/cuda_nvcc/nvvm/libdevice/libdevice.10.bc' -d "$root/tools/cuda/nvvm/libdevice"
  chmod +x "$ptxas"
  rm -rf "$dl"
fi

# --- Python references (numpy, ml_dtypes) ----------------------------------
py="$root/tools/py"
if ! PYTHONPATH="$py" python3 -c 'import numpy, ml_dtypes' 2>/dev/null; then
  say "installing numpy and ml_dtypes into tools/py"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --target "$py" --upgrade numpy==2.2.6 ml_dtypes==0.5.4
fi
