"""What the sweeper hands one launcher job beyond a run's own overrides: the ids it planned for the job's runs and,
for a bundle, their seeds. A launcher passes a job nothing but overrides, so the spec travels as two overrides,
encoded (`JobSpec.overrides`) and decoded (`JobSpec.read`, `members`) here alone.

The worker checks its own ids against the planned ones (a worker whose code, data or device differs from the
planner's would write folders the planner never looks in), then trains the bundle's seeds together."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from omegaconf import DictConfig, open_dict

from .overrides import key, without

RUN_IDS = "run_ids"  # the ids the sweeper planned for the job's runs (part of no run)
SEEDS = "bundle_seeds"  # a bundle's seeds: one launcher job for several runs of a cell (part of no run)
KEYS = (RUN_IDS, SEEDS)  # the job's keys in its config, taken out before a run reads it
INTERRUPTED = "interrupted"  # a job's answer for each run when SIGINT/SIGTERM stopped it: left for a rerun


@dataclass(frozen=True)
class JobSpec:
    """One launcher job: the run ids planned for it (None: a run no sweep planned) and, for a bundle of seeds,
    those seeds (None: one run)."""

    run_ids: tuple[str, ...] | None = None
    seeds: tuple[int, ...] | None = None

    def overrides(self) -> list[str]:
        """The spec as the overrides appended to the job's first run's (ids quoted: an id of digits is no number)."""
        out = [] if self.seeds is None else ["+{}=[{}]".format(SEEDS, ",".join(str(s) for s in self.seeds))]
        if self.run_ids is not None:
            out.append("+{}=[{}]".format(RUN_IDS, ",".join(f"'{i}'" for i in self.run_ids)))
        return out

    @classmethod
    def read(cls, cfg: DictConfig) -> JobSpec:
        """The spec a job's config carries."""
        ids = tuple(str(i) for i in cfg[RUN_IDS]) if RUN_IDS in cfg else None
        seeds = tuple(int(s) for s in cfg[SEEDS]) if SEEDS in cfg else None
        return cls(ids, seeds)


def members(cfg: DictConfig, overrides: list[str]) -> tuple[list[DictConfig], list[list[str]]]:
    """A job's runs: its config without the job's keys (one per seed of a bundle, that seed put in), and each run's
    overrides as a lone job of that run has them."""
    spec = JobSpec.read(cfg)
    base = copy.deepcopy(cfg)
    with open_dict(base):
        for k in KEYS:
            base.pop(k, None)
    own = without(overrides, set(KEYS))
    if spec.seeds is None:
        return [base], [own]
    at = next((i for i, o in enumerate(own) if key(o) == "seed"), len(own))
    cfgs, overs = [], []
    for s in spec.seeds:
        member = copy.deepcopy(base)
        member.seed = s
        cfgs.append(member)
        overs.append(own[:at] + [f"seed={s}"] + own[at + 1 :])
    return cfgs, overs
