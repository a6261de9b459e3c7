"""The Ray launcher runs each job as Hydra's launchers do, in the user's folder, whether it starts its own Ray or
connects to a cluster started in another folder: Hydra's own launcher conformance suites, and the project's sweep
from a folder other than the cluster's (run folders where the user stands, reused by a rerun, found by the report).
A job whose worker dies fails once (no retry by Ray) and is left to the sweep's resume.

One cluster for the module (Ray is heavy on 2 cores); everything listens on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import pytest
from conftest import FAST, ROOT, TESTS, cli, records
from hydra.test_utils.launcher_common_tests import IntegrationTestSuite, LauncherTestSuite

from helpers.extras import missing
from helpers.raycluster import RAY_ENV, cluster, free_port, short_tmp

from ablation.run.record import is_final

if importlib.util.find_spec("ray") is None:  # not imported here: Ray reads its environment (RAY_ENV) on import
    missing("ray is not installed: pip install -e '.[ray]'")
if shutil.which("ray") is None:
    missing("the `ray` command is not installed: pip install -e '.[ray]'")

PLUGINS = TESTS / "plugins"  # hydra/launcher=ablation_ray, the launcher without the project's preset
sys.path.insert(0, str(PLUGINS))
import hydra_plugins.ablation_ray_conformance  # noqa: E402,F401 - registers hydra/launcher=ablation_ray here

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]  # one Ray at a time on the machine (conftest)

PORT = free_port()  # the module's cluster (started in a folder of its own)
OWN_TMP = short_tmp()  # the Ray the launcher starts itself
OWN = ["hydra.launcher.address=null", "+hydra.launcher.init.num_cpus=2", "+hydra.launcher.init.include_dashboard=false",
       f"+hydra.launcher.init._temp_dir={OWN_TMP}"]
ON_CLUSTER = [f"hydra.launcher.address=127.0.0.1:{PORT}"]
FLAGS = ["-m", "hydra/job_logging=hydra_debug", "hydra/job_logging=disabled", "hydra/launcher=ablation_ray"]


@pytest.fixture(scope="module", autouse=True)
def environment():
    """Ray on 127.0.0.1, and the suites' apps (other processes) able to import the launcher and its configs."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in RAY_ENV.items():
            mp.setenv(k, v)
        mp.delenv("RAY_ADDRESS", raising=False)
        mp.setenv("PYTHONPATH", os.pathsep.join([str(PLUGINS), str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")]))
        yield
    shutil.rmtree(OWN_TMP, ignore_errors=True)


@pytest.fixture(autouse=True)
def fresh_version_base():
    """Hydra's suites assume a fresh process, whose version base is unset (jobs then run in their own folder, as
    Hydra 1.1 did). Tests that ran before in this worker may have set it through `initialize(version_base=...)`,
    and the launcher hands Hydra's singletons to its workers: each suite test starts from an unset one."""
    from hydra import version  # its unset marker is private: what a fresh process starts with

    base = version.VersionBase.instance()
    before, base.version_base = base.version_base, version._UNSPECIFIED_
    yield
    base.version_base = before


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A cluster started in folder A: its workers start there, where no job's files belong."""
    a = tmp_path_factory.mktemp("A")
    with cluster(a, [str(PLUGINS), str(TESTS), str(ROOT)], port=PORT) as address:
        yield a, address


@pytest.fixture(scope="class")
def ray_session():
    """The Ray this process connected to (or started) in a class's in-process tests, shut down after the class."""
    yield
    import ray

    ray.shutdown()


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("launcher_name, overrides", [("ablation_ray", OWN)])
class TestRayLauncherStartingItsRay(LauncherTestSuite):
    pass


@pytest.mark.parametrize("task_launcher_cfg, extra_flags", [({}, FLAGS + OWN)])
class TestRayLauncherStartingItsRayIntegration(IntegrationTestSuite):
    pass


@pytest.mark.usefixtures("ray_cluster", "ray_session")
@pytest.mark.parametrize("launcher_name, overrides", [("ablation_ray", ON_CLUSTER)])
class TestRayLauncherOnAClusterStartedElsewhere(LauncherTestSuite):
    pass


@pytest.mark.usefixtures("ray_cluster")
@pytest.mark.parametrize("task_launcher_cfg, extra_flags", [({}, FLAGS + ON_CLUSTER)])
class TestRayLauncherOnAClusterStartedElsewhereIntegration(IntegrationTestSuite):
    pass


def test_a_sweep_from_another_folder_writes_reuses_and_reports_its_runs_where_the_user_stands(ray_cluster, tmp_path,
                                                                                          monkeypatch):
    a, address = ray_cluster
    monkeypatch.setenv("RAY_ADDRESS", address)  # the preset's address=auto finds it
    b = tmp_path / "B"
    b.mkdir()
    args = ("-m", "head=absdiff,product", *FAST, "hydra/launcher=ray", "progress=false")  # results_dir: relative
    p = cli(*args, cwd=b)
    assert p.returncode == 0, p.stderr
    assert "2 to train, 0 reused" in p.stdout and "2 completed" in p.stdout
    runs = records(b / "results")
    assert len(runs) == 2 and all(is_final(b / "results" / "runs" / rid) for rid in runs)
    assert not (a / "results").exists()
    again = cli(*args, cwd=b)
    assert again.returncode == 0, again.stderr
    assert "0 to train, 2 reused" in again.stdout
    report = cli("plots=false", cwd=b, module="ablation.report")
    assert report.returncode == 0, report.stderr
    assert all(rid in (b / "results" / "report" / "runs.csv").read_text() for rid in runs)


def test_a_job_whose_worker_dies_fails_once_and_is_left_for_the_resume(ray_cluster, tmp_path, monkeypatch):
    _, address = ray_cluster
    monkeypatch.setenv("RAY_ADDRESS", address)
    results = tmp_path / "results"
    p = cli("-m", "head._target_=helpers.faulty.Crashing", *FAST, "hydra/launcher=ray", f"results_dir={results}",
            "progress=false", "claim_heartbeat_s=0.2", "claim_timeout_s=3")
    assert p.returncode == 1
    assert "1 run(s) failed" in p.stderr
    (folder,) = (results / "runs").iterdir()
    assert len((folder / "attempts.jsonl").read_text().splitlines()) == 1  # trained once, not retried by Ray
    assert not (folder / "metrics.json").exists()  # unfinished: the next sweep trains it
