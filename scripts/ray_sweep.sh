#!/usr/bin/env bash
# The Ray launcher end to end on this machine, as a user would run it on a cluster:
#   1. a local Ray cluster on 127.0.0.1 (ray start --head, 2 CPUs, no dashboard, no usage stats);
#   2. a small sweep through hydra/launcher=ray with the preset's address=auto;
#   3. the same sweep through the basic launcher into another folder; metrics compared (wall time aside);
#   4. the Ray sweep again: every run reused, nothing launched;
#   5. the cluster stopped (the `ray start --block` process this script started, and only it).
# Usage: scripts/ray_sweep.sh [OUT_DIR]     (EPOCHS=3 by default; pip install -e ".[ray]")
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-$(mktemp -d /tmp/ray_sweep.XXXXXX)}
mkdir -p "$OUT"
GRID=(-m head=distance,subtract,absdiff depth=0,1 "train.epochs=${EPOCHS:-3}")
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0  # Ray's single-machine mode: it binds and advertises 127.0.0.1 only
export RAY_USAGE_STATS_ENABLED=0 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export RAY_AUTH_MODE=token  # `ray start` (Ray 2.60) turns token authentication on; the sweep connects with the token
PORT=$(python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
export RAY_ADDRESS="127.0.0.1:$PORT"  # what address=auto finds
TMP=$(mktemp -d /tmp/rayXXXX)          # short: Ray's socket paths must fit in 107 characters

t=$SECONDS
ray start --head --block --node-ip-address=127.0.0.1 --port="$PORT" --num-cpus=2 --include-dashboard=false \
    --disable-usage-stats --temp-dir="$TMP" > "$OUT/ray_start.log" 2>&1 &
HEAD=$!
trap 'kill -TERM $HEAD 2>/dev/null || true; wait $HEAD 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 120); do  # bounded: 60 s
    ray status --address="$RAY_ADDRESS" > /dev/null 2>&1 && break
    kill -0 $HEAD 2>/dev/null || { cat "$OUT/ray_start.log"; exit 1; }
    sleep 0.5
done
echo "ray: cluster up at $RAY_ADDRESS in $((SECONDS - t)) s"

t=$SECONDS
python -m ablation.sweep "${GRID[@]}" hydra/launcher=ray "results_dir=$OUT/ray" progress=false 2>&1 | tee "$OUT/ray.log" | grep -E "^sweep|Ray:"
echo "ray: sweep in $((SECONDS - t)) s (wall, with process start)"
t=$SECONDS
python -m ablation.sweep "${GRID[@]}" "results_dir=$OUT/basic" progress=false > "$OUT/basic.log" 2>&1
grep -E "^sweep" "$OUT/basic.log"
echo "basic: sweep in $((SECONDS - t)) s"
python - "$OUT" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
def measured(d):
    recs = (json.loads(f.read_text()) for f in (out / d / "runs").glob("*/metrics.json"))
    return {r["run_id"]: (r["status"], {k: v for k, v in r.get("metrics", {}).items() if k != "wall_time_s"}) for r in recs}
ray, basic = measured("ray"), measured("basic")
same = ray == basic
print(f"compare: {len(ray)} runs through Ray, {len(basic)} through the basic launcher: "
      f"{'identical metrics' if same else 'METRICS DIFFER'}")
sys.exit(0 if same else 1)
PY
t=$SECONDS
python -m ablation.sweep "${GRID[@]}" hydra/launcher=ray "results_dir=$OUT/ray" progress=false 2>&1 | grep -E "^sweep"
echo "ray: re-run in $((SECONDS - t)) s"
echo "results in $OUT"
