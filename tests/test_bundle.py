"""A run's result does not depend on how it was scheduled: alone, in a bundle of seeds, resumed, on any launcher."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf
from conftest import ROOT, TINY, cli, make_cfg, records, subprocess_path

from ablation import stacked
from ablation.config import ConfigError, run_id, validate
from ablation.identity import identity
from ablation.run.plan import max_stack
from ablation.run.worker import execute, execute_bundle
from ablation.device import resolve
from ablation.train import build, train, train_bundle


def same_result(a, b) -> None:
    assert a.status == b.status
    assert dict(a.metrics, wall_time_s=None) == dict(b.metrics, wall_time_s=None)
    pd.testing.assert_frame_equal(a.history.drop(columns="seconds"), b.history.drop(columns="seconds"), check_exact=True)
    pd.testing.assert_frame_equal(a.scores, b.scores, check_exact=True)


CELLS = [["head=subtract", "depth=1"], ["encoder=cnn", "head=absdiff", "loss=bce"], ["head=distance"]]


def bundle_matches_alone(cell: list[str]) -> None:
    """Three seeds of a cell trained in one bundle give, bit for bit, what each gives alone (at threads=1)."""
    cell_cfg = make_cfg(*cell, *TINY)
    cfgs = [OmegaConf.merge(cell_cfg, {"seed": s}) for s in (0, 1, 2)]
    assert run_id(cfgs[2]) == run_id(make_cfg(*cell, *TINY, "seed=2"))  # the config `seed=2` composes
    bundle = train_bundle(cfgs)
    for cfg, together in zip(cfgs, bundle):
        same_result(train(cfg), together)
    assert bundle[0].metrics["test_acc"] != bundle[1].metrics["test_acc"]  # really three different models


@pytest.mark.parametrize("cell", CELLS)
def test_a_run_in_a_bundle_is_bit_identical_to_the_run_alone(cell):
    bundle_matches_alone(cell)


# The kernels another CPU would pick, set before torch is imported: PyTorch's vectorised code for its instruction set
# (ATEN_CPU_CAPABILITY) and MKL's code path (MKL_ENABLE_INSTRUCTIONS). Each set is a real CPU's: an AVX2 host (AMD
# or Intel without AVX-512) and one without AVX; this host's own kernels run in the test above.
KERNELS = {"AVX2 host": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
           "host without AVX": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}}


@pytest.mark.slow
@pytest.mark.parametrize("kernels", KERNELS.values(), ids=list(KERNELS))
def test_a_run_in_a_bundle_is_bit_identical_to_the_run_alone_with_every_cpu_kernel(kernels):
    code = ("import torch, test_bundle as t; from ablation.process import exit_without_collecting as quick;"
            "print(torch.backends.cpu.get_cpu_capability()); [t.bundle_matches_alone(c) for c in t.CELLS]; quick()")
    p = subprocess.run([sys.executable, "-c", code], env={**os.environ, **kernels, **subprocess_path()}, cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"kernels {kernels}, capability {p.stdout.strip()}:\n{p.stderr[-3000:]}"


def test_runs_at_several_threads_are_planned_alone_under_an_id_of_their_own(results):
    """At 2 threads a product may split its sums by the stack's shape: such runs are never bundled, and their ids
    are not those of the same runs at 1 thread (which keep the ids they had)."""
    two = make_cfg("head=subtract", *TINY, "seed=0", "threads=2", f"results_dir={results}")
    one = make_cfg("head=subtract", *TINY, "seed=0", f"results_dir={results}")
    assert run_id(two) != run_id(one)
    assert identity(two) == {**identity(one), "threads": 2} and "threads" not in identity(one)
    assert max_stack(two) == 1 and max_stack(one) == 0


@pytest.mark.slow  # training at 2 threads on a loaded machine is slow
def test_runs_at_several_threads_handed_over_together_are_trained_alone(results):
    cfgs = [make_cfg("head=subtract", *TINY, f"seed={s}", "threads=2", f"results_dir={results}") for s in (0, 1)]
    assert [s["status"] for s in execute_bundle(cfgs, [[]] * 2)] == ["completed"] * 2
    recs = records(results)
    assert set(recs) == {run_id(c) for c in cfgs}
    for cfg in cfgs:
        rec = recs[run_id(cfg)]
        assert "bundle" not in rec and rec["threads"] == 2 and rec["identity"]["threads"] == 2
    alone = train(cfgs[1])  # the second of the job's runs, as a lone run trains it
    assert dict(recs[run_id(cfgs[1])]["metrics"], wall_time_s=None) == dict(alone.metrics, wall_time_s=None)


def test_a_diverging_model_leaves_the_others_of_its_bundle_alone(one_thread):
    cfg = make_cfg("head=subtract", *TINY, "train.epochs=2")
    models, states = [], []
    from ablation.data import Mnist5k
    from ablation.pairs import make_pairs

    split = Mnist5k(test_fraction=0.9).load()  # TINY's 500 training digits
    x = torch.from_numpy(split.x_train)
    pairs, labels = (torch.from_numpy(a) for a in make_pairs(split.y_train, 0))

    def run(k: int, poison: bool) -> list:
        models, states = [], []
        for s in range(k):
            torch.manual_seed(s)
            model, loss_fn = build(cfg)
            if poison and s == 1:
                with torch.no_grad():
                    model.head.out.weight.fill_(float("nan"))
            models.append(model)
            states.append(stacked.ModelState(torch.Generator().manual_seed(s), torch.Generator().manual_seed(9 + s),
                                             pairs, labels))
        stacked.fit(stacked.Stack(models), loss_fn, states, x, cfg, lambda k, e: {})
        return states

    alone = run(1, poison=False)[0]
    together = run(2, poison=True)
    assert together[1].diverged_at == 1 and len(together[1].history) == 1
    assert together[0].diverged_at is None
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in alone.history]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in together[0].history] == strip


def test_a_resumed_bundle_trains_only_the_missing_seeds_to_the_same_result(tmp_path):
    def cfgs(results):
        return [make_cfg("head=absdiff", *TINY, f"seed={s}", f"results_dir={results}") for s in (0, 1, 2)]

    whole = execute_bundle(cfgs(tmp_path / "whole"), [[]] * 3)
    assert [s["status"] for s in whole] == ["completed"] * 3
    part = cfgs(tmp_path / "resumed")
    execute(part[1], [])  # seed 1 finished earlier, alone
    resumed = execute_bundle(part, [[]] * 3)
    assert [s["status"] for s in resumed] == ["completed", "reused", "completed"]
    for a, b in zip(whole, resumed):
        assert dict(a["metrics"], wall_time_s=None) == dict(b["metrics"], wall_time_s=None)
    rec = json.loads((tmp_path / "resumed" / "runs" / run_id(part[0]) / "metrics.json").read_text())
    assert rec["bundle"] == [run_id(part[0]), run_id(part[2])] and rec["device"] == "cpu"


def test_device_auto_is_the_cpu_here_and_cuda_without_a_gpu_is_a_config_error(results):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert resolve("auto").type == "cpu"
    with pytest.raises(ConfigError, match="device=cuda, but torch sees no CUDA GPU"):
        validate(make_cfg("device=cuda", f"results_dir={results}"))
    with pytest.raises(ConfigError, match="device must be one of"):
        validate(make_cfg("device=tpu", f"results_dir={results}"))


@pytest.mark.slow
def test_the_sweep_with_bundles_writes_the_same_runs_as_without(tmp_path):
    grid = ["-m", "head=subtract,distance", "seed=0,1,2", *TINY]
    bundled = cli(*grid, "hydra/launcher=parallel", f"results_dir={tmp_path / 'b'}")
    assert bundled.returncode == 0, bundled.stderr
    assert "+bundle_seeds=[0,1,2]" in bundled.stdout + bundled.stderr  # 2 launcher jobs of 3 runs
    assert "[6/6]" in bundled.stdout and "6 completed" in bundled.stdout  # progress counts runs
    alone = cli(*grid, "hydra.sweeper.bundle=1", f"results_dir={tmp_path / 'a'}")
    assert alone.returncode == 0, alone.stderr
    assert "bundle_seeds" not in alone.stdout + alone.stderr
    a, b = records(tmp_path / "a"), records(tmp_path / "b")
    assert len(a) == 6 and a.keys() == b.keys()
    for rid in a:
        assert dict(a[rid]["metrics"], wall_time_s=None) == dict(b[rid]["metrics"], wall_time_s=None)
        strip = [o for o in a[rid]["overrides"] if not o.startswith("results_dir=")]
        assert strip == [o for o in b[rid]["overrides"] if not o.startswith("results_dir=")]
    cuda = cli("device=cuda", *TINY, f"results_dir={tmp_path / 'c'}")
    if not torch.cuda.is_available():
        assert cuda.returncode != 0 and "device=cuda, but torch sees no CUDA GPU" in cuda.stderr
        assert not (tmp_path / "c" / "runs").exists()


def test_stacked_dropout_draws_each_model_the_masks_a_lone_dropout_layer_draws():
    """Model k's mask comes from its own generator, bit for bit what encoders.Dropout draws from that stream."""
    from ablation.encoders import Dropout

    layer = Dropout(0.1)
    x = torch.rand(3, 7, 33)
    states = [stacked.ModelState(torch.Generator(), torch.Generator().manual_seed(s), None, None) for s in (4, 5, 6)]
    out = stacked.dropout(layer, x, states)
    for k, seed in enumerate((4, 5, 6)):
        torch.manual_seed(seed)
        assert torch.equal(out[k], layer(x[k]))


def test_only_runs_that_differ_in_their_seed_are_trained_together():
    with pytest.raises(ValueError, match="nothing but their seed"):
        train_bundle([make_cfg(*TINY, "seed=0"), make_cfg(*TINY, "seed=1", "optimizer.lr=0.01")])


def test_a_model_the_stacked_trainer_cannot_run_trains_alone_the_same_in_or_out_of_a_bundle(monkeypatch):
    monkeypatch.syspath_prepend(str(__import__("conftest").TESTS))
    cell = ["head=absdiff", "depth=1", "encoder._target_=helpers.faulty.ConvEncoder", "~encoder.width", "~encoder.dropout",
            "encoder.dim=32", *TINY]
    cfgs = [make_cfg(*cell, f"seed={s}") for s in (0, 1, 2)]
    validate(cfgs[0], check_output=False)  # the contract holds; only the stacking does not
    with pytest.raises(stacked.NotStackable):
        stacked.Stack([build(cfgs[0])[0]])
    bundle = train_bundle(cfgs)
    for cfg, together in zip(cfgs, bundle):
        same_result(train(cfg), together)
    assert len({r.metrics["test_acc"] for r in bundle}) == 3
