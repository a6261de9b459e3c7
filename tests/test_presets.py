"""The package's own recipe presets are what the planner takes them for: each shipped optimizer with each shipped
schedule builds, steps and updates element-wise (checked here through ablation.recipe itself), so planning a
grid of them builds no optimizer; anything changed from a preset is checked in full."""

import itertools
import os
import subprocess
import sys

import pytest
from conftest import CONF, ROOT, make_cfg

from ablation import presets, recipe
from ablation.config import config_problems

OPTIMIZERS = sorted(p.stem for p in (CONF / "optimizer").glob("*.yaml"))
SCHEDULES = sorted(p.stem for p in (CONF / "schedule").glob("*.yaml"))


@pytest.mark.parametrize("optimizer,schedule", list(itertools.product(OPTIMIZERS, SCHEDULES)))
def test_every_shipped_recipe_builds_steps_and_is_elementwise_as_the_planner_assumes(optimizer, schedule):
    cfg = make_cfg(f"optimizer={optimizer}", f"schedule={schedule}")
    assert presets.is_shipped(cfg)
    assert recipe.problem(cfg) is None
    assert recipe.elementwise(cfg)
    assert presets.problem(cfg) is None and presets.elementwise(cfg)


@pytest.mark.parametrize("overrides,shipped", [
    (["schedule=cosine"], True),
    (["optimizer.lr=0.01"], False),
    (["schedule=step", "schedule.gamma=0.5"], False),
    (["optimizer=adam", "~optimizer.amsgrad"], False),
    (["optimizer._target_=torch.optim.AdamW"], False),
])
def test_only_a_preset_as_shipped_is_taken_as_shipped(overrides, shipped):
    assert presets.is_shipped(make_cfg(*overrides)) is shipped


def test_a_bad_value_in_a_changed_preset_is_still_refused_by_the_full_check():
    problems = config_problems(make_cfg("optimizer.lr=-1"), check_output=False)
    assert any("optimizer 'torch.optim.RMSprop'" in p and "learning rate" in p for p in problems), problems


@pytest.mark.slow  # a fresh interpreter
def test_planning_the_shipped_recipes_builds_no_optimizer():
    """The point of the presets: checking a default run's config does not import torch._dynamo (which building
    any torch.optim optimizer does, for over a second)."""
    code = ("import sys\nfrom conftest import make_cfg\nfrom ablation.config import config_problems\n"
            "for o in ('rmsprop', 'adam', 'sgd'):\n"
            "    assert not config_problems(make_cfg(f'optimizer={o}', 'schedule=cosine'), check_output=False)\n"
            "print('torch._dynamo' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False"
