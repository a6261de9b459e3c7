"""The report on the grids a new user tries first, away from the preset (each once crashed the report)."""

import pytest
from conftest import FAST, cli

pytestmark = pytest.mark.slow

GRIDS = {  # what a user types after `python -m ablation.sweep` (a list: a multirun; empty: one default run)
    "distance and |a-b|": ["-m", "head=distance,absdiff", "seed=0"],
    "distance alone": ["-m", "head=distance"],
    "|a-b| with and without a hidden layer": ["-m", "head=absdiff", "depth=0,1"],
    "subtract with a hidden layer only": ["-m", "head=subtract", "depth=1"],
    "concat on sorted pairs": ["-m", "head=concat", "data.pair_order=sorted"],
    "one default run": [],
}


@pytest.mark.parametrize("grid", list(GRIDS), ids=list(GRIDS))
def test_the_report_finishes_on_a_grid_away_from_the_preset(grid, tmp_path):
    results = tmp_path / "results"
    p = cli(*GRIDS[grid], *FAST, f"results_dir={results}", "progress=false")
    assert p.returncode == 0, p.stderr
    r = cli(f"results_dir={results}", "workers=1", module="ablation.report")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    text = (results / "report" / "report.md").read_text()
    assert "not measured" in text  # a grid this small leaves claims unjudged, each with the command that measures it
    assert "python -m ablation.sweep -m" in text
    assert (results / "report" / "report.html").stat().st_size > 1000
