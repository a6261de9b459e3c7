"""The planned train jobs as launcher jobs: a cell's seeds bundled (trained together, ablation.stacked), each
bundle's overrides with its paths made absolute and its job spec appended."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from omegaconf import DictConfig, OmegaConf

from .job import JobSpec
from .overrides import with_values

if TYPE_CHECKING:
    from .plan import Job

# The paths a job reads or writes. The planner resolves them against the user's folder and hands the worker
# absolute paths, so that a job's files do not depend on where its worker process started (a Ray cluster started
# in another folder, a SLURM job's working directory).
PATH_KEYS = ("results_dir", "data.root")


def bundles(jobs: list[Job], size: int | None = None) -> list[list[Job]]:
    """The train jobs grouped by cell (all but the seed; at most `size` runs a bundle, or the encoder's
    `max_stack`), longest bundle first.

    Each bundle is one launcher job whose runs are trained together (ablation.stacked); at one thread a run's
    result is the same in a bundle as alone, so this changes only how long the sweep takes.
    """
    groups: dict[str, list[Job]] = {}
    for j in jobs:
        if j.action == "train":
            groups.setdefault(j.cell, []).append(j)
    out: list[list[Job]] = []
    for members in groups.values():
        step = min(n for n in (size, members[0].max_stack, len(members)) if n)
        out.extend(members[i : i + step] for i in range(0, len(members), step))
    return sorted(out, key=lambda b: -sum(j.cost for j in b))  # stable: grid order among equals


def absolute_paths(cfg: DictConfig, where: str) -> list[str]:
    """Overrides that set each relative path of PATH_KEYS in `cfg` to that path under `where` (the user's folder)."""
    out = []
    for key in PATH_KEYS:
        value = OmegaConf.select(cfg, key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            path = os.path.normpath(os.path.join(where, value))
            plain = all(c.isalnum() or c in "/._-" for c in path)
            out.append(f"{key}={path}" if plain else "{}='{}'".format(key, path.replace("\\", "\\\\").replace("'", "\\'")))
    return out


def bundle_overrides(bundle: list[Job]) -> list[str]:
    """The launcher job of a bundle: the first run's overrides (its paths made absolute) plus its job spec: the ids
    planned for its runs, which the worker checks against its own, and, for several runs, their seeds."""
    spec = JobSpec(tuple(j.run_id for j in bundle), tuple(j.seed for j in bundle) if len(bundle) > 1 else None)
    return with_values(list(bundle[0].overrides), bundle[0].paths) + spec.overrides()
