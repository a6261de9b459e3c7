"""The cluster launchers run for real: the same small sweep through the basic launcher, submitit (local
processes, the SLURM preset's plugin code) and Ray (a local cluster this test starts and stops) gives the
same metrics, and re-running a sweep reuses its runs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FAST, ROOT, TESTS, TINY, cli, records
from helpers.extras import missing
from helpers.raycluster import RAY_ENV, cluster

pytestmark = pytest.mark.slow

GRID = ("head=distance,subtract,absdiff", *FAST)
TIMING = ("wall_time_s",)


def measured(results: Path) -> dict[str, tuple[str, dict]]:
    """run_id → (status, metrics without timing): what must not depend on the launcher."""
    return {rid: (rec["status"], {k: v for k, v in rec.get("metrics", {}).items() if k not in TIMING})
            for rid, rec in records(results).items()}


@pytest.fixture(scope="module")
def basic(tmp_path_factory) -> dict:
    results = tmp_path_factory.mktemp("basic") / "results"
    p = cli("-m", *GRID, f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    m = measured(results)
    assert len(m) == 3 and all(s == "completed" for s, _ in m.values())
    return m


def test_submitit_local_gives_the_basic_launchers_metrics_and_resumes(basic, results):
    if importlib.util.find_spec("submitit") is None:
        missing("submitit is not installed: pip install -e '.[slurm]'")
    args = ("-m", *GRID, "hydra/launcher=slurm_local", f"results_dir={results}")
    p = cli(*args)
    assert p.returncode == 0, p.stderr
    assert "sweep done" in p.stdout and "3 completed" in p.stdout
    assert list((results / "hydra" / "multirun").glob("*/.submitit/*/*_result.pkl"))  # submitit ran the jobs
    assert measured(results) == basic
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert "0 to train, 3 reused" in again.stdout


@pytest.fixture
def ray_cluster():
    """`ray start --head --block` on 127.0.0.1 with 2 CPUs (helpers.raycluster); its address for the sweep."""
    if importlib.util.find_spec("ray") is None or shutil.which("ray") is None:
        missing("ray is not installed: pip install -e '.[ray]'")
    with cluster(ROOT, [str(TESTS), str(ROOT)]) as address:
        yield {"RAY_ADDRESS": address, **RAY_ENV}


@pytest.mark.xdist_group("ray")  # one Ray at a time on the machine (conftest)
def test_ray_gives_the_basic_launchers_metrics_and_resumes(basic, results, ray_cluster, monkeypatch):
    for k, v in ray_cluster.items():
        monkeypatch.setenv(k, v)
    args = ("-m", *GRID, "hydra/launcher=ray", f"results_dir={results}")  # the preset's address=auto
    p = cli(*args, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "Ray: 3 jobs on a cluster of 2 CPUs" in p.stderr + p.stdout
    assert "Ray: 3/3 jobs returned" in p.stderr + p.stdout
    assert measured(results) == basic
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert "0 to train, 3 reused" in again.stdout


@pytest.mark.xdist_group("ray")  # no cluster of another test running meanwhile
def test_ray_with_no_cluster_to_join_says_so_in_one_line(results, tmp_path, monkeypatch):
    """The preset's address=auto where no cluster runs: Ray looks for one under its temporary folder (an empty
    one here, so that a cluster started by someone else on this machine is not found)."""
    if importlib.util.find_spec("ray") is None:
        missing("ray is not installed: pip install -e '.[ray]'")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    p = cli("-m", "head=subtract", *TINY, "hydra/launcher=ray", f"+hydra.launcher.init._temp_dir={tmp_path / 'ray'}",
            f"results_dir={results}")
    assert p.returncode == 1, p.stderr
    (line,) = p.stderr.strip().splitlines()
    assert line.startswith("Ray: no running cluster at address=auto (") and "ray start --head" in line, line
    assert "Traceback" not in p.stdout


def test_ray_launcher_module_does_not_import_ray():
    code = ("import sys, hydra_plugins.ablation_ray_launcher.ray_launcher as m; "
            "assert 'ray' not in sys.modules, 'imported ray'; print('ok')")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "ok" in p.stdout, p.stderr


def test_slurm_preset_through_sbatch_gives_the_basic_launchers_metrics(basic, results, tmp_path, monkeypatch):
    """The `slurm` preset as on a cluster: submitit writes the batch script (job array, partition, CPUs,
    memory, time) and submits it with `sbatch`; a stand-in for SLURM's commands (tests/helpers/fake_slurm.py)
    runs it here, two tasks at a time, through `srun` with SLURM's environment, and answers `sacct`."""
    if importlib.util.find_spec("submitit") is None:
        missing("submitit is not installed: pip install -e '.[slurm]'")
    from helpers import fake_slurm

    fake_slurm.install(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(tmp_path / "slurm"))
    p = cli("-m", *GRID, "hydra/launcher=slurm", "hydra.launcher.partition=debug", f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    assert "3 completed" in p.stdout
    (script,) = (results / "hydra" / "multirun").glob("*/.submitit/*/*_submission.sh")  # one array job
    text = script.read_text()
    for flag in ("#SBATCH --array=0-2%3", "#SBATCH --partition=debug", "#SBATCH --cpus-per-task=1",
                 "#SBATCH --mem=4GB", "#SBATCH --time=60", "srun --unbuffered"):
        assert flag in text, text
    assert "gpus" not in text and "gres" not in text  # device=cpu: no GPU requested
    states = lambda: sorted(f.read_text() for f in (tmp_path / "slurm").glob("[0-9]*_*"))  # noqa: E731
    for _ in range(100):  # bounded: the stand-in marks a task done a moment after submitit has its result
        if states() == ["COMPLETED"] * 3:
            break
        time.sleep(0.2)
    assert states() == ["COMPLETED"] * 3
    assert measured(results) == basic


def test_slurm_preset_requests_a_gpu_per_task_for_cuda_planned_without_a_gpu(results, tmp_path, monkeypatch):
    """device=cuda from this GPU-less planner: accepted, because the preset asks SLURM for one GPU per task
    (--gpus-per-task=1 in the real sbatch script); the stand-in's task has no GPU either, so its worker
    records a one-line failure in the planned run's folder and the sweep exits non-zero."""
    if importlib.util.find_spec("submitit") is None:
        missing("submitit is not installed: pip install -e '.[slurm]'")
    from helpers import fake_slurm
    from conftest import make_cfg

    from ablation.config import run_id

    fake_slurm.install(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(tmp_path / "slurm"))
    p = cli("-m", "head=subtract", *FAST, "device=cuda", "hydra/launcher=slurm", "hydra.launcher.partition=gpu",
            f"results_dir={results}")
    assert p.returncode != 0 and "1 to train" in p.stdout, p.stdout + p.stderr
    (script,) = (results / "hydra" / "multirun").glob("*/.submitit/*/*_submission.sh")
    assert "#SBATCH --gpus-per-task=1" in script.read_text()
    rec = records(results)[run_id(make_cfg("head=subtract", *FAST, "device=cuda"))]
    assert rec["status"] == "failed" and rec["identity"]["device"] == "cuda"
    assert "device=cuda was planned for this run, but torch on this worker sees no CUDA GPU" in rec["error"]
