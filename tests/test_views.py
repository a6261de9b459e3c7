"""The head's 1-D view w·f(x) that a run records for the mechanism figure (views.csv.gz)."""

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_cfg

from ablation.config import run_id
from ablation.sweep import execute

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("head, depth, recorded", [("subtract", 0, True), ("subtract", 1, False), ("absdiff", 0, False)])
def test_only_a_head_that_sees_one_number_per_image_records_it(results, head, depth, recorded):
    cfg = make_cfg(f"head={head}", f"depth={depth}", *FAST, f"results_dir={results}", "progress=false")
    assert execute(cfg, [])["status"] == "completed"
    folder = results / "runs" / run_id(cfg)
    assert (folder / "views.csv.gz").exists() == recorded
    if not recorded:
        return
    views = pd.read_csv(folder / "views.csv.gz")
    scores = pd.read_csv(folder / "scores.csv.gz")
    assert list(views.columns) == ["image", "label", "view"] and views["label"].nunique() == 10
    # z(a,b) − z(b,a) = 2 (w·f(a) − w·f(b)): the recorded view is the one the head's output is made of
    v = views.set_index("image")["view"]
    expected = 2 * (v.loc[scores["a"]].to_numpy() - v.loc[scores["b"]].to_numpy())
    assert np.allclose(scores["z_ab"] - scores["z_ba"], expected, atol=1e-4)
