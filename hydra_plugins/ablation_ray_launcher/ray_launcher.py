"""A Hydra launcher on Ray's public API: `ray.init(address=...)`, `ray.remote`, `ray.wait`.

Used instead of Hydra's `hydra-ray-launcher` (1.2.2), which pins `ray<3` and `cloudpickle<3` (so it needs an
environment of its own beside hydra-core 1.3's other plugins), always passes `object_store_memory` to
`ray.init` (which Ray refuses when connecting to a running cluster), was tested upstream on Ray 2.2 only
(no wheels for Python 3.11+), and returns nothing until the whole batch is done. This one connects to a
running cluster (`address: auto`) or starts a local one (`address: null`), takes each result as it arrives,
logs it, and turns a run lost with its worker (a crash, a lost node) into that run's failure instead of
aborting the sweep. Ray is imported only when a sweep launches, so a base install without Ray still works.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, run_job, setup_globals
from hydra.errors import CompactHydraException
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger(__name__)


class NoGpuInCluster(CompactHydraException):
    """The jobs request more GPUs each than the cluster has: Ray would keep them waiting forever."""


class NoCluster(CompactHydraException):
    """`address: auto` (or an address) names a cluster that is not running: said in one line, with what to do."""


def gpu_shortage(wanted: float, gpus: float, address: Optional[str]) -> Optional[str]:
    """Why jobs that request `wanted` GPUs each can never start on a cluster of `gpus` GPUs, or None."""
    if wanted <= gpus:
        return None
    return (f"Ray: each job requests {wanted:g} GPU (device=cuda), but the cluster (address={address}) has "
            f"{gpus:g}: the jobs would wait forever; start GPU nodes, or use device=cpu")


def _run_job(hydra_context: HydraContext, sweep_config: DictConfig, task_function: TaskFunction,
             singleton_state: Dict[Any, Any]) -> JobReturn:
    """On a Ray worker: restore Hydra's state as the driver had it, then run one job as Hydra's launchers do: in the
    user's folder (`hydra.runtime.cwd`), not in the folder where the worker process happened to start (where
    `ray start` ran), so that relative paths mean what they mean to the user. Where that folder does not exist
    (another machine without it) the job runs where its worker is; the sweep hands it absolute paths."""
    setup_globals()
    Singleton.set_state(singleton_state)
    HydraConfig.instance().set_config(sweep_config)
    here = os.getcwd()
    user = str(sweep_config.hydra.runtime.cwd)
    if os.path.isdir(user):
        os.chdir(user)
    try:
        return run_job(hydra_context=hydra_context, task_function=task_function, config=sweep_config,
                       job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
    finally:
        os.chdir(here)  # the worker process runs other jobs after this one


class RayLauncher(Launcher):
    def __init__(self, address: Optional[str] = "auto", init: Optional[Dict[str, Any]] = None,
                 remote: Optional[Dict[str, Any]] = None) -> None:
        self.address = address
        self.init = _plain(init)
        self.remote = _plain(remote)
        self.config: Optional[DictConfig] = None
        self.task_function: Optional[TaskFunction] = None
        self.hydra_context: Optional[HydraContext] = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        import ray  # lazy: only a sweep on Ray needs it

        setup_globals()
        assert self.config is not None and self.hydra_context is not None and self.task_function is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        if not ray.is_initialized():
            try:  # never object_store_memory: a running cluster refuses it
                ray.init(address=self.address, **self.init)
            except ConnectionError as e:
                raise NoCluster(f"Ray: no running cluster at address={self.address} ({str(e).split('. ')[0]}): start "
                                "one with `ray start --head`, or give hydra.launcher.address=null for a local Ray "
                                "of this sweep's own") from None
        resources = ray.cluster_resources()
        cpus, gpus = resources.get("CPU", 0), resources.get("GPU", 0)
        log.info(f"Ray: {len(job_overrides)} jobs on a cluster of {cpus:g} CPUs and {gpus:g} GPUs "
                 f"(address={self.address})")
        shortage = gpu_shortage(float(self.remote.get("num_gpus") or 0), gpus, self.address)
        if shortage:
            raise NoGpuInCluster(shortage)
        # max_retries=0: a job whose worker dies fails once and is left to the sweep's resume (Ray would run it
        # again up to 3 times, behind the sweep's back); the preset's `remote` may set it otherwise
        remote_fn = ray.remote(**{"max_retries": 0, **self.remote})(_run_job)

        refs: Dict[Any, int] = {}
        overrides_of: List[List[str]] = []
        for i, overrides in enumerate(job_overrides):
            idx = initial_job_idx + i
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            with open_dict(sweep_config):
                sweep_config.hydra.job.id = f"ray_{idx}"
                sweep_config.hydra.job.num = idx
            ref = remote_fn.remote(self.hydra_context, sweep_config, self.task_function, Singleton.get_state())
            refs[ref] = i
            overrides_of.append(list(overrides))

        results: List[Optional[JobReturn]] = [None] * len(refs)
        pending, t0 = list(refs), time.time()
        while pending:  # each result as it arrives, not the batch at the end
            try:
                done, pending = ray.wait(pending, num_returns=1)
            except BaseException:  # the sweep was stopped (Ctrl-C, SIGTERM): its jobs stop too, releasing their claims
                for ref in pending:
                    ray.cancel(ref)
                raise
            for ref in done:
                i = refs[ref]
                try:
                    results[i] = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - the worker or its node was lost: this run failed
                    results[i] = JobReturn(overrides=overrides_of[i], status=JobStatus.FAILED, _return_value=e)
                log.info(f"Ray: {len(refs) - len(pending)}/{len(refs)} jobs returned ({time.time() - t0:.1f} s)")
        return results  # type: ignore[return-value]


def _plain(node: Any) -> Dict[str, Any]:
    if node is None:
        return {}
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else dict(node)
