"""scripts/gpu_check.sh without a GPU: its comparison step (scripts/gpu_compare.py) on two CPU reports, the
script's refusal where there is no GPU, and the whole script with the CPU standing in for the GPU."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import ROOT, TESTS, cli

SCRIPT = ROOT / "scripts" / "gpu_check.sh"
GRID = "head=subtract,absdiff seed=0,1,2"  # 2 cells of 3 seeds: one no better than chance, one that learns (1 epoch)
spec = importlib.util.spec_from_file_location("gpu_compare", ROOT / "scripts" / "gpu_compare.py")
gpu_compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_compare)


@pytest.fixture(scope="module")
def cpu_results(tmp_path_factory) -> Path:
    """A CPU sweep of GRID (one epoch) and its report (tables only): the tests that use it are marked slow."""
    results = tmp_path_factory.mktemp("cpu") / "results"
    p = cli("-m", *GRID.split(), "train.epochs=1", f"results_dir={results}", "progress=false")
    assert p.returncode == 0, p.stderr
    r = cli(f"results_dir={results}", "plots=false", module="ablation.report")
    assert r.returncode == 0, r.stderr
    return results


def doctored(report: Path, to: Path, summary=None, runs=None, heads=None) -> Path:
    """A copy of a report folder whose summary.csv, runs.csv and heads.csv went through the given edits."""
    shutil.copytree(report, to)
    for name, edit in (("summary.csv", summary), ("runs.csv", runs), ("heads.csv", heads)):
        if edit is not None:
            edit(pd.read_csv(to / name)).to_csv(to / name, index=False)
    return to


@pytest.mark.slow  # a real sweep (cpu_results)
def test_two_reports_of_the_same_runs_agree(cpu_results):
    report = cpu_results / "report"
    lines, problems = gpu_compare.compare(report, report, ("cpu", "cpu"))
    assert problems == [] and len(lines) == 2
    assert any("head=subtract" in line and "no better than chance | CPU" in line for line in lines), lines
    assert any("head=absdiff" in line and "learns | CPU" in line for line in lines), lines


def shifted(t: pd.DataFrame) -> pd.DataFrame:
    """absdiff's mean and CI 5 points up: outside the other's CI, still "learns"."""
    t.loc[t["head"] == "absdiff", ["acc_mean", "acc_lo", "acc_hi"]] += 0.05
    return t


def learns(t: pd.DataFrame) -> pd.DataFrame:
    """subtract's CI raised above the chance band: another level."""
    t.loc[t["head"] == "subtract", ["acc_lo", "acc_hi"]] = [0.6, 0.9]
    t.loc[t["head"] == "subtract", "acc_mean"] = 0.75
    return t


CHANGES = {
    "mean": (dict(summary=shifted), "head=absdiff: GPU mean outside the CPU's CI"),
    "verdict": (dict(summary=learns), "head=subtract: verdict learns vs no better than chance"),
    "report verdict": (dict(heads=lambda t: t.assign(verdict="contradicted")), "the report's verdict contradicted vs"),
    "seeds": (dict(summary=lambda t: t.assign(n=2)), "head=subtract: n 2 vs 3"),
    "failed": (dict(runs=lambda t: t.assign(status="failed")), "GPU: 6 failed of 6 runs"),
    "device": (dict(runs=lambda t: t.assign(device="cuda")), "GPU: runs on cuda, expected cpu"),
}


@pytest.mark.slow  # a real sweep (cpu_results)
@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_difference_fails_the_comparison(cpu_results, tmp_path, change):
    edits, expected = CHANGES[change]
    report = cpu_results / "report"
    _, problems = gpu_compare.compare(doctored(report, tmp_path / "gpu", **edits), report, ("cpu", "cpu"))
    assert any(expected in p for p in problems), problems


@pytest.mark.slow  # a real sweep (cpu_results)
def test_a_cell_missing_on_the_cpu_side_fails_the_comparison(cpu_results, tmp_path):
    report = cpu_results / "report"
    cpu = doctored(report, tmp_path / "cpu", summary=lambda t: t[t["head"] != "absdiff"])
    _, problems = gpu_compare.compare(report, cpu, ("cpu", "cpu"))
    assert problems == ["head=absdiff: not in the CPU report (a CPU sweep of the same grid by this code?)"]


@pytest.mark.slow  # a real sweep (cpu_results)
def test_the_comparison_says_what_it_cannot_read(cpu_results, tmp_path, capsys):
    report = cpu_results / "report"
    gpu = doctored(report, tmp_path / "gpu", summary=lambda t: t.drop(columns="acc_lo"))
    assert gpu_compare.main([str(gpu), str(report), "--devices", "cpu,cpu"]) == 2
    assert "summary.csv has no column acc_lo" in capsys.readouterr().err
    assert gpu_compare.main([str(report), str(report), "--devices", "cpu,cpu"]) == 0
    assert gpu_compare.main([str(report), str(report)]) == 1  # these runs are no GPU's
    out = capsys.readouterr().out
    assert "problem: GPU: runs on cpu, expected cuda" in out and out.rstrip().endswith("cells compared")


def _script(*args: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")]),
            **env}
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, env=full, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow  # the script, in a process of its own
def test_gpu_check_refuses_cleanly_without_a_gpu(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    p = _script("--out", str(tmp_path / "out"))
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == [f"gpu_check: torch {torch.__version__} sees no CUDA GPU on this machine: "
                                             "nothing to check here"]
    bad = _script("--cpu", str(tmp_path / "nowhere"), GPU_CHECK_DEVICE="cpu")
    assert bad.returncode == 2 and "has no runs/ folder" in bad.stderr


@pytest.mark.slow
def test_gpu_check_end_to_end_with_the_cpu_standing_in_for_the_gpu(cpu_results, tmp_path):
    """The whole script, --cpu reading an earlier CPU sweep: the same runs on both sides pass; a "GPU" side
    whose runs all fail (a head that raises in training) fails with a one-line verdict."""
    before = sorted((f.name, f.stat().st_mtime_ns) for f in (cpu_results / "report").iterdir())
    # one job: the sweep runs in the script's own process (joblib's sequential mode), no worker to start
    p = _script("--cpu", str(cpu_results), "--out", str(tmp_path / "ok"), "train.epochs=1",
                GPU_CHECK_DEVICE="cpu", GPU_CHECK_GRID=GRID, GPU_CHECK_JOBS="1")
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("gpu_check: GPU: none: GPU_CHECK_DEVICE=cpu")
    assert any(l.startswith("gpu_check: wall times: sweep on cpu ") and "(1 job)" in l
               and f"read from {cpu_results}" in l for l in lines)
    assert lines[-1].startswith("gpu_check: PASSED (") and "2 cells: the same verdicts" in lines[-1]
    assert sorted((f.name, f.stat().st_mtime_ns) for f in (cpu_results / "report").iterdir()) == before  # untouched
    broken = _script("--cpu", str(cpu_results), "--out", str(tmp_path / "broken"), "train.epochs=1",
                     "head._target_=helpers.faulty.Exploding", GPU_CHECK_DEVICE="cpu",
                     GPU_CHECK_GRID="head=subtract seed=0,1", GPU_CHECK_JOBS="1")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    last = broken.stdout.splitlines()[-1]
    assert last.startswith("gpu_check: FAILED (") and "no report of the sweep on cpu" in last
