"""The grid → its jobs, before anything trains: every job composed, validated (every problem reported, nothing
trained) and named by its run identity; finished runs reused, meaningless combinations skipped, duplicates named,
the rest to train, with what bundles them (their cell) and what their time is estimated by."""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import CompactHydraException, HydraException
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from .. import presets
from ..config import config_problems, seed_problem, skip_reason
from ..contract import name_of
from ..data import DataError
from ..errors import as_typed, lines
from ..identity import identity, identity_hash
from ..schema import RUNTIME
from ..store import run_dir
from . import lock, record
from .bundles import absolute_paths
from .compose import Composer
from .hydra_private import cartesian
from .overrides import key, without
from .placement import decide, register_resolver, with_device, workers_of


class InvalidSweep(CompactHydraException):
    """Some jobs of the grid have an invalid config; nothing was trained."""


@dataclass
class Job:
    overrides: list[str]
    run_id: str
    action: str  # train | reuse | skip | duplicate
    detail: str = ""
    cell: str = ""  # the identity minus the seed: runs of one cell are trained together
    seed: int = 0
    cost: float = 1.0  # relative training time (epochs x encoder cost), to launch the longest bundles first
    max_stack: int = 0  # the encoder's limit on runs trained together (0 = none)
    folder: Path | None = None  # the run folder
    elsewhere: bool = False  # another process holds a live claim on it: this sweep will wait for the run
    kind: tuple[str, ...] = ()  # (head, encoder, data) by short name: what its time is estimated by
    epochs: int = 0
    damaged: bool = False  # finished, but its files differ from its record: trained again
    paths: list[str] = field(default_factory=list)  # bundles.PATH_KEYS as absolute paths, for the launched job
    unverified: bool = False  # reused, but its record lists no files' sizes and hashes (written before records did)

    @property
    def what(self) -> str:
        """The overrides that say what the run measures (runtime keys such as results_dir left out)."""
        return " ".join(without(self.overrides, RUNTIME))


@dataclass
class Plan:
    """A sweep's jobs, and what the sweep says of them before it launches any."""

    jobs: list[Job]
    heads: dict[str, tuple[DictConfig, list[str]]]  # one config per head × depth, with the pair orders it is run on
    samples: dict[tuple[str, ...], DictConfig]  # a config per (head, encoder, data): for the dry run's estimate
    alone: set[str]  # optimizers whose update is not element-wise: their runs train one at a time


def expand(grids: list[dict[str, Any]], params: dict[str, Any], arguments: list[str], loader: Any) -> list[list[str]]:
    """The grid's jobs, each as its overrides: a union of cartesian products, each of a grid's params, then
    `params`, then the command line."""
    parser = OverridesParser.create(config_loader=loader)
    jobs: list[list[str]] = []
    for grid in grids:
        strings = [f"{k}={v}" for k, v in grid.items()] + [f"{k}={v}" for k, v in params.items()] + list(arguments)
        jobs.extend(cartesian(parser.parse_overrides(strings)))
    return jobs


def cell_key(cfg: DictConfig, ident: dict[str, Any]) -> str:
    """What a run measures except its seed (`ident`: its identity): runs with the same key have the same shapes,
    hyperparameters, data content and code, so they can be trained together."""
    d = {k: v for k, v in ident.items() if k != "seed"}
    return json.dumps(d, sort_keys=True, default=str) + json.dumps(
        {k: cfg.get(k) for k in ("device", "threads")}, default=str)  # the stack runs on one device, one thread count


def affected(jobs: list[list[str]], total: int) -> str:
    """The runs a problem affects, as cells (their overrides but the seed) with their seeds: 'all 6 runs', or
    '3 of 6 runs: head=distance seed=0,1,2' (the first few cells named)."""
    if len(jobs) == total:
        return f"all {total} runs" if total > 1 else "the run"
    cells: dict[str, list[str]] = {}
    for overrides in jobs:
        seeds = [o.split("=", 1)[1] for o in overrides if key(o) == "seed"]  # the value as typed
        rest = " ".join(o for o in overrides if key(o) != "seed" and key(o) not in RUNTIME)
        cells.setdefault(rest, []).extend(seeds)
    named = [f"{c} seed={','.join(s)}".strip() if s else c for c, s in cells.items()]
    more = f" and {len(named) - 3} more cells" if len(named) > 3 else ""
    return f"{len(jobs)} of {total} runs: " + "; ".join(named[:3]) + more


def interpolates(cfg: DictConfig) -> bool:
    """Whether any value of the config is an interpolation (`${...}`), which could depend on the seed."""
    return "${" in json.dumps(OmegaConf.to_container(cfg, resolve=False), default=str)


def run_cost(cfg: DictConfig) -> float:
    return float(cfg.train.epochs) * float(getattr(get_class(cfg.encoder._target_), "relative_cost", 1.0))


@functools.lru_cache(maxsize=None)
def short_name(target: str) -> str:
    return name_of(get_class(target))


def kind_of(ident: dict[str, Any]) -> tuple[str, ...]:
    """(head, encoder, data) by short name, from a run's identity: what the dry run estimates its time by."""
    return tuple(short_name(str(ident[f"{g}._target_"])) for g in ("head", "encoder", "data"))


