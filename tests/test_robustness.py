"""Bad input fails loudly before training, one broken run never sinks a sweep, and a
killed sweep resumes to the same results without retraining what was finished."""

import json
import os
import signal
import time

import pytest
from conftest import FAST, cli, make_cfg, records, start
from helpers.planning import plan
from hydra.errors import CompactHydraException

from ablation.config import validate
from ablation.errors import lines

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "override,message",
    [
        ("depth=-1", "depth must be an integer >= 0, got -1"),
        ("depth=abc", "depth must be an integer >= 0, got 'abc'"),
        ("train.epochs=0", "train.epochs must be an integer > 0, got 0"),
        ("optimizer.lr=-0.1", "Invalid learning rate: -0.1"),
        ("train.batch_size=0", "train.batch_size must be an integer > 0, got 0"),
        ("loss.convention=inverted", "loss.convention must be one of ('distance', 'similarity'), got 'inverted'"),
        ("data.pair_order=shuffled", "data.pair_order must be one of ('random', 'sorted')"),
        ("head=substract", "head=substract: no such option; did you mean head=subtract?"),
        ("data=mnist data.root=/nonexistent/mnist", "missing train-images-idx3-ubyte.gz"),
    ],
)
@pytest.mark.parametrize("mode", ["run", "multirun"])
def test_bad_input_fails_before_training(override, message, mode, results):
    """In process (the command line's one-line output of these is tests/test_strict_cli.py's)."""
    args = override.split() + [f"results_dir={results}"]
    with pytest.raises(CompactHydraException) as e:
        if mode == "multirun":  # the sweeper's plan of the whole grid
            plan(*(["head=absdiff,subtract", *args] if not override.startswith("head=") else args))
        else:
            validate(make_cfg(*args))
    assert message in lines(e.value)
    assert not (results / "runs").exists()


def test_unwritable_results_dir(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    p = cli(*FAST, f"results_dir={blocker / 'results'}")
    assert p.returncode != 0
    assert "is not writable" in p.stderr


def test_failed_and_diverged_runs_are_recorded_and_the_sweep_goes_on(results):
    p = cli("-m", "head._target_=ablation.heads.Subtract,helpers.faulty.Exploding", "optimizer.lr=0.001,1e30", *FAST,
            f"results_dir={results}")
    assert p.returncode != 0
    by_status = {}
    for rid, rec in records(results).items():
        by_status.setdefault(rec["status"], []).append(rid)
    assert len(by_status["completed"]) == 1
    assert len(by_status["diverged"]) == 1
    assert len(by_status["failed"]) == 2
    for rid in by_status["failed"]:
        assert "boom" in (results / "runs" / rid / "error.txt").read_text()
        assert "Traceback" in (results / "runs" / rid / "error.txt").read_text()
    assert "2 run(s) failed" in p.stderr and "helpers.faulty.Exploding" in p.stderr  # the summary names them
    assert "1 completed, 1 diverged, 2 failed" in p.stdout
    assert "1 run(s) diverged" in p.stdout
    # a re-run redoes the failures (and only those): a diverged run is a result, reused like a completed one
    again = cli("-m", "head._target_=ablation.heads.Subtract,helpers.faulty.Exploding", "optimizer.lr=0.001,1e30", *FAST,
                f"results_dir={results}", "dry_run=true")
    assert "2 to train, 2 reused" in again.stdout


def test_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    grid = ["-m", "head=subtract,absdiff,sqdiff", "train.epochs=4"]
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = start(*grid, f"results_dir={killed}", out=tmp_path / "stdout", err=tmp_path / "stderr")
    deadline = time.time() + 120
    while time.time() < deadline and len(list(killed.glob("runs/*/metrics.json"))) < 1:
        time.sleep(0.05)
    while time.time() < deadline and len(list(killed.glob("runs/*/config.yaml"))) < 2:
        time.sleep(0.02)  # the second run has started
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {f: f.stat().st_mtime_ns for f in killed.glob("runs/*/metrics.json")}
    assert len(done) == 1  # killed mid-sweep: one finished, one interrupted, one never started
    interrupted = [d for d in killed.glob("runs/*") if not (d / "metrics.json").exists()]
    assert len(interrupted) == 1 and not list(killed.glob("runs/*/.*.tmp"))

    resumed = cli(*grid, f"results_dir={killed}")
    assert resumed.returncode == 0, resumed.stderr
    assert "2 to train, 1 reused" in resumed.stdout
    assert done == {f: f.stat().st_mtime_ns for f in done}  # the finished run was not retrained
    assert cli(*grid, f"results_dir={clean}").returncode == 0

    def strip(recs):
        return {k: (r["status"], dict(r["metrics"], wall_time_s=None)) for k, r in recs.items()}

    assert strip(records(killed)) == strip(records(clean))


def test_joblib_launcher_runs_the_grid_and_matches_the_basic_launcher(tmp_path):
    grid = ["-m", "head=subtract,absdiff", "depth=1", "train.epochs=2"]
    par = cli(*grid, "hydra/launcher=parallel", f"results_dir={tmp_path / 'par'}")
    assert par.returncode == 0, par.stderr
    assert "Joblib.Parallel" in par.stdout + par.stderr  # it really went through the joblib launcher
    assert "oversubscribed" not in par.stdout  # the preset's one job a core x 1 thread fit the cores
    assert cli(*grid, f"results_dir={tmp_path / 'seq'}").returncode == 0
    a, b = records(tmp_path / "par"), records(tmp_path / "seq")
    assert len(a) == 2 and a.keys() == b.keys()
    for rid in a:
        assert dict(a[rid]["metrics"], wall_time_s=None) == dict(b[rid]["metrics"], wall_time_s=None)


def test_parallel_jobs_with_more_threads_than_cores_are_warned_about(results):
    cores = len(os.sched_getaffinity(0))  # the parallel launcher's jobs: one per core
    p = cli("-m", "head=subtract,absdiff", "hydra/launcher=parallel", "hydra.launcher.n_jobs=2", f"threads={cores}",
            "dry_run=true", f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    assert f"2 parallel jobs x threads={cores} = {2 * cores} torch threads on {cores} CPU cores" in p.stdout


def test_progress_file_counts_every_job(results):
    p = cli("-m", "head=subtract,absdiff", *FAST, f"results_dir={results}")
    assert "[1/2]" in p.stdout and "[2/2]" in p.stdout and "ETA" in p.stdout
    (sweep,) = (results / "hydra" / "multirun").iterdir()
    lines = [json.loads(x) for x in (sweep / "progress.jsonl").read_text().splitlines()]
    assert sorted(x["status"] for x in lines) == ["completed", "completed"]
