"""A run on another device than the CPU, checked on a machine without a GPU (docs/gpu.md says what this covers
and what only a GPU run can check):

* the training step, the stacked step, the per-epoch scoring and the final measurement run with every tensor
  on PyTorch's `meta` device, under a dispatch mode that fails on any op whose tensors (or generator) are not
  on one device; a meta tensor has no values, so any host transfer but `device.to_host` raises;
* an epoch waits for the device once, at its end (counted on the CPU; forbidden on a GPU when there is one);
* the planner's and the worker's views of the GPUs are faked (monkeypatched torch.cuda) to check that one
  device is decided per run and that the planned run id is the id of the folder its worker writes.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from conftest import ROOT, TESTS, TINY, cli, make_cfg
from helpers.extras import need
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils import _pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode

from ablation import device, stacked, train
from ablation.run import placement
from ablation.config import ConfigError, run_id, validate
from ablation.identity import TRAINING_MODULES, identity
from ablation.run.worker import PlanMismatch, check_plan, execute

ON_META = ["train.epochs=2", "train.batch_size=1000"]  # 8 steps an epoch, the last one short (padded)
META = torch.device("meta")
HOST_WAITS = ("item", "cpu", "tolist", "numpy", "__bool__", "__float__", "__int__")  # what makes the host wait


# --- every transfer goes through device.to_host ---------------------------------------------------------

def test_no_training_module_but_ablation_device_moves_values_to_the_host():
    """Static: `.cpu()`, `.numpy()`, `.item()`, `.tolist()` appear in ablation.device only."""
    found = []
    for module in TRAINING_MODULES:
        if module == "ablation.device":
            continue
        path = ROOT / (module.replace(".", "/") + ".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("cpu", "numpy", "item", "tolist"):
                found.append(f"{module}:{node.lineno} .{node.func.attr}()")
    assert not found, found
    assert "ablation.device" in TRAINING_MODULES  # its code is part of every run's identity


# --- the whole run on another device (meta) -------------------------------------------------------------

class OneDevice(TorchDispatchMode):
    """Fails on any op whose tensors are not all on one device, or whose generator is on another, as CUDA
    does (stricter: a 0-dim CPU tensor counts too). `.to()` (aten._to_copy) is the one way across."""

    def __init__(self, generators: dict[int, torch.device]) -> None:
        super().__init__()
        self.generators = generators  # initial seed → the device a stand-in generator stands for
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is not torch.ops.aten._to_copy.default:
            leaves = pytree.tree_leaves((args, kwargs))
            devices = {t.device for t in leaves if isinstance(t, torch.Tensor)}
            devices |= {self.generators.get(g.initial_seed(), g.device) for g in leaves if isinstance(g, torch.Generator)}
            if len(devices) > 1:
                raise AssertionError(f"{func} mixes devices: {sorted(map(str, devices))}")
            self.ops[str(next(iter(devices), "none"))] += 1
        return func(*args, **kwargs)


@pytest.fixture
def on_meta(monkeypatch) -> Iterator[dict]:
    """Runs are placed on `meta`; the generators of that device are CPU generators standing in for it (known
    by their seeds), and device.to_host, the one place values are read, returns zeros of the tensor's shape."""
    generators: dict[int, torch.device] = {}
    transfers: list[torch.device] = []

    def stand_in(seed: int = 0) -> torch.Generator:
        g = torch.Generator().manual_seed(2**40 + len(generators))  # a seed no CPU generator of a run has
        generators[g.initial_seed()] = META
        return g

    defaults: dict[torch.device, torch.Generator] = {}

    def to_host(t: torch.Tensor) -> np.ndarray:
        transfers.append(t.device)
        return np.zeros(t.shape, dtype=torch.empty(0, dtype=t.dtype).numpy().dtype)

    monkeypatch.setattr(device, "resolve", lambda name, job=0: META)
    monkeypatch.setattr(device, "dropout_generator", lambda place, seed: stand_in(seed))
    monkeypatch.setattr(device, "default_generator", lambda place: defaults.get(place) or defaults.setdefault(place, stand_in()))
    monkeypatch.setattr(device, "to_host", to_host)
    mode = OneDevice(generators)
    yield {"mode": mode, "transfers": transfers}


