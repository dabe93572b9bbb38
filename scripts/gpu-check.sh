#!/usr/bin/env bash
# Runs on a GPU machine inside the folder made by scripts/gpu-bundle.sh: checks every kernel against
# the interpreter's result and an independent numpy reference, times it beside torch, prints a table;
# once for the default code generator and once for `--codegen direct`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
status=0
python3 gpu_check.py || status=1
python3 gpu_check.py --codegen direct || status=1
exit $status
