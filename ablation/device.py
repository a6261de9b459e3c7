"""Where a run's tensors live, and the one way their values come back to the host.

A run's device is decided once, by the process that plans it: `cpu`, `cuda` or `cuda:N` (`auto` is CUDA
when this process's torch sees a GPU). The run identity holds the device's kind (`cpu` or `cuda`): a GPU's
index says where a run is placed, not what it computes. A worker places the run with `resolve` and fails
clearly when it cannot honour the plan; it never picks another device on its own.

Every device-to-host transfer of the training code goes through `to_host`: it is the only place that
waits for the device, so the training step can be checked to wait for nothing (tests/test_device.py).
"""

from __future__ import annotations

import os
import re

import numpy as np
import torch

KINDS = ("cpu", "cuda")
_NAME = re.compile(r"(auto|cpu|cuda)(?::(\d+))?")


class DeviceUnavailable(RuntimeError):
    """The planned device is not there on this worker: the run fails instead of moving elsewhere."""


def parse(name: object) -> tuple[str, int | None]:
    """`auto`, `cpu`, `cuda` or `cuda:N` → (kind, index or None); ValueError on anything else."""
    m = _NAME.fullmatch(str(name)) if isinstance(name, str) else None
    if m is None or (m.group(2) is not None and m.group(1) != "cuda"):
        raise ValueError(f"device must be one of auto, cpu, cuda, cuda:N, got {name!r}")
    return m.group(1), None if m.group(2) is None else int(m.group(2))


def kind(name: str) -> str:
    """The device kind a run trains on, as its identity holds it: `auto` is decided here, by this process."""
    k, _ = parse(name)
    if k == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return k


def resolve(name: str, job: int = 0) -> torch.device:
    """Where this worker places a run planned for `name`; `job` (the launcher job's number) spreads runs of
    `cuda` without an index over the GPUs this process sees. Raises DeviceUnavailable, never falls back."""
    k, index = parse(name)
    if k == "auto":
        k = kind(name)
    if k == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceUnavailable(
            f"device={name} was planned for this run, but torch on this worker sees no CUDA GPU (torch "
            f"{torch.__version__}, CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')})")
    count = torch.cuda.device_count()
    if index is None:
        index = job % count
    if index >= count:
        raise DeviceUnavailable(f"device={name} was planned for this run, but this worker sees {count} GPU(s)")
    return torch.device("cuda", index)


def put(t: torch.Tensor, place: torch.device) -> torch.Tensor:
    """A host tensor on `place` without waiting: on a GPU through pinned memory and an asynchronous copy."""
    if place.type == "cuda":
        return t.pin_memory().to(place, non_blocking=True)
    return t.to(place)


def to_host(t: torch.Tensor) -> np.ndarray:
    """The values of a tensor on any device as a NumPy array: the one place that waits for the device."""
    return t.detach().cpu().numpy()


def dropout_generator(place: torch.device, seed: int) -> torch.Generator:
    """A run's own dropout stream on its device. On the CPU it continues the seed's global stream after the
    initial weights (drawn there); on a GPU it is that GPU's generator seeded with the run's seed."""
    if place.type == "cpu":
        g = torch.Generator()
        g.set_state(torch.default_generator.get_state())
        return g
    return torch.Generator(device=place).manual_seed(seed)


def default_generator(place: torch.device) -> torch.Generator:
    """The generator that ops on `place` draw from when given none (a plain model's own dropout layers)."""
    if place.type == "cpu":
        return torch.default_generator
    return torch.cuda.default_generators[place.index if place.index is not None else torch.cuda.current_device()]
