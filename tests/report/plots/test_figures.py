"""The figure registry: unique names, a caption and a section each; every figure draws on the study, and on
grids that lack what it shows it returns None instead of failing."""

import matplotlib.pyplot as plt
import pytest
from helpers.reports import context_of
from helpers.fakes import write_study

from ablation.report.build import figure_inputs
from ablation.report.load import load_runs
from ablation.report.plots import FIGURES
from ablation.report.select import in_context, measured


def test_the_registry_names_each_figure_once_with_its_caption_section_and_cost():
    names = [f.name for f in FIGURES]
    assert len(names) == len(set(names)) and all(n.endswith(".png") for n in names)
    assert FIGURES[0].section == "first" and FIGURES[0].name == "interaction_map.png"
    assert all(f.caption.endswith(".") and f.section in ("first", "mechanism", "plots") and f.cost > 0 for f in FIGURES)


@pytest.mark.parametrize("cells", [
    None,  # the quick-start study: every figure has something to show
    [{"head": "absdiff", "depth": 1}],  # one interacting head
    [{"head": "sum", "pair_order": "sorted"}],  # a fixed order only
    [{"head": "distance", "convention": "similarity", "encoder": "cnn"}],  # nothing at the Keras setting
], ids=["study", "one interacting head", "sorted only", "off the Keras setting"])
def test_every_figure_draws_or_says_it_has_nothing_to_show(tmp_path, cells):
    write_study(tmp_path, **({"cells": cells} if cells else {}), seeds=2, n=100)
    loaded = load_runs(tmp_path)
    runs = loaded.runs
    ctx = context_of(runs)
    inputs = figure_inputs(measured(runs), in_context(runs, ctx.fixed), loaded.runs_dir, ctx)
    drawn = {}
    for fig in FIGURES:
        f = fig.draw(measured(runs), inputs[fig.name], ctx)
        drawn[fig.name] = f is not None
        if f is not None:
            plt.close(f)
    if cells is None:
        assert all(drawn.values()), drawn
    else:
        assert drawn["interaction_map.png"]  # every completed run is a point
