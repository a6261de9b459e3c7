"""The report end to end: the only module that reads run folders and writes the report folder."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from ablation.store import write_text

from . import plots_mechanism, plots_runs, plots_scores
from .analysis import Analysis, Job
from .answer import answers
from .claims import check_claims
from .document import document, write_document
from .labels import CELL, CONTEXT
from .load import ReportError, identity_columns, load_runs, read_per_run
from .plotkit import save
from .render import md_table
from .rivals import rivals
from .seed_table import original_table
from .select import (CODES, apply_filter, by_code, cell_keys, code_listing, context, duplicated_seeds, in_context, measured,
                     where)
from .tables import effects_words, factor_effects, summary, summary_words


def keep(runs: pd.DataFrame, filters: dict[str, Any]) -> pd.DataFrame:
    """The user's filter; runs whose factors are unknown (unreadable) stay, to be listed."""
    unknown = runs[runs["head"].isna()]
    return pd.concat([apply_filter(runs[runs["head"].notna()], filters), unknown]).sort_index()


def plotted(runs: pd.DataFrame, ctx: dict[str, Any]) -> pd.DataFrame:
    """Measured runs at the common (data, epochs): plots and effects show the extra cell keys as levels."""
    return where(measured(runs), **{k: ctx[k] for k in CONTEXT if k in ctx})


