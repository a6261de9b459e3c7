"""The original thread's table, re-measured: the Keras example and the asker's variant on full MNIST.

This is the one part of the report about the thread's own heads, by name: the preset `+experiment=thread_table`
runs both by the Keras protocol, and its grids (composed by the builder, in the preset's order) say which cells
they are. This module puts the measured train and test accuracies beside the numbers in the thread and says
whether each agrees. Pure: runs and the preset's cells in, table out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .judge import mean_ci
from .select import Context, measured, where
from .words import pct

COMMAND = "python -m ablation.sweep -m +experiment=thread_table hydra/launcher=parallel data.root=data/mnist"
WHERE = "data.root: the folder that holds the four MNIST IDX files; or data.download=true instead, online"

# The thread's runs, in the order of the preset's grids, and the numbers printed in the thread.
SETUPS = {
    "keras": "the Keras example (Euclidean distance, contrastive loss, same → low score)",
    "asker": "the asker's variant (subtract + Dense(1, sigmoid), flipped loss and accuracy: same → high score)",
}
THREAD = (  # (setup, metric, source, value)
    ("keras", "train_acc", "the asker's run of the Keras example", 0.9955),
    ("keras", "test_acc", "the asker's run of the Keras example", 0.9742),
    ("keras", "test_acc", "the Keras example's docstring", 0.972),
    ("asker", "train_acc", "the asker's variant, as posted", 0.4864),
    ("asker", "test_acc", "the asker's variant, as posted", 0.4829),
)
METRIC_WORDS = {"train_acc": "training pairs", "test_acc": "test pairs"}
AGREES_CI, AGREES_RANGE, DIFFERS, ONE_SEED, NOT_RUN = (
    "agrees: inside the 95 % CI", "agrees: inside the run-to-run range (not the CI)", "differs",
    "one seed: no CI or range", "not measured")


@dataclass(frozen=True)
class Row:
    setup: str
    metric: str
    source: str
    thread: float
    n: int
    mean: float
    lo: float
    hi: float
    low: float  # smallest and largest single run
    high: float
    verdict: str


def setup_runs(runs: pd.DataFrame, cell: dict[str, Any], ctx: Context) -> pd.DataFrame:
    """Completed runs of one of the preset's cells, by the Keras protocol: the config's defaults elsewhere."""
    keras = {k: v for k, v in ctx.words.defaults.items() if k in ("depth", "encoder", "loss", "convention",
                                                                   "pair_order", "epochs")}
    return where(measured(runs), **{**keras, **cell})


def agreement(value: float, x: pd.Series) -> str:
    ci = mean_ci(x)
    if ci.n == 0:
        return NOT_RUN
    if ci.n == 1:
        return ONE_SEED
    if ci.lo <= value <= ci.hi:
        return AGREES_CI
    if x.min() <= value <= x.max():
        return AGREES_RANGE
    return DIFFERS


def table(runs: pd.DataFrame, cells: list[dict[str, Any]], ctx: Context) -> list[Row]:
    """`cells`: the preset's cells in its order (one per setup), as factor levels."""
    by_setup = dict(zip(SETUPS, cells))
    rows = []
    for setup, metric, source, value in THREAD:
        x = setup_runs(runs, by_setup[setup], ctx)[metric].dropna() if setup in by_setup else pd.Series(dtype=float)
        ci = mean_ci(x)
        rows.append(Row(setup, metric, source, value, ci.n, ci.mean, ci.lo, ci.hi,
                        float(x.min()) if len(x) else float("nan"), float(x.max()) if len(x) else float("nan"),
                        agreement(value, x)))
    return rows


def words(rows: list[Row]) -> pd.DataFrame:
    """The table as the report shows it."""
    out = []
    for r in rows:
        if r.n == 0:
            measured_ = "not measured"
        elif r.n == 1:
            measured_ = f"{pct(r.mean, 2)} (one seed)"
        else:
            measured_ = f"{pct(r.mean, 2)} [95 % CI {pct(r.lo, 2)}, {pct(r.hi, 2)}]; runs {pct(r.low, 2)}–{pct(r.high, 2)}"
        diff = "" if r.n == 0 else f"{100 * (r.mean - r.thread):+.2f} points"
        out.append({"run": SETUPS[r.setup], "accuracy on": METRIC_WORDS[r.metric], "thread": pct(r.thread, 2),
                    "source": r.source, "measured": measured_, "seeds": r.n,
                    "measured − thread": diff, "verdict": r.verdict})
    return pd.DataFrame(out)


def summary(rows: list[Row]) -> str:
    """One paragraph from the rows: how many thread numbers each verdict covers."""
    if all(r.n == 0 for r in rows):
        return ("Not measured: no completed run of the preset's cells (full MNIST by the Keras protocol). "
                f"Measure it with {COMMAND} ({WHERE}).")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    agree = sum(v for k, v in counts.items() if k.startswith("agrees"))
    parts = [f"{agree} of the thread's {len(rows)} numbers agree with the runs"]
    differ = [r for r in rows if r.verdict == DIFFERS]
    if differ:
        parts.append("outside both the 95 % CI and the run-to-run range: " + "; ".join(
            f"{r.source}, {METRIC_WORDS[r.metric]} {pct(r.thread, 2)} vs {pct(r.mean, 2)} measured" for r in differ))
    short = [r for r in rows if r.verdict in (ONE_SEED, NOT_RUN)]
    if short:
        parts.append(f"{len(short)} not judged (fewer than two seeds): run {COMMAND} ({WHERE})")
    return "; ".join(parts) + "."


def original_table(runs: pd.DataFrame, cells: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
    rows = table(runs, cells, ctx)
    return {"rows": rows, "table": words(rows), "summary": summary(rows)}
