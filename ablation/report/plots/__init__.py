"""The report's figures, one registry: a figure is one function (in `runs.py` or `files.py`) plus one entry here
with its caption, the per-run files it reads (each with the selection of runs it reads them for), where it goes
in the report and its drawing cost (the builder draws the costliest first).

A figure function takes the measured runs of the report's context, the per-run tables it asked for (joined with
its selection's columns) and the report's Context, and returns a matplotlib Figure or None (nothing to show).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..select import Context
from . import files as f
from . import runs as r

Selection = Callable[[pd.DataFrame, Context], pd.DataFrame]


@dataclass(frozen=True)
class Figure:
    name: str  # the PNG's file name
    draw: Callable[..., object]
    caption: str
    section: str  # "first" (before everything), "mechanism" or "plots"
    cost: float  # relative drawing cost (benchmarks/report_speed.py): the costliest are drawn first
    reads: dict[str, Selection] = field(default_factory=dict)  # per-run file → which runs it is read for


FIGURES: tuple[Figure, ...] = (
    Figure("interaction_map.png", r.interaction_map,
           "Each dot is one run: how much its head compares the two images (x: its interaction after training, log "
           "scale) against its test accuracy (y). Additive heads sit at rounding level, on the left.",
           "first", 0.6),
    Figure("image_views.png", f.image_views,
           "All an additive head knows of an image is one number, g(x): here for the test images by digit class, "
           "per additive head and pair order. Collapsed under random order; spread in digit order under the fixed "
           "order for a head that is not symmetric; collapsed in both orders for a symmetric one.",
           "mechanism", 0.5, {"views.csv.gz": f.view_runs}),
    Figure("collapse_over_training.png", f.collapse_over_training,
           "The spread of the sigmoid output over the test pairs per epoch (mean over seeds, band: their range): "
           "additive heads dashed, heads with an interaction term solid.",
           "mechanism", 0.9, {"history.csv": f.all_panel_runs}),
    Figure("accuracy_by_head.png", r.accuracy_by_head,
           "Test accuracy of each head with and without a hidden layer after the merge, per encoder and loss sign "
           "convention. Dashed line: chance.", "plots", 2.1),
    Figure("learning_curves.png", f.learning_curves,
           "Training and test accuracy per epoch, per head: which heads learn at all.",
           "plots", 1.2, {"history.csv": f.all_panel_runs}),
    Figure("score_distributions.png", f.score_distributions,
           "The score of every test pair, same-digit pairs vs different-digit pairs. A head can only tell them apart "
           "where the two distributions do not overlap.", "plots", 1.7, {"scores.csv.gz": f.panel_runs}),
    Figure("swap_plot.png", f.swap_plot,
           "Each test pair scored as (a, b) and as (b, a). A symmetric head puts every pair on the diagonal; an "
           "antisymmetric one on the red line z(b,a) = 2c − z(a,b).", "plots", 1.7, {"scores.csv.gz": f.panel_runs}),
    Figure("pair_order_control.png", r.pair_order_control,
           "The control: each additive head without a hidden layer on random-order pairs and on pairs with the "
           "smaller digit first, scored in the pairs' own order, swapped, and over both orders.", "plots", 0.4),
    Figure("head_by_convention.png", r.convention_grid,
           "Mean test accuracy of each head (no hidden layer) under each loss and sign convention.", "plots", 0.5),
)
