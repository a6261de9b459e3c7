"""A run's identity: everything that decides its result, and nothing that doesn't.

Three parts: the resolved config (minus runtime keys), the *content* of its data (not the folder it was
read from) and the code that trains and measures it (as parsed, so comments and docstrings don't count).
Two configs with the same identity share one run folder; a change to any part gives a new one.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from .schema import COMPONENTS as COMPONENT_GROUPS, RUNTIME

# Keys that change where or how fast a run happens, not what it measures. `threads` comes back where it is not 1
# (see `identity`). `data.root` is replaced by the
# data's content fingerprint; the mirror and download flag only say how the files get there; the claim keys say
# how sweeps that share a results folder keep out of each other's way.
NON_IDENTITY = (*RUNTIME, "data.root", "data.download", "data.mirror")

# The modules whose code decides a run's numbers. The report's code is not among them: rewording the report
# never retrains anything. tests/test_identity.py checks that everything `ablation.train` imports is listed.
TRAINING_MODULES = (
    "ablation.data", "ablation.pairs", "ablation.encoders", "ablation.heads", "ablation.losses", "ablation.model",
    "ablation.train", "ablation.diagnostics", "ablation.stacked", "ablation.structure", "ablation.device",
    "ablation.recipe",
)


def resolved(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config without Hydra's own node (which only resolves inside a running job)."""
    return {k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg[k]) else cfg[k]
            for k in cfg if k != "hydra"}


def experiment_dict(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config minus the NON_IDENTITY keys."""
    d = resolved(cfg)
    for key in NON_IDENTITY:
        *parents, leaf = key.split(".")
        node = d
        for p in parents:
            node = node.get(p, {})
        node.pop(leaf, None)
    return d


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'train': {'epochs': 3}} → {'train.epochs': 3}; lists become JSON text so every value is a scalar."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = json.dumps(v) if isinstance(v, list) else v
    return out


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def source_fingerprint(source: str) -> str:
    """Hash of a module's syntax tree without docstrings: comments, docstrings and layout don't change it."""
    tree = _strip_docstrings(ast.parse(source))
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()[:16]


@lru_cache(maxsize=None)
def module_fingerprint(module: str) -> str:
    """The source fingerprint of an importable module (found, not executed), or 'missing:<name>'."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return f"missing:{module}"
    return source_fingerprint(Path(spec.origin).read_text())


def code_modules(targets: Iterable[str]) -> tuple[str, ...]:
    """The training modules plus the module of every component class that lives outside them (a user's own).
    PyTorch's own classes (torch.optim's) are not: like torch itself, they are not part of a run's identity."""
    extra = {t.rsplit(".", 1)[0] for t in targets if t and "." in t and not t.startswith("torch.")}
    return tuple(sorted(set(TRAINING_MODULES) | extra))


def code_fingerprint(targets: Iterable[str] = ()) -> str:
    """12 hex digits naming the code that trains and measures a run with these component classes."""
    parts = [f"{m}={module_fingerprint(m)}" for m in code_modules(targets)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def component_targets(cfg: DictConfig | dict[str, Any]) -> list[str]:
    return [str(cfg[g]["_target_"]) for g in COMPONENT_GROUPS if g in cfg and "_target_" in cfg[g]]


def hash_arrays(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str((a.dtype, a.shape)).encode())
        h.update(memoryview(a.tobytes()))
    return h.hexdigest()[:16]


@lru_cache(maxsize=16)
def _data_fingerprint(node_json: str) -> str:
    data = instantiate(json.loads(node_json))
    if hasattr(data, "fingerprint"):
        return str(data.fingerprint())
    split = data.load()  # a user's source without a fingerprint: hash what it gives
    return hash_arrays(split.x_train, split.y_train, split.x_test, split.y_test)


def data_fingerprint(cfg: DictConfig) -> str:
    """The content of the run's data (cached per data config within a process)."""
    node = OmegaConf.to_container(cfg.data, resolve=True)
    if "root" in node:  # the same folder may be reached by several paths; its files may change under one
        node["root"] = str(Path(node["root"]).resolve())
    return _data_fingerprint(json.dumps(node, sort_keys=True))


def device_kind(name: str) -> str:
    """The device a run's identity holds: its kind, `cpu` or `cuda` (a GPU's index is where it runs, not
    what it computes). `auto` is decided by this process; a sweep's planner decides it for its workers."""
    from . import device  # torch: only where a run's identity is computed, never in the report

    return device.kind(name)


def without_inert(d: dict[str, Any]) -> dict[str, Any]:
    """The experiment dict with each component key that cannot change the run at its setting (measured:
    ablation/inert.py) at its constructor's default, or left out where there is none: e.g. `head.hidden` at depth 0
    names no new run."""
    from .inert import default, inert_keys  # torch: only where a run's identity is computed, never in the report

    depth = d.get("depth") if isinstance(d.get("depth"), int) else 0
    for group in COMPONENT_GROUPS:
        node = d.get(group)
        if not isinstance(node, dict) or not isinstance(node.get("_target_"), str):
            continue
        for key in inert_keys(group, json.dumps(node, sort_keys=True), depth):
            has, value = default(node["_target_"], key)
            if has:
                node[key] = value
            else:
                node.pop(key)
    return d


def identity(cfg: DictConfig) -> dict[str, Any]:
    """What a run's id covers, as flat dotted keys: the config, plus `data.content` and `code`.

    `threads` is part of it only where it is not 1: at several threads a matrix product may split its sums among
    the threads by the CPU's kernels and the problem's shape, so its last bits may differ from the one-thread
    result; such a run gets an id of its own (and runs at 1 thread keep theirs)."""
    d = without_inert(experiment_dict(cfg))
    if "device" in d:
        d["device"] = device_kind(d["device"])
    flat = flatten(d)
    threads = cfg.get("threads", 1)
    if threads != 1:
        flat["threads"] = threads
    flat["data.content"] = data_fingerprint(cfg)
    flat["code"] = code_fingerprint(component_targets(cfg))
    return flat


def identity_hash(ident: dict[str, Any]) -> str:
    blob = json.dumps(ident, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_id(cfg: DictConfig) -> str:
    """Stable 12-hex-digit identity: same config, data and code → same folder → reused."""
    return identity_hash(identity(cfg))


def component_class(node: DictConfig | dict[str, Any]) -> type:
    return get_class(str(node["_target_"]))
