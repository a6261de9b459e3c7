"""Numbers for people: no 'nan', singular and plural right, one run's AUC as one value, every interaction labelled
at initialisation or after training, the header and "Runs not in the statistics" agreeing, skipped runs told
apart by their seed, a contrast with an empty group said in words."""

import re

from helpers.fakes import write_run, write_study

from ablation.report.build import make_report
from ablation.report.judge import contrast


def section(text: str, title: str) -> str:
    return text.split(f"## {title}")[1].split("\n## ")[0]


def test_a_single_run_reads_as_one_run(tmp_path):
    write_run(tmp_path / "runs", head="subtract", seed=0, n=400)
    a, md = make_report(tmp_path, tmp_path / "r", plots=False)
    text = md.read_text()
    assert not re.search(r"\b1 (runs|seeds|run folders|additive runs)\b", text)
    assert "nan" not in text.lower()
    row = section(text, "Each head: measured structure, prediction, verdict").splitlines()[-1]
    auc = row.split(" | ")[-2]
    assert re.fullmatch(r"0\.\d{3}", auc), row  # one run: one AUC, not "0.501–0.501"
    assert "measured structure (at initialisation)" in text and "interaction after training" in text


def test_the_header_and_the_runs_not_in_the_statistics_agree(tmp_path):
    write_study(tmp_path, [{"head": "subtract"}, {"head": "absdiff"}, {"head": "distance", "depth": 1}], seeds=3, n=200)
    for seed in range(2):  # two completed runs at another number of epochs: outside the report's setting
        write_run(tmp_path / "runs", head="subtract", epochs=3, seed=seed, n=200)
    a, md = make_report(tmp_path, tmp_path / "r", plots=False)
    text = md.read_text()
    assert "2 completed runs with other settings appear in the test-accuracy table only" in text
    listed = section(text, "Runs not in the statistics")
    assert "2 completed runs at other settings" in listed and "| MNIST 5k (embedded), 3 epochs | 2 |" in listed
    skipped = [line for line in listed.splitlines() if "| skipped |" in line]
    assert len(skipped) == 3 and len({line.split(" | ")[3] for line in skipped}) == 3  # each with its own seed


def test_a_contrast_with_an_empty_group_says_so_without_nan():
    text = contrast("fixed > random", [], [0.9, 0.91, 0.92]).text
    assert text == "fixed > random: no run in one group" and "nan" not in text
