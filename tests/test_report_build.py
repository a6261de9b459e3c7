"""The report folder from hand-made runs: files, sections, listed broken runs, embedded images, the filter."""

import base64
import re

import pandas as pd
import pytest
from fakes import write_broken, write_run, write_study

from ablation.report.analysis import FIGURES, MECHANISM_FIGURES
from ablation.report.build import make_report
from ablation.report.load import ReportError


def test_report_folder_from_a_study_with_broken_runs(tmp_path):
    results = tmp_path / "results"
    write_study(results, seeds=2, n=100)
    broken = write_broken(results / "runs")
    out = tmp_path / "report"
    a, md = make_report(results, out, workers=1)
    n_folders = len(list((results / "runs").iterdir()))
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == n_folders and {"head", "depth", "seed", "status", "test_acc", "swap_gap"} <= set(runs.columns)
    text = md.read_text()
    for section in ("## In short", "## Why subtract + a single dense layer fails", "## Sanity checks",
                    "## Predictions", "## Rival explanations", "## The mechanism, drawn", "## The original table",
                    "## The asker's two proposals", "## Factor effects", "## Runs not in the statistics"):
        assert section in text
    for folder in broken:  # interrupted, corrupt, failed and diverged runs are listed by id
        assert folder.name in text
    # two seeds per cell: the invariants are checked, the predictions are not judged
    assert text.count(": holds\n") == 3 and text.count(": not measured\n") == 3
    assert "n = 2, needs 3" in text
    for name in {**FIGURES, **MECHANISM_FIGURES}:
        png = (out / name).read_bytes()
        assert png[:4] == b"\x89PNG"
    html = (out / "report.html").read_text()
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(images) == len(FIGURES) + len(MECHANISM_FIGURES) and base64.b64decode(images[0])[:4] == b"\x89PNG"
    assert "<img" in html and "src='accuracy_by_head.png'" not in html  # self-contained
    summary = pd.read_csv(out / "summary.csv")
    assert summary["n"].max() == 2


def test_the_headline_counts_predictions_only(tmp_path):
    results = tmp_path / "results"
    write_study(results, seeds=3, n=100)
    a, md = make_report(results, tmp_path / "r", plots=False)
    text = md.read_text()
    short = text.split("## In short")[1].split("\n## ")[0]
    n_pred = sum(len(c.checks) for c in a.claims if not c.sanity)
    n_sanity = sum(len(c.checks) for c in a.claims if c.sanity)
    assert f"make {n_pred} predictions" in short and f"{n_pred} supported, 0 contradicted" in short
    assert f"{n_sanity} of {n_sanity} sanity checks (true by construction) hold" in short
    assert "(a) " in short and "— contradicted" in short  # the rivals' verdicts
    assert text.count(": holds\n") == 3 and text.count(": supported\n") == 3


def test_the_mechanism_numbers_come_from_the_recorded_views(tmp_path):
    from ablation.report.plots_mechanism import read_views, view_stats
    from ablation.report.load import load_runs
    from ablation.report.select import in_context
    results = tmp_path / "results"
    write_study(results, [{"head": "subtract"}, {"head": "subtract", "pair_order": "sorted"}, {"head": "absdiff"}],
                seeds=3, n=100)
    views = read_views(in_context(load_runs(results).runs), results / "runs")
    assert set(views["pair_order"]) == {"random", "sorted"} and views["run_id"].nunique() == 6
    s = view_stats(views).groupby("pair_order")[["between", "rho"]].mean()
    assert s.loc["random", "between"] < 0.01 < 1 < s.loc["sorted", "between"]  # one value vs classes spread out
    assert abs(s.loc["sorted", "rho"]) == pytest.approx(1.0)  # in order of the digit
    a, md = make_report(results, tmp_path / "r", workers=1)
    text = md.read_text().split("## The mechanism, drawn")[1].split("\n## ")[0]
    assert "Smaller digit first (control): the 10 digit classes' mean w·f(x) spread by" in text
    assert (tmp_path / "r" / "image_views.png").stat().st_size > 10_000
    assert (tmp_path / "r" / "collapse_over_training.png").stat().st_size > 10_000


def test_numbers_in_the_text_come_from_the_runs(tmp_path):
    results = tmp_path / "results"
    write_study(results, seeds=2, n=100)
    for seed in (0, 1):  # make the subtract baseline 12.3 % / 14.5 %: the text must say 13.4 %
        write_run(results / "runs", head="subtract", seed=seed, metrics={"test_acc": [0.123, 0.145][seed]})
    _, md = make_report(results, tmp_path / "r", plots=False)
    text = md.read_text()
    assert "subtract a−b + dense 13.4 %" in text
    assert "Plots were not drawn" in text


def test_filter_keeps_only_matching_runs_and_an_empty_selection_is_an_error(tmp_path):
    results = tmp_path / "results"
    write_study(results, seeds=2, n=100)
    a, _ = make_report(results, tmp_path / "r", {"head": ["subtract", "absdiff"], "seed": None}, plots=False)
    assert set(a.runs["head"]) == {"subtract", "absdiff"}
    with pytest.raises(ReportError, match="no completed run"):
        make_report(results, tmp_path / "r2", {"head": "concat"}, plots=False)


def test_only_broken_runs_is_a_clear_error(tmp_path):
    write_broken(tmp_path / "runs")
    with pytest.raises(ReportError, match="interrupted|unreadable|failed"):
        make_report(tmp_path, tmp_path / "r", plots=False)
