#!/usr/bin/env bash
# Verify the GPU path on a machine with a CUDA GPU, in one command (docs/gpu.md):
#   1. the GPU-only tests of tests/test_device.py (no host synchronisation in an epoch, a bundle's runs equal
#      the runs alone, the plain loop on CUDA);
#   2. the quick-start sweep (+experiment=question, 60 trained runs) with device=cuda, and its report;
#   3. the same sweep on the CPU, and its report; or, with --cpu DIR, the report of a CPU sweep of the same
#      grid already in DIR (made by this code; DIR itself is not written to);
#   4. scripts/gpu_compare.py: every run finished, the same verdict for every cell, every cell mean inside
#      the other's 95 % CI.
# Prints the GPU model, the wall times and a one-line verdict. Exit 0: passed; 1: failed (any difference, a
# failed run or test, a GPU sweep without a report); 2: nothing checked (no GPU here, a bad argument, no
# report of the CPU side).
#
# Usage: scripts/gpu_check.sh [--cpu RESULTS_DIR] [--out DIR] [override ...]
#   overrides go to both sweeps, e.g. train.epochs=5 for a shorter check (the report then judges 5 epochs)
# Environment: GPU_CHECK_JOBS parallel jobs for the GPU sweep (default 2), GPU_CHECK_CPU_JOBS for the CPU
# sweep (default: the cores, at most 16); GPU_CHECK_GRID the sweep's grid (default +experiment=question);
# GPU_CHECK_DEVICE=cpu runs the whole script with the CPU standing in for the GPU: a test of this script
# (tests/test_gpu_check.py), not of a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

DEVICE=${GPU_CHECK_DEVICE:-cuda}
read -r -a GRID <<< "${GPU_CHECK_GRID:-+experiment=question}"
CPU_RESULTS="" OUT="" EXTRA=()
while (($#)); do
    case $1 in
        --cpu) [ $# -ge 2 ] || { echo "gpu_check: --cpu needs a results folder" >&2; exit 2; }; CPU_RESULTS=$2; shift 2 ;;
        --out) [ $# -ge 2 ] || { echo "gpu_check: --out needs a folder" >&2; exit 2; }; OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        -*) echo "gpu_check: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) EXTRA+=("$1"); shift ;;
    esac
done
if [ -n "$CPU_RESULTS" ] && [ ! -d "$CPU_RESULTS/runs" ]; then
    echo "gpu_check: --cpu $CPU_RESULTS has no runs/ folder (a results_dir of a CPU sweep of the same grid)" >&2
    exit 2
fi

if [ "$DEVICE" = cpu ]; then
    GPU="none: GPU_CHECK_DEVICE=cpu, the CPU stands in for the GPU (a test of this script, not of a GPU)"
else
    GPU=$(python - <<'PY'
import sys

import torch

if not torch.cuda.is_available():
    sys.exit(f"gpu_check: torch {torch.__version__} sees no CUDA GPU on this machine: nothing to check here")
print(f"{torch.cuda.get_device_name(0)} ({torch.cuda.device_count()} visible), torch {torch.__version__}, "
      f"CUDA {torch.version.cuda}")
PY
    ) || exit 2
    if command -v nvidia-smi > /dev/null; then
        GPU="$GPU; nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
    fi
fi
OUT=${OUT:-$(mktemp -d /tmp/gpu_check.XXXXXX)}
mkdir -p "$OUT"
echo "gpu_check: GPU: $GPU"
echo "gpu_check: output in $OUT"
START=$SECONDS

TESTS="not run (no GPU)"
if [ "$DEVICE" != cpu ]; then
    t=$SECONDS
    if python -m pytest -q -p no:cacheprovider tests/test_device.py -k on_a_gpu > "$OUT/tests.log" 2>&1; then
        TESTS="passed"
    else
        TESTS="FAILED"
    fi
    echo "gpu_check: GPU-only tests $TESTS in $((SECONDS - t)) s: $(tail -1 "$OUT/tests.log")"
fi

fail() {  # the one-line verdict of a check that did not pass
    echo "gpu_check: FAILED ($((SECONDS - START)) s in all): $*; GPU-only tests $TESTS; GPU: ${GPU%%;*}"
    exit 1
}

count() { [ "$1" = 1 ] && echo "1 $2" || echo "$1 $2s"; }  # count 2 job → "2 jobs"

# sweep DEVICE RESULTS JOBS: the grid on DEVICE into RESULTS with JOBS parallel jobs; a failed run is
# recorded in its folder and counted by the comparison
sweep() {
    local log="$OUT/$(basename "$2").log"
    python -m ablation.sweep -m "${GRID[@]}" hydra/launcher=parallel "hydra.launcher.n_jobs=$3" "device=$1" \
        "results_dir=$2" progress=false "${EXTRA[@]}" > "$log" 2>&1 \
        || echo "gpu_check: the sweep on $1 exited non-zero ($log): $(grep -vE '^\s*$' "$log" | tail -1)"
    grep -E "^sweep done" "$log" | sed "s/^/gpu_check: device=$1: /" || true
}

# report RESULTS REPORT: the report of RESULTS into REPORT (tables only); the reason it could not be made
report() {
    python -m ablation.report "results_dir=$1" "out_dir=$2" plots=false > "$2.log" 2>&1 || tail -1 "$2.log"
}

t=$SECONDS
sweep "$DEVICE" "$OUT/gpu" "${GPU_CHECK_JOBS:-2}"
GPU_S=$((SECONDS - t))
why=$(report "$OUT/gpu" "$OUT/gpu-report")
[ -z "$why" ] || fail "no report of the sweep on $DEVICE: $why"

if [ -n "$CPU_RESULTS" ]; then
    CPU_WALL="read from $CPU_RESULTS"
else
    CPU_RESULTS="$OUT/cpu"
    cores=$(python -c "import os; print(min(len(os.sched_getaffinity(0)), 16))")
    t=$SECONDS
    sweep cpu "$CPU_RESULTS" "${GPU_CHECK_CPU_JOBS:-$cores}"
    CPU_WALL="$((SECONDS - t)) s ($(count "${GPU_CHECK_CPU_JOBS:-$cores}" job))"
fi
why=$(report "$CPU_RESULTS" "$OUT/cpu-report")
[ -z "$why" ] || { echo "gpu_check: nothing compared: no report of the CPU runs in $CPU_RESULTS: $why" >&2; exit 2; }
echo "gpu_check: wall times: sweep on $DEVICE $GPU_S s ($(count "${GPU_CHECK_JOBS:-2}" job)), on the CPU $CPU_WALL"

KIND=${DEVICE%%:*}
set +e
python scripts/gpu_compare.py "$OUT/gpu-report" "$OUT/cpu-report" --devices "$KIND,cpu" | tee "$OUT/compare.txt"
COMPARED=${PIPESTATUS[0]}
set -e
[ "$COMPARED" -ne 2 ] || { echo "gpu_check: nothing compared: the reports lack what scripts/gpu_compare.py reads" >&2; exit 2; }
SAID=$(tail -1 "$OUT/compare.txt" | sed 's/^compare: //')
[ "$COMPARED" -eq 0 ] && [ "$TESTS" != FAILED ] || fail "$SAID (details in $OUT)"
echo "gpu_check: PASSED ($((SECONDS - START)) s in all): $SAID; GPU-only tests $TESTS; GPU: ${GPU%%;*}"
