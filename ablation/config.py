"""Config identity and validation: every problem in a config is reported before any training starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.errors import CompactHydraException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig

from . import presets, schema
from .contract import name_of, problems as contract_problems
from .data import PAIR_ORDERS, DataError, IdxFolder
from .factors import FACTORS
from .identity import experiment_dict, resolved, run_id  # noqa: F401 - the sweep's and tests' entry points
from .losses import CONVENTIONS
from .run import lock
from .run.placement import HERE, Workers, problem as device_problem
from .store import unwritable

INITS = ("keras", "torch")


class ConfigError(CompactHydraException, ValueError):
    """The config cannot describe a valid run; the message lists every problem found.

    A CompactHydraException, so Hydra prints just the message (no traceback) and exits 1."""


def component_name(node: DictConfig) -> str:
    return name_of(get_class(node._target_))


def factors(cfg: DictConfig) -> dict[str, Any]:
    """The study's factors (ablation.factors) by short name, as the record holds them and the report's columns read
    them: a component by its class's short name, a recipe component by its option's name, any other by its value."""
    out: dict[str, Any] = {}
    for f in FACTORS:
        if f.labelled:
            out[f.name] = component_name(cfg[f.group])
        elif f.group:
            out[f.name] = schema.option_name(f.group, cfg[f.group].get("_target_"))
        else:
            node: Any = cfg
            for part in f.key.split("."):
                node = node[part]
            out[f.name] = node
    return out


def skip_reason(cfg: DictConfig) -> str | None:
    """Combinations that make no sense are recorded as skipped, not trained."""
    head, loss = get_class(cfg.head._target_), get_class(cfg.loss._target_)
    if head.weightless and cfg.depth > 0:
        return f"head={name_of(head)} has no weights, so depth={cfg.depth} does not apply (the depth=0 run measures it)"
    if loss.needs_logit and not head.bounded:
        return f"loss={name_of(loss)} needs a probability, but head={name_of(head)} outputs an unbounded score"
    return None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def seed_problem(seed: Any) -> str | None:
    """What is wrong with a seed, or None (a sweep checks a cell's further seeds with this alone)."""
    return None if _is_int(seed) and seed >= 0 else f"seed must be an integer >= 0, got {seed!r}"


def validate(cfg: DictConfig, check_data: bool = True, check_output: bool = True, workers: Workers = HERE) -> None:
    """Raise ConfigError listing every invalid setting, one line each; cheap enough to run on a whole grid first.

    `workers`: where the jobs run, as the sweep's launcher says (placement.workers_of); the device is checked
    against what they get, not against this process's own GPUs (default: a run in this process)."""
    found = config_problems(cfg, check_data, check_output, workers)
    if found:
        raise ConfigError("\n".join(found))


def config_problems(cfg: DictConfig, check_data: bool = True, check_output: bool = True,
                    workers: Workers = HERE) -> list[str]:
    """Every invalid setting of `cfg`, one line each (empty when it describes a valid run)."""
    problems: list[str] = []
    t = cfg.train

    def need(ok: bool, msg: str) -> None:
        if not ok:
            problems.append(msg)

    need(_is_int(cfg.depth) and cfg.depth >= 0, f"depth must be an integer >= 0, got {cfg.depth!r}")
    seed = seed_problem(cfg.seed)
    need(seed is None, seed or "")
    need(_is_int(t.epochs) and t.epochs > 0, f"train.epochs must be an integer > 0, got {t.epochs!r}")
    need(_is_int(t.batch_size) and t.batch_size > 0, f"train.batch_size must be an integer > 0, got {t.batch_size!r}")
    need(t.init in INITS, f"train.init must be one of {INITS}, got {t.init!r}")
    bad_device = device_problem(cfg.get("device", "cpu"), workers)
    need(bad_device is None, bad_device or "")
    need(_is_int(cfg.threads) and cfg.threads >= 1, f"threads must be an integer >= 1, got {cfg.threads!r}")
    beat, timeout = lock.settings(cfg)
    need(_is_num(beat) and beat > 0, f"claim_heartbeat_s must be a number > 0, got {beat!r}")
    if _is_num(beat) and beat > 0:  # a live claim is refreshed at least twice within the timeout
        need(_is_num(timeout) and timeout >= 2 * beat,
             f"claim_timeout_s must be a number >= 2 x claim_heartbeat_s = {2 * beat:g}, got {timeout!r}")
    need(cfg.loss.convention in CONVENTIONS, f"loss.convention must be one of {CONVENTIONS}, got {cfg.loss.convention!r}")
    if "margin" in cfg.loss:
        need(_is_num(cfg.loss.margin) and cfg.loss.margin > 0, f"loss.margin must be a number > 0, got {cfg.loss.margin!r}")
    need(cfg.data.pair_order in PAIR_ORDERS, f"data.pair_order must be one of {PAIR_ORDERS}, got {cfg.data.pair_order!r}")
    problems += schema.problems(cfg)
    for group in schema.COMPONENTS:
        if group == "schedule" and "_target_" not in cfg.get(group, {}):
            continue  # schedule=none: a constant learning rate
        try:
            get_class(cfg[group]._target_)
        except Exception as e:  # noqa: BLE001 - any import failure is a config problem here
            problems.append(f"{group}._target_ {cfg[group].get('_target_')!r} cannot be imported: {e}")
    if not problems:
        problems += contract_problems(cfg)
        bad_recipe = presets.problem(cfg)
        need(bad_recipe is None, bad_recipe or "")
    if check_data and not problems and issubclass(get_class(cfg.data._target_), IdxFolder):
        try:
            instantiate(cfg.data).check()
        except DataError as e:
            problems.append(str(e))
    if check_output:
        problem = unwritable(Path(cfg.results_dir), "results_dir", keep=False)  # made by the first run it holds
        if problem:
            problems.append(problem)
    return problems
