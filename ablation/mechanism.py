"""The mechanism as code: a head's measured structure, classified, and what that structure predicts.

A head's logit z(a, b) is *additive* when z(a, b) = g(a) + h(b) + c: then the mixed difference
z(a,b) − z(a,b′) − z(a′,b) + z(a′,b′) is zero for any four images, nothing compares a with b, and no threshold
can call two same pairs "same" and both of their cross pairs "different" (docs/mechanism.md, theorem 1). On
swap-symmetric pairs that caps accuracy at 75 % and makes a constant the optimum of any convex loss (theorems
2 and 4); a fixed pair order lets an additive head rank the digits unless it is symmetric (theorem 5).

Torch-free: the sweep's pre-flight diagnosis and the report both classify and predict with these functions, from
the numbers `ablation.structure` measures. Every tolerance is named here and printed by the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Relative residuals at or below these are rounding. The structure is measured on a float64 copy of the head,
# where rounding is ~1e-16 relative; an interacting head's mixed difference is ~1e-2 to 1 relative.
ADDITIVE_TOL = 1e-9  # interaction (RMS mixed difference / std of the logit) of an additive head
SYMMETRY_TOL = 1e-9  # RMS |z(a,b) − z(b,a)| / std: symmetric; std of z(a,b) + z(b,a) / std: antisymmetric
BOUND = 0.75  # best accuracy of any additive head on swap-symmetric Keras pairs (theorem 2)

# What a structure predicts for a cell of runs.
CHANCE, LEARNS, FAILS = "chance", "learns", "no better than chance"
SWAP_SYMMETRIC = ("random",)  # pair orders whose (a, b) and (b, a) are equally likely (Keras' create_pairs)
FIXED = ("sorted",)  # pair orders that put the smaller digit first in every different pair


@dataclass(frozen=True)
class Structure:
    """A head's structure at initialisation, as measured (None: not measured, e.g. a run recorded before)."""

    additive: bool | None
    symmetric: bool | None
    antisymmetric: bool | None
    interaction: float = math.nan

    @property
    def measured(self) -> bool:
        return self.additive is not None

    @property
    def symmetry(self) -> str:
        """'symmetric', 'antisymmetric' or 'neither' (or 'not measured')."""
        if self.symmetric is None:
            return "not measured"
        return "symmetric" if self.symmetric else "antisymmetric" if self.antisymmetric else "neither"

    @property
    def words(self) -> str:
        """e.g. 'additive, antisymmetric' or 'interacting, symmetric'."""
        if not self.measured:
            return "not measured"
        kind = "additive" if self.additive else "interacting"
        return f"{kind}, {self.symmetry}" if self.symmetry != "neither" else f"{kind}, neither symmetric nor antisymmetric"


def _at_or_below(value: float | None, tol: float) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value <= tol)


def classify(interaction: float | None, symmetry: float | None, antisymmetry: float | None) -> Structure:
    """Residuals measured at initialisation → the head's structure (None where a residual is missing)."""
    return Structure(_at_or_below(interaction, ADDITIVE_TOL), _at_or_below(symmetry, SYMMETRY_TOL),
                     _at_or_below(antisymmetry, SYMMETRY_TOL),
                     math.nan if interaction is None else float(interaction))


@dataclass(frozen=True)
class Prediction:
    expect: str | None  # CHANCE, LEARNS, or None: the mechanism predicts nothing for this cell
    why: str  # the reason, in words
    theorem: str = ""  # the theorem of docs/mechanism.md it rests on


def predict(s: Structure, pair_order: str) -> Prediction:
    """What the mechanism predicts for a head of structure `s` trained and tested on pairs in `pair_order`."""
    if not s.measured:
        return Prediction(None, "structure not measured: no prediction")
    if not s.additive:
        return Prediction(LEARNS, "an interaction term can compare the two images", "theorem 1")
    if pair_order in SWAP_SYMMETRIC:
        return Prediction(CHANCE, "cannot separate same from different on swap-symmetric pairs: at most "
                                  f"{100 * BOUND:.0f} % for any threshold, and a convex loss's optimum is a constant",
                          "theorems 2 and 4")
    if pair_order in FIXED:
        if s.symmetric:
            return Prediction(CHANCE, "symmetric, so it cannot tell which digit comes first: a fixed order gives it "
                                      "nothing", "theorem 5")
        return Prediction(LEARNS, "in a fixed order it can rank the digits, though at most "
                                  f"{100 * BOUND:.0f} % over both input orders", "theorem 5")
    return Prediction(None, f"the mechanism says nothing about pair order {pair_order!r}")


def predict_cell(s: Structure, pair_order: str, weightless: bool = False, same_high: bool = False) -> Prediction:
    """`predict`, plus the one case that is not about additivity: a weightless distance asked for 'same → high'."""
    if s.measured and weightless and same_high:
        return Prediction(FAILS, "a fixed distance cannot score same pairs high: a metric cannot put every pair of "
                                 "different classes at one point", "claim 7")
    return predict(s, pair_order)


def diagnosis(name: str, depth: int, s: Structure, pair_orders: list[str]) -> str:
    """The sweep's pre-flight line for one head × depth: its measured structure and what it predicts."""
    where = f"{name}, depth {depth}: "
    if not s.measured:
        return where + "structure not measurable (constant or non-finite output at initialisation): no prediction"
    kind = "additive in its two inputs" if s.additive else f"interacting (mixed difference {s.interaction:.2g} of its scale)"
    sym = "" if s.symmetry == "neither" else f", {s.symmetry}"
    groups: dict[Prediction, list[str]] = {}
    for order in pair_orders:
        groups.setdefault(predict(s, order), []).append(order)
    parts = [f"{' and '.join(orders)} order: " + (f"predicted {p.expect} ({p.why})" if p.expect else p.why)
             for p, orders in groups.items()]
    return where + kind + sym + " → " + "; ".join(parts)
