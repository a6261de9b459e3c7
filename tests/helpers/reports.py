"""Shared pieces of the report's tests: the Context `make_report` would build, fake studies as tables."""

from __future__ import annotations

import pandas as pd

from helpers.fakes import write_study

from ablation.report.build import config_facts
from ablation.report.load import load_runs
from ablation.report.select import Context, cell_keys, context, in_context
from ablation.report.words import CELL, Words


def context_of(runs: pd.DataFrame) -> Context:
    """The Context `make_report` builds for these runs."""
    defaults, options, _ = config_facts()
    words = Words.from_runs(runs, defaults, options)
    extra = tuple(c for c in cell_keys(runs) if c not in CELL)
    return Context(context(runs, list(extra), words), words, extra)


def study(tmp_path, cells=None, seeds: int = 3, n: int = 2000, **extra) -> tuple[pd.DataFrame, Context]:
    """Fake run folders → (measured runs at the report's context, its Context)."""
    results = tmp_path / "results"
    write_study(results, **({"cells": cells} if cells is not None else {}), seeds=seeds, n=n)
    for folder_writer in extra.get("more", ()):
        folder_writer(results / "runs")
    runs = load_runs(results).runs
    ctx = context_of(runs)
    return in_context(runs, ctx.fixed), ctx

