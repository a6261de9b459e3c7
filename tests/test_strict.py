"""Strict by default: every key of a run's config is read by something, or the sweep is refused before anything is
written, one line per problem; a key that cannot change a run at its setting names no new run."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import make_cfg
from helpers.planning import plan
from hydra.errors import CompactHydraException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from ablation import schema
from ablation.config import ConfigError, validate
from ablation.errors import forced, lines, missing_option
from ablation.extras import launcher_problem, missing_plugin
from ablation.identity import flatten, run_id
from ablation.run.plan import affected

HEADS = ["distance", "subtract", "absdiff", "sqdiff", "concat", "sum", "product"]
FIXED = {"results_dir", "dry_run", "device", "seed", "data.root", "data.mirror", "data.download"}  # set by the test


def refused(*overrides: str) -> str:
    with pytest.raises(CompactHydraException) as e:  # Hydra's plugin scan loads the sweeper's module on its own
        plan(*overrides)
    assert type(e.value).__name__ == "InvalidSweep"
    return str(e.value)


# -- the messages a user sees ------------------------------------------------------------------------------------

def test_an_unread_key_is_refused_with_the_nearest_known_key_with_or_without_plus(tmp_path):
    results = f"results_dir={tmp_path / 'r'}"
    for typed in ("train.epoch=2", "+train.epoch=2"):
        assert refused(typed, "seed=0,1", results) == \
            "train.epoch: no such key; did you mean train.epochs? [all 2 runs]"
    assert refused("+foo=1", results).startswith("foo: no such key")
    # both trained the default recipe under a new run id before; the optimizer is a config group of its own
    assert refused("+train.optimizr=0,0.1", "seed=0,1,2", results) == (
        "train.optimizr: no such key; did you mean optimizer? [all 6 runs]")
    assert refused("+train.weight_decay=0,0.1", "seed=0,1,2", results) == (
        "train.weight_decay: no such key; did you mean optimizer.weight_decay? [all 6 runs]")
    assert refused("+epochs=3", results).startswith("epochs: no such key; did you mean train.epochs?")
    assert not (tmp_path / "r").exists()  # nothing written, not even the results folder


def test_a_component_key_is_checked_against_what_its_class_takes(tmp_path):
    results = f"results_dir={tmp_path / 'r'}"
    assert refused("head.hidden=64,128", results) == (  # the distance head has no hidden layer
        "head.hidden: ablation.heads.Distance does not take it (it takes eps) [all 2 runs]")
    message = refused("head=distance,subtract", "head.hidden=64", results)  # only the cells it does not apply to
    assert message == ("head.hidden: ablation.heads.Distance does not take it (it takes eps) "
                       "[1 of 2 runs: head=distance head.hidden=64]")
    assert refused("head=subtract", "head.hiden=64", results).startswith(
        "head.hiden: ablation.heads.Subtract does not take it; did you mean head.hidden?")
    assert refused("+head.depth=1", results).startswith("head.depth: set by the model from depth")
    assert [j.action for j in plan("head.eps=1e-6", results)] == ["train"]  # a key the class takes, not in its YAML
    assert not (tmp_path / "r").exists()


def test_a_users_class_is_checked_by_its_own_signature(tmp_path, monkeypatch):
    (tmp_path / "own_heads.py").write_text(
        "from ablation.heads import LearnedHead\n\n"
        "class Scaled(LearnedHead):\n"
        "    def __init__(self, dim, depth=0, hidden=128, scale=1.0):\n"
        "        super().__init__(dim, depth, hidden)\n"
        "        self.scale = scale\n\n"
        "    def merge(self, ea, eb):\n"
        "        return self.scale * (ea - eb)\n\n"
        "class Open(Scaled):\n"
        "    def __init__(self, dim, depth=0, **options):\n"
        "        super().__init__(dim, depth, options.pop('hidden', 128), options.pop('scale', 1.0))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    validate(make_cfg("head=subtract", "head._target_=own_heads.Scaled", "+head.scale=2.0"), check_output=False)
    with pytest.raises(ConfigError, match=r"^head.scal: own_heads.Scaled does not take it; did you mean head.scale\?$"):
        validate(make_cfg("head=subtract", "head._target_=own_heads.Scaled", "+head.scal=2.0"), check_output=False)
    open_head = make_cfg("head=subtract", "head._target_=own_heads.Open", "+head.scale=2.0")
    validate(open_head, check_output=False)  # **kwargs: takes any key


def test_each_distinct_problem_is_listed_once_with_the_cells_it_affects():
    jobs = [["head=distance", f"seed={s}", "results_dir=x"] for s in range(3)] + [["head=sum", "seed=0"]]
    assert affected(jobs, 4) == "all 4 runs"
    assert affected(jobs, 9) == "4 of 9 runs: head=distance seed=0,1,2; head=sum seed=0"
    many = [[f"head.hidden={w}"] for w in range(5)]
    assert affected(many, 10).endswith("head.hidden=2 and 2 more cells")


def test_hydra_s_own_failures_become_one_line_each():
    from hydra.errors import MissingConfigException

    e = MissingConfigException("Could not find 'head/substract'", "head/substract", options=["distance", "subtract"])
    assert lines(e) == "head=substract: no such option; did you mean head=subtract? (options: distance, subtract)"
    slurm = MissingConfigException("Could not load 'hydra/launcher/submitit_local'", "hydra/launcher/submitit_local")
    assert missing_option(slurm).endswith('needs Hydra\'s submitit launcher, which is not installed here: '
                                          'pip install -e ".[slurm]"')
    assert missing_plugin("head/substract") is None
    assert forced(["head=subtract", "head.hidden=64"], "head.hidden") == ["head=subtract", "++head.hidden=64"]
    assert forced(["hydra.launcher.n_jobs=2"], "hydra.launcher.n_jobs") is None  # Hydra's node is Hydra's to check


def test_a_launcher_whose_extra_is_missing_is_named_with_its_install_command(monkeypatch):
    import builtins

    real = builtins.__import__

    def without_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError("No module named 'ray'", name="ray")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_ray)
    monkeypatch.delitem(__import__("sys").modules, "ray", raising=False)
    ray = OmegaConf.create({"_target_": "hydra_plugins.ablation_ray_launcher.ray_launcher.RayLauncher"})
    assert launcher_problem(ray).endswith('needs ray, which is not installed here: pip install -e ".[ray]"')
    basic = OmegaConf.create({"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"})
    assert launcher_problem(basic) is None


# -- a key that cannot change the run ----------------------------------------------------------------------------

def test_a_key_that_cannot_change_the_run_at_its_setting_names_no_new_run(tmp_path):
    assert run_id(make_cfg("head=subtract", "head.hidden=64")) == run_id(make_cfg("head=subtract"))  # depth 0
    deep = make_cfg("head=subtract", "depth=1")
    assert run_id(make_cfg("head=subtract", "depth=1", "head.hidden=64")) != run_id(deep)
    assert run_id(make_cfg("+head.eps=1e-6")) != run_id(make_cfg())  # stored by the distance head: it matters
    jobs = plan("head=subtract", "depth=0,1", "head.hidden=64,128", f"results_dir={tmp_path / 'r'}")
    assert sorted(j.action for j in jobs) == ["duplicate", "train", "train", "train"]
    (dup,) = [j for j in jobs if j.action == "duplicate"]
    assert "depth=0" in dup.overrides


# -- the property: real keys plan, unread keys are refused before anything is written ---------------------------

def _valid(value):
    """Another valid value of a key, near its default (or the default itself)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return st.just(value)
    if isinstance(value, int):
        return st.sampled_from([value, value + 1])
    return st.sampled_from([value, value / 2])


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@st.composite
def grids(draw):
    groups = [f"head={draw(st.sampled_from(HEADS))}", f"encoder={draw(st.sampled_from(['mlp', 'cnn']))}",
              f"loss={draw(st.sampled_from(['contrastive', 'bce']))}"]
    cfg = make_cfg(*groups)
    real = {k: v for k, v in flatten({k: OmegaConf.to_container(cfg[k]) if OmegaConf.is_config(cfg[k]) else cfg[k]
                                      for k in cfg}).items() if k not in FIXED and not k.endswith("_target_")}
    keys = draw(st.lists(st.sampled_from(sorted(real)), unique=True, max_size=4))
    overrides = groups + [f"{k}={_text(draw(_valid(real[k])))}" for k in keys]
    known = set(schema.known_keys(cfg)) | set(real)
    bad = []
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):  # a real key, misspelt
            key = draw(st.sampled_from(sorted(real)))
            head, _, leaf = key.rpartition(".")
            i = draw(st.integers(0, len(leaf) - 1))
            leaf = draw(st.sampled_from([leaf[:i] + leaf[i + 1 :], leaf[:i] + leaf[i] + leaf[i:], leaf + "s"]))
            key = f"{head}.{leaf}" if head else leaf
            plus = draw(st.sampled_from(["", "+"]))
        else:  # a key added with +, at the top level or in a group
            where = draw(st.sampled_from(["", "train.", "head.", "encoder.", "loss.", "data."]))
            key, plus = where + draw(st.from_regex(r"[a-z][a-z_]{2,8}", fullmatch=True)), "+"
        if key and key not in known and key.split(".")[0] not in ("hydra", "seed") and key not in {b for b, _ in bad}:
            bad.append((key, plus))
    return overrides + [f"{plus}{key}=1" for key, plus in bad], [key for key, _ in bad]


