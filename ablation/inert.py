"""Which keys of a component cannot change a run at its setting, measured by building the component twice.

A learned head's `hidden` width does nothing at depth 0, yet as part of the identity it would name a new run for
the same model. So each numeric or boolean key of a component is changed, the component built again under the same
seed, and compared with the first build: the same parameters, buffers and attributes, module by module, mean the
key cannot change the run here. Measured, not declared, so a user's own class needs nothing for it; a difference
anywhere (or a build that fails) keeps the key. The run's identity then holds the constructor's default for it
(ablation/identity.py), so the run keeps the id it has at the default, and other values at this setting name the
same run.
"""

from __future__ import annotations

import inspect
import json
from functools import lru_cache
from typing import Any

import torch
from hydra.utils import get_class, instantiate

from .schema import INSTANTIATE

PROBE_DIM = 8  # the embedding size a head is built for here (as the contract check builds it)


def _changed(value: Any) -> Any:
    """Another value of the same type, or None where there is no obvious one (text, lists: always kept)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2 if value else 1.0
    return None


def _build(node: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    """The component under a fixed seed: its class called directly where its config is flat (a fraction of
    Hydra's instantiate, which builds anything else)."""
    flat = not any(k in INSTANTIATE[1:] or isinstance(v, (dict, list)) for k, v in node.items())
    with torch.random.fork_rng(devices=[]):  # built on the CPU: no GPU's random state to keep
        torch.manual_seed(0)
        if flat:
            return get_class(node["_target_"])(**{k: v for k, v in node.items() if k != "_target_"}, **kwargs)
        return instantiate(node, **kwargs)


def _attrs(obj: Any) -> dict[str, str]:
    return {k: repr(v) for k, v in vars(obj).items() if not k.startswith("_") and k != "training"}


def state(obj: Any) -> list[Any]:
    """Everything a built component holds: per module its class and attributes, and every parameter and buffer."""
    if not isinstance(obj, torch.nn.Module):
        return [type(obj).__qualname__, _attrs(obj)]
    out: list[Any] = [(name, type(m).__qualname__, _attrs(m)) for name, m in obj.named_modules()]
    for name, t in obj.state_dict().items():
        out.append((name, str(t.dtype), tuple(t.shape), t.detach().cpu().numpy().tobytes()))
    return out


@lru_cache(maxsize=256)
def inert_keys(group: str, node_json: str, depth: int) -> tuple[str, ...]:
    """The keys of a component's config (`node_json`, resolved) that cannot change what it builds at this depth."""
    node = json.loads(node_json)
    if node.get("_partial_"):  # a constructor the trainer completes (an optimizer, a schedule): nothing built to compare
        return ()
    kwargs = {"dim": PROBE_DIM, "depth": depth} if group == "head" else {}
    try:
        base = state(_build(node, kwargs))
    except Exception:  # noqa: BLE001 - a component that cannot be built here (skipped, say): nothing is inert
        return ()
    found = []
    for key, value in node.items():
        other = _changed(value)
        if key in INSTANTIATE or other is None:
            continue
        try:
            same = state(_build({**node, key: other}, kwargs)) == base
        except Exception:  # noqa: BLE001 - another value it refuses: the key matters
            same = False
        if same:
            found.append(key)
    return tuple(found)


def default(target: str, key: str) -> tuple[bool, Any]:
    """(True, the constructor's default for `key`) where it has one, else (False, None)."""
    try:
        p = inspect.signature(get_class(target)).parameters.get(key)
    except (TypeError, ValueError, ImportError):
        return False, None
    if p is None or p.default is inspect.Parameter.empty:
        return False, None
    return True, p.default
