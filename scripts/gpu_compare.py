"""Compare the report of a sweep on the GPU with the report of the same sweep on the CPU (scripts/gpu_check.sh).

    python scripts/gpu_compare.py GPU_REPORT_DIR CPU_REPORT_DIR [--devices cuda,cpu]

Reads only files each report folder has: `runs.csv` (one row per run: its `status` and `device`),
`summary.csv` (one row per cell: the cell's factors, then `n`, `acc_mean`, `acc_lo`, `acc_hi`, the test
accuracy's mean and 95 % CI over seeds) and `heads.csv` (one row per head × depth × pair order: the report's
`verdict` on what the head's measured structure predicts). A GPU's floats and dropout masks differ from a CPU's,
so the runs cannot agree bit for bit; they must agree as results:

* every run of both finished (completed, or skipped as meaningless), on the expected device;
* the same cells with the same number of seeds;
* the same level for every cell: learns (the CI above the chance band's upper end, 55 %), no better than
  chance (the CI's upper end within it) or neither — the report's line, restated here so that this check does
  not depend on the report's code — and the same verdict for every row of `heads.csv`;
* every cell's mean inside the other's CI.

Prints one line per cell and one summary line; exits 0 when all holds, 1 when not, 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

CHANCE_HIGH = 0.55  # the report's chance band's upper end: learns above it, no better than chance within it
STATS = ("n", "acc_mean", "acc_lo", "acc_hi")
FINISHED = ("completed", "skipped")


class Unreadable(Exception):
    """A report folder lacks a file or a column this comparison needs."""


def table(path: Path, needed: tuple[str, ...]) -> pd.DataFrame:
    """A report's CSV file, checked for the columns used here."""
    try:
        t = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise Unreadable(f"{path}: {e}") from e
    absent = [c for c in needed if c not in t.columns]
    if absent:
        raise Unreadable(f"{path} has no column {', '.join(absent)}")
    return t


def read(report: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """runs.csv and summary.csv of a report folder."""
    return table(report / "runs.csv", ("status", "device")), table(report / "summary.csv", STATS)


def cells(summary: pd.DataFrame) -> dict[tuple, pd.Series]:
    """Cell key (its factors: the columns before `n`, as (name, text) pairs) → the cell's row."""
    factors = list(summary.columns[: list(summary.columns).index("n")])
    return {tuple((f, str(row[f])) for f in factors): row for _, row in summary.iterrows()}


def name(key: tuple, varying: set[str]) -> str:
    """A cell in words: the factors that differ between the cells (all when none does)."""
    shown = [(f, v) for f, v in key if f in varying] or list(key)
    return " ".join(f"{f}={v}" for f, v in shown)


def verdict(row: pd.Series) -> str:
    """The cell's level under the report's line."""
    if row["acc_lo"] > CHANCE_HIGH:
        return "learns"
    if row["acc_hi"] <= CHANCE_HIGH:
        return "no better than chance"
    return "neither"


def head_verdicts(report: Path) -> dict[tuple, str]:
    """The report's verdict per head × depth × pair order (heads.csv: the columns before `structure` name a row)."""
    t = table(report / "heads.csv", ("structure", "verdict"))
    keys = list(t.columns[: list(t.columns).index("structure")])
    return {tuple((k, str(r[k])) for k in keys): str(r["verdict"]) for _, r in t.iterrows()}


def run_problems(runs: pd.DataFrame, side: str, expected: str) -> list[str]:
    """Runs that did not finish, or ran on another device than expected."""
    out = []
    unfinished = runs[~runs["status"].isin(FINISHED)]
    if len(unfinished):
        counts = ", ".join(f"{n} {s}" for s, n in unfinished["status"].value_counts().items())
        out.append(f"{side}: {counts} of {len(runs)} runs")
    devices = sorted(set(runs.loc[runs["status"] == "completed", "device"].astype(str)))
    if devices != [expected]:
        out.append(f"{side}: runs on {', '.join(devices) or 'no device'}, expected {expected}")
    return out


def inside(mean: float, row: pd.Series) -> bool:
    return bool(row["acc_lo"] <= mean <= row["acc_hi"])


def compare(gpu: Path, cpu: Path, devices: tuple[str, str] = ("cuda", "cpu")) -> tuple[list[str], list[str]]:
    """(one line per cell, the problems found): what the GPU report says against the CPU report."""
    (g_runs, g_sum), (c_runs, c_sum) = read(gpu), read(cpu)
    problems = run_problems(g_runs, "GPU", devices[0]) + run_problems(c_runs, "CPU", devices[1])
    g_cells, c_cells = cells(g_sum), cells(c_sum)
    factors = [f for f, _ in next(iter(g_cells), ())]
    varying = {f for f in factors if len({dict(key)[f] for key in g_cells}) > 1}
    lines = []
    for key, g in g_cells.items():
        c = c_cells.get(key)
        if c is None:
            problems.append(f"{name(key, varying)}: not in the CPU report (a CPU sweep of the same grid by this code?)")
            continue
        gv, cv = verdict(g), verdict(c)
        bad = []
        if g["n"] != c["n"]:
            bad.append(f"n {g['n']} vs {c['n']}")
        if gv != cv:
            bad.append(f"verdict {gv} vs {cv}")
        if not inside(g["acc_mean"], c):
            bad.append("GPU mean outside the CPU's CI")
        if not inside(c["acc_mean"], g):
            bad.append("CPU mean outside the GPU's CI")
        problems += [f"{name(key, varying)}: {b}" for b in bad]
        lines.append(f"{'ok  ' if not bad else 'DIFF'} {name(key, varying)}: GPU {fmt(g)} {gv} | CPU {fmt(c)} {cv}")
    if not g_cells:
        problems.append("GPU: the report has no cell")
    g_heads, c_heads = head_verdicts(gpu), head_verdicts(cpu)
    for key, v in g_heads.items():
        if c_heads.get(key, v) != v:
            problems.append(f"{name(key, {k for k, _ in key})}: the report's verdict {v} vs {c_heads[key]}")
    return lines, problems


def fmt(row: pd.Series) -> str:
    return f"{100 * row['acc_mean']:.1f} % [{100 * row['acc_lo']:.1f}, {100 * row['acc_hi']:.1f}] (n={row['n']})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gpu", type=Path, help="the GPU sweep's report folder")
    parser.add_argument("cpu", type=Path, help="the CPU sweep's report folder")
    parser.add_argument("--devices", default="cuda,cpu", help="the device each side's runs must show (default cuda,cpu)")
    args = parser.parse_args(argv)
    try:
        lines, problems = compare(args.gpu, args.cpu, tuple(args.devices.split(",", 1)))  # type: ignore[arg-type]
    except Unreadable as e:
        print(f"compare: cannot compare: {e}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    for p in problems:
        print(f"  problem: {p}")
    if problems:
        print(f"compare: FAILED: {len(problems)} problem(s) in {len(lines)} cells compared")
        return 1
    print(f"compare: {len(lines)} cells: the same verdicts, every cell mean inside the other's 95 % CI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
