"""A user's own component, written outside the package: a module plus a YAML file in their own config folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST, make_cfg

from ablation.config import ConfigError, validate

COSINE = '''
import torch
import torch.nn.functional as F
from ablation.heads import Head


class Cosine(Head):
    """Cosine distance 1 - cos(a, b): no weights, unbounded (no logit). Nothing declared about its structure."""

    name = "cosine"
    label = "cosine distance"
    weightless = True
    bounded = False

    def __init__(self, dim: int, depth: int = 0) -> None:
        super().__init__()

    def forward(self, ea, eb):
        return 1 - F.cosine_similarity(ea, eb, dim=1), None
'''

BROKEN = '''
import torch
from torch import nn
from ablation.heads import Head, LearnedHead


class Undeclared(nn.Module):  # not a Head: never says whether it has weights or a probability score
    def __init__(self, dim, depth=0):
        super().__init__()

    def forward(self, ea, eb):
        return torch.sigmoid((ea * eb).sum(-1)), (ea * eb).sum(-1)


class Liar(LearnedHead):  # declares a structure it does not have
    symmetric = True

    def merge(self, ea, eb):
        return ea - eb


class Single(Head):  # cannot be measured in float64: its score is always float32
    weightless = True
    bounded = False

    def __init__(self, dim, depth=0):
        super().__init__()

    def forward(self, ea, eb):
        return (ea - eb).abs().sum(-1).float(), None
'''


def _user_project(tmp_path: Path) -> Path:
    proj = tmp_path / "my_study"
    (proj / "my_conf" / "head").mkdir(parents=True)
    (proj / "my_heads.py").write_text(COSINE)
    (proj / "broken_heads.py").write_text(BROKEN)
    (proj / "my_conf" / "head" / "cosine.yaml").write_text("_target_: my_heads.Cosine\n")
    return proj


def _run(proj: Path, module: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(proj)}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=proj, env=env, capture_output=True, text=True,
                          timeout=240)


@pytest.mark.slow
def test_a_user_head_from_their_own_folder_is_swept_and_reported_like_a_built_in(tmp_path):
    proj = _user_project(tmp_path)
    p = _run(proj, "ablation.sweep", "-m", "--config-dir", "my_conf", "head=cosine,subtract", "depth=0,1", *FAST)
    assert p.returncode == 0, p.stderr
    assert "1 skipped" in p.stdout  # the weightless cosine head at depth 1: from the class, not from a name list
    recs = [json.loads(f.read_text()) for f in (proj / "results" / "runs").glob("*/metrics.json")]
    cos = [r for r in recs if r["factors"]["head"] == "cosine"]
    assert {r["status"] for r in cos} == {"completed", "skipped"}
    done = next(r for r in cos if r["status"] == "completed")
    assert done["traits"]["head_label"] == "cosine distance" and "symmetric" not in done["traits"]
    m = done["metrics"]  # its structure, measured: symmetric and interacting
    assert m["symmetry_residual_init"] < 1e-9 < 1e-3 < m["interaction_init"] and m["swap_gap"] < 1e-6
    assert done["identity"]["head._target_"] == "my_heads.Cosine"
    r = _run(proj, "ablation.report", "plots=false")
    assert r.returncode == 0, r.stderr
    assert "cosine" in (proj / "results" / "report" / "runs.csv").read_text()


def test_a_head_that_breaks_the_contract_is_refused_before_training(tmp_path, monkeypatch):
    proj = _user_project(tmp_path)
    monkeypatch.syspath_prepend(str(proj))
    with pytest.raises(ConfigError, match="must declare weightless, bounded"):
        validate(make_cfg("head=subtract", "head._target_=broken_heads.Undeclared", "~head.hidden", *FAST), check_output=False)
    with pytest.raises(ConfigError, match=r"declares symmetric = True but score\(a, b\) != score\(b, a\)"):
        validate(make_cfg("head=subtract", "head._target_=broken_heads.Liar", *FAST), check_output=False)
    with pytest.raises(ConfigError, match="in float64 .* the score must be float64, got torch.float32"):
        validate(make_cfg("head=distance", "head._target_=broken_heads.Single", *FAST), check_output=False)


def test_a_loss_without_a_valid_convention_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="threshold"):
        validate(make_cfg("loss.threshold=high", *FAST), check_output=False)