def lean_context(runs: pd.DataFrame, cell: list[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The runs without the identity columns that are not levels of a cell (narrower: faster slicing), and the
    context the verdicts and plots use: one setting of every extra cell key."""
    lean = runs.drop(columns=[c for c in identity_columns(runs) if c not in cell and c != "code"])
    return lean, context(lean, [c for c in cell if c not in CELL])


def figure_jobs(runs: pd.DataFrame, histories: pd.DataFrame, scores: pd.DataFrame, views: pd.DataFrame,
                cell: list[str]) -> dict[str, Job]:
    """How to draw each figure (None: nothing to show), from the tables alone: known before any verdict, so the
    figures can be drawing while the main process analyses."""
    extra = [c for c in cell if c not in CELL]
    lean, ctx = lean_context(runs, cell)
    pf = plotted(lean, ctx)
    skipped = where(lean[lean["status"] == "skipped"], **{k: ctx[k] for k in CONTEXT if k in ctx})
    jobs = {
        "accuracy_by_head.png": (plots_runs.accuracy_by_head, pf, extra),
        "learning_curves.png": (plots_scores.learning_curves, histories),
        "score_distributions.png": (plots_scores.score_distributions, scores),
        "swap_plot.png": (plots_scores.swap_plot, scores),
        "pair_order_control.png": (plots_runs.pair_order_control, pf, extra),
        "head_by_convention.png": (plots_runs.convention_grid, pf, skipped, extra),
        "image_views.png": (plots_mechanism.image_views, views),
        "collapse_over_training.png": (plots_mechanism.collapse_over_training, histories),
    }
    return {name: job if not job[1].empty else None for name, job in jobs.items()}


def analyse(runs: pd.DataFrame, histories: pd.DataFrame, cell: list[str] | None = None,
            views: pd.DataFrame | None = None) -> Analysis:
    """Everything the report says, from tables in memory (pure; the figures are `figure_jobs`).

    Verdicts and answers see one setting of every extra cell key (`ctx`); the summary shows every cell, the
    effects table and the accuracy plots show the extra keys as levels (the per-pair plots: one per cell)."""
    cell = cell_keys(runs) if cell is None else cell
    lean, ctx = lean_context(runs, cell)
    df, pf = in_context(lean, ctx), plotted(lean, ctx)
    a = Analysis(runs, ctx, summary(lean, cell), factor_effects(pf, ctx), check_claims(df, ctx), answers(df, ctx),
                 cell=cell)
    views = pd.DataFrame() if views is None else views
    a.rivals, a.original = rivals(df, ctx), original_table(runs)
    a.mechanism = " ".join(t for t in (plots_mechanism.view_words(views), plots_mechanism.collapse_words(histories)) if t)
    return a


def draw(job: Job, path: Path) -> bool:
    """Draw one figure and save it; False if there was nothing to show."""
    fig = job[0](*job[1:]) if job is not None else None
    if fig is None:
        return False
    save(fig, path)
    return True


# The slowest figures first (measured over 1,000 run folders: 2.1, 1.7, 1.7, 1.2, 0.9 s, the rest ≤ 0.5 s), so
# that two workers finish at about the same time.
SLOWEST_FIRST = ("accuracy_by_head.png", "score_distributions.png", "swap_plot.png", "learning_curves.png",
                 "collapse_over_training.png", "head_by_convention.png", "image_views.png", "pair_order_control.png")


class Drawing:
    """The figures, drawing in `workers` forked processes while the main process analyses (drawing is most of
    the report's time); `result()` waits for them. With one worker (or no fork) they are drawn in this process
    when the result is asked for. As a context manager, leaving early cancels what has not started."""

    def __init__(self, figures: dict[str, Job], out: Path, workers: int) -> None:
        self.figures, self.out = figures, out
        self.pool = None
        self.futures: dict[str, Any] = {}
        if workers > 1 and "fork" in mp.get_all_start_methods() and figures:
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"))
            for name in sorted(figures, key=lambda n: SLOWEST_FIRST.index(n) if n in SLOWEST_FIRST else -1):
                self.futures[name] = self.pool.submit(draw, figures[name], out / name)

    def result(self) -> dict[str, bool]:
        """Which figures were drawn (False: nothing to show)."""
        if self.pool is None:
            return {name: draw(job, self.out / name) for name, job in self.figures.items()}
        return {name: self.futures[name].result() for name in self.figures}

    def __enter__(self) -> "Drawing":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def per_run_tables(runs: pd.DataFrame, runs_dir: Path, cell: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read only the histories and scores the plots show, joined with the runs' factors. The per-pair plots show
    one value of each extra cell key per cell (their panels name it): a panel per level would multiply the
    slowest figures; the accuracy plots show every level."""
    cell = cell_keys(runs) if cell is None else cell
    extra = [c for c in cell if c not in CELL]
    df = in_context(runs, context(runs, extra))  # like the verdicts: one value of each extra key per cell
    if df.empty:
        return pd.DataFrame(), pd.DataFrame()
    all_seeds, few = plots_scores.select_runs(df, seeds=None, extra=extra), plots_scores.select_runs(df, extra=extra)
    hist = read_per_run(runs_dir, list(all_seeds["run_id"]), "history.csv")
    scores = read_per_run(runs_dir, list(few["run_id"]), "scores.csv.gz")
    hist = hist.merge(all_seeds, on="run_id") if len(hist) else hist
    scores = scores.merge(few, on="run_id") if len(scores) else scores
    return hist, scores


def make_report(results_dir: str | Path, out_dir: str | Path, filters: dict[str, Any] | None = None,
                plots: bool = True, workers: int = 1, code: str = "current") -> tuple[Analysis, Path]:
    """Read `results_dir/runs/*`, write the report folder; returns the analysis and the report.md path.

    `filters`: the user's `where` (any factor or dotted identity key → a value or a list); `code`: "current"
    (default: runs made by other code are set aside and listed) or "all" (the code becomes a factor)."""
    if code not in CODES:  # before reading anything: a mistyped option is the first thing to hear about
        raise ReportError(f"code={code!r}: must be one of {', '.join(CODES)}")
    loaded = load_runs(results_dir)
    runs, other = by_code(loaded.runs, code)
    runs = keep(runs, filters or {})
    if measured(runs).empty:
        counts = ", ".join(f"{n} {s}" for s, n in runs["status"].value_counts().items()) or "none after the filter"
        active = {k: v for k, v in (filters or {}).items() if v is not None}
        aside = f"; {len(other)} runs of other code set aside (code=all includes them)" if len(other) else ""
        raise ReportError(f"no completed run with a test accuracy under {str(loaded.runs_dir)!r} "
                          f"({counts}{'; filter ' + str(active) if active else ''}{aside})")
    cell = cell_keys(runs)  # once per report
    runs = runs.assign(duplicate_seed=duplicated_seeds(runs, cell))
    hist, scores = per_run_tables(runs, loaded.runs_dir, cell) if plots else (pd.DataFrame(), pd.DataFrame())
    views = plots_mechanism.read_views(in_context(runs, context(runs, [c for c in cell if c not in CELL])),
                                       loaded.runs_dir) if plots else pd.DataFrame()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = figure_jobs(runs, hist, scores, views, cell) if plots else {}
    with Drawing(figures, out, workers) as drawing:
        a = analyse(runs, hist, cell, views)
        a.figures, a.other_code, a.code = figures, code_listing(other), code
        write_text(out / "runs.csv", runs.to_csv(index=False))
        write_text(out / "summary.csv", a.summary.to_csv(index=False))
        write_text(out / "effects.csv", a.effects.to_csv(index=False))
        write_text(out / "summary.md", md_table(summary_words(a.summary)) + "\n")
        write_text(out / "effects.md", md_table(effects_words(a.effects)) + "\n")
        drawn = drawing.result()
    return a, write_document(document(a, Path(results_dir), drawn), out)
