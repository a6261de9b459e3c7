"""What the running Hydra job says about itself (nothing outside a Hydra app): whether it is a multirun's job, its
number, its overrides, the user's config folder and the sweep's folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from .job import RUN_IDS
from .overrides import without


def _hydra() -> Any | None:
    return HydraConfig.get() if HydraConfig.initialized() else None


def multirun() -> bool:
    """Whether this process runs a job of a multirun (`-m`)."""
    hc = _hydra()
    return hc is not None and hc.mode == RunMode.MULTIRUN


def sweep_dir() -> Path | None:
    """The multirun's own folder (hydra.sweep.dir), or None outside a multirun."""
    hc = _hydra()
    return Path(hc.sweep.dir) if hc is not None and hc.mode == RunMode.MULTIRUN else None


def config_dir() -> str | None:
    """The user's own config folder (`--config-dir`, absolute), recorded so that a sweep the report suggests for
    their component can name it."""
    hc = _hydra()
    paths = [str(c.path) for c in hc.runtime.config_sources if c.provider == "command-line"] if hc else []
    return paths[0].removeprefix("file://") if paths else None


def task_overrides() -> list[str]:
    """The job's overrides as the user's runs have them (the sweeper's planned ids left out)."""
    hc = _hydra()
    return without(list(hc.overrides.task), {RUN_IDS}) if hc else []


def job_number() -> int:
    """This launcher job's number (0 outside a sweep): it places runs planned for `cuda` among several GPUs."""
    hc = _hydra()
    return int(hc.job.get("num") or 0) if hc else 0
