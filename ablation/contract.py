"""What a component class must declare and do, checked on a tiny input before anything trains.

Built-in and user components pass the same checks, so a user's head (or loss, encoder, data source) written in
their own module is refused with a message naming the problem, never after minutes of training. A head declares
only what cannot be measured (`weightless`, `bounded`, its label); its structure is measured on every run
(ablation/structure.py), and a structure it declares anyway (`symmetric`, `antisymmetric`) must hold.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from .losses import CONVENTIONS

HEAD_FLAGS = ("weightless", "bounded")  # what a head must declare
STRUCTURE_FLAGS = ("symmetric", "antisymmetric")  # measured, never required; checked where a head declares them


def name_of(cls: type) -> str:
    """A component's short name: its `name`, else its class name in lower case."""
    name = getattr(cls, "name", None)
    return name if isinstance(name, str) and name else cls.__name__.lower()


def label_of(cls: type) -> str:
    label = getattr(cls, "label", None)
    return label if isinstance(label, str) and label else name_of(cls)


def traits(cfg: DictConfig) -> dict[str, Any]:
    """What the report needs to know about a run's components: what their classes declare, the loss config's side
    of "same", and whether the loss is convex in the logit (measured)."""
    head = get_class(cfg.head._target_)
    convention = cfg.loss.convention
    return {
        **{flag: bool(getattr(head, flag, False)) for flag in HEAD_FLAGS},
        "same_high": convention == "similarity",  # a high score means "same"
        "threshold": float(cfg.loss.get("threshold", 0.5)),
        "loss_convex": loss_convex(json.dumps(OmegaConf.to_container(cfg.loss, resolve=True), sort_keys=True)),
        **{f"{g}_label": label_of(get_class(cfg[g]._target_)) for g in ("head", "encoder", "loss", "data")},
    }


@lru_cache(maxsize=64)
def loss_convex(node: str) -> bool | None:
    """Whether the loss is convex in the head's logit z (score = sigmoid(z)) for both labels, measured by its second
    differences on a grid of z; None if it cannot be evaluated there. Convexity is what theorem 4 of
    docs/mechanism.md needs for a constant output to be the best additive head."""
    loss, err = _build("loss", node)
    if err:
        return None
    z = torch.linspace(-8, 8, 161, dtype=torch.float64)
    try:
        with torch.no_grad():
            curves = [loss.per_pair(torch.sigmoid(z), z, torch.full_like(z, y)) for y in (0.0, 1.0)]
    except Exception:  # noqa: BLE001 - a loss without per-pair values on a logit: not measured
        return None
    scale = max(float(c.abs().max()) for c in curves) or 1.0
    return all(bool(((c[2:] - 2 * c[1:-1] + c[:-2]) >= -1e-9 * scale).all()) for c in curves)


def problems(cfg: DictConfig) -> list[str]:
    """Every contract a component of this config breaks (empty when all is well)."""
    node = lambda g: json.dumps(OmegaConf.to_container(cfg[g], resolve=True), sort_keys=True)  # noqa: E731
    out = list(_encoder(node("encoder")))
    out += _head(node("head"), int(cfg.depth) if isinstance(cfg.depth, int) else 0)
    out += _loss(node("loss"))
    out += _data(node("data"))
    return out


def _build(group: str, node: str, **kwargs: Any) -> tuple[Any, str | None]:
    try:
        return instantiate(json.loads(node), **kwargs), None
    except Exception as e:  # noqa: BLE001 - any constructor failure is a contract problem
        return None, f"{group}: {json.loads(node)['_target_']}(...) cannot be built: {type(e).__name__}: {e}"


@lru_cache(maxsize=64)
def _encoder(node: str) -> tuple[str, ...]:
    enc, err = _build("encoder", node)
    if err:
        return (err,)
    who = f"encoder {type(enc).__module__}.{type(enc).__qualname__}"
    if not isinstance(enc, torch.nn.Module):
        return (f"{who} must be a torch.nn.Module",)
    if not isinstance(getattr(enc, "dim", None), int):
        return (f"{who} must set an integer `dim` (the embedding size the head is built for)",)
    try:
        with torch.no_grad():
            out = enc.eval()(torch.rand(3, 784))
    except Exception as e:  # noqa: BLE001
        return (f"{who}: forward on a (3, 784) batch raised {type(e).__name__}: {e}",)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (3, enc.dim):
        return (f"{who}: forward must map (B, 784) images to (B, dim={enc.dim}) embeddings, got "
                f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}",)
    return ()


