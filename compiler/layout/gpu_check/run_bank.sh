#!/usr/bin/env bash
# Measures the shared-memory wavefronts and bank conflicts of bank_check.cu with Nsight Compute.
set -euo pipefail
cd "$(dirname "$0")"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
nvcc -O2 -arch=sm_${arch} -o bank_check bank_check.cu
ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
"$ncu" --metrics smsp__sass_l1tex_data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,smsp__sass_l1tex_data_pipe_lsu_wavefronts_mem_shared_op_st.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum ./bank_check
