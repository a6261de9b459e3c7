"""The planner's side of a run's device: what a launcher gives its jobs, and whether a planned device fits it.

The process that plans a sweep decides each run's device once (`decide`), checks that the launcher's jobs
can have it (`problem`) and hands the decision to the worker in the job's overrides; the worker places the
run with ablation.device and fails clearly when it cannot honour the plan. The run id holds the device's
kind, so the id the planner gives a run is the id of the folder its worker writes, on any two machines.

Kept apart from ablation.device, which is part of every run's code fingerprint: a change here changes how
sweeps are planned and checked, never a run's numbers, so it retrains nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from .. import device
from .overrides import key

RESOLVER = "gpus_per_job"  # ${gpus_per_job:${device}} in conf/hydra/launcher/*.yaml
CORES = "cpu_cores"  # ${cpu_cores:} in conf/hydra/launcher/parallel.yaml: one job a core


@dataclass(frozen=True)
class Workers:
    """Where a sweep's jobs run, as far as their device goes."""

    local: bool = True  # on this machine
    gpus: int | None = None  # GPUs the launcher gives each job; None = it hides none of this machine's
    launcher: str = "this process"  # for messages
    request: str = ""  # the launcher's config key that asks for GPUs


HERE = Workers()


def gpus_per_job(name: Any) -> int | None:
    """The launcher presets' GPU request per job: one for a CUDA device, else none (null: the launcher's
    default). `auto` asks for one when this process sees a GPU, as `decide` then plans CUDA."""
    try:
        return 1 if device.kind(name) == "cuda" else None
    except ValueError:  # an invalid device: validate reports it
        return None


def cpu_cores() -> int:
    """The CPUs this process may run on: its affinity (what `taskset`, a container or a batch scheduler leaves
    it), where the system tells it, else every CPU of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def register_resolver() -> None:
    """Let the launcher presets interpolate ${gpus_per_job:${device}} and ${cpu_cores:}; idempotent."""
    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, gpus_per_job)
    if not OmegaConf.has_resolver(CORES):
        OmegaConf.register_new_resolver(CORES, cpu_cores)


def _count(value: Any) -> int:
    return int(value) if value not in (None, "") else 0


def _gres_gpus(gres: Any) -> int:
    """The GPU count of a SLURM gres string: `gpu:2` or `gpu:a100:2` → 2, `gpu` → 1."""
    for part in str(gres or "").split(","):
        fields = part.strip().split(":")
        if fields[0] == "gpu":
            return int(fields[-1]) if len(fields) > 1 and fields[-1].isdigit() else 1
    return 0


def workers_of(launcher: DictConfig | None) -> Workers:
    """What the configured Hydra launcher (`hydra.launcher`) gives each job, device-wise.

    Ray and SLURM jobs see only the GPUs they request; submitit's local executor hides all but the
    `gpus_per_node` it is given; the basic and joblib launchers (and any other) run jobs here, seeing all."""
    if launcher is None:
        return HERE
    target = str(launcher.get("_target_", ""))
    name = target.rsplit(".", 1)[-1]
    if name == "RayLauncher":
        remote = launcher.get("remote") or {}
        return Workers(False, _count(remote.get("num_gpus")), name, "hydra.launcher.remote.num_gpus")
    if "submitit" in target and name == "SlurmLauncher":
        gpus = _count(launcher.get("gpus_per_task")) or _count(launcher.get("gpus_per_node")) \
            or _gres_gpus(launcher.get("gres"))
        return Workers(False, gpus, name, "hydra.launcher.gpus_per_task")
    if "submitit" in target and name == "LocalLauncher":
        return Workers(True, _count(launcher.get("gpus_per_node")), name, "hydra.launcher.gpus_per_node")
    return Workers(True, None, name or "the launcher")


def decide(name: str, workers: Workers) -> str:
    """The device the planner plans for a run asking for `name`: `auto` becomes `cuda` when the launcher
    gives each job a GPU, or runs it here without hiding this machine's GPUs and there is one; else `cpu`."""
    if device.parse(name)[0] != "auto":
        return name
    if workers.gpus:
        return "cuda"
    return device.kind("auto") if workers.local and workers.gpus is None else "cpu"


def problem(name: Any, workers: Workers = HERE) -> str | None:
    """Why the launcher's jobs cannot train on `name`, or None."""
    try:
        kind, index = device.parse(name)
    except ValueError as e:
        return str(e)
    if kind == "auto":
        kind = device.kind(decide(name, workers))
    if kind == "cpu":
        return None
    if workers.gpus == 0:
        return (f"device={name}, but {workers.launcher} requests no GPU for its jobs (the presets request one when "
                f"`device` is cuda for the whole sweep, not as a sweep list; or set {workers.request}=1)")
    if workers.local and not torch.cuda.is_available():
        where = "" if workers == HERE else f", where {workers.launcher} runs the jobs"
        return (f"device={name}, but torch sees no CUDA GPU on this machine{where} (torch {torch.__version__}); "
                "use device=cpu, or a launcher that requests GPUs for its jobs (hydra/launcher=ray or slurm)")
    seen = workers.gpus if workers.gpus is not None else torch.cuda.device_count()
    if index is not None and index >= seen:
        visible = "cuda:0" if seen == 1 else f"cuda:0 to cuda:{seen - 1}"
        return (f"device={name}, but each job of {workers.launcher} sees {seen} GPU(s), {visible}; "
                "device=cuda places each job on one of them")
    return None


def with_device(overrides: list[str], name: str) -> list[str]:
    """A job's overrides with its planned device: an override of `device` replaced in place, else appended."""
    if any(key(o) == "device" for o in overrides):
        return [f"device={name}" if key(o) == "device" else o for o in overrides]
    return [*overrides, f"device={name}"]