def _plain_only(monkeypatch) -> None:
    """Make the stacked trainer refuse every model, so a built-in MLP trains by the plain loop."""
    def refuse(models):
        raise stacked.NotStackable("forced by the test")
    monkeypatch.setattr(stacked, "Stack", refuse)


CELLS = {
    "mlp-subtract-views": (["head=subtract"], 2, False),
    "mlp-absdiff-depth1-bce": (["head=absdiff", "depth=1", "loss=bce"], 2, False),
    "distance": (["head=distance"], 1, False),
    "cnn-subtract": (["encoder=cnn", "head=subtract"], 1, False),
    "plain-loop-mlp": (["head=subtract"], 2, True),
    "plain-loop-user-encoder": (["head=absdiff", "encoder._target_=helpers.faulty.ConvEncoder", "~encoder.width",
                                 "~encoder.dropout", "encoder.dim=32"], 2, False),
}


@pytest.mark.parametrize("cell", CELLS, ids=list(CELLS))
def test_a_run_on_another_device_never_mixes_devices_nor_reads_values_but_through_to_host(cell, on_meta, monkeypatch):
    overrides, k, plain = CELLS[cell]
    monkeypatch.syspath_prepend(str(TESTS))
    if plain:
        _plain_only(monkeypatch)
    cfgs = [make_cfg(*overrides, *ON_META, f"seed={s}") for s in range(k)]
    with on_meta["mode"]:
        results = train.train_bundle(cfgs)
    assert [r.status for r in results] == ["completed"] * k and {r.device for r in results} == {"meta"}
    ops = on_meta["mode"].ops
    assert ops["meta"] > 1000, ops  # the training really ran on the other device
    # per epoch: one transfer of the losses and accuracies (and a score read per model), then the measurement
    assert set(on_meta["transfers"]) == {META} and len(on_meta["transfers"]) >= 2 * k


