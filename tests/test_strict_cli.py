"""Every expected failure, typed as a user types it: one line per problem on stderr, exit 1, nothing written; a real
bug keeps its traceback, and HYDRA_FULL_ERROR=1 gives the full one."""

from __future__ import annotations

import subprocess

import pytest
from conftest import TESTS, cli

from ablation.report.build import make_report
from ablation.report.load import ReportError

HYDRA_FRAME = ("Error executing job with overrides", "HYDRA_FULL_ERROR")


def one_line(p: subprocess.CompletedProcess) -> str:
    """The refusal's single line (asserting exit 1, no traceback and no Hydra wrapper)."""
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and not any(f in p.stderr for f in HYDRA_FRAME), p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


@pytest.mark.slow
def test_a_misspelt_key_is_refused_in_one_line_and_nothing_is_written(tmp_path):
    results = tmp_path / "results"
    assert one_line(cli("train.epoch=2", f"results_dir={results}")) == \
        "train.epoch: no such key; did you mean train.epochs?"
    line = one_line(cli("-m", "+train.weight_decay=0,0.1", "seed=0,1,2", "train.epochs=1", f"results_dir={results}"))
    assert line.startswith("train.weight_decay: no such key") and line.endswith("[all 6 runs]")
    assert not results.exists()  # no results folder, no hydra/multirun/<time>, no sweep.json


@pytest.mark.slow
def test_a_data_problem_of_a_multirun_is_listed_once(tmp_path):
    results = tmp_path / "results"
    line = one_line(cli("-m", "+experiment=thread_table", "dry_run=true", f"data.root={tmp_path / 'none'}",
                        f"results_dir={results}"))
    assert line.startswith("data=mnist: missing train-images-idx3-ubyte.gz") and line.endswith("[all 6 runs]")
    assert str(tmp_path / "none") in line and not results.exists()


@pytest.mark.slow
def test_a_failed_download_names_the_url_and_the_folder(tmp_path):
    root = tmp_path / "mnist"
    line = one_line(cli("data=mnist", "data.download=true", f"data.root={root}", "data.mirror=http://127.0.0.1:9/",
                        "dry_run=true", f"results_dir={tmp_path / 'results'}"))
    assert line.startswith("downloading http://127.0.0.1:9/train-images-idx3-ubyte.gz failed") and str(root) in line


@pytest.mark.slow
def test_a_launcher_without_its_extra_names_the_install_command_before_planning(tmp_path):
    results = tmp_path / "results"
    p = cli("-m", "hydra/launcher=ray", "head=subtract,absdiff", f"results_dir={results}",
            path=(TESTS / "helpers" / "noray",))  # its `ray` cannot be imported, as where ray is not installed
    assert one_line(p) == 'hydra/launcher=ray needs ray, which is not installed here: pip install -e ".[ray]"'
    assert not results.exists()


@pytest.mark.slow
def test_a_device_that_is_not_there_is_one_line(tmp_path):
    line = one_line(cli("device=cuda:7", f"results_dir={tmp_path / 'results'}"))
    assert line.startswith("device=cuda:7, but")


@pytest.mark.slow
def test_a_real_bug_shows_its_traceback_and_hydra_full_error_the_full_one(tmp_path):
    results = f"results_dir={tmp_path / 'results'}"
    bug = cli("data._target_=helpers.buggy.Buggy", "dry_run=true", results)
    assert bug.returncode == 1 and "Traceback" in bug.stderr and "KeyError: 'no such entry'" in bug.stderr
    full = cli("train.epoch=2", results, env={"HYDRA_FULL_ERROR": "1"})  # read when the command runs
    assert full.returncode == 1 and "Traceback" in full.stderr
    assert "train.epoch: no such key; did you mean train.epochs?" in full.stderr


@pytest.mark.slow
def test_the_report_refuses_a_filter_written_the_sweeps_way_and_has_its_own_help(tmp_path):
    for typed in ("head=subtract", "+head=subtract"):
        line = one_line(cli(f"results_dir={tmp_path}", typed, module="ablation.report"))
        assert line.endswith("write where.head=subtract"), line
    assert not (tmp_path / "report").exists()  # never an unfiltered report
    assert one_line(cli(f"results_dir={tmp_path}", "plot=false", module="ablation.report")) == \
        "plot=false: no such option; did you mean plots=false?"
    h = cli("--help", module="ablation.report")
    assert h.returncode == 0 and "where.<key>=VALUE" in h.stdout and "Example:" in h.stdout
    assert "== Configuration groups ==" not in h.stdout  # not the sweep's groups


def test_a_filter_that_matches_nothing_lists_the_values_its_key_has(tmp_path, question):
    with pytest.raises(ReportError) as e:
        make_report(tmp_path / "results", tmp_path / "out", {"head": "cosin"}, plots=False)
    message = str(e.value)
    assert message.startswith("no completed run matches where.head=cosin (head has ") and "\n" not in message
    assert all(h in message for h in ("distance", "subtract", "absdiff"))
