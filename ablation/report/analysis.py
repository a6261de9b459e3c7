"""What the report says, as data: the analysis of the runs and the figures' captions.

`build` computes an `Analysis` from the run folders; `document` writes it out. Both import it from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .labels import CELL
from .rivals import Rival
from .select import measured
from .verdicts import Claim

Job = tuple[Callable[..., Any], ...] | None  # a plot function and its arguments

FIGURES = {  # file → what it shows (the caption; conclusions are in the text, from the numbers)
    "accuracy_by_head.png": "Test accuracy of each head with and without a hidden layer after the merge, per encoder and "
                            "loss sign convention. Dashed line: chance.",
    "learning_curves.png": "Training and test accuracy per epoch, per head: which heads learn at all.",
    "score_distributions.png": "The score of every test pair, same-digit pairs vs different-digit pairs. A head can only "
                               "tell them apart where the two distributions do not overlap.",
    "swap_plot.png": "Each test pair scored as (a, b) and as (b, a). A symmetric head puts every pair on the diagonal; "
                     "an antisymmetric one on the red line z(b,a) = 2c − z(a,b).",
    "pair_order_control.png": "The control: subtract without a hidden layer on pairs in random order vs smaller digit "
                              "first, scored in the pairs' own order, swapped, and over both orders.",
    "head_by_convention.png": "Mean test accuracy of each head (no hidden layer) under each loss and sign convention.",
}
MECHANISM_FIGURES = {  # drawn in the section "The mechanism, drawn"
    "image_views.png": "The head's one number per image, w·f(x), for the test images by digit class: subtract without a "
                       "hidden layer on random-order pairs vs the same head on pairs with the smaller digit first.",
    "collapse_over_training.png": "The spread of the output over the test pairs per epoch, subtract vs symmetric heads "
                                  "(mean over seeds, band: 95 % CI). Dashed: the collapse threshold.",
}


@dataclass
class Analysis:
    runs: pd.DataFrame  # every run folder that passes the filter, whatever its status
    ctx: dict[str, Any]  # the (data, epochs) the verdicts and plots use
    summary: pd.DataFrame
    effects: pd.DataFrame
    claims: list[Claim]
    answers: list[str]
    figures: dict[str, Job] = field(default_factory=dict)  # file → how to draw it (None: nothing to show)
    cell: list[str] = field(default_factory=lambda: list(CELL))  # the levels of a cell (select.cell_keys)
    other_code: pd.DataFrame = field(default_factory=pd.DataFrame)  # runs set aside as other code, per code
    code: str = "current"  # which code's runs are in the statistics: current or all
    rivals: list[Rival] = field(default_factory=list)  # the thread's other explanations, tested
    original: dict[str, Any] = field(default_factory=dict)  # the thread's table beside the full-MNIST runs
    mechanism: str = ""  # the view figure's numbers in words

    @property
    def extra(self) -> list[str]:
        """The cell's levels beyond the known factors (e.g. `train.lr` in a learning-rate sweep)."""
        return [c for c in self.cell if c not in CELL]

    def other_code_text(self) -> str | None:
        """The runs made by other code, in words (None when there are none)."""
        if self.other_code.empty:
            return None
        n = int(self.other_code["runs"].sum())
        codes = "; ".join(f"code {r.code}: {r.runs} runs ({r.statuses}; heads {r.heads or 'unknown'})"
                          for r in self.other_code.itertuples())
        return (f"{n} run folder{'s' if n != 1 else ''} made by other code than the current one (or before runs "
                f"recorded their code) are kept on disk and left out of every table, plot and verdict: {codes}. "
                "`python -m ablation.report code=all` includes them, with the code as a factor.")

    def versions_text(self) -> str | None:
        """The library versions the reported runs were made with, when they differ (None when they agree)."""
        m = measured(self.runs)
        parts = []
        for col in ("torch_version", "python_version", "ablation_version"):
            counts = m[col].value_counts() if col in m else pd.Series(dtype=int)
            if len(counts) > 1:
                parts.append(f"{col.removesuffix('_version')} " + ", ".join(f"{v} ({n} run{'s' if n != 1 else ''})" for v, n in counts.items()))
        if not parts:
            return None
        return ("The completed runs were made with different library versions (not part of a run's identity, so "
                "not a factor): " + "; ".join(parts) + ".")
