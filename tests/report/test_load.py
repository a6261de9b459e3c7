"""Loading run folders: every kind of run becomes a row with a status; nothing crashes the report."""

import json

import pandas as pd
import pytest
from helpers.fakes import write_broken, write_run

from ablation.report.load import ReportError, load_runs


def test_every_kind_of_run_folder_becomes_a_row(tmp_path):
    runs = tmp_path / "runs"
    ok = write_run(runs, head="subtract", seed=1)
    write_run(runs, "skipped", head="distance", depth=1)
    write_broken(runs)
    as_list = runs / "aslist000000"
    as_list.mkdir()
    (as_list / "metrics.json").write_text("[1, 2]")
    garbled = write_run(runs, head="absdiff")
    rec = json.loads((garbled / "metrics.json").read_text())
    rec["metrics"]["test_acc"] = "ninety"
    (garbled / "metrics.json").write_text(json.dumps(rec))
    (runs / ".hidden").mkdir()

    df = load_runs(tmp_path).runs.set_index("run_id")
    assert len(df) == 8
    assert df.loc[ok.name, "status"] == "completed" and df.loc[ok.name, "seed"] == 1
    assert df.loc[ok.name, "test_acc"] == pytest.approx(json.loads((ok / "metrics.json").read_text())["metrics"]["test_acc"])
    assert df.loc["partial000000", "status"] == "interrupted"
    assert df.loc["partial000000", "head"] == "absdiff" and df.loc["partial000000", "depth"] == 1  # from config.yaml
    assert df.loc["corrupt000000", "status"] == "unreadable" and "metrics.json" in df.loc["corrupt000000", "detail"]
    assert df.loc["aslist000000", "status"] == "unreadable"
    assert sorted(df["status"]) == sorted(["completed", "completed", "skipped", "interrupted", "unreadable",
                                          "unreadable", "failed", "diverged"])
    assert "boom" in df[df["status"] == "failed"]["detail"].iloc[0]
    assert pd.isna(df.loc[garbled.name, "test_acc"])  # a garbled number is missing, not a crash


def test_missing_and_empty_results_folders_are_clear_errors(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        load_runs(tmp_path / "nope")
    with pytest.raises(ReportError, match="no run folders"):
        load_runs(tmp_path)
    (tmp_path / "runs").mkdir()
    with pytest.raises(ReportError, match="python -m ablation.sweep"):
        load_runs(tmp_path)
