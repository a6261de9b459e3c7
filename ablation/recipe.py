"""The training recipe as components: the optimizer (`optimizer=`, any `torch.optim` class or a user's own by
`_target_`) and the learning-rate schedule (`schedule=`, any `torch.optim.lr_scheduler` class or none).

Both are partial constructors in the config (`_partial_: true`): the trainer gives the optimizer the parameters
and the schedule the optimizer. Runs of one cell are trained together (ablation.stacked) with one optimizer over
their stacked weights; that is the same as one optimizer per run only when the update is element-wise, which is
measured here on the optimizer itself, not declared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

Optimizer = torch.optim.Optimizer


def _node(cfg: DictConfig, group: str) -> str:
    return json.dumps(OmegaConf.to_container(cfg[group], resolve=True) if group in cfg else {}, sort_keys=True)


def optimizer(cfg: DictConfig, params: Iterable[torch.Tensor]) -> Optimizer:
    """The run's optimizer on `params`."""
    return _factory(_node(cfg, "optimizer"))(list(params))


def schedule(cfg: DictConfig, opt: Optimizer) -> Any | None:
    """The run's learning-rate schedule on `opt`, or None (`schedule=none`): stepped once per epoch."""
    node = json.loads(_node(cfg, "schedule"))
    return instantiate(node)(opt) if node.get("_target_") else None


def _factory(node: str) -> Callable[[list[torch.Tensor]], Optimizer]:
    return instantiate(json.loads(node))


def step(opt: Optimizer, closure: Callable[[], torch.Tensor]) -> torch.Tensor:
    """One optimizer step, torch.optim's way: the closure computes the loss and its gradients; optimizers that
    evaluate the loss more than once a step (LBFGS) call it again, the others once, as a plain loop would."""
    loss = opt.step(closure)
    if loss is None:
        raise TypeError(f"{type(opt).__name__}.step(closure) must call the closure and return its loss")
    return loss


PROBE_SIZES = (41, 23)  # two "models" of odd sizes: vector chunks and scalar tails fall differently alone and stacked
PROBE_STEPS = 3


@lru_cache(maxsize=64)
def _elementwise(node: str) -> bool:
    factory = _factory(node)
    g = torch.Generator().manual_seed(0)
    start = [torch.randn(n, generator=g) for n in PROBE_SIZES]
    grads = [[torch.randn(n, generator=g) for n in PROBE_SIZES] for _ in range(PROBE_STEPS)]

    def run(parts: list[int]) -> torch.Tensor:
        p = torch.nn.Parameter(torch.cat([start[i] for i in parts]))
        opt = factory([p])
        for grad in grads:
            p.grad = torch.cat([grad[i] for i in parts])
            opt.step(lambda: torch.zeros(()))
        return p.detach()

    together = run([0, 1])
    alone = torch.cat([run([0]), run([1])])
    return torch.equal(together, alone)


def elementwise(cfg: DictConfig) -> bool:
    """Whether the optimizer updates each weight from that weight's own gradient and state alone, measured: a few
    steps over two weight vectors concatenated give bit for bit what two optimizers, one on each, give. Only
    then may runs be trained together under one optimizer (each keeps its own numbers); an optimizer that takes
    norms over a whole tensor, or one that does not run on plain gradients (LBFGS), trains its runs alone."""
    try:
        return _elementwise(_node(cfg, "optimizer"))
    except Exception:  # noqa: BLE001 - whatever cannot be probed is not trained together
        return False


def problem(cfg: DictConfig) -> str | None:
    """What is wrong with the recipe's components, in one line (the config check), or None. Checked once per
    recipe: the cells of a grid share a few."""
    return _problem(_node(cfg, "optimizer"), _node(cfg, "schedule"))


@lru_cache(maxsize=64)
def _problem(optimizer_node: str, schedule_node: str) -> str | None:
    cfg = OmegaConf.create({"optimizer": json.loads(optimizer_node), "schedule": json.loads(schedule_node)})
    weight = torch.nn.Parameter(torch.ones(3))
    try:
        opt = optimizer(cfg, [weight])
    except Exception as e:  # noqa: BLE001 - a bad key or value, a class that cannot be built
        return f"optimizer {cfg.optimizer.get('_target_')!r}: {_why(e)}"
    if not isinstance(opt, Optimizer):
        return f"optimizer {cfg.optimizer.get('_target_')!r} must build a torch.optim.Optimizer, got {type(opt).__name__}"

    def closure() -> torch.Tensor:
        weight.grad = torch.ones_like(weight)
        return weight.detach().sum()

    try:
        sched = schedule(cfg, opt)
    except Exception as e:  # noqa: BLE001
        return f"schedule {cfg.schedule.get('_target_')!r}: {_why(e)}"
    for _ in range(2):  # two epochs: a bad setting often shows only when the next epoch's rate is computed
        try:
            step(opt, closure)
        except Exception as e:  # noqa: BLE001
            return f"optimizer {cfg.optimizer.get('_target_')!r}: step(closure) raised {_why(e)}"
        try:
            if sched is not None:
                sched.step()
        except Exception as e:  # noqa: BLE001
            return f"schedule {cfg.schedule.get('_target_')!r}: {_why(e)}"
    return None


def _why(e: Exception) -> str:
    cause = e.__cause__ or e  # instantiate wraps the constructor's own error
    return f"{type(cause).__name__}: {cause}".splitlines()[0]

