"""Which keys a run's config may have: those something reads. Any other key is refused before anything is written.

A key nothing reads would not change the run, yet it would change its identity and become a factor of the report:
the same model trained twice under two names, compared as if they differed. So the composed config is checked
against what reads it: the training code's own keys (listed here, once), and each component group against the
constructor of its `_target_` (a user's own class included; a constructor taking `**kwargs` takes any key).
"""

from __future__ import annotations

import difflib
import inspect
import re
from functools import lru_cache
from typing import Any, Mapping

from hydra.utils import get_class

from .run.job import KEYS as JOB_KEYS

# Where and how fast a run happens, not what it measures: read by the sweep, left out of a run's identity.
RUNTIME = ("results_dir", "threads", "progress", "dry_run", "claim_heartbeat_s", "claim_timeout_s")
RUN = ("depth", "seed", "device")  # read by the training code and part of a run's identity
TRAIN = ("epochs", "batch_size", "init")  # train.*: ablation/train.py's protocol (its optimizer: `optimizer`)
COMPONENTS = ("data", "encoder", "head", "loss", "optimizer", "schedule")  # each built from its `_target_` with
# the group's other keys; `schedule=none` has no `_target_` and takes no key
JOB = JOB_KEYS  # the sweeper's per-job keys (ablation.run.job), taken out before a run reads its config
INSTANTIATE = ("_target_", "_recursive_", "_convert_", "_partial_", "_args_")  # Hydra's own, read by instantiate
# Arguments the trainer passes itself: from these config keys, or (None) from what it built (the parameters, the
# optimizer)
PASSED = {"head": {"dim": "encoder.dim", "depth": "depth"}, "optimizer": {"params": None}, "schedule": {"optimizer": None}}
TOP = RUN + RUNTIME + ("train",) + COMPONENTS


def option_name(group: str, target: str | None) -> str:
    """A recipe component's short name, as its config option is named, from its `_target_`: `rmsprop`, `adam`; a
    schedule without its `LR` suffix (`cosine` for CosineAnnealingLR, `step` for StepLR); `none` without a class."""
    if not target:
        return "none"
    short = str(target).rsplit(".", 1)[-1].lower()
    return (re.sub(r"(annealing)?lr$", "", short) or short) if group == "schedule" else short


def _dotted(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


@lru_cache(maxsize=256)
def takes(target: str) -> tuple[tuple[str, ...], bool]:
    """The keyword arguments the class `target` takes, and whether it takes any (`**kwargs`)."""
    try:
        params = inspect.signature(get_class(target)).parameters.values()
    except (TypeError, ValueError):  # no signature to read: its constructor is checked when it is built
        return (), True
    names = tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    return names, any(p.kind == p.VAR_KEYWORD for p in params)


def known_keys(cfg: Mapping[str, Any]) -> list[str]:
    """Every dotted key this config could have that something reads (the candidates of 'did you mean')."""
    out = list(TOP) + [f"train.{k}" for k in TRAIN]
    for group in COMPONENTS:
        node = cfg.get(group)
        target = node.get("_target_") if hasattr(node, "get") else None
        if isinstance(target, str):
            names, _ = _safe_takes(target)
            out += [f"{group}.{k}" for k in names if k not in PASSED.get(group, {})]
    return out


def _safe_takes(target: str) -> tuple[tuple[str, ...], bool]:
    try:
        return takes(target)
    except Exception:  # noqa: BLE001 - a target that cannot be imported is reported by config.validate
        return (), True


def nearest(key: str, known: list[str]) -> str | None:
    """The known key a misspelt or misplaced one most likely meant: by its dotted name, else by its last part."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    if close:
        return close[0]
    leaf = key.rsplit(".", 1)[-1]
    leaves = {k.rsplit(".", 1)[-1]: k for k in reversed(known)}
    close = difflib.get_close_matches(leaf, list(leaves), n=1, cutoff=0.75)
    return leaves[close[0]] if close else None


class _Known:
    def __init__(self, cfg: Mapping[str, Any]) -> None:
        self.cfg, self.keys = cfg, None

    def __iter__(self):  # noqa: ANN204
        if self.keys is None:
            self.keys = known_keys(self.cfg)
        return iter(self.keys)


def _unread(key: str, known: Any, why: str = "no such key", options: str = "") -> str:
    """'key: why; did you mean <nearest>?', or 'key: why (options)' where no known key is near."""
    near = nearest(key, [k for k in known if k != key])
    return f"{key}: {why}" + (f"; did you mean {near}?" if near else options)


def problems(cfg: Mapping[str, Any], job_keys: bool = False) -> list[str]:
    """One line per key of `cfg` that nothing reads (empty when every key is read). `job_keys`: the sweeper's
    per-job keys are allowed (a launcher job's config before they are taken out)."""
    known = _Known(cfg)  # only computed for a key that is refused
    found: list[str] = []
    top = set(TOP) | (set(JOB) if job_keys else set())
    for key in cfg:
        if key == "hydra":
            continue
        if key not in top:
            found.append(_unread(str(key), known))
    train = cfg.get("train")
    if hasattr(train, "keys"):
        found += [_unread(f"train.{k}", known, options=f" (train takes {', '.join(TRAIN)})")
                  for k in train if k not in TRAIN]
    for group in COMPONENTS:
        node = cfg.get(group)
        if group == "schedule" and hasattr(node, "keys") and "_target_" not in node:  # schedule=none
            found += [f"schedule.{k}: schedule=none takes no keys; pick a schedule first (e.g. schedule=step)"
                      for k in node]
            continue
        if not hasattr(node, "keys") or not isinstance(node.get("_target_"), str):
            continue  # a missing or unimportable target is config.validate's to report
        names, anything = _safe_takes(node["_target_"])
        for k in node:
            if k in INSTANTIATE:
                continue
            if k in PASSED.get(group, {}):
                source = PASSED[group][k]
                found.append(f"{group}.{k}: set by the model from {source}, not from the config; did you mean {source}?"
                             if source else f"{group}.{k}: passed by the trainer, not set in the config")
            elif not anything and k not in names:
                cls = node["_target_"]
                takes_text = ", ".join(n for n in names if n not in PASSED.get(group, {})) or "no keys"
                found.append(_unread(_dotted(group, k), known, f"{cls} does not take it", f" (it takes {takes_text})"))
    return found