@pytest.mark.slow  # many generated cases
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids())
def test_every_real_key_plans_and_every_unread_key_is_refused_before_anything_is_written(grid):
    overrides, unread = grid
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results"
        args = [*overrides, "seed=0,1", f"results_dir={results}"]
        if not unread:
            assert {j.action for j in plan(*args)} <= {"train", "skip"}
        else:
            message = refused(*args)
            for key in unread:
                assert f"\n{key}: " in f"\n{message}", (key, message)
            assert len(message.splitlines()) == len(unread)  # one line per problem, not one per run
        assert not results.exists()  # planning writes nothing


# -- the dry run's estimate --------------------------------------------------------------------------------------

def test_the_dry_run_estimates_from_the_runs_on_disk_else_from_a_calibration(tmp_path):
    import json

    from ablation.estimate import estimate

    for i, secs in enumerate((30.0, 50.0, 999.0)):  # two completed runs of 10 epochs: 4 s an epoch; a failed one
        folder = tmp_path / "runs" / f"run{i}"
        folder.mkdir(parents=True)
        rec = {"status": "completed" if i < 2 else "failed", "metrics": {"wall_time_s": secs},
               "factors": {"head": "distance", "encoder": "mlp", "data": "mnist5k", "epochs": 10}}
        folder.joinpath("metrics.json").write_text(json.dumps(rec))
    (tmp_path / "runs" / "damaged").mkdir()
    (tmp_path / "runs" / "damaged" / "metrics.json").write_text("{not json")
    disk, same_encoder = ("distance", "mlp", "mnist5k"), ("subtract", "mlp", "mnist5k")
    new = ("subtract", "cnn", "mnist5k")  # an encoder no run on disk has: calibrated
    lines = estimate([(disk, 20)] * 3 + [(same_encoder, 5), (new, 2)], {new: make_cfg("head=subtract", "encoder=cnn")},
                     tmp_path, parallel=2)
    assert lines[0].startswith("estimated time on this machine: ")
    assert "for 5 runs to train, 2 jobs at a time" in lines[0]
    assert lines[1].split() == ["distance", "mlp", "mnist5k", "3", "runs", "x", "80.0", "s", "(median", "of", "2",
                                "runs", "on", "disk)"]
    assert lines[2].split() == ["subtract", "cnn", "mnist5k", "1", "runs", "x", lines[2].split()[6], "s", "(1-epoch",
                                "calibration", "with", "head=subtract)"]
    assert lines[3].split() == ["subtract", "mlp", "mnist5k", "1", "runs", "x", "20.0", "s", "(median", "of", "2",
                                "runs", "on", "disk", "with", "head=distance)"]
    calibrated = float(lines[2].split()[6])
    h, m, s = map(int, lines[0].split(": ")[1].split()[0].split(":"))
    assert abs(3600 * h + 60 * m + s - (3 * 80 + 20 + calibrated) / 2) <= 1
