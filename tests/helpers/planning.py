"""The sweeper's plan in this process: a grid composed, validated and named as `python -m ablation.sweep -m` does
before anything is launched, a fraction of a subprocess's time."""

from __future__ import annotations

from pathlib import Path

from hydra import initialize_config_dir
from hydra._internal.callbacks import Callbacks
from hydra.core.global_hydra import GlobalHydra
from hydra.core.plugins import Plugins
from hydra.errors import ConfigCompositionException
from hydra.types import HydraContext, RunMode

from ablation.errors import forced, unknown_key
from ablation.run.compose import Composer
from ablation.run.placement import register_resolver
from ablation.run.plan import Job, expand, plan as plan_jobs

CONF = Path(__file__).resolve().parents[2] / "conf"


def plan(*overrides: str) -> list[Job]:
    """The plan of `-m OVERRIDES` (its InvalidSweep where the grid is refused); a plain key the config lacks is
    retried as `++key`, as the command line does (ablation.errors.entry)."""
    args = list(overrides)
    register_resolver()  # the launcher presets' ${cpu_cores:}, as `python -m ablation.sweep` registers it on import
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        while True:
            try:
                cfg = loader.load_configuration("config", overrides=args, run_mode=RunMode.MULTIRUN)
                break
            except ConfigCompositionException as e:
                retry = forced(args, unknown_key(e) or "")
                if retry is None:
                    raise
                args = retry
        context = HydraContext(config_loader=loader, callbacks=Callbacks(cfg))
        sweeper = Plugins.instance().instantiate_sweeper(config=cfg, hydra_context=context, task_function=print)
        jobs = expand(sweeper.grids, sweeper.params, args, loader)
        return plan_jobs(jobs, Composer(cfg, loader), cfg.hydra.get("launcher"), str(cfg.hydra.runtime.cwd)).jobs