def test_the_meta_harness_catches_the_mix_ups_this_code_had(on_meta, monkeypatch):
    """Not vacuous: dropout bits drawn on the CPU for a device tensor (the plain loop's bug), and a value
    read outside device.to_host (the head's per-image view called .numpy()), both fail under it."""
    from ablation.encoders import Dropout

    def cpu_bits(self, shape, place):
        k = shape.numel()
        bits = torch.empty((k + 1) // 2, dtype=torch.int64).random_(-(2**63), None)
        return bits.view(torch.int32)[:k].view(shape), -(2**31) + round(self.p * 2**32)

    _plain_only(monkeypatch)
    cfg = make_cfg("head=subtract", *ON_META)
    with monkeypatch.context() as m:
        m.setattr(Dropout, "bits", cpu_bits)
        with pytest.raises(AssertionError, match="mixes devices"), on_meta["mode"]:
            train.train_bundle([cfg])
    monkeypatch.setattr(device, "to_host", lambda t: t.numpy())
    with pytest.raises((TypeError, RuntimeError), match="meta"), on_meta["mode"]:
        train.train_bundle([cfg])


# --- an epoch waits for the device once ---------------------------------------------------------------------

@pytest.fixture
def host_waits(monkeypatch) -> Counter:
    """Counts device.to_host calls and every tensor method that makes the host wait, outside to_host."""
    calls: Counter = Counter()
    inside = [False]
    real = device.to_host

    def to_host(t: torch.Tensor) -> np.ndarray:
        calls["to_host"] += 1
        inside[0] = True
        try:
            return real(t)
        finally:
            inside[0] = False

    monkeypatch.setattr(device, "to_host", to_host)
    for name in HOST_WAITS:
        original = getattr(torch.Tensor, name)

        def counted(self, *a, _original=original, _name=name, **kw):
            if not inside[0]:
                calls[_name] += 1
            return _original(self, *a, **kw)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return calls


def _bundle(cell: list[str], k: int, place: torch.device):
    """k models of one cell with their states on `place`, as train_bundle builds them (seed s for model s)."""
    cfg = make_cfg(*cell, *TINY)
    split = instantiate(cfg.data).load()
    x = torch.from_numpy(split.x_train).to(place)
    models, states = [], []
    from ablation.pairs import make_pairs

    for s in range(k):
        shuffle = train.seed_everything(s, 1)
        model, loss_fn = train.build(cfg)
        model.to(place)
        pairs, labels = (torch.from_numpy(a).to(place) for a in make_pairs(split.y_train, s))
        states.append(stacked.ModelState(shuffle, device.dropout_generator(place, s), pairs, labels))
        models.append(model)
    return models, states, loss_fn, x


def test_an_epoch_waits_for_the_device_once_at_its_end(host_waits):
    models, states, loss_fn, x = _bundle(["head=subtract", "depth=1"], 2, torch.device("cpu"))
    steps = -(-len(states[0].pairs) // 100)
    stack = stacked.Stack(models)
    opt = torch.optim.RMSprop(stack.optimizer_params(True), lr=1e-3, alpha=0.9, eps=1e-7)
    host_waits.clear()
    stacked.train_epoch(stack, loss_fn, opt, x, states, 100)
    assert dict(host_waits) == {"to_host": 1}, f"{steps} steps: {dict(host_waits)}"

    models, states, loss_fn, x = _bundle(["head=subtract"], 1, torch.device("cpu"))
    opt = torch.optim.RMSprop(models[0].parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    host_waits.clear()
    train.train_epoch(models[0], loss_fn, opt, x, states[0].pairs, states[0].labels, 100, states[0].shuffle)
    assert dict(host_waits) == {"to_host": 1}, f"{steps} steps: {dict(host_waits)}"
    float(torch.ones(1))  # the counter sees a host wait outside to_host
    assert host_waits["__float__"] == 1


needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (scripts/gpu_check.sh runs it)")


@needs_gpu
def test_on_a_gpu_an_epoch_never_synchronises_before_its_end(monkeypatch):
    """torch's sync debug mode raises on any host synchronisation; only device.to_host may wait."""
    real = device.to_host

    def to_host(t: torch.Tensor) -> np.ndarray:
        torch.cuda.set_sync_debug_mode(0)
        try:
            return real(t)
        finally:
            torch.cuda.set_sync_debug_mode("error")

    monkeypatch.setattr(device, "to_host", to_host)
    place = device.resolve("cuda")
    models, states, loss_fn, x = _bundle(["head=subtract", "depth=1"], 2, place)
    stack = stacked.Stack(models)
    opt = torch.optim.RMSprop(stack.optimizer_params(True), lr=1e-3, alpha=0.9, eps=1e-7)
    plain, plain_states, plain_loss, _ = _bundle(["head=subtract"], 1, place)
    plain_opt = torch.optim.RMSprop(plain[0].parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        stacked.train_epoch(stack, loss_fn, opt, x, states, 100)
        st = plain_states[0]
        train.train_epoch(plain[0], plain_loss, plain_opt, x, st.pairs, st.labels, 100, st.shuffle)
    finally:
        torch.cuda.set_sync_debug_mode(0)


@needs_gpu
@pytest.mark.parametrize("cell", [["head=subtract"], ["head=absdiff", "encoder._target_=helpers.faulty.ConvEncoder",
                                  "~encoder.width", "~encoder.dropout", "encoder.dim=32"]], ids=["stacked", "plain"])
def test_on_a_gpu_a_run_in_a_bundle_equals_the_run_alone(cell, monkeypatch):
    """What tests/test_bundle.py checks on the CPU, on the GPU: a run's numbers do not depend on its bundle."""
    monkeypatch.syspath_prepend(str(TESTS))
    cfgs = [make_cfg(*cell, *TINY, "device=cuda", f"seed={s}") for s in (0, 1, 2)]
    bundle = train.train_bundle(cfgs)
    for cfg, together in zip(cfgs, bundle):
        alone = train.train(cfg)
        assert together.status == alone.status == "completed" and together.device.startswith("cuda")
        assert dict(together.metrics, wall_time_s=None) == dict(alone.metrics, wall_time_s=None)


# --- one device decision per run: the planner's and the worker's views ---------------------------------------

def gpus(monkeypatch, n: int) -> None:
    """This process sees `n` CUDA GPUs (as far as the planner and the placement ask)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: n)


def launcher_of(*overrides: str) -> DictConfig:
    """hydra.launcher as a sweep with these overrides has it (the presets' interpolations resolvable)."""
    if any(o.startswith("hydra/launcher=slurm") for o in overrides):  # the submitit presets
        need("hydra_plugins.hydra_submitit_launcher", "slurm")
    placement.register_resolver()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
    return cfg.hydra.launcher


def test_the_default_device_is_the_cpu():
    assert make_cfg().device == "cpu"


def test_auto_is_decided_once_by_the_planner_and_the_worker_keeps_to_it(monkeypatch):
    job = ["head=subtract", "device=auto", *TINY]
    for planner, worker, planned in ((0, 2, "cpu"), (1, 0, "cuda")):
        gpus(monkeypatch, planner)
        overrides = placement.with_device(job, placement.decide("auto", placement.workers_of(launcher_of())))
        assert "device=auto" not in overrides and f"device={planned}" in overrides
        planned_id, auto_here = run_id(make_cfg(*overrides)), run_id(make_cfg(*job))
        gpus(monkeypatch, worker)
        assert run_id(make_cfg(*overrides)) == planned_id  # the worker names the run as planned
        assert run_id(make_cfg(*job)) != auto_here  # what `auto` left to each process would have given
        if planned == "cpu":
            assert device.resolve(make_cfg(*overrides).device, job=1) == torch.device("cpu")  # not its GPUs
        else:
            with pytest.raises(device.DeviceUnavailable, match="device=cuda was planned for this run, but torch "
                                                               "on this worker sees no CUDA GPU"):
                device.resolve(make_cfg(*overrides).device)


@pytest.mark.parametrize("launcher,request_key", [("ray", "remote.num_gpus"), ("slurm", "gpus_per_task"),
                                                  ("slurm_local", "gpus_per_node")])
def test_the_cluster_presets_request_one_gpu_per_job_when_the_device_is_cuda(launcher, request_key):
    from omegaconf import OmegaConf

    for dev, wanted in (("cuda", 1), ("cuda:0", 1), ("cpu", None)):
        node = launcher_of(f"hydra/launcher={launcher}", f"device={dev}")
        assert OmegaConf.select(node, request_key) == wanted
        assert placement.workers_of(node).gpus == (wanted or 0)
    if launcher == "ray":
        from hydra_plugins.ablation_ray_launcher.ray_launcher import RayLauncher

        made = instantiate(launcher_of("hydra/launcher=ray", "device=cuda"))
        assert isinstance(made, RayLauncher) and made.remote == {"num_cpus": 1, "num_gpus": 1}


def test_a_planner_without_a_gpu_accepts_cuda_where_the_launcher_requests_gpus(monkeypatch, results):
    gpus(monkeypatch, 0)
    cfg = make_cfg("device=cuda", f"results_dir={results}")
    for launcher in ("ray", "slurm"):
        validate(cfg, check_output=False, workers=placement.workers_of(launcher_of(f"hydra/launcher={launcher}",
                                                                                   "device=cuda")))
    for launcher in ("basic", "parallel", "slurm_local"):  # jobs on this machine, which has no GPU
        with pytest.raises(ConfigError, match="device=cuda, but torch sees no CUDA GPU on this machine"):
            validate(cfg, check_output=False, workers=placement.workers_of(launcher_of(f"hydra/launcher={launcher}",
                                                                                       "device=cuda")))
    # a device sweep (device=cpu,cuda): the preset's request follows the sweep's own device, cpu here
    with pytest.raises(ConfigError, match="RayLauncher requests no GPU for its jobs.*remote.num_gpus=1"):
        validate(cfg, check_output=False, workers=placement.workers_of(launcher_of("hydra/launcher=ray")))


def test_cuda_n_is_accepted_where_the_jobs_see_that_gpu_and_is_the_same_run_as_cuda(monkeypatch, results):
    gpus(monkeypatch, 2)
    here = placement.workers_of(launcher_of("hydra/launcher=parallel"))
    validate(make_cfg("device=cuda:1", f"results_dir={results}"), check_output=False, workers=here)
    with pytest.raises(ConfigError, match=r"device=cuda:2, but each job of JoblibLauncher sees 2 GPU\(s\)"):
        validate(make_cfg("device=cuda:2", f"results_dir={results}"), check_output=False, workers=here)
    ray = placement.workers_of(launcher_of("hydra/launcher=ray", "device=cuda"))
    with pytest.raises(ConfigError, match=r"cuda:1, but each job of RayLauncher sees 1 GPU\(s\), cuda:0; device=cuda"):
        validate(make_cfg("device=cuda:1", f"results_dir={results}"), check_output=False, workers=ray)
    assert run_id(make_cfg("device=cuda:1")) == run_id(make_cfg("device=cuda:0")) == run_id(make_cfg("device=cuda"))
    assert run_id(make_cfg("device=cuda")) != run_id(make_cfg("device=cpu"))


def test_parallel_local_jobs_spread_over_the_gpus_by_their_job_number(monkeypatch):
    gpus(monkeypatch, 3)
    assert [device.resolve("cuda", job=j) for j in range(5)] == [torch.device("cuda", i) for i in (0, 1, 2, 0, 1)]
    assert device.resolve("cuda:2", job=4) == torch.device("cuda", 2)  # an index is kept
    with pytest.raises(device.DeviceUnavailable, match="device=cuda:3 was planned for this run, but this worker "
                                                       "sees 3 GPU"):
        device.resolve("cuda:3")
    gpus(monkeypatch, 1)  # a Ray or SLURM job that was given one GPU
    assert {device.resolve("cuda", job=j) for j in range(4)} == {torch.device("cuda", 0)}


def test_a_worker_that_names_a_run_otherwise_than_the_planner_refuses_it(monkeypatch, results):
    cfg = make_cfg("head=subtract", *TINY, f"results_dir={results}")
    check_plan([identity(cfg)], [run_id(cfg)])  # as planned: nothing to say
    check_plan([identity(cfg)], None)  # a run not planned by a sweep
    with pytest.raises(PlanMismatch, match=r"the sweep planned run 0123456789ab, but this worker's identity of "
                                           r"its config is run [0-9a-f]{12} \(device=cpu, code="):
        check_plan([identity(cfg)], ["0123456789ab"])
    assert not (results / "runs").exists()


def test_a_worker_without_the_planned_gpu_records_a_clear_failure_in_the_planned_folder(monkeypatch, results):
    gpus(monkeypatch, 0)
    cfg = make_cfg("head=subtract", *TINY, "device=cuda", f"results_dir={results}")
    summary = execute(cfg, [])
    assert summary["status"] == "failed" and summary["run_id"] == run_id(cfg)
    assert summary["error"].startswith("DeviceUnavailable: device=cuda was planned for this run, but torch on "
                                       "this worker sees no CUDA GPU")
    assert (results / "runs" / run_id(cfg) / "error.txt").exists()


def test_ray_refuses_gpu_jobs_on_a_cluster_without_gpus_instead_of_waiting_forever():
    from hydra_plugins.ablation_ray_launcher.ray_launcher import gpu_shortage

    assert gpu_shortage(0, 0, "auto") is None and gpu_shortage(1, 4, "auto") is None
    assert "each job requests 1 GPU (device=cuda), but the cluster (address=auto) has 0" in gpu_shortage(1, 0, "auto")


@pytest.mark.slow
def test_a_sweep_planned_without_a_gpu_names_its_runs_as_their_workers_do(results):
    """The CLI's planner on this GPU-less machine: device=cuda through the Ray preset (whose jobs get a GPU each)
    is planned (dry run) under the ids a worker gives those configs."""
    need("ray", "ray")
    ray = cli("-m", "head=subtract,absdiff", *TINY, "device=cuda", "hydra/launcher=ray", "dry_run=true",
              f"results_dir={results}")
    assert ray.returncode == 0, ray.stderr
    planned = {line.split()[1] for line in ray.stdout.splitlines() if line.strip().startswith("train ")}
    assert planned == {run_id(make_cfg(f"head={h}", *TINY, "device=cuda")) for h in ("subtract", "absdiff")}


@pytest.mark.slow
def test_device_auto_is_planned_as_the_cpu_without_a_gpu_and_the_jobs_say_so(results):
    auto = cli("-m", "head=subtract", *TINY, "device=auto", f"results_dir={results}")
    assert auto.returncode == 0, auto.stderr
    assert "device=cpu" in auto.stdout + auto.stderr and "device=auto" not in auto.stdout + auto.stderr
    assert (results / "runs" / run_id(make_cfg("head=subtract", *TINY, "device=cpu")) / "metrics.json").exists()
