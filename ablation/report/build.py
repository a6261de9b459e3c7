"""The builder: the report end to end. It reads run folders (through `load`) and the composed config, has the figures
drawn while the analysis runs, and hands the writer what to write. With `load` and `write`, the only I/O.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from .document import TITLE, Analysis, analyse, markdown, md_table
from .load import ReportError, identity_columns, load_runs, read_per_run, run_folders
from .plots import FIGURES, Figure
from .select import (CODES, Context, apply_filter, by_code, cell_keys, code_listing, context, duplicated_seeds,
                     filter_keys, in_context, measured, where)
from .tables import effects_words, head_table_words, summary_words
from .words import CELL, CONTEXT, GROUPS, RECIPE, SHORT, Words
from .write import save_figure, writable, write_report, write_tables

CONF = Path(__file__).resolve().parents[1] / "conf"


@lru_cache(maxsize=1)
def config_facts() -> tuple[dict[str, Any], dict[str, list[str]], list[dict[str, Any]]]:
    """From the composed config (never a copy of it): each factor's default (and every dotted key's), each config
    group's options, and the cells of the thread's preset (`+experiment=thread_table`) in its order."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from ablation.identity import flatten

    def facts() -> tuple[dict[str, Any], dict[str, list[str]], list[dict[str, Any]]]:
        cfg = compose("config", return_hydra_config=True)
        thread = compose("config", overrides=["+experiment=thread_table"], return_hydra_config=True)
        choice = cfg.hydra.runtime.choices
        dotted = flatten({k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg[k]) else cfg[k]
                          for k in cfg if k != "hydra"})
        defaults = {**dotted, **{g: choice[g] for g in GROUPS}, "depth": cfg.depth, "convention": cfg.loss.convention,
                    "pair_order": cfg.data.pair_order, "epochs": cfg.train.epochs}
        options = {g: list(GlobalHydra.instance().config_loader().get_group_options(g)) for g in GROUPS}
        cells = [{**{SHORT.get(k, k): v for k, v in grid.items() if k != "seed"},
                  "data": thread.hydra.runtime.choices.data} for grid in thread.hydra.sweeper.grids]
        return defaults, options, cells

    if GlobalHydra.instance().is_initialized():  # inside `python -m ablation.report`: the app's own search path
        return facts()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return facts()


def no_match(runs: pd.DataFrame, filters: dict[str, Any]) -> str:
    """The line for filters that keep no measured run: each filter with the values its key has in the runs."""
    parts = []
    for key, wanted in filter_keys(runs, filters).items():
        values = sorted({str(v) for v in runs[key].dropna()}, key=lambda v: (len(v), v))
        parts.append(f"where.{key}={wanted} ({key} has {', '.join(values) or 'no value'})")
    return "no completed run matches " + " and ".join(parts)


def keep(runs: pd.DataFrame, filters: dict[str, Any]) -> pd.DataFrame:
    """The user's filter; runs whose factors are unknown (unreadable) stay, to be listed."""
    unknown = runs[runs["head"].isna()]
    return pd.concat([apply_filter(runs[runs["head"].notna()], filters), unknown]).sort_index()


def figure_inputs(plotted: pd.DataFrame, per_cell: pd.DataFrame, runs_dir: Path, ctx: Context,
                  figures: tuple[Figure, ...] = FIGURES) -> dict[str, dict[str, pd.DataFrame]]:
    """Per figure, the per-run tables it reads: each file read once per run, joined with its selection's columns.
    Selections see one value of each extra cell key per cell (`per_cell`): a panel per level would multiply the
    slowest figures; the accuracy figures show every level."""
    wanted = {(fig.name, file): sel(per_cell, ctx) for fig in figures for file, sel in fig.reads.items()}
    cache: dict[str, pd.DataFrame] = {}
    for (_, file), sel in wanted.items():
        todo = [r for r in sel["run_id"] if f"{file}/{r}" not in cache]
        part = read_per_run(runs_dir, todo, file) if todo else pd.DataFrame(columns=["run_id"])
        for rid in todo:
            cache[f"{file}/{rid}"] = part[part["run_id"] == rid]
    out: dict[str, dict[str, pd.DataFrame]] = {fig.name: {} for fig in figures}
    for (name, file), sel in wanted.items():
        parts = [cache[f"{file}/{r}"] for r in sel["run_id"] if len(cache[f"{file}/{r}"])]
        out[name][file] = pd.concat(parts, ignore_index=True).merge(sel, on="run_id") if parts else pd.DataFrame()
    return out


def draw(fig: Figure, runs: pd.DataFrame, files: dict[str, pd.DataFrame], ctx: Context, path: Path) -> bool:
    """Draw one figure and save it; False if there was nothing to show."""
    drawn = fig.draw(runs, files, ctx)
    if drawn is None:
        return False
    save_figure(drawn, path)
    return True


