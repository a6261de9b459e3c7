"""The parallel launcher runs one job per CPU this process may use (its affinity), one torch thread each."""

import json
import os

import pytest
from conftest import CONF, TINY, cli, records
from hydra import compose, initialize_config_dir

from ablation.run.placement import register_resolver


def launcher(*overrides: str):
    register_resolver()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("config", ["hydra/launcher=parallel", *overrides], return_hydra_config=True).hydra.launcher


def test_the_parallel_launcher_runs_a_job_per_cpu_it_may_use_unless_told_otherwise():
    assert launcher().n_jobs == len(os.sched_getaffinity(0))
    assert launcher("hydra.launcher.n_jobs=3").n_jobs == 3


@pytest.mark.slow
def test_a_sweep_pinned_to_one_cpu_runs_one_job_at_a_time(results):
    one = {min(os.sched_getaffinity(0))}
    p = cli("-m", "head=subtract,absdiff,sum", "hydra/launcher=parallel", "hydra.sweeper.bundle=1", *TINY,
            f"results_dir={results}", cpus=one)
    assert p.returncode == 0, p.stderr
    assert "Joblib.Parallel(n_jobs=1," in p.stdout + p.stderr
    assert "parallel jobs x threads" not in p.stdout  # 1 job x 1 thread on 1 CPU: nothing oversubscribed
    runs = records(results)
    assert len(runs) == 3
    pids = {json.loads(line)["pid"] for rid in runs for line in (results / "runs" / rid / "attempts.jsonl").read_text().splitlines()}
    assert len(pids) == 1  # all three trained by one process, one after the other


@pytest.mark.slow
def test_more_jobs_than_cpus_are_warned_about(results):
    one = {min(os.sched_getaffinity(0))}
    p = cli("-m", "head=subtract,absdiff", "hydra/launcher=parallel", "hydra.launcher.n_jobs=2", "dry_run=true",
            f"results_dir={results}", cpus=one)
    assert p.returncode == 0, p.stderr
    assert "2 parallel jobs x threads=1 = 2 torch threads on 1 CPU cores" in p.stdout