def max_stack(cfg: DictConfig, elementwise: bool | None = None) -> int:
    """The most runs of a cell trained together (0 = no limit): the encoder's limit at one thread, and 1 (every
    run alone) at several, where a product's sums may be split among the threads by the stack's shape, or where the
    optimizer's update is not element-wise (`elementwise`, else measured by ablation.recipe, known for the shipped
    presets: one optimizer over a stack would mix its runs)."""
    if elementwise is None:
        elementwise = presets.elementwise(cfg)
    if cfg.get("threads", 1) != 1 or not elementwise:
        return 1
    return int(getattr(get_class(cfg.encoder._target_), "max_stack", 0))


def plan(jobs: list[list[str]], composer: Composer, launcher: DictConfig | None, cwd: str) -> Plan:
    """Every job composed, validated and named by its run id (InvalidSweep lists every problem of the grid).

    `launcher`: the sweep's hydra.launcher (what its jobs get: the device is checked against it); `cwd`: the user's
    folder, against which a job's relative paths are made absolute."""
    register_resolver()
    workers = workers_of(launcher)
    planned: list[Job] = []
    problems: dict[str, list[list[str]]] = {}  # each distinct problem → the jobs it affects
    seen: dict[str, str] = {}
    checked: dict[tuple, dict[str, Any]] = {}  # per cell: what its first valid seed gave (seed-free parts)
    out = Plan(planned, {}, {}, set())
    for i, overrides in enumerate(jobs):
        typed = [as_typed(o) for o in overrides]  # as the user typed them: how a problem names its runs
        try:
            overrides, (cfg, cell) = composer.forcing(list(overrides))
            if cfg.get("device") == "auto":  # decided here, once: the job carries the decision to its worker
                overrides = with_device(list(overrides), decide("auto", workers))
                cfg, cell = composer.cell(overrides)
        except HydraException as e:
            problems.setdefault(lines(e), []).append(typed)
            continue
        known = checked.get(cell)
        if known is not None:  # another seed of a cell already checked: only the seed is new
            problem = seed_problem(cfg.seed)
            if problem:
                problems.setdefault(problem, []).append(typed)
                continue
            ident = {**known["ident"], "seed": cfg.seed}
        else:
            found = config_problems(cfg, check_output=i == 0, workers=workers)
            try:
                ident = identity(cfg) if not found else {}
            except DataError as e:  # the data's content (a download, say) is part of the identity
                found = [str(e)]
            for problem in found:
                problems.setdefault(problem, []).append(typed)
            if found:
                continue
            elementwise = presets.elementwise(cfg)
            known = {"ident": ident, "skip": skip_reason(cfg), "cell": cell_key(cfg, ident), "cost": run_cost(cfg),
                     "max_stack": max_stack(cfg, elementwise), "epochs": int(ident["train.epochs"]),
                     "kind": kind_of(ident)}
            if not known["skip"] and known["kind"] not in out.samples:
                out.samples[known["kind"]] = copy.deepcopy(cfg)
            if not known["skip"]:
                head = json.dumps([OmegaConf.to_container(cfg.head, resolve=True), cfg.depth], sort_keys=True)
                if head not in out.heads:  # one config per head × depth (a copy: cells share theirs)
                    out.heads[head] = (copy.deepcopy(cfg), [])
                orders = out.heads[head][1]
                if cfg.data.pair_order not in orders:
                    orders.append(cfg.data.pair_order)
            if not elementwise:
                out.alone.add(str(cfg.optimizer.get("_target_")))
            if not interpolates(cfg):  # else a value may follow the seed: each seed is checked in full
                checked[cell] = known
        rid = identity_hash(ident)
        if rid in seen:
            planned.append(Job(overrides, rid, "duplicate", f"same run as: {seen[rid]}"))
            continue
        seen[rid] = Job(overrides, rid, "").what
        folder = run_dir(cfg.results_dir, rid)
        prev = record.read(folder)
        damaged = record.damage(folder, prev) if prev is not None and prev.final else {}
        if prev is not None and prev.final and not damaged:
            planned.append(Job(overrides, rid, "reuse", prev.status, folder=folder, unverified=not prev.verifiable))
        elif known["skip"]:
            planned.append(Job(overrides, rid, "skip", known["skip"], folder=folder))
        else:
            claim = lock.look(folder)  # another sweep's live claim: this sweep will wait for the run
            held = claim is not None and not claim.stale(lock.timing(cfg)[1])
            redo = ", ".join(f"{name} {what}" for name, what in damaged.items()) if damaged else prev and prev.status
            detail = claim.words() + " (this sweep waits for it)" if held else "redo: " + redo if prev else ""
            planned.append(Job(overrides, rid, "train", detail, cell=known["cell"], seed=int(cfg.seed),
                               cost=known["cost"], max_stack=known["max_stack"], folder=folder, elsewhere=held,
                               kind=known["kind"], epochs=known["epochs"], damaged=bool(damaged),
                               paths=absolute_paths(cfg, cwd)))
    if problems:
        raise InvalidSweep("\n".join(f"{p} [{affected(js, len(jobs))}]" for p, js in problems.items()))
    return out
