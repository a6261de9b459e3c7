"""The report folder end to end from hand-made runs: files, sections, broken runs listed, embedded images, the
filter, and numbers that come from the runs."""

import base64
import re

import pandas as pd
import pytest
from helpers.fakes import write_broken, write_run, write_study

from ablation.report.build import config_facts, make_report
from ablation.report.load import ReportError
from ablation.report.plots import FIGURES

SECTIONS = ("**What the failing head computes.**", "**Why that cannot compare two images.**", "**What fixes it.**",
            "interaction_map.png", "## Each head: measured structure, prediction, verdict",
            "## The claims: what holds by construction", "## The claims: what the runs could contradict",
            "## Other explanations the runs decide between", "## The mechanism, drawn", "## The asker's two proposals",
            "## The original table", "## Factor effects", "## How a prediction is judged", "## Runs not in the statistics")


def front(text: str) -> str:
    """The front page: what comes before the first section."""
    return text.split("\n## ")[0]


def test_report_folder_from_a_study_with_broken_runs(tmp_path):
    results = tmp_path / "results"
    write_study(results, seeds=2, n=100)
    broken = write_broken(results / "runs")
    out = tmp_path / "report"
    a, md = make_report(results, out, workers=1)
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == len(list((results / "runs").iterdir()))
    assert {"head", "depth", "seed", "status", "test_acc", "interaction_init", "additive", "symmetric"} <= set(runs.columns)
    text = md.read_text()
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)  # in this order: the answer in words, the one picture, the evidence
    for folder in broken:  # interrupted, corrupt, failed and diverged runs are listed by id
        assert folder.name in text
    assert "n = 2, needs 3" in text  # two seeds per cell: predictions not judged
    assert text.count(": holds\n") == 3  # the sanity checks are
    for fig in FIGURES:
        assert (out / fig.name).read_bytes()[:4] == b"\x89PNG", fig.name
    html = (out / "report.html").read_text()
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(images) == len(FIGURES) and base64.b64decode(images[0])[:4] == b"\x89PNG"
    assert 'src="interaction_map.png"' not in html  # self-contained
    assert pd.read_csv(out / "summary.csv")["n"].max() == 2
    heads = pd.read_csv(out / "heads.csv")
    assert {"structure", "prediction", "verdict"} <= set(heads.columns)


def test_the_front_page_counts_predictions_and_names_the_accounts(tmp_path):
    results = tmp_path / "results"
    write_study(results, seeds=3, n=2000)
    a, md = make_report(results, tmp_path / "r", plots=False)
    short = front(md.read_text())
    n_pred = sum(len(c.checks) for c in a.claims if not c.sanity)
    n_sanity = sum(len(c.checks) for c in a.claims if c.sanity)
    assert f"Of the {n_pred} predictions of this explanation that the runs could contradict: {n_pred} supported;" in short
    assert f"{n_sanity} of {n_sanity} sanity checks hold" in short
    assert "“a head symmetric in its two inputs is enough” (a common fix): contradicted" in short
    assert "(see the per-head table)" not in short  # nothing against the explanation


def test_numbers_in_the_text_come_from_the_runs(tmp_path):
    results = tmp_path / "results"
    write_study(results, [{"head": "subtract"}, {"head": "absdiff"}], seeds=2, n=100)
    for seed in (0, 1):  # make the subtract cell 12.3 % / 14.5 %: the text must say 13.4 %
        write_run(results / "runs", head="subtract", seed=seed, metrics={"test_acc": [0.123, 0.145][seed]})
    _, md = make_report(results, tmp_path / "r", plots=False)
    text = md.read_text()
    assert "subtract a−b + dense 13.4 %" in front(text)
    assert "Plots were not drawn" in text


def test_the_mechanism_numbers_come_from_the_recorded_views(tmp_path):
    results = tmp_path / "results"
    write_study(results, [{"head": h, "pair_order": o} for h in ("subtract", "sum") for o in ("random", "sorted")]
                + [{"head": "absdiff"}], seeds=3, n=100)
    a, md = make_report(results, tmp_path / "r", workers=1)
    text = md.read_text().split("## The mechanism, drawn")[1].split("\n## ")[0]
    # one sentence per additive head and pair order; the sorted subtract is spread in digit order, the others not
    assert text.count("the 10 digit classes' mean g(x) spread by") == 4
    sorted_subtract = text.split("subtract a−b + dense, smaller digit first (control): ")[1].split(". ")[0]
    assert "rank correlation of digit and class mean -1.00" in sorted_subtract or "+1.00" in sorted_subtract
    assert (tmp_path / "r" / "image_views.png").stat().st_size > 10_000


def test_filter_keeps_only_matching_runs_and_an_empty_selection_is_an_error(tmp_path):
    results = tmp_path / "results"
    write_study(results, seeds=2, n=100)
    a, _ = make_report(results, tmp_path / "r", {"head": ["subtract", "absdiff"], "seed": None}, plots=False)
    assert set(a.runs["head"]) == {"subtract", "absdiff"}
    with pytest.raises(ReportError, match="no completed run"):
        make_report(results, tmp_path / "r2", {"head": "sqdiff"}, plots=False)


def test_only_broken_runs_is_a_clear_error(tmp_path):
    write_broken(tmp_path / "runs")
    with pytest.raises(ReportError, match="interrupted|unreadable|failed"):
        make_report(tmp_path, tmp_path / "r", plots=False)


def test_the_defaults_and_the_thread_cells_come_from_the_composed_config():
    defaults, options, cells = config_facts()
    from hydra import compose, initialize_config_dir
    from ablation.report.build import CONF
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config")
    assert defaults["epochs"] == cfg.train.epochs and defaults["depth"] == cfg.depth
    assert defaults["convention"] == cfg.loss.convention and defaults["pair_order"] == cfg.data.pair_order
    assert set(options["head"]) == {p.stem for p in (CONF / "head").glob("*.yaml")}
    assert len(cells) == 2 and all(c["data"] == "mnist" for c in cells) and "convention" in cells[1]


def test_an_unwritable_output_folder_is_a_clear_error_before_any_run_is_read(tmp_path):
    write_run(tmp_path / "runs", head="subtract")
    with pytest.raises(ReportError, match="out_dir='/proc/x' is not writable"):
        make_report(tmp_path, "/proc/x", plots=False)
    with pytest.raises(ReportError, match="does not exist"):  # the results folder is named first, and not created
        make_report(tmp_path / "missing", tmp_path / "missing" / "report", plots=False)
    assert not (tmp_path / "missing").exists()
