#!/usr/bin/env bash
# Checks the NVIDIA atoms of tilec-layout on a real GPU (sm_80 or newer, nvcc on PATH).
# Generate the tables first where Rust is available:
#   cargo run --release -p tilec-layout --example atom_tables > compiler/layout/gpu_check/tables.h
set -euo pipefail
cd "$(dirname "$0")"
test -f tables.h || { echo "tables.h missing: generate it with the atom_tables example" >&2; exit 2; }
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
nvcc -O2 -std=c++17 -arch=sm_${arch} -o atoms_check atoms_check.cu
./atoms_check