@lru_cache(maxsize=64)
def _head(node: str, depth: int) -> tuple[str, ...]:
    cls = get_class(json.loads(node)["_target_"])
    who = f"head {cls.__module__}.{cls.__qualname__}"
    bad = [f for f in HEAD_FLAGS if not isinstance(getattr(cls, f, None), bool)]
    if bad:
        return (f"{who} must declare {', '.join(bad)} as True/False class attributes "
                f"(what cannot be measured on it; see ablation/heads.py:Head)",)
    if cls.weightless and depth > 0:
        return ()  # recorded as skipped, never built
    head, err = _build("head", node, dim=8, depth=depth)
    if err:
        return (err,)
    if not isinstance(head, torch.nn.Module):
        return (f"{who} must be a torch.nn.Module",)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    try:
        with torch.no_grad():
            head.eval()
            out_ab, out_ba, out_aa = head(a, b), head(b, a), head(a, a)
    except Exception as e:  # noqa: BLE001
        return (f"{who}: forward(ea, eb) on (5, 8) embeddings raised {type(e).__name__}: {e}",)
    if not (isinstance(out_ab, tuple) and len(out_ab) == 2):
        return (f"{who}: forward must return (score, logit), got {type(out_ab).__name__}",)
    (s_ab, z_ab), (s_ba, z_ba), (_, z_aa) = out_ab, out_ba, out_aa
    found = []
    if not isinstance(s_ab, torch.Tensor) or tuple(s_ab.shape) != (5,):
        found.append(f"{who}: the score must have shape (B,), got {getattr(s_ab, 'shape', type(s_ab).__name__)}")
    elif z_ab is not None and (not isinstance(z_ab, torch.Tensor) or tuple(z_ab.shape) != (5,)):
        found.append(f"{who}: the logit must be None or shape (B,), got {getattr(z_ab, 'shape', type(z_ab).__name__)}")
    if found:
        return tuple(found)
    if cls.weightless and any(p.numel() for p in head.parameters()):
        found.append(f"{who} declares weightless = True but has parameters")
    if cls.bounded and (z_ab is None or not torch.allclose(s_ab, torch.sigmoid(z_ab), atol=1e-6)):
        found.append(f"{who} declares bounded = True, so its score must be sigmoid(logit)")
    if getattr(cls, "symmetric", None) is True and not torch.allclose(s_ab, s_ba, atol=1e-6):
        found.append(f"{who} declares symmetric = True but score(a, b) != score(b, a)")
    if getattr(cls, "antisymmetric", None) is True and z_ab is not None and z_aa is not None \
            and not torch.allclose(z_ab + z_ba, 2 * z_aa, atol=1e-5):
        found.append(f"{who} declares antisymmetric = True but z(a, b) + z(b, a) != 2 z(a, a)")
    try:  # the structure is measured on a float64 copy of the head (ablation/structure.py)
        with torch.no_grad():
            s64, _ = copy.deepcopy(head).double()(a.double(), b.double())
        if s64.dtype != torch.float64:
            found.append(f"{who}: in float64 (head.double() on float64 embeddings) the score must be float64, "
                         f"got {s64.dtype}")
    except Exception as e:  # noqa: BLE001
        found.append(f"{who} must run in float64 (its structure is measured on a float64 copy): "
                     f"head.double() on float64 embeddings raised {type(e).__name__}: {e}")
    return tuple(found)


@lru_cache(maxsize=64)
def _loss(node: str) -> tuple[str, ...]:
    loss, err = _build("loss", node)
    if err:
        return (err,)
    who = f"loss {type(loss).__module__}.{type(loss).__qualname__}"
    found = []
    if getattr(loss, "convention", None) not in CONVENTIONS:
        found.append(f"{who} must have `convention` in {CONVENTIONS}")
    if not isinstance(getattr(loss, "threshold", None), (int, float)):
        found.append(f"{who} must have a numeric `threshold` (the score that separates same from different)")
    if not isinstance(getattr(type(loss), "needs_logit", None), bool):
        found.append(f"{who} must declare needs_logit = True/False")
    if found:
        return tuple(found)
    score = torch.tensor([0.2, 0.7, 0.4])
    try:
        value = loss(score, torch.logit(score), torch.tensor([1.0, 0.0, 1.0]))
    except Exception as e:  # noqa: BLE001
        return (f"{who}: loss(score, logit, same) raised {type(e).__name__}: {e}",)
    if not isinstance(value, torch.Tensor) or value.ndim != 0:
        return (f"{who}: loss(score, logit, same) must return a scalar tensor",)
    return ()


@lru_cache(maxsize=64)
def _data(node: str) -> tuple[str, ...]:
    cls = get_class(json.loads(node)["_target_"])
    who = f"data {cls.__module__}.{cls.__qualname__}"
    found = []
    if not callable(getattr(cls, "load", None)):
        found.append(f"{who} must have a load() method returning ablation.data.Split")
    if "pair_order" not in json.loads(node):
        found.append(f"{who}: its config must have a `pair_order` (random or sorted)")
    return tuple(found)
