"""`python -m ablation.report` as a user runs it, on real (one-epoch) runs of the sweep."""

import re

import pandas as pd
import pytest
from conftest import FAST, cli
from helpers.fakes import write_broken

pytestmark = pytest.mark.slow


def test_report_from_real_runs(results, tmp_path):
    p = cli("-m", "head=subtract,absdiff", "optimizer.lr=1e-3,3e-3", "seed=0,1", *FAST, f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    write_broken(results / "runs")  # plus an interrupted, a corrupt, a failed and a diverged run
    out = tmp_path / "report"
    r = cli(f"results_dir={results}", f"out_dir={out}", module="ablation.report")
    assert r.returncode == 0, r.stderr
    assert f"Report: {out / 'report.md'}" in r.stdout
    assert "1. An additive head compares nothing" in r.stdout and "1 interrupted" in r.stdout
    # two learning rates are two cells per head, two seeds each: never pooled into "4 seeds"
    table = r.stdout.split("Test accuracy over seeds")[1].split("Claims")[0]  # after the answer in words
    assert "optimizer.lr" in table and table.count("2 seeds") == 4 and "4 seeds" not in table
    text = (out / "report.md").read_text()
    assert "8 completed" in text and "epochs" in text
    # additivity holds after any training; the control was not run, and the command keeps the runs' epochs (the
    # learning rate the verdicts use is the default one, first in reading order when both have as many runs)
    assert "### 1. An additive head compares nothing: holds" in text
    n = re.search(r"\*\*not measured\*\* — additive heads that are not symmetric learn in a fixed order, and beat "
                  r"random order: no fixed-order run of an additive head that is not symmetric\. Measured by command (\d+)",
                  text)
    assert n and (f"\n{n.group(1)}. `python -m ablation.sweep -m head=subtract data.pair_order=random,sorted "
                  "train.epochs=1 seed=0,1,2`") in text
    assert (out / "swap_plot.png").stat().st_size > 10_000
    # where takes any dotted key as typed, and a list for a short name
    r = cli(f"results_dir={results}", f"out_dir={tmp_path / 'r2'}", "where.optimizer.lr=0.003", "where.head=[subtract,absdiff]",
            "plots=false", module="ablation.report")
    assert r.returncode == 0, r.stderr
    runs = pd.read_csv(tmp_path / "r2" / "runs.csv")
    completed = runs[runs["status"] == "completed"]
    assert len(completed) == 4 and set(completed["optimizer.lr"]) == {0.003}
    r = cli(f"results_dir={results}", "where.heads=subtract", "plots=false", module="ablation.report")
    assert r.returncode == 1 and "where.heads" in r.stderr and "Traceback" not in r.stderr  # mistyped: rejected


def test_empty_or_missing_results_folder_exits_nonzero_with_a_message(tmp_path):
    r = cli(f"results_dir={tmp_path}", module="ablation.report")
    assert r.returncode == 1 and "no run folders" in r.stderr and "Traceback" not in r.stderr
    r = cli(f"results_dir={tmp_path / 'missing'}", module="ablation.report")
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = cli("code=newest", module="ablation.report")  # an unknown option is rejected, not ignored
    assert r.returncode == 1 and "code='newest': must be one of current, all" in r.stderr
