"""Hydra's sweeper for ablations (Hydra 1.3 itself has neither resume nor a dry run): a thin plugin over
ablation.run.multirun, which holds the sweep's course.

Before anything trains it composes every job of the grid, validates all of them (every problem is reported, exit 1),
and names each by its run identity. Runs already finished are reused and meaningless combinations recorded as
skipped, both without launching anything; the rest go to whichever Hydra launcher is configured. At the end: a
summary, and a non-zero exit if any run failed.

Hydra imports every plugin module to find its plugins, in every Hydra app (the report's too): this one imports
nothing heavier than Hydra, and the sweep's modules only once a sweep starts.
"""

from typing import Any, Dict, List, Optional, Sequence

from hydra.core.plugins import Plugins
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class AblationSweeper(Sweeper):
    def __init__(
        self,
        params: Optional[Dict[str, str]] = None,
        grids: Optional[Sequence[Dict[str, Any]]] = None,
        bundle: Optional[int] = 0,
    ) -> None:
        self.params = dict(params or {})  # added to every grid, as Hydra's basic sweeper's `params`
        self.grids = [dict(g) for g in grids] if grids else [{}]
        self.bundle = bundle  # runs per bundle: 0 = all seeds of a cell, 1 = every run alone
        self.hydra_context: Optional[HydraContext] = None
        self.config: Optional[DictConfig] = None
        self.launcher: Optional[Launcher] = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)
        joblib_kwargs = getattr(self.launcher, "joblib", None)  # Hydra's joblib launcher: joblib.Parallel's arguments
        if isinstance(joblib_kwargs, dict):
            from ablation.run.signals import worker_init

            joblib_kwargs.setdefault("initializer", worker_init)  # loky workers handle Ctrl-C/SIGTERM from their start

    def sweep(self, arguments: List[str]) -> Any:
        from ablation.run import multirun

        assert self.hydra_context is not None and self.config is not None
        return multirun.sweep(self.config, self.hydra_context.config_loader, self.launcher, list(arguments),
                              self.grids, self.params, self.bundle)