class Drawing:
    """The figures, drawing in `workers` forked processes (costliest first) while the main process analyses;
    `result()` waits for them. With one worker (or no fork) they are drawn in this process when asked for. As a
    context manager, leaving early cancels what has not started."""

    def __init__(self, runs: pd.DataFrame, inputs: dict[str, dict[str, pd.DataFrame]], ctx: Context, out: Path,
                 workers: int) -> None:
        self.jobs = {fig.name: (fig, runs, inputs.get(fig.name, {}), ctx, out / fig.name) for fig in FIGURES}
        self.pool, self.futures = None, {}
        if workers > 1 and "fork" in mp.get_all_start_methods():
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"))
            for fig in sorted(FIGURES, key=lambda f: -f.cost):
                self.futures[fig.name] = self.pool.submit(draw, *self.jobs[fig.name])

    def result(self) -> dict[str, bool]:
        """Which figures were drawn (False: nothing to show)."""
        if self.pool is None:
            return {name: draw(*job) for name, job in self.jobs.items()}
        return {name: self.futures[name].result() for name in self.jobs}

    def __enter__(self) -> "Drawing":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def make_report(results_dir: str | Path, out_dir: str | Path, filters: dict[str, Any] | None = None,
                plots: bool = True, workers: int = 1, code: str = "current") -> tuple[Analysis, Path]:
    """Read `results_dir/runs/*`, write the report folder; returns the analysis and the report.md path.

    `filters`: the user's `where` (any factor or dotted identity key → a value or a list); `code`: "current"
    (default: runs made by other code are set aside and listed) or "all" (the code becomes a factor)."""
    if code not in CODES:  # before reading anything: a mistyped option is the first thing to hear about
        raise ReportError(f"code={code!r}: must be one of {', '.join(CODES)}")
    folders = run_folders(Path(results_dir))  # a missing or empty results folder first, then the output folder
    out = Path(out_dir)
    writable(out)
    loaded = load_runs(results_dir, folders)
    runs, other = by_code(loaded.runs, code)
    unfiltered, runs = runs, keep(runs, filters or {})
    if filters and measured(runs).empty and not measured(unfiltered).empty:
        raise ReportError(no_match(measured(unfiltered), filters))
    if measured(runs).empty:
        counts = ", ".join(f"{n} {s}" for s, n in runs["status"].value_counts().items()) or "none after the filter"
        active = {k: v for k, v in (filters or {}).items() if v is not None}
        aside = f"; {len(other)} runs of other code set aside (code=all includes them)" if len(other) else ""
        raise ReportError(f"no completed run with a test accuracy under {str(loaded.runs_dir)!r} "
                          f"({counts}{'; filter ' + str(active) if active else ''}{aside})")
    cell = cell_keys(runs)  # once per report
    runs = runs.assign(duplicate_seed=duplicated_seeds(runs, cell))
    defaults, options, thread_cells = config_facts()
    words = Words.from_runs(runs, defaults, options)
    extra = tuple(c for c in cell if c not in CELL)
    # narrower tables slice faster: the identity columns that are neither levels of a cell nor component classes
    lean = runs.drop(columns=[c for c in identity_columns(runs) if c not in cell and c != "code"
                              and not c.endswith("._target_")])
    ctx = Context(context(lean, list(extra), words), words, extra)
    plotted = where(measured(lean), **{k: ctx.fixed[k] for k in (*CONTEXT, *RECIPE) if k in ctx.fixed})
    # without plots, still the mechanism figures' files: the report states their numbers in words
    inputs = figure_inputs(plotted, in_context(lean, ctx.fixed), loaded.runs_dir, ctx,
                           FIGURES if plots else tuple(f for f in FIGURES if f.section == "mechanism"))
    with Drawing(plotted, inputs, ctx, out, workers if plots else 0) as drawing:
        mechanism = {file: t for fig in FIGURES if fig.section == "mechanism" for file, t in inputs.get(fig.name, {}).items()}
        a = analyse(lean, ctx, cell, thread_cells, mechanism)
        a.runs, a.other_code, a.code = runs, code_listing(other), code  # every column of every run, for the listings
        write_tables(out, {"runs.csv": runs, "summary.csv": a.summary, "effects.csv": a.effects, "heads.csv": a.heads,
                           "summary.md": md_table(summary_words(a.summary, words)) + "\n",
                           "effects.md": md_table(effects_words(a.effects)) + "\n",
                           "heads.md": (md_table(head_table_words(a.heads, words)) if len(a.heads) else "") + "\n"})
        drawn = drawing.result() if plots else {}
    return a, write_report(out, markdown(a, str(loaded.runs_dir), drawn, plots), TITLE)
