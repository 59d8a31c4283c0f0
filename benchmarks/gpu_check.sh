#!/usr/bin/env bash
# The GPU check (issue 8): train and predict on CUDA with AMP (bf16; fp16 + GradScaler) and
# channels_last, for a classification and a segmentation project, compared with a CPU run.
#   bash benchmarks/gpu_check.sh [--quick]
# Prints one JSON object (see benchmarks/gpu_check.py); exits 1 if a check fails. Without CUDA
# it says so and exits 0 (nothing to check). Capped at 7 min 50 s so it fits an 8-minute slot.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "gpu_check: SKIPPED - no CUDA device here (torch.cuda.is_available() is False);" \
       "run it on a machine with an NVIDIA GPU." >&2
  echo '{"skipped": "no CUDA device", "ok": null}'
  exit 0
fi
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -c "import torch; print('torch', torch.__version__, 'on', torch.cuda.get_device_name(0))" >&2
exec timeout 470 "$PY" benchmarks/gpu_check.py --json "$@"
